"""Write-side operations on citizen accounts, and the audit log every app writes to.

Other apps plug into the citizen account through three small registries (register them in their
``AppConfig.ready``):

* ``register_profile_freezer(fn)`` — ``fn(user) -> Iterable[str]`` names profile fields the citizen may no
  longer change (e.g. contests freeze name/DOB/ID/unit after the first attempt);
* ``register_personal_data_exporter(fn)`` — ``fn(user) -> Mapping[str, JSON]`` adds sections to the
  "Dữ liệu của tôi" download;
* ``register_anonymiser(fn)`` — ``fn(user)`` wipes personal data the app holds about ``user``. It runs inside
  the anonymisation transaction, *before* the user row is wiped, with the user row locked.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from accounts import selectors
from accounts.models import AuditEvent, CitizenProfile, ContactChangeCode, Organisation, SmsResetCode, User
from accounts.sms import get_sms_sender
from accounts.validators import normalise_phone, validate_national_id, validate_phone

# --- Errors ------------------------------------------------------------------------------------


class AccountError(Exception):
    """A domain error whose message is safe to show to the user (Vietnamese)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class RegistrationError(AccountError):
    pass


class ProfileFrozenError(AccountError):
    pass


class ResetCodeError(AccountError):
    pass


class AnonymiseRefused(AccountError):
    pass


# --- Registries --------------------------------------------------------------------------------

ProfileFreezer = Callable[[User], Iterable[str]]
PersonalDataExporter = Callable[[User], Mapping[str, Any]]
Anonymiser = Callable[[User], None]

# Keyed by the callable's dotted name so that registering twice (module re-import, test reload) is harmless.
_freezers: dict[str, ProfileFreezer] = {}
_exporters: dict[str, PersonalDataExporter] = {}
_anonymisers: dict[str, Anonymiser] = {}


def _registry_key(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def register_profile_freezer(fn: ProfileFreezer) -> ProfileFreezer:
    """Register ``fn(user) -> field names`` that are frozen for ``user``. Usable as a decorator."""
    _freezers[_registry_key(fn)] = fn
    return fn


def unregister_profile_freezer(fn: ProfileFreezer) -> None:
    _freezers.pop(_registry_key(fn), None)


def register_personal_data_exporter(fn: PersonalDataExporter) -> PersonalDataExporter:
    """Register ``fn(user) -> {section: JSON-able value}`` for the personal data download."""
    _exporters[_registry_key(fn)] = fn
    return fn


def unregister_personal_data_exporter(fn: PersonalDataExporter) -> None:
    _exporters.pop(_registry_key(fn), None)


def register_anonymiser(fn: Anonymiser) -> Anonymiser:
    """Register ``fn(user)`` that wipes the app's personal data about ``user`` (see module docstring)."""
    _anonymisers[_registry_key(fn)] = fn
    return fn


def unregister_anonymiser(fn: Anonymiser) -> None:
    _anonymisers.pop(_registry_key(fn), None)


# Fields of the profile page. User fields and CitizenProfile fields share one namespace.
PROFILE_USER_FIELDS = ("full_name", "phone", "email")
PROFILE_CITIZEN_FIELDS = ("date_of_birth", "unit", "national_id")
PROFILE_FIELDS = PROFILE_USER_FIELDS + PROFILE_CITIZEN_FIELDS


def profile_frozen_fields(user: User) -> set[str]:
    """Profile fields ``user`` may no longer change, as decided by the registered freezers."""
    if not getattr(user, "is_authenticated", False):
        return set()
    frozen: set[str] = set()
    for fn in list(_freezers.values()):
        frozen.update(fn(user))
    return frozen & set(PROFILE_FIELDS)


# --- Audit -------------------------------------------------------------------------------------


def audit_record(*, actor: Any, action: str, target: models.Model | None = None,
                 organisation: Organisation | int | None = None, reason: str = "",
                 data: Mapping[str, Any] | None = None) -> AuditEvent:
    """Append one AuditEvent. ``actor`` may be None or an anonymous user (system / not logged in).

    ``data`` is made JSON-safe (dates, decimals, UUIDs become strings). Never put personal data values
    in ``data`` or ``reason``: the log outlives account deletion. Record field *names*, ids and counts.
    """
    actor_obj = actor if getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None) else None
    organisation_id = organisation.pk if isinstance(organisation, Organisation) else organisation
    return AuditEvent.objects.create(
        actor=actor_obj,
        organisation_id=organisation_id,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        reason=reason,
        data=json.loads(json.dumps(dict(data or {}), cls=DjangoJSONEncoder)),
    )


# --- Registration ------------------------------------------------------------------------------


def normalise_email(value: str | None) -> str:
    return (value or "").strip().lower()


def _check_formats(*, phone: str, national_id: str, error: type[AccountError]) -> None:
    """Formats are checked here too, not only in forms, so imports and other callers cannot bypass them."""
    for name, value, validator in (("phone", phone, validate_phone), ("national_id", national_id,
                                                                       validate_national_id)):
        if value:
            try:
                validator(value)
            except ValidationError as exc:
                raise error(" ".join(exc.messages), field=name) from exc


def guardian_consent_required(*, date_of_birth: dt.date, today: dt.date | None = None) -> bool:
    """True when a person born on ``date_of_birth`` is under settings.GUARDIAN_CONSENT_AGE."""
    today = today or timezone.localdate()
    age = today.year - date_of_birth.year - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))
    return age < settings.GUARDIAN_CONSENT_AGE


def _new_username() -> str:
    return f"u-{uuid.uuid4().hex[:20]}"


def citizen_register(*, full_name: str, password: str, date_of_birth: dt.date, unit: Organisation,
                     privacy_consent: bool, phone: str = "", email: str = "", national_id: str = "",
                     guardian_name: str = "", guardian_phone: str = "", guardian_consent: bool = False) -> User:
    """Create a citizen account with its profile and record the consents given (with time and notice version).

    Raises RegistrationError (with ``field`` set where it applies). Writes AuditEvent ``account.registered``.
    Field formats (phone, ID number, password strength) are checked by the form before this is called.
    """
    phone = normalise_phone(phone) if phone else ""
    email = normalise_email(email)
    _check_formats(phone=phone, national_id=national_id, error=RegistrationError)
    if not privacy_consent:
        raise RegistrationError(_("Bạn cần đồng ý với Thông báo xử lý dữ liệu cá nhân để đăng ký."),
                                field="privacy_consent")
    if not phone and not email:
        raise RegistrationError(_("Cần có số điện thoại hoặc email (ít nhất một trong hai)."))
    if not (unit.is_unit and unit.is_active):
        raise RegistrationError(_("Đơn vị đã chọn không nhận đăng ký."), field="unit")
    minor = guardian_consent_required(date_of_birth=date_of_birth)
    if minor and not (guardian_name.strip() and guardian_phone.strip() and guardian_consent):
        raise RegistrationError(
            _("Thí sinh dưới %(age)s tuổi cần có họ tên, số điện thoại và sự đồng ý của cha, mẹ hoặc người giám hộ.")
            % {"age": settings.GUARDIAN_CONSENT_AGE},
            field="guardian_consent",
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            user = User(username=_new_username(), full_name=full_name.strip(), phone=phone or None,
                        email=email or None)
            user.set_password(password)
            user.save()
            CitizenProfile.objects.create(
                user=user, date_of_birth=date_of_birth, unit=unit, national_id=national_id,
                privacy_consent_at=now, privacy_notice_version=settings.PRIVACY_NOTICE_VERSION,
                guardian_name=guardian_name.strip() if minor else "",
                guardian_phone=normalise_phone(guardian_phone) if minor else "",
                guardian_consent_at=now if minor else None,
            )
            audit_record(actor=user, action="account.registered", target=user, organisation=unit,
                         data={"privacy_notice_version": settings.PRIVACY_NOTICE_VERSION,
                               "guardian_consent": minor})
    except IntegrityError as exc:
        # The form checked uniqueness; this is the race where two sign-ups used the same phone/e-mail.
        raise RegistrationError(_("Số điện thoại hoặc email này đã được đăng ký.")) from exc
    return user


# --- Profile -----------------------------------------------------------------------------------


def profile_update(*, user: User, changes: Mapping[str, Any], actor: Any = None) -> list[str]:
    """Apply the citizen's corrections to their own data. Returns the names of the fields changed.

    Raises ProfileFrozenError if a changed field is frozen (profile_frozen_fields), AccountError for other
    rule breaks. Writes AuditEvent ``profile.updated`` with field names only (no values). A new (non-empty) phone
    number or e-mail address is refused (AccountError): it is applied by ``accounts.contact_change`` once the code
    sent to it is entered; clearing one applies here.
    """
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        # Staff users may have no citizen profile; one is created only if a profile field is filled in.
        profile = CitizenProfile.objects.filter(user=user).first() or CitizenProfile(user=user)
        normalised = dict(changes)
        if "phone" in normalised:
            normalised["phone"] = normalise_phone(normalised["phone"]) if normalised["phone"] else None
        if "email" in normalised:
            normalised["email"] = normalise_email(normalised["email"]) or None
        if "full_name" in normalised:
            normalised["full_name"] = (normalised["full_name"] or "").strip()
        if "national_id" in normalised:
            normalised["national_id"] = normalised["national_id"] or ""
        _check_formats(phone=normalised.get("phone") or "", national_id=normalised.get("national_id", ""),
                       error=AccountError)

        def current(name: str) -> Any:
            return getattr(user if name in PROFILE_USER_FIELDS else profile, name)

        changed = [name for name in PROFILE_FIELDS if name in normalised and normalised[name] != current(name)]
        if not changed:
            return []
        unconfirmed = [name for name in ("phone", "email") if name in changed and normalised[name]]
        if unconfirmed:
            # A new login identifier is applied only with the code sent to it (accounts.contact_change).
            raise AccountError(_("Số điện thoại hoặc email mới cần được xác nhận bằng mã gửi đến số hoặc địa chỉ "
                                 "mới."), field=unconfirmed[0])
        frozen = profile_frozen_fields(user) & set(changed)
        if frozen:
            raise ProfileFrozenError(
                _("Không thể sửa các thông tin đã được khoá sau khi bạn dự thi: %(fields)s.")
                % {"fields": ", ".join(sorted(frozen))}
            )
        for name in changed:
            setattr(user if name in PROFILE_USER_FIELDS else profile, name, normalised[name])
        if not user.phone and not user.email:
            raise AccountError(_("Cần giữ lại số điện thoại hoặc email (ít nhất một trong hai) để đăng nhập."))
        if "unit" in changed and profile.unit is not None and not (profile.unit.is_unit and profile.unit.is_active):
            raise AccountError(_("Đơn vị đã chọn không nhận đăng ký."), field="unit")
        if ("date_of_birth" in changed and profile.date_of_birth is not None
                and guardian_consent_required(date_of_birth=profile.date_of_birth)
                and profile.guardian_consent_at is None):
            raise AccountError(
                _("Với ngày sinh này, thí sinh cần có sự đồng ý của người giám hộ. "
                  "Vui lòng liên hệ Ban Tổ chức để được hỗ trợ."),
                field="date_of_birth",
            )
        try:
            with transaction.atomic():
                user_fields = [n for n in changed if n in PROFILE_USER_FIELDS]
                if user_fields:
                    user.save(update_fields=user_fields)
                profile_fields = [n for n in changed if n in PROFILE_CITIZEN_FIELDS]
                if profile_fields and profile._state.adding:
                    profile.save()
                elif profile_fields:
                    profile.save(update_fields=[*profile_fields, "updated_at"])
        except IntegrityError as exc:
            raise AccountError(_("Số điện thoại hoặc email này đã được dùng cho tài khoản khác.")) from exc
        audit_record(actor=actor or user, action="profile.updated", target=user, data={"fields": changed})
    return changed


# --- Password reset by SMS ---------------------------------------------------------------------


def _code_hash(*, user_id: int, code: str) -> str:
    # Keyed with SECRET_KEY: a database dump alone does not let anyone test the 10^6 possible codes.
    return salted_hmac("accounts.sms_reset_code", f"{user_id}:{code}", algorithm="sha256").hexdigest()


def _request_hash(request_token: str) -> str:
    return salted_hmac("accounts.sms_reset_request", request_token, algorithm="sha256").hexdigest()


def sms_reset_code_issue(*, phone: str, request_token: str) -> None:
    """Send a one-time 6-digit code to ``phone`` if an active account has that number; otherwise do nothing.

    The code belongs to the request: ``request_token`` is a secret of the requesting browser (its session), and
    only the same token redeems the code (``sms_reset_code_redeem``). A new code retires the earlier unused codes
    *of the same request* only, so someone else's request for the number never cancels the owner's code.
    Callers show the same response either way (no account enumeration) and rate-limit the calls
    (``accounts.login_policy.reset_request_allowed``). The SMS is sent after the transaction commits.
    """
    if not request_token:
        raise ValueError("a reset code needs the token of the request it belongs to")
    phone = normalise_phone(phone)
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:
        return
    now = timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    minutes = settings.SMS_RESET_CODE_TTL_SECONDS // 60
    # Unaccented on purpose: GSM-7 fits 160 characters per SMS, Vietnamese diacritics force UCS-2 (70).
    message = _("Ma dat lai mat khau cua ban la %(code)s (hieu luc %(minutes)s phut). Khong chia se ma nay.") % {
        "code": code, "minutes": minutes}
    request_hash = _request_hash(request_token)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one issue at a time per user
        SmsResetCode.objects.filter(user=user, request_hash=request_hash, used_at__isnull=True).update(used_at=now)
        SmsResetCode.objects.create(
            user=user, code_hash=_code_hash(user_id=user.pk, code=code), request_hash=request_hash, created_at=now,
            expires_at=now + dt.timedelta(seconds=settings.SMS_RESET_CODE_TTL_SECONDS),
        )
        audit_record(actor=None, action="account.password_reset_code_sent", target=user)
        transaction.on_commit(lambda: get_sms_sender().send(phone=phone, message=message))


def sms_reset_code_redeem(*, phone: str, code: str, new_password: str, request_token: str | None) -> User:
    """Check ``code`` for the account with ``phone`` and set ``new_password``.

    Only the live code of the request ``request_token`` is checked (None: no request of this browser, so nothing
    is). Every wrong code counts a try against that code; after settings.SMS_RESET_CODE_MAX_TRIES it is dead.
    Codes of other requests are never touched. Raises ResetCodeError with one message for every failure (unknown
    phone, no request, wrong, expired, used, too many tries), or django ValidationError if the password is
    rejected (the code stays usable then). Writes AuditEvent ``account.password_reset``. The caller clears the
    login counters (``accounts.login_policy.password_reset_completed``).
    """
    failure = ResetCodeError(_("Mã xác nhận không đúng hoặc đã hết hạn. Vui lòng kiểm tra lại hoặc xin mã mới."),
                             field="code")
    phone = normalise_phone(phone)
    code = (code or "").strip()
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None or not request_token:
        raise failure
    now = timezone.now()
    with transaction.atomic():
        row = (SmsResetCode.objects.select_for_update()
               .filter(user=user, request_hash=_request_hash(request_token), used_at__isnull=True,
                       expires_at__gt=now)
               .order_by("-created_at").first())
        if row is None or row.tries >= settings.SMS_RESET_CODE_MAX_TRIES:
            raise failure
        if not constant_time_compare(row.code_hash, _code_hash(user_id=user.pk, code=code)):
            # Commit the counted try before raising: the raise must not roll it back.
            SmsResetCode.objects.filter(pk=row.pk).update(tries=F("tries") + 1)
            ok = False
        else:
            validate_password(new_password, user=user)
            row.used_at = now
            row.save(update_fields=["used_at"])
            # The password changed: every other pending code of the account is void.
            SmsResetCode.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
            user.set_password(new_password)
            user.save(update_fields=["password"])
            audit_record(actor=None, action="account.password_reset", target=user, data={"channel": "sms"})
            ok = True
    if not ok:
        raise failure
    return user


# --- Personal data rights ----------------------------------------------------------------------


def personal_data_export(*, user: User) -> dict[str, Any]:
    """Everything held about ``user``: core sections plus those of registered exporters.

    Writes AuditEvent ``personal_data.exported`` (before collecting, so the download lists itself).
    """
    audit_record(actor=user, action="personal_data.exported", target=user)
    data = selectors.personal_data_core(user=user)
    for name, fn in list(_exporters.items()):
        for section, value in fn(user).items():
            if section in data:
                raise ValueError(f"personal data exporter {name} reuses the section name {section!r}")
            data[section] = value
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def account_anonymise(*, user: User, actor: Any, reason: str = "") -> None:
    """Erase ``user``'s personal data and close the account; what they did stays, unattributable.

    Wipes name, phone, e-mail, date of birth, ID number and guardian data; sets an unusable password
    (which also ends every session), deactivates the account, renames it ``deleted-<id>`` and sets
    ``anonymised_at``. Registered anonymisers run first, in the same transaction, with the user row locked.
    Kept: the unit (collective statistics), consent timestamps and notice version (proof of lawful
    processing), dates of joining and last login. Staff accounts are refused (AnonymiseRefused): their
    roles must be removed by an administrator first. Idempotent. Writes AuditEvent ``account.anonymised``.
    """
    if user.is_staff or user.is_superuser or user.memberships.exists():
        raise AnonymiseRefused(_("Tài khoản cán bộ không thể tự xoá. Vui lòng liên hệ quản trị hệ thống."))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.anonymised_at is not None:
            return
        for fn in list(_anonymisers.values()):
            fn(user)
        CitizenProfile.objects.filter(user=user).update(
            date_of_birth=None, national_id="", guardian_name="", guardian_phone="", guardian_consent_at=None,
            updated_at=timezone.now(),
        )
        SmsResetCode.objects.filter(user=user).delete()
        ContactChangeCode.objects.filter(user=user).delete()  # holds a new phone number or e-mail address
        user.username = f"deleted-{user.pk}"
        user.full_name = ""
        user.first_name = ""
        user.last_name = ""
        user.phone = None
        user.email = None
        user.is_active = False
        user.anonymised_at = timezone.now()
        user.set_unusable_password()
        user.save()
        audit_record(actor=actor, action="account.anonymised", target=user, reason=reason)

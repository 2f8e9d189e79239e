"""A citizen changes the phone number or e-mail address of their account: confirmed by a code sent to the *new*
address (issue 16).

Both are login identifiers and the channels of password reset, so a typo or someone else's number must not take
over the account's recovery: the new value is applied only when the 6-digit code sent to it is entered.

Contract:
- ``contact_change_request`` checks the new value (format, not the current one, not another account's, not
  frozen), retires an earlier pending code of the same kind, stores a keyed hash of a new code with the new
  value, and sends the code — by SMS for a phone number, by e-mail for an address — after the transaction
  commits. The caller rate-limits it with the password-reset limits (``accounts.views``). Audited
  ``account.contact_change_requested`` (the kind only, never the value).
- ``contact_change_confirm`` applies the change when the code is right and live (expires after
  ``SMS_RESET_CODE_TTL_SECONDS``; dead after ``SMS_RESET_CODE_MAX_TRIES`` wrong codes, each wrong one counted and
  committed), tells the *old* address that it changed, and audits ``account.contact_changed``. One message for
  every failure (no hint which part was wrong).
- The user row is locked (``SELECT … FOR UPDATE``) in both, so a request and a confirmation serialise.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from accounts import selectors
from accounts.models import ContactChangeCode, ContactKind, User
from accounts.services import AccountError, ProfileFrozenError, audit_record, normalise_email, profile_frozen_fields
from accounts.sms import get_sms_sender
from accounts.validators import normalise_phone, validate_phone


class ContactCodeError(AccountError):
    """The code is wrong, expired, used or has had too many tries (one message for all)."""


def _code_hash(*, user_id: int, kind: str, value: str, code: str) -> str:
    # Keyed with SECRET_KEY and bound to the value: a code sent to one address never confirms another.
    return salted_hmac("accounts.contact_change_code", f"{user_id}:{kind}:{value}:{code}",
                       algorithm="sha256").hexdigest()


def contact_normalise(*, kind: str, value: str) -> str:
    """The stored form of a phone number ("0912345678") or e-mail address (lower case). Raises AccountError
    (``field`` = the kind) when it is not one."""
    if kind == ContactKind.PHONE:
        phone = normalise_phone(value or "")
        try:
            validate_phone(phone)
        except ValidationError as exc:
            raise AccountError(exc.messages[0], field="phone") from exc
        return phone
    if kind == ContactKind.EMAIL:
        email = normalise_email(value)
        try:
            validate_email(email)
        except ValidationError as exc:
            raise AccountError(_("Email không hợp lệ."), field="email") from exc
        return email
    raise ValueError(f"unknown contact kind {kind!r}")


def _send(*, kind: str, to: str, subject: str, message: str) -> None:
    if kind == ContactKind.PHONE:
        get_sms_sender().send(phone=to, message=message)
    else:
        send_mail(subject, message, None, [to])


def contact_change_request(*, user: User, kind: str, value: str, now: dt.datetime | None = None) -> ContactChangeCode:
    """Send a confirmation code to the new phone number or e-mail address ``value`` (see the module's contract).
    Raises AccountError (bad, current or taken value), ProfileFrozenError."""
    now = now or timezone.now()
    value = contact_normalise(kind=kind, value=value)
    if kind in profile_frozen_fields(user):
        raise ProfileFrozenError(_("Không thể sửa các thông tin đã được khoá sau khi bạn dự thi: %(fields)s.")
                                 % {"fields": kind})
    taken = (selectors.phone_taken(phone=value, exclude_user_id=user.pk) if kind == ContactKind.PHONE
             else selectors.email_taken(email=value, exclude_user_id=user.pk))
    if taken:
        raise AccountError(_("Số điện thoại hoặc email này đã được dùng cho tài khoản khác."), field=kind)
    code = f"{secrets.randbelow(10**6):06d}"
    minutes = settings.SMS_RESET_CODE_TTL_SECONDS // 60
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if getattr(locked, kind) == value:
            raise AccountError(_("Đây là thông tin hiện tại của bạn."), field=kind)
        ContactChangeCode.objects.filter(user=locked, kind=kind, used_at__isnull=True).update(used_at=now)
        row = ContactChangeCode.objects.create(
            user=locked, kind=kind, new_value=value, created_at=now,
            code_hash=_code_hash(user_id=locked.pk, kind=kind, value=value, code=code),
            expires_at=now + dt.timedelta(seconds=settings.SMS_RESET_CODE_TTL_SECONDS))
        audit_record(actor=locked, action="account.contact_change_requested", target=locked, data={"kind": kind})
        if kind == ContactKind.PHONE:
            # Unaccented on purpose: GSM-7 fits 160 characters per SMS, Vietnamese diacritics force UCS-2 (70).
            message = _("Ma xac nhan doi so dien thoai cua ban la %(code)s (hieu luc %(minutes)s phut). Khong chia "
                        "se ma nay.") % {"code": code, "minutes": minutes}
        else:
            message = _("Mã xác nhận đổi email tài khoản của bạn là %(code)s (hiệu lực %(minutes)s phút). Nếu bạn "
                        "không yêu cầu đổi email, hãy bỏ qua thư này.") % {"code": code, "minutes": minutes}
        subject = _("Mã xác nhận đổi email")
        transaction.on_commit(lambda: _send(kind=kind, to=value, subject=subject, message=message))
    return row


def contact_change_pending(*, user: User, now: dt.datetime | None = None) -> dict[str, ContactChangeCode]:
    """The live pending change of each kind ({kind: row}), for the profile page."""
    now = now or timezone.now()
    rows = (ContactChangeCode.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now,
                                             tries__lt=settings.SMS_RESET_CODE_MAX_TRIES).order_by("created_at"))
    return {row.kind: row for row in rows}


def contact_change_confirm(*, user: User, kind: str, code: str, now: dt.datetime | None = None) -> User:
    """Apply the pending change of ``kind`` when ``code`` is its code (see the module's contract). Raises
    ContactCodeError, AccountError (the value was taken by another account meanwhile: the code is retired)."""
    now = now or timezone.now()
    failure = ContactCodeError(_("Mã xác nhận không đúng hoặc đã hết hạn. Vui lòng kiểm tra lại hoặc xin mã mới."),
                               field="code")
    code = (code or "").strip()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        row = (ContactChangeCode.objects.select_for_update()
               .filter(user=locked, kind=kind, used_at__isnull=True, expires_at__gt=now)
               .order_by("-created_at").first())
        if row is None or row.tries >= settings.SMS_RESET_CODE_MAX_TRIES:
            raise failure
        expected = _code_hash(user_id=locked.pk, kind=kind, value=row.new_value, code=code)
        if not constant_time_compare(row.code_hash, expected):
            ContactChangeCode.objects.filter(pk=row.pk).update(tries=F("tries") + 1)
            wrong = True
        else:
            wrong = False
            old = getattr(locked, kind)
            row.used_at = now
            row.save(update_fields=["used_at"])
            setattr(locked, kind, row.new_value)
            try:
                with transaction.atomic():
                    locked.save(update_fields=[kind])
            except IntegrityError:
                taken = True
            else:
                taken = False
                audit_record(actor=locked, action="account.contact_changed", target=locked, data={"kind": kind})
                if old:
                    transaction.on_commit(lambda: _notify_old(kind=kind, old=old))
    # Raised outside the block: the counted try (or the retired code) is committed.
    if wrong:
        raise failure
    if taken:
        raise AccountError(_("Số điện thoại hoặc email này đã được dùng cho tài khoản khác."), field=kind)
    return locked


def _notify_old(*, kind: str, old: str) -> None:
    if kind == ContactKind.PHONE:
        message = _("So dien thoai cua tai khoan thi cua ban vua duoc doi sang so khac. Neu khong phai ban, hay lien "
                    "he Ban To chuc.")
    else:
        message = _("Email của tài khoản dự thi của bạn vừa được đổi sang địa chỉ khác. Nếu không phải bạn thực "
                    "hiện, hãy liên hệ Ban Tổ chức.")
    _send(kind=kind, to=old, subject=_("Email tài khoản đã được đổi"), message=message)


def contact_change_cancel(*, user: User, kind: str, now: dt.datetime | None = None) -> bool:
    """Drop the pending change of ``kind`` (nothing changes on the account). Returns whether there was one."""
    now = now or timezone.now()
    cancelled = ContactChangeCode.objects.filter(user=user, kind=kind, used_at__isnull=True).update(used_at=now)
    if cancelled:
        audit_record(actor=user, action="account.contact_change_cancelled", target=user, data={"kind": kind})
    return bool(cancelled)


def contact_changes_split(*, user: User, changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Split a profile form's changes into what ``profile_update`` applies at once and the new phone number /
    e-mail address that need a code ({kind: new value}). Clearing one (an empty value) applies at once."""
    direct, confirm = dict(changes), {}
    for kind in ContactKind.values:
        if kind not in direct or not direct[kind]:
            continue
        value = (normalise_phone(direct[kind]) if kind == ContactKind.PHONE else normalise_email(direct[kind]))
        if value != getattr(user, kind):
            confirm[kind] = value
        del direct[kind]
    return direct, confirm


def contact_change_export(user: User) -> dict[str, Any]:
    """"Dữ liệu của tôi": the pending changes held about ``user`` (the new values; never the codes)."""
    rows = ContactChangeCode.objects.filter(user=user, used_at__isnull=True).order_by("created_at")
    return {"pending_contact_changes": [{"kind": r.kind, "new_value": r.new_value, "requested_at": r.created_at,
                                         "expires_at": r.expires_at} for r in rows]}

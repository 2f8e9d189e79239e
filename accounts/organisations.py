"""Services for organisations and staff memberships: loading official administrative units, the demo
set of departments, granting and revoking staff roles. Every write here is idempotent or audited."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEvent, Membership, Organisation, OrganisationKind, Role, User
from accounts.tenancy import has_role
from accounts.validators import normalise_phone, validate_phone
from contest_engine.text import slugify_vi

UNITS_DIR = Path(settings.BASE_DIR) / "accounts" / "data" / "units"
DEMO_DIR = Path(settings.BASE_DIR) / "accounts" / "data" / "demo"
UNIT_COLUMNS = ("code", "name", "kind", "province_code", "province_name")
UNIT_KINDS = {
    "ward": OrganisationKind.WARD,
    "commune": OrganisationKind.COMMUNE,
    "special_zone": OrganisationKind.SPECIAL_ZONE,
}
_PROVINCE_PREFIXES = ("thành phố ", "tỉnh ")


class UnitFileError(Exception):
    """The units file is missing or malformed; ``message`` is shown to the operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MembershipError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class LoadReport:
    city: Organisation | None = None
    city_created: bool = False
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + self.unchanged


def vietnamese_slug(value: str) -> str:
    """ASCII slug of a Vietnamese name: diacritics dropped, đ → d (``contest_engine.text.slugify_vi``)."""
    return slugify_vi(value)


def _province_slug(province_name: str) -> str:
    name = province_name.strip()
    for prefix in _PROVINCE_PREFIXES:
        if name.lower().startswith(prefix):
            name = name[len(prefix):]
            break
    return vietnamese_slug(name)


def resolve_units_file(path_or_code: str) -> Path:
    """A path to a CSV, or a province code such as ``92`` naming ``accounts/data/units/92-*.csv``."""
    candidate = Path(path_or_code)
    if candidate.is_file():
        return candidate
    if path_or_code.isdigit():
        matches = sorted(UNITS_DIR.glob(f"{int(path_or_code):02d}-*.csv"))
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise UnitFileError(f"Several unit files for province {path_or_code}: {matches}")
    raise UnitFileError(f"No units file found for {path_or_code!r} (a CSV path or a province code with a "
                        f"file in {UNITS_DIR}).")


def read_units(path: Path) -> list[dict[str, str]]:
    """Rows of a units CSV, validated: known kinds, one province, no duplicate codes or names."""
    text = path.read_text(encoding="utf-8-sig")
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    if reader.fieldnames is None or tuple(h.strip() for h in reader.fieldnames) != UNIT_COLUMNS:
        raise UnitFileError(f"{path}: the header must be {','.join(UNIT_COLUMNS)}")
    rows: list[dict[str, str]] = []
    seen_codes: set[str] = set()
    seen_names: set[str] = set()
    provinces: set[tuple[str, str]] = set()
    for number, raw in enumerate(reader, start=2):
        row = {key.strip(): unicodedata.normalize("NFC", (value or "").strip()) for key, value in raw.items()}
        if not row["name"]:
            raise UnitFileError(f"{path}: row {number} has no name")
        if row["kind"] not in UNIT_KINDS:
            raise UnitFileError(f"{path}: row {number} has kind {row['kind']!r}; expected one of {sorted(UNIT_KINDS)}")
        if row["code"] and not row["code"].isdigit():
            raise UnitFileError(f"{path}: row {number} has a non-numeric code {row['code']!r}")
        if row["code"] in seen_codes:
            raise UnitFileError(f"{path}: code {row['code']} appears twice")
        if row["name"] in seen_names:
            raise UnitFileError(f"{path}: name {row['name']!r} appears twice")
        if row["code"]:
            seen_codes.add(row["code"])
        seen_names.add(row["name"])
        provinces.add((row["province_code"], row["province_name"]))
        rows.append(row)
    if not rows:
        raise UnitFileError(f"{path}: no units")
    if len(provinces) != 1:
        raise UnitFileError(f"{path}: one province per file; found {sorted(provinces)}")
    return rows


def _apply(obj: Organisation, values: dict[str, object]) -> list[str]:
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


def _unique_slug(base: str, *, exclude_pk: int | None = None) -> str:
    slug, n = base[:80], 2
    while Organisation.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        suffix = f"-{n}"
        slug, n = base[: 80 - len(suffix)] + suffix, n + 1
    return slug


def city_ensure(*, province_code: str, name: str) -> tuple[Organisation, bool]:
    """The province/city organisation (kind=city), matched by its official code, else by name;
    returns it and whether it was created."""
    city = (Organisation.objects.filter(kind=OrganisationKind.CITY, official_code=province_code).first()
            or Organisation.objects.filter(kind=OrganisationKind.CITY, name=name, official_code="").first())
    values = {"name": name, "official_code": province_code, "is_unit": False, "is_active": True}
    if city is None:
        city = Organisation(kind=OrganisationKind.CITY, slug=_unique_slug(_province_slug(name)), **values)
        city.save()
        return city, True
    if changed := _apply(city, values):
        city.save(update_fields=changed)
    return city, False


@transaction.atomic
def units_load(*, path: Path, city_name: str | None = None) -> LoadReport:
    """Create or update the city and each commune-level unit of a units CSV.

    Idempotent: a unit is matched by (kind, official code) when the file gives a code, else by name under
    the city; names and kinds are updated in place, so re-running after a correction is safe. Units that
    are no longer in the file are left alone (contest history refers to them); deactivate them by hand.
    """
    rows = read_units(path)
    report = LoadReport()
    province_code, province_name = rows[0]["province_code"], rows[0]["province_name"]
    city, report.city_created = city_ensure(province_code=province_code, name=city_name or province_name)
    report.city = city
    prefix = city.slug
    for row in rows:
        kind = UNIT_KINDS[row["kind"]]
        unit = None
        if row["code"]:
            unit = Organisation.objects.filter(official_code=row["code"],
                                               kind__in=list(UNIT_KINDS.values())).first()
        if unit is None:
            unit = Organisation.objects.filter(parent=city, name=row["name"]).first()
        values = {"name": row["name"], "kind": kind, "official_code": row["code"], "parent": city,
                  "is_unit": True, "is_active": True}
        if unit is None:
            unit = Organisation(slug=_unique_slug(f"{prefix}-{vietnamese_slug(row['name'])}"), **values)
            unit.save()
            report.created.append(row["name"])
        elif changed := _apply(unit, values):
            unit.save(update_fields=changed)
            report.updated.append(row["name"])
        else:
            report.unchanged += 1
    return report


@transaction.atomic
def organisations_load(*, path: Path, parent: Organisation) -> LoadReport:
    """Load non-official organisations (departments, schools, mass organisations) from a CSV with the
    columns slug,name,kind,is_unit; matched by slug, so re-running is safe."""
    text = path.read_text(encoding="utf-8-sig")
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    report = LoadReport(city=parent)
    for number, row in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=2):
        if row["kind"] not in OrganisationKind.values:
            raise UnitFileError(f"{path}: row {number} has an unknown kind {row['kind']!r}")
        values = {"name": unicodedata.normalize("NFC", row["name"].strip()), "kind": row["kind"],
                  "parent": parent, "is_unit": row.get("is_unit", "true").strip().lower() == "true",
                  "is_active": True}
        org = Organisation.objects.filter(slug=row["slug"].strip()).first()
        if org is None:
            Organisation.objects.create(slug=row["slug"].strip(), **values)
            report.created.append(values["name"])
        elif changed := _apply(org, values):
            org.save(update_fields=changed)
            report.updated.append(values["name"])
        else:
            report.unchanged += 1
    return report


def membership_grant(*, actor: User | None, user: User, organisation: Organisation, role: str) -> Membership:
    """Give ``user`` a staff ``role`` in ``organisation`` (idempotent) and the admin flag it needs.

    The caller has already checked that ``actor`` may manage ``organisation`` (accounts.tenancy). Never
    touches ``is_superuser``. Writes an audit event when a membership is created.
    """
    if role not in Role.values:
        raise MembershipError(str(_("Vai trò không hợp lệ.")))
    if not user.is_active:
        raise MembershipError(str(_("Tài khoản này đã bị khóa.")))
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(user=user, organisation=organisation, role=role)
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        if created:
            AuditEvent.objects.create(actor=actor, organisation=organisation, action="membership.granted",
                                      target_type="accounts.user", target_id=str(user.pk),
                                      data={"role": role})
    return membership


def membership_revoke(*, actor: User | None, membership: Membership) -> None:
    """Remove a staff role; the admin flag is dropped when the user holds no role anywhere any more
    (superusers keep it)."""
    user, organisation, role = membership.user, membership.organisation, membership.role
    with transaction.atomic():
        membership.delete()
        if user.is_staff and not user.is_superuser and not Membership.objects.filter(user=user).exists():
            user.is_staff = False
            user.save(update_fields=["is_staff"])
        AuditEvent.objects.create(actor=actor, organisation=organisation, action="membership.revoked",
                                  target_type="accounts.user", target_id=str(user.pk), data={"role": role})


TEMPORARY_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105 — an alphabet


def _temporary_password() -> str:
    """Twelve characters from an alphabet without look-alikes (l/1, O/0), with letters and digits."""
    import secrets

    while True:
        password = "".join(secrets.choice(TEMPORARY_PASSWORD_ALPHABET) for _ in range(12))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def staff_account_create(*, actor: User, organisation: Organisation, full_name: str, phone: str,
                         email: str = "", role: str = Role.JUDGE) -> tuple[User, str]:
    """An organiser creates a staff account (a judge, usually) in their own organisation: the account, its
    role there, and a temporary password returned once to be handed over (the person changes it on the
    password page). Refuses an organisation where ``actor`` is not an organiser, a phone number or e-mail
    that already has an account (grant that account the role instead), a bad phone number. Audited as
    ``accounts.staff_account_created`` (no password, no personal values)."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    if not has_role(actor, organisation.pk, [Role.ORGANISER]):
        raise MembershipError(str(_("Bạn chỉ tạo được tài khoản trong đơn vị mà bạn thuộc Ban tổ chức.")))
    if role not in Role.values:
        raise MembershipError(str(_("Vai trò không hợp lệ.")))
    full_name = " ".join((full_name or "").split())
    if not full_name:
        raise MembershipError(str(_("Cần nhập họ và tên.")))
    try:
        validate_phone(phone)
    except ValidationError as exc:
        raise MembershipError(" ".join(exc.messages)) from exc
    phone = normalise_phone(phone)
    email = (email or "").strip().lower() or None
    if User.objects.filter(phone=phone).exists() or (email and User.objects.filter(email__iexact=email).exists()):
        raise MembershipError(str(_("Số điện thoại hoặc email này đã có tài khoản: hãy cấp vai trò cho tài khoản "
                                    "đó (mục “Cấp vai trò cho tài khoản đã có”).")))
    password = _temporary_password()
    with transaction.atomic():
        username, n = f"cb{phone}", 2
        while User.objects.filter(username=username).exists():
            username, n = f"cb{phone}-{n}", n + 1
        user = User(username=username, full_name=full_name, phone=phone, email=email, is_staff=True)
        validate_password(password, user)
        user.set_password(password)
        user.save()
        membership_grant(actor=actor, user=user, organisation=organisation, role=role)
        AuditEvent.objects.create(actor=actor, organisation=organisation, action="accounts.staff_account_created",
                                  target_type="accounts.user", target_id=str(user.pk), data={"role": role})
    return user, password

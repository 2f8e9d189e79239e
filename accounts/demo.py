"""Demo data for accounts: Cần Thơ's official units, a few (unofficial) departments and organisations,
one staff account per role, a superuser and a citizen. Passwords are fixed and printed: demo only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import CitizenProfile, Organisation, Role, User
from accounts.organisations import DEMO_DIR, membership_grant, organisations_load, resolve_units_file, units_load
from contest_engine.demo import demo_loader

PROVINCE_CODE = "92"
JUSTICE_SLUG = "can-tho-so-tu-phap"
WARD_CODE = "31135"  # Phường Ninh Kiều
ADMIN_PASSWORD = "admin-demo-2026"  # noqa: S105 — printed demo credentials, never used in production
STAFF_PASSWORD = "canbo-demo-2026"  # noqa: S105
CITIZEN_PASSWORD = "thisinh-demo-2026"  # noqa: S105


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    phone: str
    email: str
    role: str | None = None
    organisation: str = ""  # "justice" or "ward"


STAFF = [
    DemoAccount("btc.stp", "Trần Thị Tổ Chức", "0901000001", "btc.stp@example.vn", Role.ORGANISER, "justice"),
    DemoAccount("giamkhao.stp", "Lê Văn Giám Khảo", "0901000002", "giamkhao.stp@example.vn", Role.JUDGE,
                "justice"),
    DemoAccount("rade.stp", "Phạm Thị Ra Đề", "0901000003", "rade.stp@example.vn", Role.WRITER, "justice"),
    DemoAccount("thamdinh.stp", "Võ Văn Thẩm Định", "0901000004", "thamdinh.stp@example.vn", Role.REVIEWER,
                "justice"),
    DemoAccount("btc.ninhkieu", "Huỳnh Thị Phường", "0901000005", "btc.ninhkieu@example.vn", Role.ORGANISER,
                "ward"),
]
CITIZEN = DemoAccount("thisinh.demo", "Nguyễn Văn Dân", "0912345678", "thisinh@example.vn")


def _account(spec: DemoAccount, *, password: str, **flags: Any) -> User:
    user, _created = User.objects.update_or_create(
        username=spec.username,
        defaults={"full_name": spec.full_name, "phone": spec.phone, "email": spec.email, "is_active": True,
                  **flags},
    )
    if not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


@demo_loader(order=10, name="accounts")
def load(stdout: Any) -> None:
    units = units_load(path=resolve_units_file(PROVINCE_CODE))
    city = units.city
    others = organisations_load(path=DEMO_DIR / f"{PROVINCE_CODE}-can-tho-organisations.csv", parent=city)
    stdout.write(f"  {city}: {units.total} official units ({len(units.created)} new); "
                 f"{others.total} demo departments, organisations and schools ({len(others.created)} new)")

    orgs = {"justice": Organisation.objects.get(slug=JUSTICE_SLUG),
            "ward": Organisation.objects.get(official_code=WARD_CODE, parent=city)}
    rows = []
    root = _account(DemoAccount("admin", "Quản trị hệ thống", "0901000000", "admin@example.vn"),
                    password=ADMIN_PASSWORD, is_staff=True, is_superuser=True)
    rows.append(("Quản trị (superuser)", root.username, ADMIN_PASSWORD, "—"))
    for spec in STAFF:
        user = _account(spec, password=STAFF_PASSWORD, is_staff=True, is_superuser=False)
        membership = membership_grant(actor=None, user=user, organisation=orgs[spec.organisation], role=spec.role)
        rows.append((membership.get_role_display(), f"{user.username} / {user.phone}", STAFF_PASSWORD,
                     str(membership.organisation)))
    citizen = _account(CITIZEN, password=CITIZEN_PASSWORD, is_staff=False, is_superuser=False)
    CitizenProfile.objects.update_or_create(user=citizen, defaults={
        "unit": orgs["ward"], "date_of_birth": dt.date(1990, 5, 17),
        "privacy_notice_version": settings.PRIVACY_NOTICE_VERSION,
    })
    CitizenProfile.objects.filter(user=citizen, privacy_consent_at__isnull=True).update(
        privacy_consent_at=timezone.now())
    rows.append(("Thí sinh", f"{citizen.phone}", CITIZEN_PASSWORD, str(orgs["ward"])))

    stdout.write("")
    stdout.write("  Demo accounts (demo passwords — never use them in production):")
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    header = ("Vai trò", "Đăng nhập", "Mật khẩu", "Đơn vị")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for row in (header, *rows):
        stdout.write(("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))).rstrip())

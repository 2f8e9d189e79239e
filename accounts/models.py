"""Organisations (tenants), staff memberships, users and citizen profiles, and the audit log."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.validators import validate_national_id, validate_phone


class OrganisationKind(models.TextChoices):
    CITY = "city", _("Tỉnh / thành phố")
    DEPARTMENT = "department", _("Sở, ban, ngành")
    WARD = "ward", _("Phường")
    COMMUNE = "commune", _("Xã")
    SPECIAL_ZONE = "special_zone", _("Đặc khu")
    SCHOOL = "school", _("Trường học")
    MASS_ORGANISATION = "mass_org", _("Tổ chức chính trị - xã hội")
    AGENCY = "agency", _("Cơ quan, đơn vị khác")


class Organisation(models.Model):
    """A tenant: it owns contests, questions and staff. Wards and communes also serve as the
    contestant's unit (đơn vị dự thi); so can departments, schools and agencies."""

    tenant_path = ""  # accounts.tenancy: an organisation is its own tenant

    name = models.CharField(_("tên"), max_length=200)
    slug = models.SlugField(_("mã định danh"), max_length=80, unique=True)
    kind = models.CharField(_("loại"), max_length=20, choices=OrganisationKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("trực thuộc"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    # Official administrative code (national statistics office) where there is one.
    official_code = models.CharField(_("mã hành chính"), max_length=10, blank=True, db_index=True)
    is_unit = models.BooleanField(_("là đơn vị dự thi"), default=True,
                                  help_text=_("Thí sinh có thể chọn đơn vị này khi đăng ký."))
    registered_population = models.PositiveIntegerField(
        _("số người thuộc đơn vị"), null=True, blank=True,
        help_text=_("Dùng để tính tỉ lệ tham gia của đơn vị."),
    )
    is_active = models.BooleanField(_("đang hoạt động"), default=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "tổ chức")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "tổ chức")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "official_code"], condition=~Q(official_code=""),
                                    name="organisation_official_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ORGANISER = "organiser", _("Ban tổ chức")
    JUDGE = "judge", _("Giám khảo")
    WRITER = "writer", _("Tổ ra đề")
    REVIEWER = "reviewer", _("Tổ thẩm định")


class Membership(models.Model):
    """A staff role held by a user in one organisation. A user may hold several."""

    tenant_path = "organisation"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships",
                             verbose_name=_("tài khoản"))
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships",
                                     verbose_name=_("tổ chức"))
    role = models.CharField(_("vai trò"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "vai trò cán bộ")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "vai trò cán bộ")
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.organisation}"


class CitizenUserManager(UserManager):
    def get_by_natural_key(self, username: str):  # type: ignore[override]
        return self.get(**{self.model.USERNAME_FIELD: username})


class User(AbstractUser):
    """Everyone who logs in. ``username`` is internal; people log in with phone or e-mail
    (accounts.backends.PhoneOrEmailBackend). Phone and e-mail are unique when present."""

    phone = models.CharField(_("số điện thoại"), max_length=15, null=True, blank=True, unique=True,
                             validators=[validate_phone])
    email = models.EmailField(_("thư điện tử (email)"), null=True, blank=True, unique=True)
    full_name = models.CharField(_("họ và tên"), max_length=150, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = CitizenUserManager()

    class Meta(AbstractUser.Meta):
        verbose_name = pgettext_lazy("verbose_name", "người dùng")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "người dùng")

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        return self.full_name or self.username

    def clean(self) -> None:
        super().clean()
        # AbstractUser.clean() turns a missing e-mail into "", which the unique constraint would then
        # allow only once: store "no e-mail" as NULL, like a missing phone number.
        if not self.email:
            self.email = None


class CitizenProfile(models.Model):
    """Registration data of a citizen (thí sinh). Minimal by design (Law 91/2025: collect the minimum)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile",
                                verbose_name=_("tài khoản"))
    date_of_birth = models.DateField(_("ngày sinh"), null=True, blank=True)
    unit = models.ForeignKey(Organisation, verbose_name=_("đơn vị"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="citizens")
    national_id = models.CharField(_("số định danh cá nhân (CCCD)"), max_length=12, blank=True,
                                   validators=[validate_national_id])
    privacy_consent_at = models.DateTimeField(_("đồng ý điều khoản lúc"), null=True, blank=True)
    privacy_notice_version = models.CharField(_("phiên bản thông báo xử lý dữ liệu"), max_length=20, blank=True)
    guardian_name = models.CharField(_("họ tên người giám hộ"), max_length=150, blank=True)
    guardian_phone = models.CharField(_("số điện thoại người giám hộ"), max_length=15, blank=True)
    guardian_consent_at = models.DateTimeField(_("người giám hộ đồng ý lúc"), null=True, blank=True)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "hồ sơ thí sinh")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "hồ sơ thí sinh")

    def __str__(self) -> str:
        return str(self.user)

    def age_on(self, day: dt.date | None = None) -> int | None:
        if self.date_of_birth is None:
            return None
        day = day or timezone.localdate()
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class AuditEvent(models.Model):
    """Append-only record of who did what (Decree 85/2016 level 3; Decree 356/2025 processing log)."""

    tenant_path = "organisation"

    at = models.DateTimeField(_("thời điểm"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("người thực hiện"))
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("tổ chức"))
    action = models.CharField(_("thao tác"), max_length=80, db_index=True)
    target_type = models.CharField(_("loại đối tượng"), max_length=80, blank=True)
    target_id = models.CharField(_("mã đối tượng"), max_length=64, blank=True)
    reason = models.TextField(_("lý do"), blank=True)
    data = models.JSONField(_("chi tiết"), default=dict, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "nhật ký")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "nhật ký")
        ordering = ["-at"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.at):%d/%m/%Y %H:%M} {self.action}"


class SmsResetCode(models.Model):
    """A one-time 6-digit password-reset code sent by SMS. Only a keyed hash of the code is stored.

    A code belongs to the request that asked for it: ``request_hash`` is a keyed hash of a secret kept in the
    requesting browser's session, and only that browser can redeem it. A new code of the same request retires
    the earlier one (``used_at`` set); codes of other requests stay live, so a stranger's request or wrong codes
    never cancel the owner's. Rows are purged after expiry (accounts.jobs).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sms_reset_codes")
    code_hash = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "mã đặt lại mật khẩu")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "mã đặt lại mật khẩu")
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"


class ContactKind(models.TextChoices):
    PHONE = "phone", _("Số điện thoại")
    EMAIL = "email", _("Email")


class ContactChangeCode(models.Model):
    """A pending change of a citizen's phone number or e-mail address: a one-time 6-digit code was sent to the
    *new* address and the change is applied only when that code is entered (``accounts.contact_change``). Only
    a keyed hash of the code is stored; the new value is kept until the code is used or expires, then purged
    (accounts.jobs). Requesting a new code for the same kind retires the earlier one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_change_codes",
                             verbose_name=_("tài khoản"))
    kind = models.CharField(_("loại"), max_length=5, choices=ContactKind.choices)
    new_value = models.CharField(_("giá trị mới"), max_length=254)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("gửi lúc"), default=timezone.now)
    expires_at = models.DateTimeField(_("hết hạn lúc"), db_index=True)
    tries = models.PositiveSmallIntegerField(_("số lần nhập sai"), default=0)
    used_at = models.DateTimeField(_("dùng hoặc huỷ lúc"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "mã xác nhận đổi liên lạc")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "mã xác nhận đổi liên lạc")
        indexes = [models.Index(fields=["user", "kind", "-created_at"], name="contact_change_user_kind")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"

"""Admin for organisations, staff roles, users, citizen profiles and the audit log.

Who sees what (all decided by accounts.tenancy; nothing here re-implements the check):

- Organisation: superusers manage all; staff see their own organisation(s), read-only.
- Membership: organisers grant and revoke roles in their own organisation(s) only (through
  accounts.organisations, which audits); memberships are never edited in place.
- User: superusers manage all; organisers can view the staff users of their organisation(s).
- CitizenProfile: superusers only — citizens' personal data is not browsable by staff here.
- AuditEvent: read-only for everyone; superusers see all, organisers their organisation's events.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.backends import find_user_by_login
from accounts.forms import StaffLoginForm
from accounts.models import AuditEvent, CitizenProfile, Membership, Organisation, Role, User
from accounts.organisations import MembershipError, _unique_slug, membership_grant, membership_revoke, vietnamese_slug
from accounts.tenancy import ALL_ROLES, ForeignObjectNotFoundMixin, TenantScopedAdmin, organisation_ids_for

ORGANISERS = frozenset({Role.ORGANISER})

# /admin/login/ goes through the one login policy (accounts.login_policy), like /accounts/login/.
admin.site.login_form = StaffLoginForm


class OrganisationAdminForm(forms.ModelForm):
    """The slug is filled from the name on the server (Vietnamese transliteration, đ → d) when left empty;
    the admin's JavaScript URLify would drop letters with two diacritics."""

    class Meta:
        model = Organisation
        fields = ("name", "slug", "kind", "parent", "official_code", "is_unit", "registered_population", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:  # absent when the page is read-only
            self.fields["slug"].required = False
            self.fields["slug"].help_text = _("Để trống: tạo tự động từ tên (bỏ dấu, đ → d).")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("slug") and data.get("name"):
            data["slug"] = _unique_slug(vietnamese_slug(data["name"]) or "don-vi", exclude_pk=self.instance.pk)
            self.instance.slug = data["slug"]
        return data


@admin.register(Organisation)
class OrganisationAdmin(TenantScopedAdmin):
    # Staff of any role see their own organisations; creating and editing is for superusers only.
    tenant_roles = {"view": ALL_ROLES}
    list_display = ("name", "kind", "official_code", "parent", "is_unit", "is_active")
    list_filter = ("kind", "is_unit", "is_active")
    search_fields = ("name", "official_code", "slug")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    form = OrganisationAdminForm


class MembershipAddForm(forms.ModelForm):
    """Grant a role to an existing account found by phone number or e-mail, so organisers never browse
    the list of all accounts (most of which are citizens)."""

    login = forms.CharField(label=_("Số điện thoại hoặc email"), max_length=254,
                            help_text=_("Tài khoản phải được tạo trước (đăng ký hoặc do quản trị viên tạo)."))

    class Meta:
        model = Membership
        fields = ("login", "organisation", "role")

    def clean_login(self) -> User:
        user = find_user_by_login(self.cleaned_data["login"])
        if user is None:
            raise forms.ValidationError(_("Không tìm thấy tài khoản với số điện thoại hoặc email này."))
        self.instance.user = user
        return user


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    tenant_roles = {"view": ORGANISERS, "add": ORGANISERS, "delete": ORGANISERS}
    add_form = MembershipAddForm
    list_display = ("user", "organisation", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__full_name", "user__username", "organisation__name")
    list_select_related = ("user", "organisation")
    readonly_fields = ("user", "organisation", "role", "created_at")

    def get_form(self, request: HttpRequest, obj: Membership | None = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Membership | None = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Membership | None = None) -> Any:
        return ("login", "organisation", "role") if obj is None else self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False  # granted and revoked, never edited: every change is an audited grant or revoke

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if not request.user.is_superuser and obj.organisation_id not in organisation_ids_for(
            request.user, self._roles("add")
        ):
            raise PermissionDenied
        try:
            membership = membership_grant(actor=request.user, user=form.cleaned_data["login"],
                                          organisation=obj.organisation, role=obj.role)
        except MembershipError as exc:
            raise PermissionDenied(exc.message) from exc
        obj.pk, obj.user, obj.created_at = membership.pk, membership.user, membership.created_at

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        membership_revoke(actor=request.user, membership=obj)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        for membership in queryset.select_related("user", "organisation"):
            membership_revoke(actor=request.user, membership=membership)


class UserCreationForm(auth_forms.UserCreationForm):
    class Meta(auth_forms.UserCreationForm.Meta):
        model = User
        fields = ("username", "full_name", "phone", "email")


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta(auth_forms.UserChangeForm.Meta):
        model = User
        fields = "__all__"


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("organisation",)
    readonly_fields = ("created_at",)


@admin.register(User)
class UserAdmin(ForeignObjectNotFoundMixin, DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ("username", "full_name", "phone", "email", "is_staff", "is_superuser", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("username", "full_name", "phone", "email")
    ordering = ("username",)
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Thông tin cá nhân"), {"fields": ("full_name", "phone", "email")}),
        (_("Quyền"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Mốc thời gian"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",),
                "fields": ("username", "full_name", "phone", "email", "password1", "password2")}),
    )
    # What an organiser sees of a fellow staff member: no password hash summary, no permissions.
    organiser_fieldsets = ((None, {"fields": ("username", "full_name", "phone", "email", "is_active",
                                              "last_login")}),)

    def _organiser_org_ids(self, request: HttpRequest) -> set[int]:
        return organisation_ids_for(request.user, ORGANISERS)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(
            is_staff=True, memberships__organisation__in=self._organiser_org_ids(request)
        ).distinct()

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> Any:
        if not request.user.is_superuser:
            return self.organiser_fieldsets
        return super().get_fieldsets(request, obj)

    def get_inlines(self, request: HttpRequest, obj: User | None) -> Any:
        # Roles are added once the account exists (and only superusers see all of someone's roles).
        return self.inlines if obj is not None and request.user.is_superuser else []

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or bool(self._organiser_org_ids(request))

    def has_view_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if request.user.is_superuser:
            return True
        org_ids = self._organiser_org_ids(request)
        if not org_ids:
            return False
        return obj is None or (obj.is_staff and obj.memberships.filter(organisation__in=org_ids).exists())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return request.user.is_superuser


class SuperuserOnlyAdmin(ForeignObjectNotFoundMixin, admin.ModelAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return request.user.is_active and request.user.is_superuser


@admin.register(CitizenProfile)
class CitizenProfileAdmin(SuperuserOnlyAdmin):
    """Citizens' registration data: superusers only (Law 91/2025 — least access). Staff reach a citizen's
    data only through the registrations of their own contests."""

    list_display = ("user", "unit", "date_of_birth", "privacy_consent_at", "created_at")
    list_select_related = ("user", "unit")
    search_fields = ("user__full_name", "user__phone", "user__email")
    raw_id_fields = ("user",)
    autocomplete_fields = ("unit",)


@admin.register(AuditEvent)
class AuditEventAdmin(TenantScopedAdmin):
    """The audit log is append-only: nobody adds, edits or deletes events here, superusers included."""

    tenant_roles = {"view": ORGANISERS}
    list_display = ("at", "action", "actor", "organisation", "target_type", "target_id")
    list_filter = ("action",)
    search_fields = ("action", "target_type", "target_id")
    list_select_related = ("actor", "organisation")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

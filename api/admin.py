"""Admin for API tokens: an organisation's organisers create and revoke its tokens (tenant-scoped like every
admin: accounts.tenancy). A new token is shown once, on the page that answers the creation; only its digest is
stored. Tokens are revoked, never deleted (who could read what, and until when, stays on record)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Role
from accounts.tenancy import TenantScopedAdmin, organisation_ids_for
from api.models import ApiToken, Scope
from api.services import api_token_create, api_token_revoke

ORGANISERS = frozenset({Role.ORGANISER})
_RAW_ATTR = "_api_token_raw"


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(label=_("phạm vi truy cập"), choices=Scope.choices, required=False,
                                       widget=forms.CheckboxSelectMultiple,
                                       help_text=_("Dữ liệu công khai không cần phạm vi nào."))

    class Meta:
        model = ApiToken
        fields = ("organisation", "name", "scopes", "expires_at")


@admin.register(ApiToken)
class ApiTokenAdmin(TenantScopedAdmin):
    tenant_roles = {"view": ORGANISERS, "add": ORGANISERS, "change": ORGANISERS, "delete": frozenset()}
    form = ApiTokenForm
    list_display = ("name", "organisation", "key_prefix", "scopes_text", "created_at", "last_used_at",
                    "expires_at", "revoked_at")
    search_fields = ("name", "key_prefix")
    actions = ("revoke_selected",)

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        # Scopes are fixed at creation: a client that needs more gets a new token (and the old one is revoked).
        return ("organisation", "scopes_text", "key_prefix", "created_by", "created_at", "last_used_at",
                "revoked_at", "revoked_by")

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        if obj is None:
            return ("organisation", "name", "scopes", "expires_at")
        return ("organisation", "name", "scopes_text", "key_prefix", "expires_at", "created_by", "created_at",
                "last_used_at", "revoked_at", "revoked_by")

    @admin.display(description=_("phạm vi truy cập"))
    def scopes_text(self, obj: ApiToken) -> str:
        return ", ".join(obj.scopes or []) or "—"

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        if not request.user.is_superuser and obj.organisation_id not in organisation_ids_for(request.user,
                                                                                           ORGANISERS):
            raise PermissionDenied
        token, raw = api_token_create(organisation=obj.organisation, name=obj.name,
                                      scopes=form.cleaned_data.get("scopes") or [], actor=request.user,
                                      expires_at=obj.expires_at)
        obj.pk, obj.key_prefix, obj.key_digest, obj.scopes = token.pk, token.key_prefix, token.key_digest, token.scopes
        obj.created_at, obj.created_by = token.created_at, token.created_by
        obj._state.adding = False
        setattr(request, _RAW_ATTR, raw)

    def response_add(self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None) -> HttpResponse:
        """The one page that shows the token (not a message: messages may travel in a cookie)."""
        raw = getattr(request, _RAW_ATTR, None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        return TemplateResponse(request, "admin/api/apitoken/created.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "token": obj, "raw": raw,
            "title": _("Mã truy cập mới"),
            "list_url": reverse("admin:api_apitoken_changelist"),
        })

    @admin.action(description=_("Thu hồi các mã truy cập đã chọn"), permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: Any) -> None:
        revoked = sum(api_token_revoke(token=token, actor=request.user) for token in queryset)
        self.message_user(request, ngettext("Đã thu hồi %(n)d mã truy cập.", "Đã thu hồi %(n)d mã truy cập.",
                                            revoked) % {"n": revoked}, messages.SUCCESS)

"""Leaderboards admin, scoped with accounts.tenancy: stored rankings (read-only; recompute action with a
reason when locked), disqualifications (add = disqualify through the service; revoke action) and the
contest-wide ranking setting. Every write goes through leaderboards.services (audited)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.tenancy import TenantScopedAdmin, scope_for
from contests.models import FINISHED_STATUSES, Attempt, AttemptStatus, Registration
from leaderboards import errors
from leaderboards.models import ContestLeaderboardSettings, Disqualification, DisqualificationScope, RoundRanking
from leaderboards.selectors import person_disqualified
from leaderboards.services.disqualification import attempt_disqualify, disqualification_revoke, person_disqualify
from leaderboards.services.ranking import ranking_compute, ranking_is_locked

STAFF = frozenset({Role.ORGANISER, Role.JUDGE})
ORGANISER = frozenset({Role.ORGANISER})


def _action_page(request: HttpRequest, modeladmin: admin.ModelAdmin, queryset: QuerySet, form: forms.Form,
                 *, action: str, title: str) -> TemplateResponse:
    return TemplateResponse(request, "admin/action_form_with_reason.html", {
        **modeladmin.admin_site.each_context(request), "opts": modeladmin.model._meta, "title": title,
        "objects": queryset, "form": form, "action": action,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    })


class RecomputeForm(forms.Form):
    """The number of prizes is not here: it is decided, with its reason, on the round's results page
    (judging), where it enters the decision history; a recompute keeps the previous version's prizes."""

    reason = forms.CharField(label=_("Lý do tính lại"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Bắt buộc khi kết quả đã được đề xuất, phê duyệt hoặc công bố."))


@admin.register(RoundRanking)
class RoundRankingAdmin(TenantScopedAdmin):
    tenant_roles = {"view": STAFF, "add": frozenset(), "change": frozenset(), "delete": frozenset()}
    list_display = ("round", "version", "status", "entry_count", "prediction_target_value", "computed_at")
    list_filter = ("status",)
    readonly_fields = ("round", "version", "status", "computed_at", "created_by", "prediction_target_kind",
                       "prediction_target_value", "counted_attempt", "tie_break_order", "prize_places",
                       "entry_count", "revision_reason", "diff")
    actions = ["recompute"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Tính lại kết quả xếp hạng (phiên bản mới)"))
    def recompute(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        form = RecomputeForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for ranking in queryset.select_related("round"):
                try:
                    new = ranking_compute(round=ranking.round, actor=request.user,
                                          revision_reason=form.cleaned_data["reason"] or "")
                except errors.LeaderboardError as exc:
                    self.message_user(request, f"{ranking.round}: {exc.message}", messages.ERROR)
                    continue
                self.message_user(request, _("%(round)s: phiên bản %(v)s, %(n)s thứ hạng thay đổi.") % {
                    "round": ranking.round, "v": new.version, "n": new.diff.get("changed", 0)})
            return None
        locked = any(ranking_is_locked(r) for r in queryset)
        title = _("Tính lại kết quả (cần lý do và phê duyệt lại)") if locked else _("Tính lại kết quả")
        return _action_page(request, self, queryset, form, action="recompute", title=title)


class DisqualifyForm(forms.ModelForm):
    class Meta:
        model = Disqualification
        fields = ("scope", "attempt", "registration", "reason")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        scope, attempt = data.get("scope"), data.get("attempt")
        if scope == DisqualificationScope.ATTEMPT and attempt is None:
            self.add_error("attempt", _("Chọn lượt thi bị loại."))
        if scope == DisqualificationScope.PERSON and attempt is not None:
            self.add_error("attempt", _("Loại thí sinh khỏi cả cuộc thi không chọn lượt thi."))
        if attempt is not None and data.get("registration") and attempt.registration_id != data["registration"].pk:
            self.add_error("attempt", _("Lượt thi không thuộc thí sinh này."))
        # The service checks again under row locks; these make the usual mistakes form errors.
        if scope == DisqualificationScope.ATTEMPT and attempt is not None:
            if attempt.status == AttemptStatus.DISQUALIFIED:
                self.add_error("attempt", errors.AlreadyDisqualified.default_message)
            elif attempt.status not in FINISHED_STATUSES:
                self.add_error("attempt", errors.AttemptNotFinished.default_message)
        if scope == DisqualificationScope.PERSON and data.get("registration") and person_disqualified(
                registration_id=data["registration"].pk):
            self.add_error("registration", errors.AlreadyDisqualified.default_message)
        return data


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Lý do huỷ quyết định loại"), widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(Disqualification)
class DisqualificationAdmin(TenantScopedAdmin):
    tenant_roles = {"view": STAFF, "add": STAFF, "change": frozenset(), "delete": frozenset()}
    form = DisqualifyForm
    list_display = ("registration", "scope", "attempt", "created_at", "created_by", "in_force")
    list_filter = ("scope", ("revoked_at", admin.EmptyFieldListFilter))
    raw_id_fields = ("attempt", "registration")
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return [f.name for f in self.model._meta.fields]
        return ()

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "attempt":
            kwargs["queryset"] = scope_for(Attempt.objects.all(), request.user, STAFF)
        elif db_field.name == "registration":
            kwargs["queryset"] = scope_for(Registration.objects.all(), request.user, STAFF)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Disqualification, form: Any, change: bool) -> None:
        """Adding = disqualifying through the service (locks, status, audit, boards); the form's instance is
        replaced by the service's row."""
        data = form.cleaned_data
        if data["scope"] == DisqualificationScope.ATTEMPT:
            made = attempt_disqualify(actor=request.user, attempt=data["attempt"], reason=data["reason"],
                                      now=timezone.now())
        else:
            made = person_disqualify(actor=request.user, registration=data["registration"], reason=data["reason"],
                                     now=timezone.now())
        obj.pk = made.pk
        obj.__dict__.update({k: v for k, v in made.__dict__.items() if not k.startswith("_")})

    @admin.display(boolean=True, description=_("Còn hiệu lực"))
    def in_force(self, obj: Disqualification) -> bool:
        return obj.in_force

    @admin.action(description=_("Huỷ quyết định loại (khôi phục)"))
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        form = RevokeForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for decision in queryset:
                try:
                    disqualification_revoke(actor=request.user, disqualification=decision,
                                            reason=form.cleaned_data["reason"])
                except errors.LeaderboardError as exc:
                    self.message_user(request, f"{decision}: {exc.message}", messages.ERROR)
            return None
        return _action_page(request, self, queryset, form, action="revoke", title=_("Huỷ quyết định loại"))


@admin.register(ContestLeaderboardSettings)
class ContestLeaderboardSettingsAdmin(TenantScopedAdmin):
    tenant_roles = {"view": STAFF, "add": ORGANISER, "change": ORGANISER, "delete": ORGANISER}
    list_display = ("contest", "aggregate")

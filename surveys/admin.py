"""Organisers build surveys in the admin: the survey and its questions on one page, each choice question's
options typed one per line. Tenant-scoped (accounts.tenancy.TenantScopedAdmin); the structure is read-only
once responses exist (surveys.services.survey_structure_check_editable)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, Role
from accounts.tenancy import TenantScopedAdmin, has_role, organisation_ids_for
from surveys import services
from surveys.models import CHOICE_KINDS, Survey, SurveyQuestion


class SurveyQuestionForm(forms.ModelForm):
    choices_text = forms.CharField(label=_("Phương án (mỗi dòng một phương án)"), required=False,
                                   widget=forms.Textarea(attrs={"rows": 4}))

    class Meta:
        model = SurveyQuestion
        fields = ["position", "kind", "text", "required", "allow_other", "scale_low_label", "scale_high_label"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["choices_text"].initial = "\n".join(self.instance.choices.values_list("text", flat=True))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        lines = [line.strip() for line in (data.get("choices_text") or "").splitlines() if line.strip()]
        if data.get("kind") in CHOICE_KINDS and not data.get("DELETE") and not 2 <= len(lines) <= services.MAX_CHOICES:
            self.add_error("choices_text", _("Câu hỏi lựa chọn cần từ 2 đến 30 phương án."))
        data["choice_lines"] = lines
        return data


class SurveyQuestionInline(admin.StackedInline):
    model = SurveyQuestion
    form = SurveyQuestionForm
    extra = 1

    # Questions belong to their survey: whoever may change the survey (TenantScopedAdmin's organiser rule, not
    # Django's global model permissions) may edit them — until the survey has responses.
    def _may_edit(self, request: HttpRequest, obj: Survey | None) -> bool:
        if obj is not None and services.survey_is_locked(obj):
            return False
        if obj is None:
            return bool(request.user.is_superuser or organisation_ids_for(request.user, {Role.ORGANISER}))
        return has_role(request.user, obj.organisation_id, {Role.ORGANISER})

    def has_view_permission(self, request: HttpRequest, obj: Survey | None = None) -> bool:
        return obj is None or has_role(request.user, obj.organisation_id)

    def has_add_permission(self, request: HttpRequest, obj: Survey | None = None) -> bool:
        return self._may_edit(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Survey | None = None) -> bool:
        return self._may_edit(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Survey | None = None) -> bool:
        return self._may_edit(request, obj)


@admin.register(Survey)
class SurveyAdmin(TenantScopedAdmin):
    list_display = ["title", "organisation", "status", "anonymous", "opens_at", "closes_at", "results_link"]
    list_filter = ["status", "anonymous"]
    search_fields = ["title"]
    inlines = [SurveyQuestionInline]
    fields = ["organisation", "title", "description", "status", "anonymous", "audience", "audience_unit",
              "audience_contest", "opens_at", "closes_at", "results_link"]
    readonly_fields = ["results_link"]

    @admin.display(description=_("Kết quả"))
    def results_link(self, obj: Survey) -> str:
        if not obj.pk:
            return "—"
        return format_html('<a href="{}">{}</a> · <a href="{}">{}</a>', reverse("surveys:results", args=[obj.pk]),
                           _("Xem kết quả"), reverse("surveys:export", args=[obj.pk]), _("Tải Excel"))

    def get_readonly_fields(self, request: HttpRequest, obj: Survey | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and services.survey_is_locked(obj):
            fields.append("anonymous")  # anonymity cannot change under existing responses
        return fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "audience_unit":  # any unit of the installation may be surveyed
            kwargs["queryset"] = Organisation.objects.filter(is_unit=True, is_active=True).order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Survey, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is not SurveyQuestion:
            return
        for question_form in formset.forms:
            question = question_form.instance
            if question.pk is None or question_form.cleaned_data.get("DELETE") or not question_form.has_changed():
                continue
            services.survey_question_choices_set(question=question,
                                                 texts=question_form.cleaned_data.get("choice_lines", []))

"""Contests admin for organisers, scoped to their organisations (accounts.tenancy.TenantScopedAdmin).

Thin: validation mirrors the model/service rules so errors show on the form; every exception to the rules
(extra time, extra attempt, extending or reopening a round, cloning) goes through contests.services with a
reason, audited. Attempts, registrations and override grants are read-only here.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.forms import UnitChoiceField
from accounts.models import Organisation, Role
from accounts.tenancy import TenantScopedAdmin, organisation_id_of
from contest_engine.admin_columns import code, fields_except_id
from contest_engine.numbers import format_duration_ms, format_score
from contest_engine.timezones import datetime_help
from contests import errors
from contests.blind_grading import blinded_rounds_for
from contests.blueprint_form import CHECK_BUTTON, BlueprintField, MinutesField
from contests.blueprints import blueprint_overlap_problems, blueprint_problems
from contests.models import (
    INHERITED_FIELDS,
    TIE_BREAK_DURATION_FIRST,
    TIE_BREAK_PREDICTION_FIRST,
    Attempt,
    Contest,
    OverrideGrant,
    Registration,
    Round,
    RoundSettings,
    round_settings_check,
    validate_blueprint,
)
from contests.scoring import strategy_choices
from contests.services._common import audit
from contests.services.contests import contest_clone, contest_slug_for
from contests.services.fixed_questions import (
    fixed_versions_summary,
    round_fixed_versions_accept,
    round_fixed_versions_state,
)
from contests.services.overrides import (
    override_extra_attempt,
    override_extra_time,
    round_close_moment,
    round_extend,
    round_reopen_allowed,
)
from contests.services.registrations import CORRECTABLE_FIELDS, registration_correct

ORGANISER = frozenset({Role.ORGANISER})
READ_ONLY_ROLES: dict[str, frozenset[str]] = {
    "view": frozenset({Role.ORGANISER, Role.JUDGE}),
    "add": frozenset(),
    "change": frozenset(),
    "delete": frozenset(),
}


def _resolved(contest: Contest, round: Round | None) -> RoundSettings:
    values = {}
    for name in INHERITED_FIELDS:
        own = getattr(round, name, None) if round is not None else None
        values[name] = getattr(contest, name) if own is None else own
    if round is not None and round.max_attempts == 0:
        values["max_attempts"] = None
    return RoundSettings(**values)


def _blueprint_errors(organisation: Any, blueprint: list) -> list[str]:
    """Shape problems, else draws the organisation's usable questions cannot satisfy — each alone, or
    overlapping cells together (they share what they can pick)."""
    if not blueprint or organisation is None:
        return []
    try:
        validate_blueprint(blueprint)
    except ValidationError as exc:
        return list(exc.messages)
    return (blueprint_problems(organisation=organisation, blueprint=blueprint)
            + blueprint_overlap_problems(organisation=organisation, blueprint=blueprint))


TIE_BREAK_CHOICES = [
    ("prediction", _("Điểm → độ gần của dự đoán → thời gian làm bài → thời điểm nộp bài")),
    ("duration", _("Điểm → thời gian làm bài → độ gần của dự đoán → thời điểm nộp bài")),
]
TIE_BREAK_VALUES = {"prediction": TIE_BREAK_PREDICTION_FIRST, "duration": TIE_BREAK_DURATION_FIRST}


class TieBreakField(forms.TypedChoiceField):
    """The tie-break order as one of its two named orders (stored as the JSON list)."""

    def prepare_value(self, value: Any) -> Any:
        for key, order in TIE_BREAK_VALUES.items():
            if value == order:
                return key
        return value

    def clean(self, value: Any) -> Any:
        key = super().clean(value)
        return list(TIE_BREAK_VALUES[key]) if key in TIE_BREAK_VALUES else None

    def has_changed(self, initial: Any, data: Any) -> bool:
        return (self.prepare_value(initial) or "") != (data or "")


class SettingsFormMixin:
    """The settings rounds inherit, as organisers type them: the blueprint as rows (topics by name, with
    what the bank holds), the time limit in minutes, the tie-break order by name. The "Kiểm tra cấu trúc đề"
    button re-shows the form with the checks, without saving."""

    blueprint_organisation: Any = None

    def _setup_settings(self, *, organisation: Any, inherit: bool) -> None:
        fields = self.fields  # type: ignore[attr-defined]
        if "blueprint" in fields:
            widget = fields["blueprint"].widget
            widget.organisation = organisation
            widget.show_problems = not self.is_bound  # type: ignore[attr-defined]
            if inherit:
                widget.inherit_label = _("Để trống mọi dòng: dùng cấu trúc đề mặc định của cuộc thi.")
        if "time_limit_seconds" in fields and inherit:
            fields["time_limit_seconds"].help_text = _("Để trống: theo cuộc thi.")

    def _check_requested(self) -> bool:
        return CHECK_BUTTON in self.data  # type: ignore[attr-defined]

    def _refuse_if_check_requested(self) -> None:
        """The check button: the form is shown again with the checks, and nothing is saved."""
        if self._check_requested():
            raise ValidationError(_("Đã kiểm tra cấu trúc đề (xem kết quả ở phần cấu trúc đề); chưa lưu gì. Bấm "
                                    "«Lưu» khi đã xong."), code="checked")


# --- Contest with round inlines -------------------------------------------------------------------------


def _default_scoring_first() -> list[tuple[str, str]]:
    """Strategies with the model's default first (the first option is what a browser submits untouched)."""
    default = Contest._meta.get_field("scoring_rule").default
    return sorted(strategy_choices(), key=lambda choice: choice[0] != default)


class ContestAdminForm(SettingsFormMixin, forms.ModelForm):
    """A new contest saves with its defaults and a title: the default scoring rule is preselected, the slug is
    made from the title on the server (Vietnamese transliteration) when left empty."""

    scoring_rule = forms.ChoiceField(label=_("Cách tính điểm"), choices=_default_scoring_first,
                                     initial=lambda: Contest._meta.get_field("scoring_rule").default)
    blueprint = BlueprintField(label=_("Cấu trúc đề mặc định"), required=False, empty_value=[])
    time_limit_seconds = MinutesField(label=_("Thời gian làm bài (phút)"), initial=900)  # seconds, shown as 15
    tie_break_order = TieBreakField(label=_("Thứ tự xét giải phụ"), choices=TIE_BREAK_CHOICES,
                                    initial="prediction")

    class Meta:
        model = Contest
        fields = ("organisation", "title", "slug", "summary", "visibility", "rules_text", "allowed_units",
                  "minimum_age", "one_prize_per_person", "personal_data_retention_days", *INHERITED_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organisation = self.instance.organisation if self.instance.organisation_id else None
        if organisation is None and self.initial.get("organisation"):
            organisation = Organisation.objects.filter(pk=getattr(self.initial["organisation"], "pk",
                                                                  self.initial["organisation"])).first()
        self._setup_settings(organisation=organisation, inherit=False)
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = _("Để trống: tạo tự động từ tên cuộc thi (bỏ dấu, đ → d), ví dụ "
                                              "tim-hieu-luat-giao-thong-duong-bo-2026.")
        # Left empty (or absent from an older form's post), the retention is the model's documented default.
        if "personal_data_retention_days" in self.fields:
            self.fields["personal_data_retention_days"].required = False

    def clean_personal_data_retention_days(self) -> int:
        value = self.cleaned_data.get("personal_data_retention_days")
        return Contest._meta.get_field("personal_data_retention_days").default if value is None else value

    def clean_slug(self) -> str:
        slug = self.cleaned_data.get("slug") or ""
        title = self.cleaned_data.get("title") or ""  # cleaned before the slug (field order)
        if not slug and title.strip():
            slug = contest_slug_for(title, exclude_pk=self.instance.pk)
        return slug

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        blueprint = data.get("blueprint")
        organisation = data.get("organisation") or (self.instance.organisation if self.instance.organisation_id
                                                     else None)
        if blueprint:
            problems = _blueprint_errors(organisation, blueprint)
            if problems:
                self.add_error("blueprint", problems)
        self._refuse_if_check_requested()
        return data


class RoundForm(SettingsFormMixin, forms.ModelForm):
    scoring_rule = forms.ChoiceField(label=_("Cách tính điểm"), required=False,
                                     choices=lambda: [("", _("Theo cuộc thi")), *strategy_choices()])
    blueprint = BlueprintField(label=_("Cấu trúc đề"), required=False, empty_value=None)
    time_limit_seconds = MinutesField(label=_("Thời gian làm bài (phút)"), required=False)
    tie_break_order = TieBreakField(label=_("Thứ tự xét giải phụ"), required=False,
                                    choices=[("", _("Theo cuộc thi")), *TIE_BREAK_CHOICES])

    class Meta:
        model = Round
        fields = ("name", "position", "opens_at", "closes_at", *INHERITED_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("opens_at", "closes_at"):
            if name in self.fields:
                self.fields[name].help_text = datetime_help()
        contest = self.instance.contest if self.instance.contest_id else None
        self._setup_settings(organisation=contest.organisation if contest is not None else None, inherit=True)

    def clean_scoring_rule(self) -> str | None:
        return self.cleaned_data.get("scoring_rule") or None


class RoundAdminForm(RoundForm):
    """A round edited on its own page: the same checks as in the contest's inline."""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors or not self.instance.contest_id:
            self._refuse_if_check_requested()
            return data
        contest = self.instance.contest
        probe = Round(contest=contest, **{k: v for k, v in data.items() if k in {f.name for f in Round._meta.fields}})
        problems = _blueprint_errors(contest.organisation, _resolved(contest, probe).blueprint)
        if problems:
            self.add_error("blueprint", problems)
        self._refuse_if_check_requested()
        return data


class RoundFormSet(BaseInlineFormSet):
    """Checks each round against the contest being saved: resolved settings and blueprint availability."""

    def _construct_form(self, i: int, **kwargs: Any) -> Any:
        form = super()._construct_form(i, **kwargs)
        if self.instance.organisation_id:  # new rows get their contest after __init__
            form._setup_settings(organisation=self.instance.organisation, inherit=True)
        return form

    @property
    def empty_form(self) -> Any:
        form = super().empty_form
        if self.instance.organisation_id:
            form._setup_settings(organisation=self.instance.organisation, inherit=True)
        return form

    def clean(self) -> None:
        super().clean()
        contest: Contest = self.instance
        for form in self.forms:
            if not getattr(form, "cleaned_data", None) or form.cleaned_data.get("DELETE") or form.errors:
                continue
            data = form.cleaned_data
            if data.get("opens_at") and data.get("closes_at") and data["closes_at"] <= data["opens_at"]:
                form.add_error("closes_at", _("Thời gian kết thúc phải sau thời gian bắt đầu."))
                continue
            probe = Round(**{k: v for k, v in data.items() if k in {f.name for f in Round._meta.fields}})
            settings = _resolved(contest, probe)
            try:
                round_settings_check(settings)
            except ValidationError as exc:
                for field, messages_ in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages_)
                continue
            if not settings.blueprint:
                form.add_error("blueprint", _("Cần khai báo cấu trúc đề cho đợt thi hoặc cuộc thi."))
                continue
            problems = _blueprint_errors(contest.organisation if contest.organisation_id else None,
                                         settings.blueprint)
            if problems:
                form.add_error("blueprint", problems)


class RoundInline(admin.StackedInline):
    model = Round
    form = RoundForm
    formset = RoundFormSet
    extra = 0
    show_change_link = True
    fieldsets = (
        (None, {"fields": ("name", "position", "opens_at", "closes_at")}),
        (_("Thiết lập riêng của đợt (để trống: theo cuộc thi)"), {
            "classes": ("collapse",),
            "fields": INHERITED_FIELDS,
        }),
    )

    def _parent(self) -> ContestAdmin:
        return self.admin_site._registry[Contest]  # type: ignore[attr-defined]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._parent().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        parent = self._parent()
        return parent.has_change_permission(request, obj) if obj else parent.has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and Attempt.objects.filter(round__contest=obj).exists():
            return False  # rounds with attempts are history: extend or close them, never delete
        return self.has_add_permission(request, obj)


@admin.register(Contest)
class ContestAdmin(TenantScopedAdmin):
    form = ContestAdminForm
    inlines = (RoundInline,)
    list_display = ("title", "organisation", "visibility", "created_at")
    list_select_related = ("organisation",)
    list_filter = ("visibility",)
    search_fields = ("title", "slug")
    filter_horizontal = ("allowed_units",)
    actions = ("clone_contests",)  # + the xlsx export, added by exports/admin.py
    fieldsets = (
        (None, {"fields": ("organisation", "title", "slug", "summary", "visibility", "rules_text")}),
        (_("Điều kiện dự thi"), {"fields": ("allowed_units", "minimum_age", "one_prize_per_person")}),
        (_("Thiết lập mặc định cho các đợt thi"), {"fields": INHERITED_FIELDS}),
        (_("Dữ liệu cá nhân"), {"fields": ("personal_data_retention_days", "personal_data_erased_at")}),
    )
    readonly_fields = ("personal_data_erased_at",)

    def save_model(self, request: HttpRequest, obj: Contest, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)

        audit(actor=request.user, action="contests.contest_changed" if change else "contests.contest_created",
              target=obj, organisation=obj.organisation_id, data={"fields": sorted(form.changed_data)})

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is Round:
            for round in formset.instance.rounds.all():
                warn_if_closed_with_future_close(request, round)

    @admin.action(description=_("Nhân bản cuộc thi đã chọn (bản nháp)"), permissions=["add"])
    def clone_contests(self, request: HttpRequest, queryset: QuerySet[Contest]) -> HttpResponse | None:
        """A form first: the new title, a date shift ("+1 năm"), which rounds and settings to copy."""
        contests = list(queryset)
        if len(contests) != 1:
            self.message_user(request, _("Hãy chọn đúng một cuộc thi để nhân bản."), messages.WARNING)
            return None
        contest = contests[0]
        if not self.has_change_permission(request, contest):
            raise PermissionDenied
        form = CloneForm(request.POST if "apply" in request.POST else None, contest=contest)
        if "apply" in request.POST and form.is_valid():
            data = form.cleaned_data
            copy = contest_clone(actor=request.user, contest=contest, title=data["title"],
                                 months=int(data["shift"]), shift=dt.timedelta(days=data["days"] or 0),
                                 round_ids=[r.pk for r in data["rounds"]], copy_units=data["copy_units"],
                                 copy_rules=data["copy_rules"], copy_round_settings=data["copy_round_settings"])
            self.message_user(request, _("Đã tạo bản sao: %(title)s") % {"title": copy.title}, messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:contests_contest_change", args=[copy.pk]))
        return _action_page(request, self, queryset, form, action="clone_contests",
                            title=_("Nhân bản cuộc thi"))


# --- Round: extend / reopen -------------------------------------------------------------------------------


class ExtendRoundForm(forms.Form):
    # A native date-time picker (phones); it sends and shows ISO 8601, so the widget's format is ISO too.
    until = forms.DateTimeField(label=_("Gia hạn / mở lại đến"),
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["until"].help_text = datetime_help()
    reason = forms.CharField(label=_("Lý do"), widget=forms.Textarea(attrs={"rows": 3}))


def next_edition_title(title: str) -> str:
    """"Tìm hiểu pháp luật 2025" → "Tìm hiểu pháp luật 2026": the last year in the title, one later (else the
    title unchanged — the organiser edits it on the form)."""
    found = list(re.finditer(r"(?<!\d)(20\d\d)(?!\d)", title))
    if not found:
        return title
    last = found[-1]
    return f"{title[:last.start()]}{int(last.group(1)) + 1}{title[last.end():]}"


class CloneForm(forms.Form):
    title = forms.CharField(label=_("Tên cuộc thi mới"), max_length=200)
    shift = forms.TypedChoiceField(label=_("Dời lịch các đợt thi"), coerce=int, initial=12, choices=[
        (0, _("Giữ nguyên ngày")), (1, _("+1 tháng")), (12, _("+1 năm"))])
    days = forms.IntegerField(label=_("Dời thêm (ngày)"), required=False, min_value=-3660, max_value=3660,
                              help_text=_("Tuỳ chọn, ví dụ 7 để dời thêm một tuần."))
    rounds = forms.ModelMultipleChoiceField(label=_("Các đợt thi được sao chép"), queryset=Round.objects.none(),
                                            required=False, widget=forms.CheckboxSelectMultiple)
    copy_round_settings = forms.BooleanField(label=_("Sao chép thiết lập riêng của từng đợt (cấu trúc đề, thời "
                                                     "gian làm bài…)"), required=False, initial=True)
    copy_units = forms.BooleanField(label=_("Sao chép danh sách đơn vị được dự thi"), required=False, initial=True)
    copy_rules = forms.BooleanField(label=_("Sao chép thể lệ và giới thiệu"), required=False, initial=True)

    def __init__(self, *args: Any, contest: Contest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rounds = contest.rounds.order_by("position", "opens_at")
        self.fields["rounds"].queryset = rounds
        self.fields["rounds"].initial = list(rounds)
        self.fields["rounds"].label_from_instance = lambda r: f"{r.name} ({formats.date_format(timezone.localtime(r.opens_at), 'SHORT_DATE_FORMAT')} – {formats.date_format(timezone.localtime(r.closes_at), 'SHORT_DATE_FORMAT')})"  # noqa: E501
        self.fields["title"].initial = next_edition_title(contest.title)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Lý do"), widget=forms.Textarea(attrs={"rows": 3}))


class ExtraTimeForm(forms.Form):
    round = forms.ModelChoiceField(label=_("Đợt thi"), queryset=Round.objects.none())
    minutes = forms.IntegerField(label=_("Số phút thêm"), min_value=1, max_value=24 * 60)
    reason = forms.CharField(label=_("Lý do"), widget=forms.Textarea(attrs={"rows": 3}))


class CorrectRegistrationForm(forms.Form):
    full_name = forms.CharField(label=_("Họ và tên"), max_length=150)
    date_of_birth = forms.DateField(label=_("Ngày sinh"), required=False,
                                    widget=forms.DateInput(attrs={"type": "date"}))
    national_id = forms.CharField(label=_("Số định danh cá nhân"), max_length=12, required=False)
    unit = forms.ModelChoiceField(label=_("Đơn vị dự thi"),
                                  queryset=Organisation.objects.filter(is_unit=True, is_active=True))
    reason = forms.CharField(label=_("Lý do"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Grouped by kind, in Vietnamese alphabetical order (built per form: the list is read from the database).
        self.fields["unit"] = UnitChoiceField(label=_("Đơn vị dự thi"))
        self.order_fields(["full_name", "date_of_birth", "national_id", "unit", "reason"])


class ExtraAttemptForm(forms.Form):
    round = forms.ModelChoiceField(label=_("Đợt thi"), queryset=Round.objects.none())
    count = forms.IntegerField(label=_("Số lượt thêm"), min_value=1, max_value=10, initial=1)
    reason = forms.CharField(label=_("Lý do"), widget=forms.Textarea(attrs={"rows": 3}))


def _action_page(request: HttpRequest, modeladmin: admin.ModelAdmin, queryset: QuerySet, form: forms.Form,
                 *, action: str, title: str) -> TemplateResponse:
    return TemplateResponse(request, "admin/action_form_with_reason.html", {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "objects": queryset,
        "action": action,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    })


@admin.register(Round)
class RoundAdmin(TenantScopedAdmin):
    """Rounds are edited inside their contest; this page exists for the extend / reopen action."""

    list_display = ("name", "contest", "opens_at", "closes_at", "extended_until", "closed_at")
    list_select_related = ("contest",)
    search_fields = ("name", "contest__title")
    actions = ("extend_round", "accept_fixed_versions")
    readonly_fields = ("extended_until", "closed_at", "prediction_target_value", "fixed_versions")
    form = RoundAdminForm
    fields = ("name", "position", "opens_at", "closes_at", *INHERITED_FIELDS, "fixed_versions", "extended_until",
              "closed_at", "prediction_target_value")

    @admin.display(description=_("phiên bản câu hỏi cố định"))
    def fixed_versions(self, obj: Round) -> str:
        if obj is None or not obj.pk:
            return "—"
        return fixed_versions_summary(round_fixed_versions_state(round=obj)) or "—"

    @admin.action(description=_("Dùng phiên bản mới của câu hỏi cố định"), permissions=["change"])
    def accept_fixed_versions(self, request: HttpRequest, queryset: QuerySet[Round]) -> HttpResponse | None:
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for round in queryset.select_related("contest__organisation"):
                if not self.has_change_permission(request, round):
                    raise PermissionDenied
                try:
                    changed = round_fixed_versions_accept(round=round, actor=request.user,
                                                          reason=form.cleaned_data["reason"])
                except errors.ContestError as exc:
                    self.message_user(request, f"{round}: {exc.message}", messages.ERROR)
                else:
                    self.message_user(request, _("%(r)s: %(n)s câu hỏi cố định chuyển sang phiên bản mới.")
                                      % {"r": round, "n": changed}, messages.SUCCESS)
            return None
        return _action_page(request, self, queryset, form, action="accept_fixed_versions",
                            title=_("Dùng phiên bản mới của câu hỏi cố định"))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # add rounds inside their contest

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list:
        return [path("<int:round_id>/extend/", self.admin_site.admin_view(self.extend_view),
                     name="contests_round_extend"), *super().get_urls()]

    def save_model(self, request: HttpRequest, obj: Round, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        warn_if_closed_with_future_close(request, obj)

    def extend_view(self, request: HttpRequest, round_id: int) -> HttpResponse:
        """Extend or reopen one round: the form shows a refusal on the field at fault, or why the round cannot
        be reopened at all (results published) and what to do instead."""
        round = self.get_object(request, str(round_id))
        if round is None:
            raise Http404
        if not self.has_change_permission(request, round):
            raise PermissionDenied
        now = timezone.now()
        initial = {}
        if round.closes_at > now:  # dates corrected after an early close: reopen until the corrected close
            initial["until"] = timezone.localtime(round.closes_at)
        form = ExtendRoundForm(request.POST or None, initial=initial)
        refused = None
        try:
            round_reopen_allowed(round=round)
        except errors.ContestError as exc:
            refused = exc.message
        if request.method == "POST" and refused is None and form.is_valid():
            try:
                round_extend(actor=request.user, round=round, until=form.cleaned_data["until"],
                             reason=form.cleaned_data["reason"])
            except errors.OverrideInvalid as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            except errors.ReasonRequired as exc:
                form.add_error("reason", exc.message)
            except errors.ContestError as exc:
                refused = exc.message
            else:
                self.message_user(request, _("Đã gia hạn / mở lại: %(r)s") % {"r": round}, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:contests_round_change", args=[round.pk]))
        return TemplateResponse(request, "admin/contests/round/extend.html", {
            **self.admin_site.each_context(request),
            "title": _("Gia hạn hoặc mở lại đợt thi"), "form": form, "round": round, "opts": self.model._meta,
            "refused": refused, "stopped_at": round_close_moment(round), "now": now,
            "is_closed": round.closed_at is not None or round.has_closed(now),
        })

    @admin.action(description=_("Gia hạn hoặc mở lại đợt thi"), permissions=["change"])
    def extend_round(self, request: HttpRequest, queryset: QuerySet[Round]) -> HttpResponse | None:
        form = ExtendRoundForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            rounds = list(queryset.select_related("contest"))
            for round in rounds:
                if not self.has_change_permission(request, round):
                    raise PermissionDenied
                try:
                    round_extend(actor=request.user, round=round, until=form.cleaned_data["until"],
                                 reason=form.cleaned_data["reason"])
                except errors.OverrideInvalid as exc:
                    if len(rounds) == 1:  # one round: the refusal goes on the field, the form stays filled
                        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                        break
                    self.message_user(request, f"{round}: {exc.message}", messages.ERROR)
                except errors.ContestError as exc:
                    self.message_user(request, f"{round}: {exc.message}", messages.ERROR)
                else:
                    self.message_user(request, _("Đã gia hạn: %(r)s") % {"r": round}, messages.SUCCESS)
            else:
                return None
        return _action_page(request, self, queryset, form, action="extend_round",
                            title=_("Gia hạn hoặc mở lại đợt thi"))


def warn_if_closed_with_future_close(request: HttpRequest, round: Round) -> None:
    """A round closed officially stays closed when its dates are corrected: say so, with the way to reopen."""
    if round.closed_at is None or round.effective_closes_at <= timezone.now():
        return
    when = formats.date_format(timezone.localtime(round.closed_at), "SHORT_DATETIME_FORMAT")
    messages.warning(request, format_html(
        "{} <a href=\"{}\">{}</a>",
        _("«%(round)s» đã được chốt lúc %(when)s nên vẫn đóng dù thời gian kết thúc đã sửa.") % {
            "round": round.name, "when": when},
        reverse("admin:contests_round_extend", args=[round.pk]), _("Mở lại đợt thi (ghi lý do)")))


# --- Registrations: extra time / extra attempt ----------------------------------------------------------------


@admin.register(Registration)
class RegistrationAdmin(TenantScopedAdmin):
    tenant_roles = {**READ_ONLY_ROLES, "change": ORGANISER}
    list_display = ("full_name", "unit", "contest", "created_at", "frozen_at")
    list_select_related = ("unit", "contest")
    list_filter = ("contest",)
    search_fields = ("full_name", "user__phone", "user__email")
    # + the xlsx export, added by exports/admin.py
    actions = ("give_extra_time", "give_extra_attempt", "correct_registration")
    readonly_fields = ("user", "contest", "unit", "full_name", "date_of_birth", "national_id", "frozen_at",
                       "created_at")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _rounds_for(self, queryset: QuerySet[Registration]) -> QuerySet[Round]:
        return Round.objects.filter(contest_id__in=queryset.values("contest_id")).select_related("contest")

    def _run(self, request: HttpRequest, queryset: QuerySet[Registration], form_class: type[forms.Form],
             *, action: str, title: str, apply: Any) -> HttpResponse | None:
        form = form_class(request.POST if "apply" in request.POST else None)
        form.fields["round"].queryset = self._rounds_for(queryset)
        if "apply" in request.POST and form.is_valid():
            round = form.cleaned_data["round"]
            done = 0
            for registration in queryset.select_related("contest"):
                if organisation_id_of(registration) != round.contest.organisation_id:
                    raise PermissionDenied
                if registration.contest_id != round.contest_id:
                    continue
                try:
                    apply(registration, round, form.cleaned_data)
                except errors.ContestError as exc:
                    self.message_user(request, f"{registration}: {exc.message}", messages.ERROR)
                else:
                    done += 1
            self.message_user(request, _("Đã áp dụng cho %(n)s thí sinh.") % {"n": done}, messages.SUCCESS)
            return None
        return _action_page(request, self, queryset, form, action=action, title=title)

    @admin.action(description=_("Thêm thời gian làm bài"), permissions=["change"])
    def give_extra_time(self, request: HttpRequest, queryset: QuerySet[Registration]) -> HttpResponse | None:
        return self._run(request, queryset, ExtraTimeForm, action="give_extra_time",
                         title=_("Thêm thời gian làm bài"),
                         apply=lambda reg, rnd, data: override_extra_time(
                             actor=request.user, registration=reg, round=rnd, seconds=data["minutes"] * 60,
                             reason=data["reason"]))

    @admin.action(description=_("Thêm lượt thi"), permissions=["change"])
    def give_extra_attempt(self, request: HttpRequest, queryset: QuerySet[Registration]) -> HttpResponse | None:
        return self._run(request, queryset, ExtraAttemptForm, action="give_extra_attempt",
                         title=_("Thêm lượt thi"),
                         apply=lambda reg, rnd, data: override_extra_attempt(
                             actor=request.user, registration=reg, round=rnd, count=data["count"],
                             reason=data["reason"]))


    @admin.action(description=_("Sửa thông tin dự thi (có lý do)"), permissions=["change"])
    def correct_registration(self, request: HttpRequest, queryset: QuerySet[Registration]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, _("Chọn đúng một thí sinh để sửa thông tin."), messages.WARNING)
            return None
        registration = queryset.select_related("contest").get()
        if not self.has_change_permission(request, registration):
            raise PermissionDenied
        initial = {name: getattr(registration, name) for name in CORRECTABLE_FIELDS}
        form = CorrectRegistrationForm(request.POST if "apply" in request.POST else None, initial=initial)
        if "apply" in request.POST and form.is_valid():
            data = dict(form.cleaned_data)
            reason = data.pop("reason")
            data["national_id"] = data.get("national_id") or ""
            try:
                registration_correct(actor=request.user, registration=registration, reason=reason, changes=data)
            except (errors.ContestError, ValidationError) as exc:
                self.message_user(request, getattr(exc, "message", None) or "; ".join(exc.messages),
                                  messages.ERROR)
            else:
                self.message_user(request, _("Đã sửa thông tin dự thi."), messages.SUCCESS)
            return None
        return _action_page(request, self, queryset, form, action="correct_registration",
                            title=_("Sửa thông tin dự thi"))


# --- Read-only records ------------------------------------------------------------------------------------


@admin.register(Attempt)
class AttemptAdmin(TenantScopedAdmin):
    tenant_roles = READ_ONLY_ROLES
    list_display = (code, "registration", "round", "number", "status", "score_text", "correct_count",
                    "duration_text", "submitted_at")
    list_select_related = ("registration__contest", "round__contest")
    list_filter = ("status", "submit_kind")
    search_fields = ("registration__full_name",)
    readonly_fields = fields_except_id(Attempt)

    @admin.display(description=_("Điểm"), ordering="score")
    def score_text(self, obj: Attempt) -> str:
        """The one number rule (``7,5``), not the stored ``7,500`` that reads as seven thousand five hundred."""
        return format_score(obj.score) if obj.score is not None else "-"

    @admin.display(description=_("Thời gian làm bài"), ordering="duration_ms")
    def duration_text(self, obj: Attempt) -> str:
        """``mm:ss`` as on the results pages, not a count of milliseconds."""
        return format_duration_ms(obj.duration_ms) if obj.duration_ms is not None else "-"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Attempt]:
        """Judges do not see the attempts of a round whose essays are still being graded: names beside
        scores that move as marks become final would tell them whose essay is whose (blind grading)."""
        queryset = super().get_queryset(request)
        hidden = blinded_rounds_for(request.user)
        return queryset.exclude(round_id__in=hidden) if hidden else queryset

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OverrideGrant)
class OverrideGrantAdmin(TenantScopedAdmin):
    tenant_roles = READ_ONLY_ROLES
    list_display = ("kind", "round", "registration", "extra_seconds", "extra_attempts", "new_close", "actor",
                    "created_at")
    list_select_related = ("round__contest", "registration__contest", "actor")
    list_filter = ("kind",)
    readonly_fields = fields_except_id(OverrideGrant)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

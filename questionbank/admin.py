"""Question bank admin. Thin: every write goes through questionbank.services.

Visibility rules (tested in tests/questionbank/test_admin.py):
* staff see their organisations' questions (any visibility) plus every organisation's *shared* ones;
* shared questions of other organisations are view-only; private ones of others are invisible (404);
* writers create and edit, reviewers approve/reject (actions), organisers and judges view;
* questions are never deleted from the admin once used — they are retired; only unused drafts can be deleted.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, Role
from accounts.tenancy import ALL_ROLES, TenantScopedAdmin, organisation_ids_for
from contest_engine.text import vietnamese_sort_key
from questionbank import selectors
from questionbank.errors import MediaRejected, QuestionBankError, QuestionPermissionDenied
from questionbank.exporters import moodle_xml
from questionbank.exporters.xlsx import export_questions, write_template
from questionbank.importers.base import ImportFileError, ParsedOption
from questionbank.importers.detect import FORMAT_CHOICES, detect_format, max_upload_bytes, parse_file
from questionbank.models import (
    Difficulty,
    Question,
    QuestionMedia,
    QuestionOption,
    QuestionStatus,
    QuestionType,
    Tag,
    Topic,
    Visibility,
)
from questionbank.sanitize import html_to_text
from questionbank.services._common import CHOICE_TYPES, question_is_used, question_uses
from questionbank.services.imports import ImportReport, import_upload_store, import_upload_take, questions_import
from questionbank.services.media import media_limits, media_validate
from questionbank.services.questions import question_clean, question_create, question_update, topic_get_or_create_path
from questionbank.services.review import question_approve, question_reject, question_retire, question_submit_for_review

WRITER = frozenset({Role.WRITER})
REVIEWER = frozenset({Role.REVIEWER})
IMPORT_SESSION_KEY = "questionbank_imports"


# --- Inlines ---------------------------------------------------------------------------------------------
class _ParentPermissionsInline:
    """Inline rows follow the parent question's permissions (staff have memberships, not model perms)."""

    parent_admin: QuestionAdmin

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.admin_site._registry[Question].has_view_permission(request, obj)  # type: ignore[attr-defined]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        registered = self.admin_site._registry[Question]  # type: ignore[attr-defined]
        return registered.has_change_permission(request, obj) if obj else registered.has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)


class OptionForm(forms.ModelForm):
    """One answer option. "Đúng" is how a writer marks the correct option(s) of a choice question; the credit
    fraction stays for partial credit and penalties (Moodle's), and for numeric and short answers."""

    correct = forms.BooleanField(label=_("Đúng"), required=False)

    class Meta:
        model = QuestionOption
        fields = ("text", "fraction", "tolerance", "feedback")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["correct"].initial = self.instance.fraction > 0


def _fractions_from_ticks(qtype: str, rows: list[dict]) -> None:
    """Where the writer ticked "Đúng" on a choice question: ticked options get the credit — 100 % for single
    choice and true/false, shared evenly for multiple choice (0.33333, 0.33333, 0.33334, as the Excel import
    does) unless a positive fraction was typed — and unticked ones lose any positive credit (penalties stay)."""
    ticked = [row for row in rows if row.get("correct")]
    if qtype not in CHOICE_TYPES or not ticked:
        return
    typed = [row for row in ticked if (row.get("fraction") or 0) > 0]
    if qtype == QuestionType.MULTIPLE and len(typed) == len(ticked):
        shares = [row["fraction"] for row in ticked]
    elif qtype == QuestionType.MULTIPLE:
        base = (Decimal(1) / len(ticked)).quantize(Decimal("0.00001"), rounding="ROUND_DOWN")
        shares = [base] * (len(ticked) - 1) + [Decimal(1) - base * (len(ticked) - 1)]
    else:
        shares = [Decimal(1)] * len(ticked)
    for row, share in zip(ticked, shares, strict=True):
        row["fraction"] = share
    for row in rows:
        if not row.get("correct") and (row.get("fraction") or 0) > 0:
            row["fraction"] = Decimal(0)


class OptionFormSet(BaseInlineFormSet):
    """Validates the answer key with the same rules the service applies (so errors show on the form)."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        rows = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE") or not data.get("text"):
                continue
            rows.append(dict(data))
        instance = self.instance
        _fractions_from_ticks(instance.type, rows)
        options = [ParsedOption(text=row["text"], fraction=row.get("fraction") or Decimal(0),
                                feedback=row.get("feedback") or "", tolerance=row.get("tolerance")) for row in rows]
        _data, errors = question_clean(
            type=instance.type, stem=instance.stem or "", options=options, explanation=instance.explanation,
            citation_document=instance.citation_document, citation_article=instance.citation_article,
            citation_clause=instance.citation_clause, difficulty=instance.difficulty,
            points=instance.default_points if instance.default_points is not None else 1)
        if errors:
            raise ValidationError(errors)
        self.parsed_options = options


class OptionInline(_ParentPermissionsInline, admin.TabularInline):
    model = QuestionOption
    form = OptionForm
    formset = OptionFormSet
    # The letter (A, B, C…): a saved option's from its position, a row added on the page from a CSS counter
    # (static/css/admin-menu.css); the order on the page is the order saved.
    fields = ("letter", "text", "correct", "fraction", "tolerance", "feedback")
    readonly_fields = ("letter",)
    extra = 0
    max_num = 20
    ordering = ("position", "id")

    @admin.display(description=_("phương án"))
    def letter(self, obj: Any) -> str:
        """A, B, C… of a saved option (its position); rows added on the page get theirs from a CSS counter."""
        if obj is None or not obj.pk:
            return ""
        return chr(ord("A") + obj.position) if 0 <= obj.position < 26 else str(obj.position + 1)

    @admin.display(description=_("Đúng"))
    def correct(self, obj: Any) -> str:
        """Read-only pages (a reviewer's view): a tick on the correct options. The edit form has a checkbox."""
        return "✓" if obj is not None and obj.pk and obj.fraction > 0 else ""

    def get_extra(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int:
        return 4 if obj is None else 0


class MediaForm(forms.ModelForm):
    class Meta:
        model = QuestionMedia
        fields = ("file",)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload and hasattr(upload, "read") and not getattr(upload, "_committed", False):
            if upload.size > max(media_limits().values()):
                raise ValidationError(_("Tệp quá lớn."))
            content = upload.read()
            upload.seek(0)
            try:
                kind, ctype = media_validate(filename=upload.name, content=content)
            except MediaRejected as exc:
                raise ValidationError(exc.message) from exc
            self.instance.kind, self.instance.content_type, self.instance.size = kind, ctype, len(content)
        return upload


class MediaInline(_ParentPermissionsInline, admin.TabularInline):
    model = QuestionMedia
    form = MediaForm
    fields = ("file", "kind", "content_type", "size")
    readonly_fields = ("kind", "content_type", "size")
    extra = 0


# --- Forms ---------------------------------------------------------------------------------------------------
class QuestionAdminForm(forms.ModelForm):
    topic_path = forms.CharField(label=_("Chủ đề (đường dẫn mới)"), required=False,
                                 help_text=_("Tuỳ chọn: “Luật A > Chương B” — tạo chủ đề nếu chưa có."))
    tag_names = forms.CharField(label=_("Nhãn"), required=False, help_text=_("Cách nhau bằng dấu phẩy."))

    class Meta:
        model = Question
        fields = ("organisation", "visibility", "type", "stem", "explanation", "citation_document",
                  "citation_article", "citation_clause", "topic", "difficulty", "default_points")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["tag_names"].initial = ", ".join(self.instance.tags.values_list("name", flat=True))


FORMAT_LABELS = {
    "auto": _("Tự nhận dạng theo tệp"), "xlsx": _("Excel (.xlsx) theo mẫu"), "docx": _("Word (.docx)"),
    "moodle-xml": _("Moodle XML"), "gift": _("GIFT (Moodle)"), "aiken": _("Aiken (Moodle)"),
}


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Tệp câu hỏi"))
    organisation = forms.ModelChoiceField(label=_("Tổ chức sở hữu"), queryset=Organisation.objects.none())
    format = forms.ChoiceField(label=_("Định dạng"), initial="auto",
                               choices=lambda: [(f, FORMAT_LABELS.get(f, f)) for f in FORMAT_CHOICES])
    visibility = forms.ChoiceField(label=_("Phạm vi"), choices=Visibility.choices, initial=Visibility.SHARED)
    existing_topics_only = forms.BooleanField(label=_("Chỉ dùng chủ đề đã có (báo lỗi nếu chưa có)"),
                                              required=False)

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        if organisations.count() == 1:
            self.fields["organisation"].initial = organisations.first()

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = max_upload_bytes()
        if upload.size > limit:
            raise ValidationError(_("Tệp quá lớn (tối đa %(mb)s MB).") % {"mb": limit // (1024 * 1024)})
        return upload


class RejectForm(forms.Form):
    note = forms.CharField(label=_("Lý do trả lại"), widget=forms.Textarea(attrs={"rows": 3}))


class TopicFilter(admin.SimpleListFilter):
    """A topic and all its sub-topics. The choices come from one read of the (small, shared) tree."""

    title = _("chủ đề (gồm chủ đề con)")
    parameter_name = "topic"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        rows = {pk: (name, parent) for pk, name, parent in Topic.objects.values_list("id", "name", "parent_id")}

        def path(pk: int) -> str:
            names, node, seen = [], pk, set()
            while node is not None and node in rows and node not in seen:
                seen.add(node)
                names.append(rows[node][0])
                node = rows[node][1]
            return " / ".join(reversed(names))

        paths = [(str(pk), path(pk)) for pk in rows]
        return sorted(paths, key=lambda item: vietnamese_sort_key(item[1]))

    def queryset(self, request: HttpRequest, queryset: QuerySet[Question]) -> QuerySet[Question]:
        value = self.value()
        if not value or not value.isdecimal():
            return queryset
        return queryset.filter(topic_id__in=selectors.topic_descendant_ids([int(value)]))


def _own_organisation_ids(request: HttpRequest, model_admin: Any) -> set[int] | None:
    """Organisations whose questions the user sees as their own (None for a superuser: every one).

    Those of the user's roles, and any whose private questions the user may see; every other organisation
    reaches the list only through the shared bank."""
    if request.user.is_superuser:
        return None
    visible = model_admin.get_queryset(request).order_by()
    private_owners = visible.exclude(visibility=Visibility.SHARED).values_list("organisation_id", flat=True)
    return organisation_ids_for(request.user) | set(private_owners.distinct())


class OwnerFilter(admin.SimpleListFilter):
    """Who owns a question: each of the user's own organisations, or "the shared bank of other organisations".

    The other organisations are never listed by name: the shared bank lends their questions, not a directory
    of every organisation that shared one (Django's related-only filter listed them all)."""

    title = _("tổ chức sở hữu")
    parameter_name = "owner"
    SHARED = "shared"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        own = _own_organisation_ids(request, model_admin)
        referenced = model_admin.get_queryset(request).order_by().values("organisation_id")
        orgs = Organisation.objects.filter(pk__in=referenced)
        if own is not None:
            orgs = orgs.filter(pk__in=own)
        choices = sorted(((str(pk), name) for pk, name in orgs.values_list("pk", "name")),
                         key=lambda item: vietnamese_sort_key(item[1]))
        if own is not None:
            choices.append((self.SHARED, _("Ngân hàng dùng chung (đơn vị khác)")))
        return choices

    def __init__(self, request: HttpRequest, params: Any, model: Any, model_admin: Any) -> None:
        self.model_admin = model_admin
        super().__init__(request, params, model, model_admin)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Question]) -> QuerySet[Question]:
        value = self.value()
        if value == self.SHARED:
            own = _own_organisation_ids(request, self.model_admin)
            return queryset if own is None else queryset.exclude(organisation_id__in=own)
        if value and value.isdecimal():
            return queryset.filter(organisation_id=int(value))
        return queryset


class AuthorFilter(admin.SimpleListFilter):
    """Who wrote a question, among the writers of the user's own organisations' questions (the authors of
    other organisations' shared questions are their staff, not listed)."""

    title = _("người soạn")
    parameter_name = "author"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        own = _own_organisation_ids(request, model_admin)
        questions = model_admin.get_queryset(request).order_by().exclude(author=None)
        if own is not None:
            questions = questions.filter(organisation_id__in=own)
        authors = get_user_model().objects.filter(pk__in=questions.values("author_id"))
        return sorted(((str(user.pk), str(user)) for user in authors), key=lambda item: vietnamese_sort_key(item[1]))

    def queryset(self, request: HttpRequest, queryset: QuerySet[Question]) -> QuerySet[Question]:
        value = self.value()
        return queryset.filter(author_id=int(value)) if value and value.isdecimal() else queryset


class LawFilter(admin.SimpleListFilter):
    """The legal document a question cites (its number, e.g. 31/2024/QH15), among the questions one sees."""

    title = _("văn bản pháp luật")
    parameter_name = "law"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        documents = (model_admin.get_queryset(request).exclude(citation_document="").order_by()
                     .values_list("citation_document", flat=True).distinct())
        return [(d, d) for d in sorted(set(documents), key=vietnamese_sort_key)[:200]]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Question]) -> QuerySet[Question]:
        value = self.value()
        return queryset.filter(citation_document=value) if value else queryset


# --- Question admin -----------------------------------------------------------------------------------------
@admin.register(Question)
class QuestionAdmin(TenantScopedAdmin):
    form = QuestionAdminForm
    change_list_template = "questionbank/admin/change_list.html"
    change_form_template = "questionbank/admin/change_form.html"
    tenant_roles = {"view": ALL_ROLES, "add": WRITER, "change": WRITER, "delete": WRITER}
    list_display = ("short_stem", "type", "status", "difficulty", "topic_display", "organisation", "visibility",
                    "version", "is_current")
    # The topic filter reads the tree once and includes sub-topics; law lists only what the visible questions
    # cite; author and owner list only the user's own organisations' writers and organisations, the rest of the
    # shared bank is one "other organisations" choice (one query each).
    list_filter = ("status", TopicFilter, LawFilter, AuthorFilter, OwnerFilter, "difficulty", "type",
                   "visibility", "is_current")
    # Searching goes through selectors.questions_search (get_search_results); the admin only needs a field
    # here to show the box.
    search_fields = ("search_text",)
    search_help_text = _("Tìm theo nội dung, phương án hoặc căn cứ (“Điều 172”), có dấu hay không dấu đều được; "
                         "gõ số để tìm theo mã câu hỏi.")
    list_select_related = ("topic__parent__parent", "organisation")
    readonly_fields = ("status", "family_id", "version", "is_current", "author", "reviewer", "reviewed_at",
                       "review_note", "duplicates", "preview_link")
    inlines = (OptionInline, MediaInline)
    actions = ("action_submit", "action_approve", "action_reject", "action_retire", "action_export_xlsx",
               "action_export_moodle_xml")
    fieldsets = (
        (None, {"fields": ("organisation", "visibility", "type", "stem", "explanation")}),
        (_("Căn cứ pháp lý"), {"fields": ("citation_document", "citation_article", "citation_clause")}),
        (_("Phân loại"), {"fields": ("topic", "topic_path", "tag_names", "difficulty", "default_points")}),
        (_("Thẩm định và phiên bản"), {"fields": ("status", "review_note", "author", "reviewer", "reviewed_at",
                                                  "family_id", "version", "is_current", "duplicates",
                                                  "preview_link")}),
    )

    # -- scoping --
    def get_queryset(self, request: HttpRequest) -> QuerySet[Question]:
        qs = Question.objects.select_related("topic__parent__parent", "organisation")
        if request.user.is_superuser:
            return qs
        return qs.filter(pk__in=selectors.questions_visible_to_user(user=request.user, roles=self._roles("view"))
                         .values("pk"))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Question],
                           search_term: str) -> tuple[QuerySet[Question], bool]:
        return selectors.questions_search(queryset, search_term), False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.visibility == Visibility.SHARED and selectors.user_reads_shared_bank(request.user):
            return True
        return super().has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and (not obj.is_current or obj.status == QuestionStatus.RETIRED):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and (obj.status != QuestionStatus.DRAFT or question_is_used(obj)):
            return False
        return super().has_delete_permission(request, obj)

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or bool(organisation_ids_for(request.user, REVIEWER))

    def has_write_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or bool(organisation_ids_for(request.user, WRITER))

    def has_retire_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or bool(organisation_ids_for(request.user, REVIEWER | {Role.ORGANISER}))

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str) -> Any:
        # A foreign private question must be indistinguishable from a missing one: 404, not a redirect.
        raise Http404

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # retire instead; single unused drafts can still be deleted
        return actions

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """A writer of one organisation finds it already chosen."""
        initial = super().get_changeform_initial_data(request)
        if "organisation" not in initial and not request.user.is_superuser:
            own = organisation_ids_for(request.user, WRITER)
            if len(own) == 1:
                initial["organisation"] = next(iter(own))
        return initial

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple:
        fields = (*self.readonly_fields, "tag_list")
        return (*fields, "organisation") if obj is not None else fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        """Read-only pages show the tags as a list (the form's own fields, the tag and topic-path boxes, have
        no value to show there)."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        out = []
        for name, options in fieldsets:
            fields = [("tag_list" if f == "tag_names" else f) for f in options["fields"] if f != "topic_path"]
            out.append((name, {**options, "fields": tuple(fields)}))
        return out

    @admin.display(description=_("chủ đề"), ordering="topic__name")
    def topic_display(self, obj: Question) -> str:
        return obj.topic.path if obj.topic_id else "—"

    @admin.display(description=_("câu hỏi"))
    def short_stem(self, obj: Question) -> str:
        text = html_to_text(obj.stem)
        return text[:90] + ("…" if len(text) > 90 else "")

    @admin.display(description=_("xem trước"))
    def preview_link(self, obj: Question) -> str:
        if obj is None or not obj.pk:
            return "—"
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>',
                           reverse("questionbank:preview", args=[obj.pk]), _("Xem như thí sinh thấy"))

    @admin.display(description=_("câu hỏi trùng / gần trùng"))
    def duplicates(self, obj: Question) -> str:
        if obj is None or not obj.pk:
            return "—"
        matches = selectors.question_duplicates_of(obj)
        if not matches:
            return "—"
        return format_html_join(
            mark_safe("<br>"), '<a href="{}">#{}</a> ({}%)',
            ((reverse("admin:questionbank_question_change", args=[m.question_id]), m.question_id,
              round(m.similarity * 100)) for m in matches[:10]))

    # -- the writer's warnings --
    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        obj = self.get_object(request, object_id)
        if request.method == "GET" and obj is not None and self.has_change_permission(request, obj):
            self._warn_uses(request, obj)
        context = dict(extra_context or {})
        if obj is not None and self.has_view_or_change_permission(request, obj):
            context.update(self._review_context(request, obj))
        return super().change_view(request, object_id, form_url, context)

    # -- reviewing on the question's own page --
    def _can_review(self, request: HttpRequest, obj: Question) -> bool:
        return (obj.status == QuestionStatus.IN_REVIEW and obj.is_current and obj.author_id != request.user.pk
                and (request.user.is_superuser or obj.organisation_id in organisation_ids_for(request.user, REVIEWER)))

    def _review_context(self, request: HttpRequest, obj: Question) -> dict[str, Any]:
        if not self.has_review_permission(request):
            return {}
        previous, following, position, total = selectors.review_neighbours(user=request.user, question_id=obj.pk)
        return {"can_review": self._can_review(request, obj), "review_form": RejectForm(),
                "review_url": reverse("admin:questionbank_question_review", args=[obj.pk]),
                "queue_previous": previous, "queue_next": following, "queue_position": position,
                "queue_total": total, "is_own_question": obj.author_id == request.user.pk}

    def review_view(self, request: HttpRequest, question_id: int) -> HttpResponse:
        """Approve, or return with a reason, from the question's page; then on to the next in the queue."""
        if request.method != "POST":
            raise Http404
        obj = self.get_object(request, str(question_id))
        if obj is None:
            raise Http404
        if not self.has_review_permission(request):
            raise PermissionDenied
        decision = request.POST.get("decision")
        try:
            if decision == "approve":
                question_approve(question=obj, actor=request.user, note=request.POST.get("note", ""))
                messages.success(request, _("Đã duyệt câu hỏi #%(id)s.") % {"id": obj.pk})
            elif decision == "reject":
                question_reject(question=obj, actor=request.user, note=request.POST.get("note", ""))
                messages.success(request, _("Đã trả lại câu hỏi #%(id)s cho người soạn.") % {"id": obj.pk})
            else:
                raise Http404
        except QuestionBankError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:questionbank_question_change", args=[obj.pk]))
        _previous, following, _position, _total = selectors.review_neighbours(user=request.user, question_id=obj.pk)
        if following is not None:
            return HttpResponseRedirect(reverse("admin:questionbank_question_change", args=[following]))
        messages.info(request, _("Đã hết câu hỏi chờ thẩm định."))
        return HttpResponseRedirect(reverse("admin:questionbank_question_changelist") + "?status__exact=in_review")

    @admin.display(description=_("Nhãn"))
    def tag_list(self, obj: Question) -> str:
        names = list(obj.tags.values_list("name", flat=True)) if obj is not None and obj.pk else []
        return ", ".join(names) or "—"

    def _warn_uses(self, request: HttpRequest, obj: Question) -> None:
        """Before an edit: the rounds still to run that show this question as a fixed one. Rounds of other
        organisations are counted, never named."""
        uses = question_uses(obj)
        if not uses:
            return
        own = set(organisation_ids_for(request.user)) if not request.user.is_superuser else None
        named = [u.label for u in uses if own is None or u.organisation_id in own]
        others = len(uses) - len(named)
        where = "; ".join(named)
        if others:
            where = (where + "; " if where else "") + _("%(n)s đợt thi của đơn vị khác") % {"n": others}
        messages.warning(request, _(
            "Câu hỏi này là câu hỏi cố định của %(n)s đợt thi chưa kết thúc: %(where)s. Nếu sửa nội dung, câu hỏi "
            "phải được thẩm định lại; đợt thi đã có lượt thi vẫn dùng phiên bản hiện tại cho đến khi Ban tổ chức "
            "chọn «Dùng phiên bản mới của câu hỏi cố định», đợt chưa có lượt thi sẽ dùng phiên bản mới nhất đã "
            "duyệt.") % {"n": len(uses), "where": where})

    def response_change(self, request: HttpRequest, obj: Question) -> HttpResponse:
        new_version = getattr(request, "_questionbank_new_version", None)
        if new_version is not None:
            # The edit made a new version: the writer continues on it, not on the list (nor the old row).
            return HttpResponseRedirect(reverse("admin:questionbank_question_change", args=[new_version]))
        return super().response_change(request, obj)

    # -- saving through the services --
    def save_model(self, request: HttpRequest, obj: Question, form: Any, change: bool) -> None:
        # The write happens in save_related, once the option formset is known (one service call).
        return None

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        option_formset = next((fs for fs in formsets if isinstance(fs, OptionFormSet)), None)
        options = getattr(option_formset, "parsed_options", None)
        data = form.cleaned_data
        topic = data.get("topic")
        try:
            if data.get("topic_path"):
                topic = topic_get_or_create_path(
                    path=[p.strip() for p in data["topic_path"].split(">")])
            tags = [t.strip() for t in (data.get("tag_names") or "").split(",") if t.strip()]
            common = {"type": data["type"], "stem": data["stem"], "explanation": data.get("explanation", ""),
                      "citation_document": data.get("citation_document", ""),
                      "citation_article": data.get("citation_article", ""),
                      "citation_clause": data.get("citation_clause", ""), "difficulty": data["difficulty"],
                      "points": data["default_points"], "visibility": data["visibility"], "tags": tags,
                      "topic": topic}
            if change:
                question = question_update(question=Question.objects.get(pk=form.instance.pk),
                                                    actor=request.user, options=options, **common)
            else:
                question = question_create(organisation=data["organisation"], author=request.user,
                                                     options=options or [], **common)
        except QuestionPermissionDenied as exc:
            raise PermissionDenied(exc.message) from exc
        # Media uploaded in the same form attach to the version just written.
        for formset in formsets:
            if formset.model is QuestionMedia:
                formset.instance = question
                for media_form in formset.forms:
                    if media_form.has_changed() and not media_form.cleaned_data.get("DELETE"):
                        media_form.instance.question = question
                formset.save()
        if change and question.pk != form.instance.pk:
            request._questionbank_new_version = question.pk  # type: ignore[attr-defined]
            messages.info(request, _("Câu hỏi đã được dùng trong lượt thi nên một phiên bản mới (v%(v)s) đã được "
                                     "tạo; phiên bản cũ giữ nguyên.") % {"v": question.version})
        if change and question.status == QuestionStatus.IN_REVIEW and form.instance.status == QuestionStatus.APPROVED:
            messages.warning(request, _("Nội dung đã thay đổi: câu hỏi cần được thẩm định lại."))
        for match in selectors.question_duplicates_of(question)[:5]:
            messages.warning(request, format_html(
                '{} <a href="{}">{}</a>', match.message,
                reverse("admin:questionbank_question_change", args=[match.question_id]),
                _("Mở câu hỏi #%(id)s") % {"id": match.question_id}))
        form.instance.pk = form.instance.id = question.pk
        form.instance.status = question.status

    def construct_change_message(self, request: HttpRequest, form: Any, formsets: Any, add: bool = False) -> Any:
        # The option formset is not saved by the admin (the service rewrites options), so it has no
        # new/changed/deleted object lists to describe.
        return super().construct_change_message(request, form, [], add)

    def delete_model(self, request: HttpRequest, obj: Question) -> None:
        if obj.status != QuestionStatus.DRAFT or question_is_used(obj):
            raise PermissionDenied
        super().delete_model(request, obj)

    # -- actions --
    def _run(self, request: HttpRequest, queryset: QuerySet[Question], func: Any, done: str, **kwargs: Any) -> None:
        ok = 0
        for question in queryset:
            try:
                func(question=question, actor=request.user, **kwargs)
                ok += 1
            except QuestionBankError as exc:
                messages.error(request, f"#{question.pk}: {exc.message}")
        if ok:
            messages.success(request, done % {"n": ok})

    @admin.action(description=_("Gửi thẩm định"), permissions=["write"])
    def action_submit(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        self._run(request, queryset, question_submit_for_review, _("Đã gửi thẩm định %(n)s câu hỏi."))

    @admin.action(description=_("Duyệt câu hỏi"), permissions=["review"])
    def action_approve(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        self._run(request, queryset, question_approve, _("Đã duyệt %(n)s câu hỏi."))

    @admin.action(description=_("Trả lại để sửa"), permissions=["review"])
    def action_reject(self, request: HttpRequest, queryset: QuerySet[Question]) -> Any:
        form = RejectForm(request.POST if "note" in request.POST else None)
        if form.is_valid():
            self._run(request, queryset, question_reject, _("Đã trả lại %(n)s câu hỏi."),
                      note=form.cleaned_data["note"])
            return None
        return TemplateResponse(request, "questionbank/admin/reject.html", {
            **self.admin_site.each_context(request), "title": _("Trả lại câu hỏi"), "form": form,
            "queryset": queryset, "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })

    @admin.action(description=_("Ngừng sử dụng"), permissions=["retire"])
    def action_retire(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        self._run(request, queryset, question_retire, _("Đã ngừng sử dụng %(n)s câu hỏi."))

    @admin.action(description=_("Xuất Excel (.xlsx) theo mẫu nhập"), permissions=["view"])
    def action_export_xlsx(self, request: HttpRequest, queryset: QuerySet[Question]) -> HttpResponse:
        handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
        export_questions(handle, Question.objects.filter(pk__in=queryset.values("pk")))
        handle.seek(0)
        return FileResponse(handle, as_attachment=True, filename="cau-hoi.xlsx",
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @admin.action(description=_("Xuất Moodle XML"), permissions=["view"])
    def action_export_moodle_xml(self, request: HttpRequest, queryset: QuerySet[Question]) -> HttpResponse:
        handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
        moodle_xml.export_questions(handle, Question.objects.filter(pk__in=queryset.values("pk")))
        handle.seek(0)
        return FileResponse(handle, as_attachment=True, filename="cau-hoi.xml", content_type="application/xml")

    # -- import and template download --
    def get_urls(self) -> list:
        extra = [
            path("import/", self.admin_site.admin_view(self.import_view), name="questionbank_question_import"),
            path("<int:question_id>/review/", self.admin_site.admin_view(self.review_view),
                 name="questionbank_question_review"),
            path("template.xlsx", self.admin_site.admin_view(self.template_view),
                 name="questionbank_question_template"),
        ]
        return extra + super().get_urls()

    def template_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_module_permission(request):
            raise PermissionDenied
        handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
        write_template(handle)
        handle.seek(0)
        return FileResponse(handle, as_attachment=True, filename="mau-nhap-cau-hoi.xlsx",
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    def _import_orgs(self, request: HttpRequest) -> QuerySet[Organisation]:
        if request.user.is_superuser:
            return Organisation.objects.filter(is_active=True)
        return Organisation.objects.filter(pk__in=organisation_ids_for(request.user, WRITER))

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload → preview (a dry run: counts, warnings, errors, unsupported) → confirm (the real import)."""
        if not self.has_write_permission(request):
            raise PermissionDenied
        orgs = self._import_orgs(request)
        context: dict[str, Any] = {**self.admin_site.each_context(request), "opts": self.model._meta,
                                   "title": _("Nhập câu hỏi từ tệp"),
                                   "template_url": reverse("admin:questionbank_question_template")}
        if request.method == "POST" and request.POST.get("token"):
            return self._import_confirm(request, orgs)
        form = ImportForm(request.POST or None, request.FILES or None, organisations=orgs)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read(max_upload_bytes() + 1)
            options = {"organisation_id": form.cleaned_data["organisation"].pk, "format": form.cleaned_data["format"],
                       "visibility": form.cleaned_data["visibility"], "filename": upload.name[:200],
                       "create_topics": not form.cleaned_data["existing_topics_only"]}
            report, result = self._dry_run(request, data, options)
            token = ""
            if not report.errors:
                token = import_upload_store(data=data)
                request.session.setdefault(IMPORT_SESSION_KEY, {})[token] = options
                request.session.modified = True
            context.update({"report": report, "token": token, "options": options,
                            "format_label": FORMAT_LABELS.get(options.get("format"), options.get("format")),
                            "organisation": form.cleaned_data["organisation"],
                            "questions": (result.questions[:50] if result else []),
                            "preview_rows": _preview_rows(result.questions[:50] if result else []),
                            "total": len(result.questions) if result else 0})
            return TemplateResponse(request, "questionbank/admin/import_preview.html", context)
        context["form"] = form
        return TemplateResponse(request, "questionbank/admin/import.html", context)

    def _dry_run(self, request: HttpRequest, data: bytes, options: dict) -> tuple[ImportReport, Any]:
        report = ImportReport()
        result = None
        try:
            fmt = options["format"]
            if fmt == "auto":
                fmt = detect_format(data, options["filename"])
                options["format"] = fmt
            result = parse_file(data, fmt, filename=options["filename"])
            report = questions_import(
                organisation=Organisation.objects.get(pk=options["organisation_id"]), result=result,
                actor=request.user, dry_run=True, visibility=options["visibility"],
                create_topics=options["create_topics"])
        except ImportFileError as exc:
            report.errors.append({"line": None, "row": None, "message": exc.message})
        except QuestionBankError as exc:
            report.errors.append({"line": None, "row": None, "message": exc.message})
        return report, result

    def _import_confirm(self, request: HttpRequest, orgs: QuerySet[Organisation]) -> HttpResponse:
        token = request.POST["token"]
        pending = request.session.get(IMPORT_SESSION_KEY, {})
        options = pending.pop(token, None)
        request.session.modified = True
        data = import_upload_take(token=token) if options is not None else None
        if data is None or not orgs.filter(pk=options["organisation_id"]).exists():
            messages.error(request, _("Phiên nhập đã hết hạn; hãy tải tệp lên lại."))
            return HttpResponseRedirect(reverse("admin:questionbank_question_import"))
        try:
            result = parse_file(data, options["format"], filename=options["filename"])
            report = questions_import(
                organisation=Organisation.objects.get(pk=options["organisation_id"]), result=result,
                actor=request.user, visibility=options["visibility"], create_topics=options["create_topics"])
        except (ImportFileError, QuestionBankError) as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:questionbank_question_import"))
        if report.errors:
            for problem in report.errors[:20]:
                messages.error(request, problem["message"])
            return HttpResponseRedirect(reverse("admin:questionbank_question_import"))
        messages.success(request, _("Đã nhập %(n)s câu hỏi; các câu hỏi đang chờ thẩm định.")
                         % {"n": report.imported})
        return HttpResponseRedirect(reverse("admin:questionbank_question_changelist") + "?status__exact=in_review")


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    """The topic tree is shared by every organisation: staff see it; only superusers edit it (imports and
    question forms create missing topics through the service)."""

    list_display = ("path_display", "parent")
    search_fields = ("name",)

    @admin.display(description=_("đường dẫn"))
    def path_display(self, obj: Topic) -> str:
        return obj.path

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or bool(organisation_ids_for(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or bool(organisation_ids_for(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)


def _preview_rows(questions: list) -> list[dict[str, Any]]:
    """Parsed questions for the import preview, with their type and difficulty as people read them (the
    parsers keep the stored codes: "single", "medium")."""
    types, levels = dict(QuestionType.choices), dict(Difficulty.choices)
    return [{"q": q, "type": types.get(q.type, q.type),
             "difficulty": levels.get(q.difficulty, q.difficulty) if q.difficulty else ""} for q in questions]

"""django-import-export resources for small admin exports (questions, contests, participants).

The resources decide *what* is exported (fields, Vietnamese column names, dehydration); the file is written
by ``exports.admin_actions`` through the project's formula-safe xlsx writer, not through tablib's xlsx
(tablib writes a text starting with "=" as a formula, and import-export's escape setting deletes the "=").
Export only: these resources are never used to import.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.utils.html import strip_tags
from import_export import fields, resources, widgets

from contests.models import Contest, Registration
from exports.masking import mask_digits
from questionbank.models import Question


class QuestionResource(resources.ModelResource):
    id = fields.Field(attribute="id", column_name="Mã câu hỏi", widget=widgets.IntegerWidget())
    type = fields.Field(attribute="get_type_display", column_name="Loại câu hỏi")
    stem = fields.Field(column_name="Nội dung")
    options = fields.Field(column_name="Phương án (đúng đánh dấu *)")
    topic = fields.Field(attribute="topic__name", column_name="Chủ đề")
    difficulty = fields.Field(attribute="get_difficulty_display", column_name="Độ khó")
    status = fields.Field(attribute="get_status_display", column_name="Trạng thái")
    citation = fields.Field(attribute="citation", column_name="Căn cứ pháp lý")
    default_points = fields.Field(attribute="default_points", column_name="Điểm mặc định",
                                  widget=widgets.DecimalWidget())
    version = fields.Field(attribute="version", column_name="Phiên bản", widget=widgets.IntegerWidget())
    organisation = fields.Field(attribute="organisation__name", column_name="Tổ chức sở hữu")

    class Meta:
        model = Question
        fields = export_order = ("id", "type", "stem", "options", "topic", "difficulty", "status", "citation",
                                 "default_points", "version", "organisation")

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("topic", "organisation").prefetch_related("options")

    def dehydrate_stem(self, question: Question) -> str:
        return strip_tags(question.stem)

    def dehydrate_options(self, question: Question) -> str:
        return "; ".join(f"{'*' if o.fraction > 0 else ''}{strip_tags(o.text)}" for o in question.options.all())


class ContestResource(resources.ModelResource):
    id = fields.Field(attribute="id", column_name="Mã cuộc thi", widget=widgets.IntegerWidget())
    title = fields.Field(attribute="title", column_name="Tên cuộc thi")
    organisation = fields.Field(attribute="organisation__name", column_name="Đơn vị tổ chức")
    visibility = fields.Field(attribute="get_visibility_display", column_name="Trạng thái công bố")
    rounds = fields.Field(attribute="round_count", column_name="Số đợt thi", widget=widgets.IntegerWidget())
    registrations = fields.Field(attribute="registration_count", column_name="Số người đăng ký",
                                 widget=widgets.IntegerWidget())
    created_at = fields.Field(attribute="created_at", column_name="Tạo lúc (giờ Việt Nam)",
                              widget=widgets.DateTimeWidget())

    class Meta:
        model = Contest
        fields = export_order = ("id", "title", "organisation", "visibility", "rounds", "registrations",
                                 "created_at")

    @staticmethod
    def annotate(queryset: Any) -> Any:
        return queryset.select_related("organisation").annotate(
            round_count=Count("rounds", distinct=True), registration_count=Count("registrations", distinct=True))


class ParticipantResource(resources.ModelResource):
    """Registrations (thí sinh). Phone and ID numbers are masked unless ``full_personal_data``."""

    PERSONAL_FIELDS = ("full_name", "date_of_birth", "unit", "phone", "national_id")

    id = fields.Field(attribute="id", column_name="Mã đăng ký", widget=widgets.IntegerWidget())
    contest = fields.Field(attribute="contest__title", column_name="Cuộc thi")
    full_name = fields.Field(attribute="full_name", column_name="Họ và tên")
    date_of_birth = fields.Field(attribute="date_of_birth", column_name="Ngày sinh", widget=widgets.DateWidget())
    unit = fields.Field(attribute="unit__name", column_name="Đơn vị")
    phone = fields.Field(column_name="Số điện thoại")
    national_id = fields.Field(column_name="Số định danh cá nhân")
    created_at = fields.Field(attribute="created_at", column_name="Đăng ký lúc (giờ Việt Nam)",
                              widget=widgets.DateTimeWidget())

    class Meta:
        model = Registration
        fields = export_order = ("id", "contest", "full_name", "date_of_birth", "unit", "phone", "national_id",
                                 "created_at")

    def __init__(self, *, full_personal_data: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.full_personal_data = full_personal_data

    def dehydrate_phone(self, registration: Registration) -> str:
        phone = registration.user.phone or ""
        return phone if self.full_personal_data else mask_digits(phone)

    def dehydrate_national_id(self, registration: Registration) -> str:
        value = registration.national_id or ""
        return value if self.full_personal_data else mask_digits(value)

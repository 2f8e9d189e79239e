"""Surveys run by an organisation: questions (single / multiple choice with an optional "other: …", a 1–5
scale, free text), optionally anonymous, optionally limited to a unit or a contest's registrants.

Anonymity is a property of the rows, checked by the database: a response of an anonymous survey has no
account (``response_anonymous_has_no_user``), no consent time, a random UUID for its key (no order to match
against anything) and only the day it was given. Nothing else about the respondent is written anywhere —
no audit event, no participation record (services.survey_respond).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organisation
from questionbank.sanitize import clean_html, clean_text


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("Bản nháp")
    PUBLISHED = "published", _("Đã công bố")


class SurveyAudience(models.TextChoices):
    EVERYONE = "everyone", _("Mọi người dùng đã đăng nhập")
    UNIT = "unit", _("Người thuộc một đơn vị")
    CONTEST = "contest", _("Người đã đăng ký một cuộc thi")


class Survey(models.Model):
    tenant_path = "organisation"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="surveys",
                                     verbose_name=_("đơn vị tổ chức"))
    title = models.CharField(_("tên khảo sát"), max_length=200)
    description = models.TextField(_("giới thiệu"), blank=True, help_text=_("HTML được làm sạch khi lưu."))
    status = models.CharField(_("trạng thái"), max_length=10, choices=SurveyStatus.choices,
                              default=SurveyStatus.DRAFT)
    anonymous = models.BooleanField(_("ẩn danh"), default=False, help_text=_(
        "Ẩn danh: không lưu tài khoản của người trả lời (không giới hạn mỗi người một phiếu). Không đổi được sau "
        "khi đã có phiếu trả lời."))
    audience = models.CharField(_("đối tượng"), max_length=10, choices=SurveyAudience.choices,
                                default=SurveyAudience.EVERYONE)
    audience_unit = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", verbose_name=_("đơn vị được khảo sát"))
    audience_contest = models.ForeignKey("contests.Contest", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+", verbose_name=_("cuộc thi (người đã đăng ký)"))
    opens_at = models.DateTimeField(_("mở lúc"))
    closes_at = models.DateTimeField(_("đóng lúc"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "khảo sát")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "khảo sát")
        ordering = ["-opens_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="survey_closes_after_opens"),
            models.CheckConstraint(
                condition=(Q(audience="everyone", audience_unit__isnull=True, audience_contest__isnull=True)
                           | Q(audience="unit", audience_unit__isnull=False, audience_contest__isnull=True)
                           | Q(audience="contest", audience_unit__isnull=True, audience_contest__isnull=False)),
                name="survey_audience_consistent"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.description = clean_html(self.description)
        self.title = clean_text(self.title)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = {}
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            errors["closes_at"] = _("Thời gian đóng phải sau thời gian mở.")
        if self.audience == SurveyAudience.UNIT and not self.audience_unit_id:
            errors["audience_unit"] = _("Chọn đơn vị được khảo sát.")
        if self.audience == SurveyAudience.CONTEST and not self.audience_contest_id:
            errors["audience_contest"] = _("Chọn cuộc thi.")
        if self.audience != SurveyAudience.UNIT:
            self.audience_unit = None
        if self.audience != SurveyAudience.CONTEST:
            self.audience_contest = None
        if errors:
            raise ValidationError(errors)

    def is_open(self, now) -> bool:
        return self.status == SurveyStatus.PUBLISHED and self.opens_at <= now < self.closes_at


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Chọn một")
    MULTIPLE = "multiple", _("Chọn nhiều")
    SCALE = "scale", _("Thang điểm 1–5")
    TEXT = "text", _("Trả lời tự do")


CHOICE_KINDS = frozenset({QuestionKind.SINGLE, QuestionKind.MULTIPLE})
SCALE_VALUES = (1, 2, 3, 4, 5)


class SurveyQuestion(models.Model):
    tenant_path = "survey__organisation"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("thứ tự"), default=1)
    kind = models.CharField(_("loại câu hỏi"), max_length=10, choices=QuestionKind.choices,
                            default=QuestionKind.SINGLE)
    text = models.CharField(_("câu hỏi"), max_length=500)
    required = models.BooleanField(_("bắt buộc"), default=True)
    allow_other = models.BooleanField(_("có lựa chọn “Khác: …”"), default=False)
    scale_low_label = models.CharField(_("nhãn mức 1"), max_length=60, blank=True)
    scale_high_label = models.CharField(_("nhãn mức 5"), max_length=60, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "câu hỏi khảo sát")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "câu hỏi khảo sát")
        ordering = ["survey", "position", "id"]

    def __str__(self) -> str:
        return self.text

    def save(self, *args, **kwargs) -> None:
        self.text = clean_text(self.text)
        self.scale_low_label = clean_text(self.scale_low_label)
        self.scale_high_label = clean_text(self.scale_high_label)
        if self.kind not in CHOICE_KINDS:
            self.allow_other = False
        super().save(*args, **kwargs)


class SurveyChoice(models.Model):
    tenant_path = "question__survey__organisation"

    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveSmallIntegerField(default=1)
    text = models.CharField(_("phương án"), max_length=300)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "phương án khảo sát")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "phương án khảo sát")
        ordering = ["question", "position", "id"]

    def __str__(self) -> str:
        return self.text


class SurveyResponse(models.Model):
    """One filled-in survey. ``user`` only for surveys that are not anonymous (one per person, constraint);
    ``unit`` is the respondent's unit at the time (per-unit results); ``submitted_on`` is a day, not a time."""

    tenant_path = "survey__organisation"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    is_anonymous = models.BooleanField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="survey_responses")
    unit = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    submitted_on = models.DateField()
    consent_at = models.DateTimeField(null=True, blank=True)
    notice_version = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "phiếu trả lời khảo sát")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "phiếu trả lời khảo sát")
        constraints = [
            models.UniqueConstraint(fields=["survey", "user"], condition=Q(user__isnull=False),
                                    name="survey_response_once_per_user"),
            models.CheckConstraint(condition=Q(is_anonymous=False) | Q(user__isnull=True, consent_at__isnull=True),
                                   name="response_anonymous_has_no_user"),
        ]
        indexes = [models.Index(fields=["survey", "unit"], name="survey_response_unit_idx")]

    def __str__(self) -> str:
        return str(self.id)[:8]


class SurveyAnswer(models.Model):
    """One answer value: a chosen option (one row per option for multiple choice), an "other" text (no option),
    a scale value, or a free text."""

    tenant_path = "response__survey__organisation"

    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="answers")
    choice = models.ForeignKey(SurveyChoice, null=True, blank=True, on_delete=models.CASCADE, related_name="answers")
    number = models.PositiveSmallIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "câu trả lời khảo sát")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "câu trả lời khảo sát")
        constraints = [
            models.UniqueConstraint(fields=["response", "question", "choice"], condition=Q(choice__isnull=False),
                                    name="survey_answer_choice_once"),
            models.CheckConstraint(condition=Q(number__isnull=True) | Q(number__gte=1, number__lte=5),
                                   name="survey_answer_scale_range"),
        ]
        indexes = [models.Index(fields=["question", "choice"], name="survey_answer_question_idx")]

    def __str__(self) -> str:
        return f"{self.response_id}/{self.question_id}"

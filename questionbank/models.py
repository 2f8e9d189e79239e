"""The shared question bank: topics, questions (versioned), options and media."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organisation


class Topic(models.Model):
    """A node of the city-wide topic tree (e.g. "Luật Giao thông" → "Xử phạt"). Shared by all tenants."""

    name = models.CharField(_("tên chủ đề"), max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("chủ đề cha"))

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "chủ đề")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "chủ đề")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="topic_unique_in_parent"),
            models.UniqueConstraint(fields=["name"], condition=Q(parent__isnull=True), name="topic_unique_root"),
        ]

    def __str__(self) -> str:
        return self.path

    @property
    def path(self) -> str:
        names, node, seen = [], self, set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names))


class Tag(models.Model):
    name = models.CharField(_("nhãn"), max_length=60, unique=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "nhãn")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "nhãn")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class QuestionType(models.TextChoices):
    SINGLE = "single", _("Một lựa chọn đúng")
    MULTIPLE = "multiple", _("Nhiều lựa chọn đúng")
    TRUE_FALSE = "truefalse", _("Đúng / Sai")
    NUMERIC = "numeric", _("Số (có sai số)")
    SHORT_TEXT = "short", _("Trả lời ngắn")
    ESSAY = "essay", _("Tự luận")


class Difficulty(models.TextChoices):
    EASY = "easy", _("Dễ")
    MEDIUM = "medium", _("Trung bình")
    HARD = "hard", _("Khó")


class QuestionStatus(models.TextChoices):
    DRAFT = "draft", _("Bản nháp")
    IN_REVIEW = "in_review", _("Chờ thẩm định")
    APPROVED = "approved", _("Đã duyệt")
    RETIRED = "retired", _("Ngừng sử dụng")


class Visibility(models.TextChoices):
    SHARED = "shared", _("Dùng chung toàn thành phố")
    PRIVATE = "private", _("Riêng của tổ chức")


class Question(models.Model):
    """One version of a question. Editing a question that has been used creates a new row with the
    same ``family_id`` and ``version + 1``; the old row is kept unchanged (``is_current=False``) so
    attempts that drew it never change. Attempts additionally snapshot what they showed."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="questions",
                                     verbose_name=_("tổ chức sở hữu"))
    visibility = models.CharField(_("phạm vi"), max_length=10, choices=Visibility.choices,
                                  default=Visibility.SHARED)
    type = models.CharField(_("loại câu hỏi"), max_length=12, choices=QuestionType.choices,
                            default=QuestionType.SINGLE)
    stem = models.TextField(_("nội dung câu hỏi"), help_text=_("HTML được làm sạch khi lưu."))
    explanation = models.TextField(_("giải thích"), blank=True)
    citation_document = models.CharField(_("văn bản"), max_length=60, blank=True,
                                         help_text=_("Ví dụ: 52/2014/QH13"))
    citation_article = models.CharField(_("điều"), max_length=20, blank=True)
    citation_clause = models.CharField(_("khoản"), max_length=20, blank=True)
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.PROTECT, related_name="questions",
                              verbose_name=_("chủ đề"))
    tags = models.ManyToManyField(Tag, blank=True, related_name="questions", verbose_name=_("nhãn"))
    difficulty = models.CharField(_("độ khó"), max_length=10, choices=Difficulty.choices,
                                  default=Difficulty.MEDIUM)
    default_points = models.DecimalField(_("điểm mặc định"), max_digits=6, decimal_places=2,
                                         default=Decimal("1"), validators=[MinValueValidator(0)])
    status = models.CharField(_("trạng thái"), max_length=12, choices=QuestionStatus.choices,
                              default=QuestionStatus.DRAFT, db_index=True)
    family_id = models.BigIntegerField(_("mã họ câu hỏi"), null=True, blank=True, db_index=True,
                                       help_text=_("Chung cho mọi phiên bản của một câu hỏi."))
    version = models.PositiveIntegerField(_("phiên bản"), default=1)
    is_current = models.BooleanField(_("phiên bản hiện hành"), default=True, db_index=True)
    normalised_text = models.TextField(editable=False, blank=True, db_index=False)
    # Hash of the diacritics-insensitive normalised stem + options (questionbank.dedupe.search_key).
    search_key = models.CharField(max_length=40, editable=False, blank=True, db_index=True)
    # Stem, options and citation without diacritics or case (questionbank.dedupe.question_search_text): what
    # the bank's search matches. On PostgreSQL a trigram index serves its substring matches.
    search_text = models.TextField(editable=False, blank=True, default="")
    # Same cited article and same correct answer(s) (questionbank.dedupe.answer_key): a likely reworded
    # duplicate, warned about and never drawn together with its twin in one attempt.
    answer_key = models.CharField(max_length=40, editable=False, blank=True, default="", db_index=True)
    review_note = models.TextField(_("ghi chú thẩm định"), blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", verbose_name=_("người soạn"))
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("người duyệt"))
    reviewed_at = models.DateTimeField(_("thẩm định lúc"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "câu hỏi")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "câu hỏi")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "is_current", "topic", "difficulty"])]
        constraints = [
            models.UniqueConstraint(fields=["family_id", "version"], name="question_family_version_unique"),
            # At most one current version per family: the rest are history kept for past attempts.
            models.UniqueConstraint(fields=["family_id"], condition=Q(is_current=True),
                                    name="question_one_current_version"),
            models.CheckConstraint(condition=Q(status__in=QuestionStatus.values), name="question_status_valid"),
            models.CheckConstraint(condition=Q(type__in=QuestionType.values), name="question_type_valid"),
            models.CheckConstraint(condition=Q(difficulty__in=Difficulty.values),
                                   name="question_difficulty_valid"),
            models.CheckConstraint(condition=Q(version__gte=1), name="question_version_positive"),
        ]

    def __str__(self) -> str:
        from django.utils.html import strip_tags

        text = strip_tags(self.stem)
        return text[:80] + ("…" if len(text) > 80 else "")

    @property
    def citation(self) -> str:
        parts = []
        if self.citation_clause:
            parts.append(f"Khoản {self.citation_clause}")
        if self.citation_article:
            parts.append(f"Điều {self.citation_article}")
        if self.citation_document:
            parts.append(self.citation_document)
        return ", ".join(parts)


class QuestionOption(models.Model):
    """An answer option (choice questions) or an accepted answer (short text, numeric), with the credit
    fraction Moodle uses: 1 = fully correct, 0 = wrong, partial and negative values allowed."""

    tenant_path = "question__organisation"

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options",
                                 verbose_name=_("câu hỏi"))
    position = models.PositiveSmallIntegerField(_("thứ tự"), default=0)
    text = models.TextField(_("nội dung"))
    fraction = models.DecimalField(_("tỉ lệ điểm"), max_digits=6, decimal_places=5, default=Decimal("0"),
                                   validators=[MinValueValidator(-1), MaxValueValidator(1)])
    tolerance = models.DecimalField(_("sai số cho phép"), max_digits=12, decimal_places=4, null=True,
                                    blank=True)
    feedback = models.TextField(_("phản hồi"), blank=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "phương án")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "phương án")
        ordering = ["question", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(fraction__gte=-1) & Q(fraction__lte=1),
                                   name="option_fraction_range"),
        ]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def is_correct(self) -> bool:
        return self.fraction > 0


class QuestionMedia(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", _("Hình ảnh")
        AUDIO = "audio", _("Âm thanh")

    tenant_path = "question__organisation"

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="media",
                                 verbose_name=_("câu hỏi"))
    kind = models.CharField(_("loại tệp"), max_length=10, choices=Kind.choices)
    file = models.FileField(_("tệp"), upload_to="questions/%Y/%m/")
    content_type = models.CharField(_("định dạng"), max_length=60)
    size = models.PositiveIntegerField(_("dung lượng (byte)"))

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "tệp đính kèm")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "tệp đính kèm")

    def __str__(self) -> str:
        return self.file.name


class QuestionSimilarityKey(models.Model):
    """MinHash band keys of a question's text: the indexed prefilter for near-duplicate detection
    (questionbank.dedupe). Only current versions carry keys."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="similarity_keys")
    key = models.BigIntegerField(db_index=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "khoá so trùng câu hỏi")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "khoá so trùng câu hỏi")
        constraints = [
            models.UniqueConstraint(fields=["question", "key"], name="similarity_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}:{self.key}"

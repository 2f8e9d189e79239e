"""Contests, rounds, registrations, attempts and answers.

Rules that rounds inherit live on ``Contest`` (the ``default`` settings); a ``Round`` stores a nullable
override for each of them and ``Round.settings`` resolves both into one frozen ``RoundSettings``.
Writes go through ``contests.services``; reads shared by several callers through ``contests.selectors``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

import nh3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organisation
from contests.scoring import get_strategy
from questionbank.models import Difficulty

# --------------------------------------------------------------------------------------------------
# Choices
# --------------------------------------------------------------------------------------------------


class ContestVisibility(models.TextChoices):
    DRAFT = "draft", _("Bản nháp")
    PUBLISHED = "published", _("Đã công bố")


class CountedAttempt(models.TextChoices):
    FIRST = "first", _("Lượt thi đầu tiên")
    BEST = "best", _("Lượt thi tốt nhất")
    LAST = "last", _("Lượt thi cuối cùng")


class PredictionTarget(models.TextChoices):
    PERFECT_PEOPLE = "perfect_people", _("Số người trả lời đúng tất cả câu hỏi")
    PERFECT_ATTEMPTS = "perfect_attempts", _("Số lượt thi trả lời đúng tất cả câu hỏi")
    ENTRANTS = "entrants", _("Tổng số người dự thi")
    ATTEMPTS = "attempts", _("Tổng số lượt thi")


class ScoreboardVisibility(models.TextChoices):
    LIVE = "live", _("Công khai trực tiếp")
    HIDDEN_UNTIL_CLOSE = "hidden_until_close", _("Ẩn đến khi kết thúc đợt thi")
    HIDDEN_UNTIL_OWN_ATTEMPT_ENDS = "hidden_until_own_attempt_ends", _("Ẩn đến khi thí sinh nộp bài")
    FROZEN = "frozen", _("Đóng băng trước khi kết thúc")


class Presentation(models.TextChoices):
    ALL_ON_ONE_PAGE = "all_on_one_page", _("Tất cả câu hỏi trên một trang")
    ONE_AT_A_TIME = "one_at_a_time", _("Từng câu một")


class PartialCredit(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", _("Đúng hoàn toàn mới được điểm")
    FRACTIONS = "fractions", _("Tính điểm từng phần theo tỉ lệ")


TIE_BREAK_PREDICTION_FIRST = ["score", "prediction", "duration", "submitted_at"]
TIE_BREAK_DURATION_FIRST = ["score", "duration", "prediction", "submitted_at"]
TIE_BREAK_ORDERS = (TIE_BREAK_PREDICTION_FIRST, TIE_BREAK_DURATION_FIRST)


def default_tie_break_order() -> list[str]:
    return list(TIE_BREAK_PREDICTION_FIRST)


def validate_tie_break_order(value: Any) -> None:
    if value not in TIE_BREAK_ORDERS:
        raise ValidationError(_("Thứ tự xét giải phụ không hợp lệ."))


def validate_blueprint(value: Any) -> None:
    """A blueprint is a non-empty list of entries: random draws ``{topic_id|null, difficulty|null, count,
    points|null}`` and fixed questions ``{question_ids: [id, …], points|null}`` (see docs/contest-rules.md)."""
    if not isinstance(value, list) or not value:
        raise ValidationError(_("Cấu trúc đề phải là danh sách các lượt rút câu hỏi."))
    seen_fixed: set[int] = set()
    for draw in value:
        if isinstance(draw, dict) and "question_ids" in draw:
            if set(draw) - {"question_ids", "points"}:
                raise ValidationError(_("Lượt rút câu hỏi không hợp lệ: %(d)s"), params={"d": draw})
            ids = draw["question_ids"]
            if (not isinstance(ids, list) or not 1 <= len(ids) <= 200
                    or any(not isinstance(i, int) or isinstance(i, bool) or i < 1 for i in ids)):
                raise ValidationError(_("Danh sách câu hỏi cố định phải gồm từ 1 đến 200 mã câu hỏi."))
            if seen_fixed & set(ids) or len(set(ids)) != len(ids):
                raise ValidationError(_("Một câu hỏi cố định được khai báo hai lần."))
            seen_fixed |= set(ids)
            _validate_points(draw.get("points"))
            continue
        if not isinstance(draw, dict) or set(draw) - {"topic_id", "difficulty", "count", "points"}:
            raise ValidationError(_("Lượt rút câu hỏi không hợp lệ: %(d)s"), params={"d": draw})
        count = draw.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 200:
            raise ValidationError(_("Số câu hỏi của mỗi lượt rút phải từ 1 đến 200."))
        topic_id = draw.get("topic_id")
        if topic_id is not None and (not isinstance(topic_id, int) or isinstance(topic_id, bool)):
            raise ValidationError(_("Mã chủ đề không hợp lệ."))
        difficulty = draw.get("difficulty")
        if difficulty is not None and difficulty not in Difficulty.values:
            raise ValidationError(_("Độ khó không hợp lệ."))
        _validate_points(draw.get("points"))


def _validate_points(points: Any) -> None:
    if points is not None:
        try:
            if Decimal(str(points)) < 0:
                raise ValueError
        except (ArithmeticError, ValueError) as exc:
            raise ValidationError(_("Điểm của câu hỏi không hợp lệ.")) from exc


def sanitise_rules_html(text: str) -> str:
    """Rules (thể lệ) are organiser-written HTML shown to the public: keep only harmless markup."""
    return nh3.clean(text or "", tags={"p", "br", "strong", "em", "b", "i", "u", "ul", "ol", "li", "h2", "h3",
                                       "h4", "blockquote", "a", "table", "thead", "tbody", "tr", "th", "td"})


# --------------------------------------------------------------------------------------------------
# Inherited settings
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundSettings:
    """The effective rules of a round: the round's override where set, otherwise the contest's default."""

    time_limit_seconds: int
    blueprint: list
    max_attempts: int | None  # None = unlimited
    counted_attempt: str
    prediction_enabled: bool
    prediction_target_kind: str
    scoring_rule: str
    partial_credit: str
    tie_break_order: list
    scoreboard_visibility: str
    freeze_minutes: int
    presentation: str
    allow_answer_change: bool
    reveal_answers_after_attempt: bool
    grace_seconds: int

    @property
    def grace(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.grace_seconds)

    @property
    def time_limit(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.time_limit_seconds)


INHERITED_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(RoundSettings))


def _default_grace_seconds() -> int:
    return int(getattr(settings, "CONTEST_GRACE_SECONDS", 5))


class Contest(models.Model):
    """A contest (cuộc thi) owned by one organisation, made of one or more rounds."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="contests",
                                     verbose_name=_("đơn vị tổ chức"))
    title = models.CharField(_("tên cuộc thi"), max_length=250)
    slug = models.SlugField(_("đường dẫn"), max_length=100, unique=True)
    summary = models.CharField(_("giới thiệu ngắn"), max_length=500, blank=True)
    rules_text = models.TextField(_("thể lệ"), blank=True, help_text=_("HTML được làm sạch khi lưu."))
    visibility = models.CharField(_("trạng thái công bố"), max_length=10, choices=ContestVisibility.choices,
                                  default=ContestVisibility.DRAFT, db_index=True)
    # Eligibility
    allowed_units = models.ManyToManyField(
        Organisation, blank=True, related_name="eligible_contests", verbose_name=_("đơn vị được dự thi"),
        help_text=_("Để trống: mọi đơn vị đều được dự thi."),
    )
    minimum_age = models.PositiveSmallIntegerField(_("tuổi tối thiểu"), null=True, blank=True)
    one_prize_per_person = models.BooleanField(_("mỗi người chỉ nhận một giải"), default=True)
    # Retention (Law 91/2025, docs/privacy.md "Retention"): the contest's own copies of personal data — the
    # registrations' names, dates of birth and ID numbers, essay texts, complaints — are anonymised this many
    # days after the last round ends (the ``retention`` app's periodic job); scores and rankings stay.
    personal_data_retention_days = models.PositiveIntegerField(
        _("thời hạn lưu dữ liệu cá nhân (ngày)"), default=365, validators=[MinValueValidator(30)],
        help_text=_("Số ngày sau khi đợt thi cuối cùng kết thúc; hết hạn thì họ tên, ngày sinh, số định danh của "
                    "thí sinh, bài tự luận và đơn khiếu nại được ẩn danh. Điểm và xếp hạng được giữ nguyên."))
    personal_data_erased_at = models.DateTimeField(_("đã ẩn danh dữ liệu cá nhân lúc"), null=True, blank=True,
                                                   editable=False)

    # Defaults inherited by rounds (see RoundSettings).
    time_limit_seconds = models.PositiveIntegerField(_("thời gian làm bài (giây)"), default=900,
                                                     validators=[MinValueValidator(30)])
    blueprint = models.JSONField(_("cấu trúc đề mặc định"), default=list, blank=True,
                                 help_text=_('Ví dụ: [{"topic_id": null, "difficulty": null, "count": 10, '
                                             '"points": null}]; câu hỏi cố định: {"question_ids": [12, 40], '
                                             '"points": null}'))
    max_attempts = models.PositiveSmallIntegerField(_("số lượt thi tối đa"), null=True, blank=True, default=1,
                                                    help_text=_("Để trống: không giới hạn."))
    counted_attempt = models.CharField(_("lượt thi được tính"), max_length=8, choices=CountedAttempt.choices,
                                       default=CountedAttempt.BEST)
    prediction_enabled = models.BooleanField(_("có câu hỏi dự đoán"), default=True)
    prediction_target_kind = models.CharField(_("câu hỏi dự đoán về"), max_length=20,
                                              choices=PredictionTarget.choices,
                                              default=PredictionTarget.PERFECT_ATTEMPTS)
    scoring_rule = models.CharField(_("cách tính điểm"), max_length=30, default="weighted")
    partial_credit = models.CharField(_("điểm từng phần"), max_length=20, choices=PartialCredit.choices,
                                      default=PartialCredit.ALL_OR_NOTHING)
    tie_break_order = models.JSONField(_("thứ tự xét giải phụ"), default=default_tie_break_order,
                                       validators=[validate_tie_break_order])
    scoreboard_visibility = models.CharField(_("bảng xếp hạng"), max_length=32,
                                             choices=ScoreboardVisibility.choices,
                                             default=ScoreboardVisibility.LIVE)
    freeze_minutes = models.PositiveIntegerField(_("đóng băng trước khi kết thúc (phút)"), default=0)
    presentation = models.CharField(_("cách hiển thị câu hỏi"), max_length=20, choices=Presentation.choices,
                                    default=Presentation.ALL_ON_ONE_PAGE)
    allow_answer_change = models.BooleanField(_("cho phép đổi câu trả lời"), default=True)
    reveal_answers_after_attempt = models.BooleanField(
        _("hiện đáp án ngay sau khi nộp bài"), default=False,
        help_text=_("Chỉ dùng được khi mỗi người chỉ có một lượt thi."))
    grace_seconds = models.PositiveSmallIntegerField(_("thời gian bù trễ mạng (giây)"),
                                                     default=_default_grace_seconds)

    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "cuộc thi")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "cuộc thi")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.rules_text = sanitise_rules_html(self.rules_text)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("contests:detail", kwargs={"slug": self.slug})

    @property
    def is_published(self) -> bool:
        return self.visibility == ContestVisibility.PUBLISHED

    def clean(self) -> None:
        if self.blueprint:
            validate_blueprint(self.blueprint)
        defaults = RoundSettings(**{name: getattr(self, name) for name in INHERITED_FIELDS})
        round_settings_check(defaults)


def round_settings_check(resolved: RoundSettings) -> None:
    """Combinations that the rules forbid, shared by Contest.clean, Round.clean and the services."""
    errors: dict[str, Any] = {}
    try:
        strategy = get_strategy(resolved.scoring_rule)
    except KeyError:
        errors["scoring_rule"] = _("Cách tính điểm không tồn tại.")
    else:
        if strategy.requires_one_at_a_time and resolved.presentation != Presentation.ONE_AT_A_TIME:
            errors["scoring_rule"] = _("Tính điểm theo tốc độ chỉ dùng khi hiển thị từng câu một.")
    if resolved.reveal_answers_after_attempt and resolved.max_attempts != 1:
        errors["reveal_answers_after_attempt"] = _(
            "Chỉ được hiện đáp án ngay sau khi nộp bài khi mỗi người chỉ có một lượt thi.")
    if resolved.scoreboard_visibility == ScoreboardVisibility.FROZEN and resolved.freeze_minutes <= 0:
        errors["freeze_minutes"] = _("Cần nhập số phút đóng băng bảng xếp hạng.")
    if resolved.tie_break_order not in TIE_BREAK_ORDERS:
        errors["tie_break_order"] = _("Thứ tự xét giải phụ không hợp lệ.")
    if errors:
        raise ValidationError(errors)


class Round(models.Model):
    """A round (đợt / tuần thi): a time window in which registered contestants make attempts.

    Nullable setting fields override the contest's defaults (``None`` = inherit). For ``max_attempts``
    ``None`` inherits and ``0`` means unlimited. Use ``round.settings`` for the effective values.
    """

    tenant_path = "contest__organisation"

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="rounds",
                                verbose_name=_("cuộc thi"))
    name = models.CharField(_("tên đợt thi"), max_length=200)
    position = models.PositiveSmallIntegerField(_("thứ tự"), default=1)
    opens_at = models.DateTimeField(_("bắt đầu"))
    closes_at = models.DateTimeField(_("kết thúc"))
    # Status timestamps: an organiser may extend or reopen a round (OverrideGrant); the effective close
    # is extended_until when set. closed_at is set by the official close (ranking, prediction target).
    extended_until = models.DateTimeField(_("gia hạn đến"), null=True, blank=True)
    closed_at = models.DateTimeField(_("đã chốt lúc"), null=True, blank=True)
    prediction_target_value = models.PositiveIntegerField(_("đáp án câu hỏi dự đoán"), null=True, blank=True)
    # Bumped (F() + 1) by every change to what the official ranking is computed from once the round has
    # closed — an essay's final mark, a rescore, a disqualification, a reopening — through
    # ``contests.services.contests.round_results_changed``. A stored ranking remembers the value it was
    # computed at; a different value means the ranking is out of date (leaderboards.selectors).
    results_revision = models.PositiveIntegerField(_("số lần dữ liệu kết quả thay đổi"), default=0,
                                                   editable=False)

    # Overrides of the contest defaults (None = inherit).
    time_limit_seconds = models.PositiveIntegerField(_("thời gian làm bài (giây)"), null=True, blank=True,
                                                     validators=[MinValueValidator(30)])
    blueprint = models.JSONField(_("cấu trúc đề"), null=True, blank=True)
    max_attempts = models.PositiveSmallIntegerField(_("số lượt thi tối đa"), null=True, blank=True,
                                                    help_text=_("Để trống: theo cuộc thi; 0: không giới hạn."))
    counted_attempt = models.CharField(_("lượt thi được tính"), max_length=8, choices=CountedAttempt.choices,
                                       blank=True, null=True)
    prediction_enabled = models.BooleanField(_("có câu hỏi dự đoán"), null=True, blank=True)
    prediction_target_kind = models.CharField(_("câu hỏi dự đoán về"), max_length=20,
                                              choices=PredictionTarget.choices, null=True, blank=True)
    scoring_rule = models.CharField(_("cách tính điểm"), max_length=30, null=True, blank=True)
    partial_credit = models.CharField(_("điểm từng phần"), max_length=20, choices=PartialCredit.choices,
                                      null=True, blank=True)
    tie_break_order = models.JSONField(_("thứ tự xét giải phụ"), null=True, blank=True)
    scoreboard_visibility = models.CharField(_("bảng xếp hạng"), max_length=32,
                                             choices=ScoreboardVisibility.choices, null=True, blank=True)
    freeze_minutes = models.PositiveIntegerField(_("đóng băng trước khi kết thúc (phút)"), null=True, blank=True)
    presentation = models.CharField(_("cách hiển thị câu hỏi"), max_length=20, choices=Presentation.choices,
                                    null=True, blank=True)
    allow_answer_change = models.BooleanField(_("cho phép đổi câu trả lời"), null=True, blank=True)
    reveal_answers_after_attempt = models.BooleanField(_("hiện đáp án ngay sau khi nộp bài"), null=True,
                                                       blank=True)
    grace_seconds = models.PositiveSmallIntegerField(_("thời gian bù trễ mạng (giây)"), null=True, blank=True)

    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "đợt thi")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "đợt thi")
        ordering = ["contest", "position", "opens_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")),
                                   name="round_closes_after_opens"),
        ]

    def __str__(self) -> str:
        return f"{self.contest} — {self.name}"

    @property
    def settings(self) -> RoundSettings:
        """Effective settings. Cached per instance; needs ``contest`` (select_related it on hot paths)."""
        cached = self.__dict__.get("_settings_cache")
        if cached is None:
            values = {}
            for name in INHERITED_FIELDS:
                own = getattr(self, name)
                values[name] = getattr(self.contest, name) if own is None else own
            if self.max_attempts == 0:
                values["max_attempts"] = None
            cached = RoundSettings(**values)
            self.__dict__["_settings_cache"] = cached
        return cached

    @property
    def question_total(self) -> int:
        return sum(len(draw["question_ids"]) if "question_ids" in draw else int(draw.get("count", 0))
                   for draw in self.settings.blueprint)

    @property
    def time_limit_minutes(self) -> int:
        return (self.settings.time_limit_seconds + 59) // 60

    def refresh_settings(self) -> None:
        self.__dict__.pop("_settings_cache", None)

    @property
    def effective_closes_at(self) -> dt.datetime:
        if self.extended_until and self.extended_until > self.closes_at:
            return self.extended_until
        return self.closes_at

    def is_open(self, now: dt.datetime) -> bool:
        return self.opens_at <= now < self.effective_closes_at

    def has_closed(self, now: dt.datetime) -> bool:
        return now >= self.effective_closes_at

    def clean(self) -> None:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": _("Thời gian kết thúc phải sau thời gian bắt đầu.")})
        if self.blueprint is not None:
            validate_blueprint(self.blueprint)
        if self.tie_break_order is not None:
            validate_tie_break_order(self.tie_break_order)
        if self.contest_id:
            self.refresh_settings()
            round_settings_check(self.settings)
            if not self.settings.blueprint:
                raise ValidationError({"blueprint": _("Cần khai báo cấu trúc đề cho đợt thi hoặc cuộc thi.")})


class Registration(models.Model):
    """A contestant's registration for a contest, with a snapshot of the fields that identify them.

    The snapshot is frozen (``frozen_at``) at the first attempt; later corrections go through an
    organiser and are audited (``registration_correct``)."""

    tenant_path = "contest__organisation"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="registrations",
                             verbose_name=_("tài khoản"))
    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="registrations",
                                verbose_name=_("cuộc thi"))
    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="registrations",
                             verbose_name=_("đơn vị dự thi"))
    full_name = models.CharField(_("họ và tên"), max_length=150)
    date_of_birth = models.DateField(_("ngày sinh"), null=True, blank=True)
    national_id = models.CharField(_("số định danh cá nhân"), max_length=12, blank=True)
    frozen_at = models.DateTimeField(_("khoá thông tin lúc"), null=True, blank=True)
    created_at = models.DateTimeField(_("đăng ký lúc"), auto_now_add=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "đăng ký dự thi")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "đăng ký dự thi")
        constraints = [
            models.UniqueConstraint(fields=["user", "contest"], name="registration_once_per_contest"),
            # One person, one account per contest: an ID number (when given) registers once per contest.
            models.UniqueConstraint(fields=["contest", "national_id"], condition=~Q(national_id=""),
                                    name="registration_national_id_once_per_contest",
                                    violation_error_message=_("Số định danh cá nhân này đã có trong một đăng ký "
                                                              "khác của cuộc thi.")),
        ]
        indexes = [models.Index(fields=["contest", "unit"])]

    def __str__(self) -> str:
        return f"{self.full_name} — {self.contest}"


class AttemptStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("Đang làm bài")
    SUBMITTED = "submitted", _("Đã nộp bài")
    EXPIRED = "expired", _("Hết giờ, tự động nộp")
    DISQUALIFIED = "disqualified", _("Bị loại")


FINISHED_STATUSES = (AttemptStatus.SUBMITTED, AttemptStatus.EXPIRED)


class SubmitKind(models.TextChoices):
    CLIENT = "client", _("Thí sinh nộp")
    AUTO = "auto", _("Tự động nộp khi hết giờ")


class Attempt(models.Model):
    """One timed attempt (lượt thi). Time is the server's: ``deadline`` is derived from ``started_at``,
    the round's time limit, extra-time grants and the round's (extended) close; ``submitted_at`` of an
    automatic submit is the deadline, never the time of the sweep."""

    tenant_path = "round__contest__organisation"

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("đợt thi"))
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="attempts",
                                     verbose_name=_("đăng ký dự thi"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attempts",
                             verbose_name=_("tài khoản"))
    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="attempts",
                             verbose_name=_("đơn vị dự thi"))
    number = models.PositiveSmallIntegerField(_("lượt thứ"))
    status = models.CharField(_("trạng thái"), max_length=14, choices=AttemptStatus.choices,
                              default=AttemptStatus.IN_PROGRESS)
    started_at = models.DateTimeField(_("bắt đầu lúc"))
    deadline = models.DateTimeField(_("hạn nộp bài"))
    submitted_at = models.DateTimeField(_("nộp bài lúc"), null=True, blank=True)
    submit_kind = models.CharField(_("cách nộp"), max_length=6, choices=SubmitKind.choices, blank=True)
    score = models.DecimalField(_("điểm"), max_digits=9, decimal_places=3, null=True, blank=True)
    correct_count = models.PositiveSmallIntegerField(_("số câu đúng"), null=True, blank=True)
    question_count = models.PositiveSmallIntegerField(_("số câu hỏi"), default=0)
    duration_ms = models.PositiveBigIntegerField(_("thời gian làm bài (ms)"), null=True, blank=True)
    prediction = models.PositiveIntegerField(_("dự đoán"), null=True, blank=True)
    # Client sequence number of the stored prediction (answers keep theirs on the Answer row).
    prediction_seq = models.BigIntegerField(_("số thứ tự gửi của dự đoán"), default=0)
    disqualified_reason = models.TextField(_("lý do loại"), blank=True)
    # The seed of the draw (random.Random(draw_seed)): the same seed and bank give the same questions and
    # option order, so a disputed draw can be replayed. Null for attempts started before it was stored.
    draw_seed = models.BigIntegerField(_("hạt giống rút đề"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "lượt thi")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "lượt thi")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["registration", "round", "number"], name="attempt_number_unique"),
            # At most one attempt in progress per person and round: a second start resumes it.
            models.UniqueConstraint(fields=["registration", "round"], condition=Q(status="in_progress"),
                                    name="attempt_one_in_progress"),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="attempt_sweep_idx"),
            models.Index(fields=["round", "status"], name="attempt_round_status_idx"),
            models.Index(fields=["user", "round"], name="attempt_user_round_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.registration.full_name if self.registration_id else ''} ({self.number})"

    def get_absolute_url(self) -> str:
        return reverse("contests:result", kwargs={"attempt_id": self.pk})

    @property
    def is_in_progress(self) -> bool:
        return self.status == AttemptStatus.IN_PROGRESS

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class AttemptQuestion(models.Model):
    """A question as drawn for one attempt. ``snapshot`` is what the contestant sees (no key);
    ``key`` holds the credit of each option / accepted answers and is never serialised to clients."""

    tenant_path = "attempt__round__contest__organisation"

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    question = models.ForeignKey("questionbank.Question", on_delete=models.PROTECT, related_name="+")
    snapshot = models.JSONField()
    key = models.JSONField()
    points = models.DecimalField(max_digits=6, decimal_places=2)
    shown_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "câu hỏi của lượt thi")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "câu hỏi của lượt thi")
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "position"], name="attempt_question_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id}/{self.position}"


class Answer(models.Model):
    """The contestant's current answer to one attempt question: one row, replaced (never duplicated)
    by newer client sequence numbers. ``is_correct``/``points_awarded`` are recomputed at submit."""

    tenant_path = "attempt__round__contest__organisation"

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    attempt_question = models.ForeignKey(AttemptQuestion, on_delete=models.CASCADE, related_name="answers")
    response = models.JSONField()
    client_seq = models.BigIntegerField()
    received_at = models.DateTimeField()
    revision = models.PositiveIntegerField(default=1)
    is_correct = models.BooleanField(null=True, blank=True)
    # Exact: points (2 decimals) × credit fraction (5 decimals); see contests.scoring.MARK_QUANTUM.
    points_awarded = models.DecimalField(max_digits=12, decimal_places=7, null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "câu trả lời")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "câu trả lời")
        constraints = [
            models.UniqueConstraint(fields=["attempt", "attempt_question"], name="answer_once_per_question"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id}/{self.attempt_question_id}"


class OverrideKind(models.TextChoices):
    EXTRA_TIME = "extra_time", _("Thêm thời gian làm bài")
    EXTRA_ATTEMPT = "extra_attempt", _("Thêm lượt thi")
    ROUND_EXTEND = "round_extend", _("Gia hạn / mở lại đợt thi")


class OverrideGrant(models.Model):
    """An organiser's exception to the rules, with its reason (also written to the audit log)."""

    tenant_path = "contest__organisation"

    kind = models.CharField(_("loại"), max_length=16, choices=OverrideKind.choices)
    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="overrides",
                                verbose_name=_("cuộc thi"))
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="overrides", verbose_name=_("đợt thi"))
    registration = models.ForeignKey(Registration, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="overrides", verbose_name=_("đăng ký dự thi"))
    extra_seconds = models.PositiveIntegerField(_("thời gian thêm (giây)"), null=True, blank=True)
    extra_attempts = models.PositiveSmallIntegerField(_("số lượt thi thêm"), null=True, blank=True)
    previous_close = models.DateTimeField(_("thời điểm kết thúc trước đó"), null=True, blank=True)
    new_close = models.DateTimeField(_("thời điểm kết thúc mới"), null=True, blank=True)
    reason = models.TextField(_("lý do"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("người thực hiện"))
    created_at = models.DateTimeField(_("tạo lúc"))

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "điều chỉnh đặc biệt")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "điều chỉnh đặc biệt")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["round", "registration", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.round}"


class RoundFixedVersion(models.Model):
    """Which version of a fixed question a round shows. A round's blueprint names a question by any of its
    versions' ids; the round keeps the version in force when it first drew (its first attempt) until an
    organiser accepts a newer approved version (``contests.services.fixed_questions``). Every contestant of
    the round thus sees the same text, however the writers edit the bank meanwhile."""

    tenant_path = "round__contest__organisation"

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="fixed_versions",
                              verbose_name=_("đợt thi"))
    family_id = models.BigIntegerField(_("mã họ câu hỏi"))
    question = models.ForeignKey("questionbank.Question", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("phiên bản đang dùng"))
    pinned_at = models.DateTimeField(_("chọn lúc"))
    pinned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("người chọn"))

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "phiên bản câu hỏi cố định của đợt thi")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "phiên bản câu hỏi cố định của đợt thi")
        constraints = [
            models.UniqueConstraint(fields=["round", "family_id"], name="round_fixed_version_once_per_family"),
        ]

    def __str__(self) -> str:
        return f"{self.round_id}:{self.family_id}→{self.question_id}"

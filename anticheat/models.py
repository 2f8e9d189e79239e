"""Anti-cheat: raw evidence of how exams were taken, the flags the checks raise, and the judges' reviews.

Evidence tables (``ConnectionEvidence``, ``AnswerEvent``, ``ClientEvent``, ``SignupEvidence``) are written in
bulk by the evidence sink (``anticheat.evidence``) off the answer path, and purged after the round's
retention (``anticheat.jobs``). A ``Flag`` is one check's finding on one attempt (kind, severity, score,
the evidence numbers and the settings in force), re-computed idempotently; an ``AttemptReview`` is the
judges' current decision on an attempt, ``ReviewDecision`` the append-only history of decisions.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from anticheat.defaults import settings_validate


class Severity(models.TextChoices):
    INFO = "info", _("Thông tin")
    WARN = "warn", _("Cảnh báo")
    HIGH = "high", _("Nghiêm trọng")


SEVERITY_RANK = {Severity.INFO: 1, Severity.WARN: 2, Severity.HIGH: 3}


class FlagKind(models.TextChoices):
    FAST_ANSWERS = "fast_answers", _("Trả lời nhanh hơn thời gian đọc")
    FAST_ATTEMPT = "fast_attempt", _("Cả bài làm nhanh bất thường")
    REGULAR_INTERVALS = "regular_intervals", _("Nhịp trả lời đều như máy")
    MULTIPLE_DEVICES = "multiple_devices", _("Một lượt thi từ nhiều thiết bị hoặc mạng")
    NETWORK_BURST = "network_burst", _("Nhiều lượt thi từ một mạng hoặc thiết bị trong thời gian ngắn")
    FOCUS_LOSS = "focus_loss", _("Rời trang thi nhiều lần")
    COPY_PASTE = "copy_paste", _("Sao chép hoặc dán trong trang thi")
    RELOADS = "reloads", _("Tải lại trang thi nhiều lần")
    ANSWER_COPYING = "answer_copying", _("Trùng nhiều đáp án sai hiếm (nghi chép bài)")
    PREDICTION_FARMING = "prediction_farming", _("Nhiều tài khoản rải số dự đoán")
    DUPLICATE_PERSON = "duplicate_person", _("Trùng người dự thi (họ tên và ngày sinh)")
    SIGNUP_BURST = "signup_burst", _("Tạo tài khoản hàng loạt từ một mạng")


IN_EXAM_KINDS = (FlagKind.FAST_ANSWERS, FlagKind.FAST_ATTEMPT, FlagKind.REGULAR_INTERVALS,
                 FlagKind.MULTIPLE_DEVICES, FlagKind.FOCUS_LOSS, FlagKind.COPY_PASTE, FlagKind.RELOADS)
ROUND_KINDS = (FlagKind.NETWORK_BURST, FlagKind.ANSWER_COPYING, FlagKind.PREDICTION_FARMING,
               FlagKind.DUPLICATE_PERSON, FlagKind.SIGNUP_BURST)


class RoundCheckSettings(models.Model):
    """A round's anti-cheat settings: ``overrides`` of ``anticheat.defaults.DEFAULTS`` (absent row = defaults),
    the evidence retention, and where the incremental checks have got to."""

    tenant_path = "round__contest__organisation"

    round = models.OneToOneField("contests.Round", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("đợt thi"))
    overrides = models.JSONField(_("ngưỡng riêng của đợt thi"), default=dict, blank=True,
                                 help_text=_("Chỉ ghi các ngưỡng khác mặc định, ví dụ {\"regular_cv_high\": 0.05}."))
    evidence_retention_days = models.PositiveIntegerField(
        _("lưu bằng chứng mạng và thiết bị (ngày sau khi kết thúc đợt thi)"), default=180)
    evaluated_until = models.DateTimeField(null=True, blank=True, editable=False)
    analysed_at = models.DateTimeField(_("phân tích sau đợt thi lúc"), null=True, blank=True, editable=False)
    purged_at = models.DateTimeField(_("đã xoá bằng chứng lúc"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "thiết lập chống gian lận")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "thiết lập chống gian lận")

    def __str__(self) -> str:
        return str(self.round)

    def clean(self) -> None:
        settings_validate(self.overrides)


class ConnectionEvidence(models.Model):
    """One exam-socket connect. ``device`` is the ``ce_device`` cookie, or ``ua:<hash>`` without one;
    ``network`` the /24 (IPv4) or /64 (IPv6) of ``address``."""

    attempt = models.ForeignKey("contests.Attempt", on_delete=models.CASCADE, related_name="+")
    round_id = models.BigIntegerField()
    user_id = models.BigIntegerField()
    at = models.DateTimeField()
    address = models.GenericIPAddressField(null=True, blank=True)
    network = models.CharField(max_length=50, blank=True)
    device = models.CharField(max_length=70, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    replaced = models.BooleanField(default=False)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "dấu vết kết nối")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "dấu vết kết nối")
        indexes = [models.Index(fields=["round_id", "at"], name="ac_conn_round_at"),
                   models.Index(fields=["attempt", "at"], name="ac_conn_attempt_at")]

    def __str__(self) -> str:
        return f"{self.attempt_id} @ {self.at:%Y-%m-%d %H:%M:%S}"


class AnswerEvent(models.Model):
    """One answer the writer handled (stored, duplicate or stale), at the server time of its batch."""

    attempt = models.ForeignKey("contests.Attempt", on_delete=models.CASCADE, related_name="+",
                                db_constraint=False)
    position = models.PositiveSmallIntegerField()
    seq = models.BigIntegerField()
    at = models.DateTimeField()
    status = models.CharField(max_length=10)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "dấu vết câu trả lời")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "dấu vết câu trả lời")
        indexes = [models.Index(fields=["attempt", "at"], name="ac_answer_attempt_at")]

    def __str__(self) -> str:
        return f"{self.attempt_id}/{self.position} seq {self.seq}"


class ClientEvent(models.Model):
    """Client evidence of one kind for one attempt: a counter, and the first ``times`` (server ms, at most
    ``anticheat.evidence.MAX_TIMES``) — bounded per attempt by construction."""

    attempt = models.ForeignKey("contests.Attempt", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    count = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    times = models.JSONField(default=list)
    positions = models.JSONField(default=list)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "dấu vết trình duyệt")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "dấu vết trình duyệt")
        constraints = [models.UniqueConstraint(fields=["attempt", "kind"], name="ac_client_event_once")]

    def __str__(self) -> str:
        return f"{self.attempt_id} {self.kind} × {self.count}"


class SignupEvidence(models.Model):
    """Where an account was created from (account-creation bursts)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    address = models.GenericIPAddressField(null=True, blank=True)
    network = models.CharField(max_length=50, blank=True)
    device = models.CharField(max_length=70, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "dấu vết đăng ký tài khoản")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "dấu vết đăng ký tài khoản")
        indexes = [models.Index(fields=["network", "at"], name="ac_signup_network_at")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.at:%Y-%m-%d %H:%M}"


class Flag(models.Model):
    """One check's finding on one attempt. Recomputed idempotently: one row per attempt and kind."""

    tenant_path = "round__contest__organisation"

    round = models.ForeignKey("contests.Round", on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("đợt thi"))
    attempt = models.ForeignKey("contests.Attempt", on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("lượt thi"))
    unit = models.ForeignKey("accounts.Organisation", null=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("đơn vị dự thi"))
    kind = models.CharField(_("loại"), max_length=24, choices=FlagKind.choices)
    severity = models.CharField(_("mức độ"), max_length=5, choices=Severity.choices)
    severity_rank = models.PositiveSmallIntegerField(default=1)
    score = models.FloatField(_("điểm nghi vấn"), default=0.0)
    evidence = models.JSONField(_("bằng chứng"), default=dict)
    settings_used = models.JSONField(_("ngưỡng áp dụng"), default=dict)
    group_key = models.CharField(_("nhóm"), max_length=80, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "cảnh báo gian lận")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "cảnh báo gian lận")
        ordering = ["-severity_rank", "-score", "attempt_id"]
        constraints = [models.UniqueConstraint(fields=["attempt", "kind"], name="ac_flag_once_per_kind")]
        indexes = [models.Index(fields=["round", "severity_rank"], name="ac_flag_round_severity"),
                   models.Index(fields=["round", "kind"], name="ac_flag_round_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.attempt_id}"


class ReviewStatus(models.TextChoices):
    UNREVIEWED = "unreviewed", _("Chưa xem xét")
    CLEARED = "cleared", _("Không vi phạm")
    DISQUALIFIED = "disqualified", _("Đã loại")
    IDENTITY_CHECK = "identity_check", _("Yêu cầu xác minh danh tính")


class ReviewAction(models.TextChoices):
    CLEAR = "clear", _("Không vi phạm")
    DISQUALIFY = "disqualify", _("Loại lượt thi")
    IDENTITY_CHECK = "identity_check", _("Yêu cầu xác minh danh tính")
    REVERT = "revert", _("Huỷ quyết định")


class AttemptReview(models.Model):
    """The judges' decision in force on a flagged attempt (no row = unreviewed)."""

    tenant_path = "round__contest__organisation"

    attempt = models.OneToOneField("contests.Attempt", on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey("contests.Round", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("trạng thái"), max_length=16, choices=ReviewStatus.choices,
                              default=ReviewStatus.UNREVIEWED)
    reason = models.TextField(_("lý do"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    disqualification = models.ForeignKey("leaderboards.Disqualification", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "xem xét lượt thi")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "xem xét lượt thi")
        indexes = [models.Index(fields=["round", "status"], name="ac_review_round_status")]

    def __str__(self) -> str:
        return f"{self.attempt_id}: {self.status}"


class ReviewDecision(models.Model):
    """Append-only history of the decisions on an attempt (also in the audit log)."""

    tenant_path = "round__contest__organisation"

    attempt = models.ForeignKey("contests.Attempt", on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey("contests.Round", on_delete=models.CASCADE, related_name="+")
    action = models.CharField(_("quyết định"), max_length=16, choices=ReviewAction.choices)
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    reason = models.TextField(_("lý do"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "quyết định xem xét")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "quyết định xem xét")
        ordering = ["attempt", "at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="ac_decision_reason_required")]

    def __str__(self) -> str:
        return f"{self.attempt_id}: {self.action}"

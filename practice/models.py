"""Practice sessions between contests: a citizen answers published, reviewed questions of the shared bank and
sees the key, the explanation and the legal citation — never of a question an open or future contest round may
draw (practice.selectors.reservation_current)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organisation


class PracticeMode(models.TextChoices):
    MIXED = "mixed", _("Tổng hợp mọi chủ đề")
    TOPIC = "topic", _("Theo chủ đề")
    DOCUMENT = "document", _("Theo văn bản pháp luật")
    WRONG = "wrong", _("Những câu tôi đã trả lời sai")
    MOCK = "mock", _("Thi thử theo cấu trúc đề")


class PracticeSession(models.Model):
    """One practice run. ``deadline`` is set for timed sessions (the server's time decides, as in contests);
    ``immediate_feedback`` is off for mock exams (the key is shown on the summary, like after a real exam)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_sessions")
    mode = models.CharField(_("hình thức"), max_length=10, choices=PracticeMode.choices)
    topic = models.ForeignKey("questionbank.Topic", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("chủ đề"))
    document = models.CharField(_("văn bản"), max_length=60, blank=True)
    source_round = models.ForeignKey("contests.Round", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("theo cấu trúc đề của đợt thi"))
    immediate_feedback = models.BooleanField(default=True)
    time_limit_seconds = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    question_count = models.PositiveSmallIntegerField(default=0)
    draw_seed = models.BigIntegerField()

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "lượt luyện tập")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "lượt luyện tập")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["user", "-started_at"], name="practice_session_user_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_mode_display()}"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None


class PracticeItem(models.Model):
    """A question drawn for a session, and the citizen's answer to it (one row, answered once).

    ``user``, ``topic``, ``unit`` and ``family_id`` are copied at draw time so progress and the organisers'
    "most missed" figures are one indexed aggregate, without joins over the bank."""

    tenant_path = "question__organisation"  # organisers see the practice figures of their own questions

    session = models.ForeignKey(PracticeSession, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    question = models.ForeignKey("questionbank.Question", on_delete=models.PROTECT, related_name="+")
    family_id = models.BigIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    topic = models.ForeignKey("questionbank.Topic", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    unit = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    option_order = models.JSONField(default=list, blank=True)  # option ids in the order shown
    response = models.JSONField(null=True, blank=True)
    is_correct = models.BooleanField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "câu hỏi luyện tập")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "câu hỏi luyện tập")
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "position"], name="practice_item_position_unique"),
            models.CheckConstraint(condition=Q(answered_at__isnull=True) | Q(is_correct__isnull=False),
                                   name="practice_item_answered_has_result"),
        ]
        indexes = [
            models.Index(fields=["user", "answered_at"], name="practice_item_user_idx"),
            models.Index(fields=["answered_at"], name="practice_item_answered_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}/{self.position}"

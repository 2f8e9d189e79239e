"""Result approval (decisions on a stored official ranking) and anonymous essay grading.

The ranking itself and its status live in ``leaderboards.RoundRanking``; this app owns the workflow that
moves the status (judges propose; organisers approve and publish) and the log of those decisions.
Essays: each essay answer gets an ``EssayAssignment`` with an anonymous code; judges grade it without
seeing who wrote it (``EssayGrade``, two independent grades, a third when they differ by more than the
round's threshold); the final mark is written to the answer and the attempt's score is recomputed.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DecisionAction(models.TextChoices):
    PROPOSE = "propose", _("Giám khảo đề xuất")
    RETURN = "return", _("Trả lại để xem xét lại")
    APPROVE = "approve", _("Ban tổ chức phê duyệt")
    PUBLISH = "publish", _("Công bố")
    REVISE = "revise", _("Tính lại sau khi đã khoá")


class RankingDecision(models.Model):
    """One step of the approval workflow of a ranking version (append-only; also in the audit log)."""

    tenant_path = "ranking__round__contest__organisation"

    ranking = models.ForeignKey("leaderboards.RoundRanking", on_delete=models.CASCADE, related_name="decisions",
                                verbose_name=_("kết quả xếp hạng"))
    action = models.CharField(_("quyết định"), max_length=10, choices=DecisionAction.choices)
    from_status = models.CharField(_("trạng thái trước"), max_length=10)
    to_status = models.CharField(_("trạng thái sau"), max_length=10)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("người quyết định"))
    note = models.TextField(_("ghi chú"), blank=True)
    at = models.DateTimeField(_("lúc"))

    class Meta:
        verbose_name = _("quyết định về kết quả")
        verbose_name_plural = _("quyết định về kết quả")
        ordering = ["ranking", "at", "id"]

    def __str__(self) -> str:
        return f"{self.ranking_id}: {self.get_action_display()}"


class EssayGradingSettings(models.Model):
    """Per-round essay grading rules (absent row = defaults)."""

    tenant_path = "round__contest__organisation"

    round = models.OneToOneField("contests.Round", on_delete=models.CASCADE, related_name="essay_settings",
                                 verbose_name=_("đợt thi"))
    threshold = models.DecimalField(
        _("chênh lệch tối đa giữa hai giám khảo"), max_digits=6, decimal_places=2, default=Decimal("1.00"),
        validators=[MinValueValidator(0)],
        help_text=_("Nếu hai điểm chấm chênh lệch lớn hơn mức này, bài được chấm lần thứ ba."))

    class Meta:
        verbose_name = _("quy định chấm tự luận")
        verbose_name_plural = _("quy định chấm tự luận")
        constraints = [models.CheckConstraint(condition=Q(threshold__gte=0), name="essay_threshold_non_negative")]

    def __str__(self) -> str:
        return f"{self.round}: {self.threshold}"


class EssayStatus(models.TextChoices):
    AWAITING = "awaiting", _("Chờ chấm")
    NEEDS_THIRD = "needs_third", _("Cần chấm lần ba")
    FINAL = "final", _("Đã có điểm")


class EssayAssignment(models.Model):
    """One essay answer to grade, known to judges only by its anonymous ``code``."""

    tenant_path = "round__contest__organisation"

    round = models.ForeignKey("contests.Round", on_delete=models.CASCADE, related_name="essay_assignments",
                              verbose_name=_("đợt thi"))
    answer = models.OneToOneField("contests.Answer", on_delete=models.CASCADE, related_name="essay_assignment")
    attempt = models.ForeignKey("contests.Attempt", on_delete=models.CASCADE, related_name="essay_assignments")
    attempt_question = models.ForeignKey("contests.AttemptQuestion", on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("mã bài"), max_length=16)
    max_points = models.DecimalField(_("điểm tối đa"), max_digits=6, decimal_places=2)
    status = models.CharField(_("trạng thái"), max_length=12, choices=EssayStatus.choices,
                              default=EssayStatus.AWAITING, db_index=True)
    final_mark = models.DecimalField(_("điểm cuối cùng"), max_digits=6, decimal_places=2, null=True, blank=True)
    final_rule = models.CharField(_("cách tính điểm cuối"), max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finalised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("bài tự luận cần chấm")
        verbose_name_plural = _("bài tự luận cần chấm")
        ordering = ["round", "code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "code"], name="essay_code_unique_in_round"),
            models.CheckConstraint(condition=~Q(status="final") | Q(final_mark__isnull=False),
                                   name="essay_final_has_mark"),
        ]

    def __str__(self) -> str:
        return self.code


class EssayGrade(models.Model):
    """One judge's independent grade of one essay (slot 1 and 2; slot 3 when they disagree)."""

    tenant_path = "assignment__round__contest__organisation"

    assignment = models.ForeignKey(EssayAssignment, on_delete=models.CASCADE, related_name="grades")
    grader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("giám khảo"))
    slot = models.PositiveSmallIntegerField(_("lần chấm"))
    mark = models.DecimalField(_("điểm"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)])
    comment = models.TextField(_("nhận xét"), blank=True)
    graded_at = models.DateTimeField(_("chấm lúc"))

    class Meta:
        verbose_name = _("điểm chấm tự luận")
        verbose_name_plural = _("điểm chấm tự luận")
        ordering = ["assignment", "slot"]
        constraints = [
            # Independence: one grade per judge per essay; at most three grades.
            models.UniqueConstraint(fields=["assignment", "grader"], name="essay_grade_once_per_grader"),
            models.UniqueConstraint(fields=["assignment", "slot"], name="essay_grade_slot_unique"),
            models.CheckConstraint(condition=Q(slot__gte=1) & Q(slot__lte=3), name="essay_grade_slot_range"),
            models.CheckConstraint(condition=Q(mark__gte=0), name="essay_grade_mark_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id}#{self.slot}"

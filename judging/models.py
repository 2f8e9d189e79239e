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
from django.utils.translation import pgettext_lazy


class DecisionAction(models.TextChoices):
    PROPOSE = "propose", _("Giám khảo đề xuất")
    RETURN = "return", _("Trả lại để xem xét lại")
    APPROVE = "approve", _("Ban tổ chức phê duyệt")
    PUBLISH = "publish", _("Công bố")
    REVISE = "revise", _("Tính lại sau khi đã khoá")
    RECOMPUTE = "recompute", _("Tính lại bản nháp")
    PRIZES = "prizes", _("Đặt số giải")
    PRIZE_TIE = "prize_tie", _("Quyết định đồng hạng ở ranh giới giải")
    WITHDRAW = "withdraw", _("Thu hồi kết quả đã công bố")
    SUPERSEDE = "supersede", _("Được thay thế bởi phiên bản mới")


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
    # What was decided beyond the status: prize counts before/after, the version a recompute created…
    data = models.JSONField(_("chi tiết"), default=dict, blank=True)
    at = models.DateTimeField(_("lúc"))

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "quyết định về kết quả")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "quyết định về kết quả")
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
        verbose_name = pgettext_lazy("verbose_name", "quy định chấm tự luận")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "quy định chấm tự luận")
        constraints = [models.CheckConstraint(condition=Q(threshold__gte=0), name="essay_threshold_non_negative")]

    def __str__(self) -> str:
        return f"{self.round}: {self.threshold}"


class EssayGuide(models.Model):
    """The marking scheme of one essay question in a round (đáp án và thang điểm), written by the judging panel
    and shown beside every essay on the grading page: the model answer (when empty, the question's explanation
    in the bank) and the rubric."""

    tenant_path = "round__contest__organisation"

    round = models.ForeignKey("contests.Round", on_delete=models.CASCADE, related_name="essay_guides",
                              verbose_name=_("đợt thi"))
    question = models.ForeignKey("questionbank.Question", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("câu hỏi"))
    model_answer = models.TextField(_("đáp án gợi ý"), blank=True)
    rubric = models.TextField(_("thang điểm / hướng dẫn chấm"), blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("cập nhật lúc"))

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "hướng dẫn chấm tự luận")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "hướng dẫn chấm tự luận")
        constraints = [models.UniqueConstraint(fields=["round", "question"], name="essay_guide_once_per_question")]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.question_id}"


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
    # Grading cycle: 1 = the first grading; a complaint's re-grade (phúc khảo) opens the next one, graded
    # afresh by two judges who do not see the earlier marks. ``final_mark`` keeps the last final mark while
    # a re-grade is in progress (the attempt keeps its score until the re-grade is final).
    cycle = models.PositiveSmallIntegerField(_("lần chấm"), default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    finalised_at = models.DateTimeField(_("có điểm cuối cùng lúc"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "bài tự luận cần chấm")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "bài tự luận cần chấm")
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
    cycle = models.PositiveSmallIntegerField(_("đợt chấm"), default=1)
    slot = models.PositiveSmallIntegerField(_("lần chấm"))
    mark = models.DecimalField(_("điểm"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)])
    comment = models.TextField(_("nhận xét"), blank=True)
    graded_at = models.DateTimeField(_("chấm lúc"))
    corrected_at = models.DateTimeField(_("sửa lúc"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "điểm chấm tự luận")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "điểm chấm tự luận")
        ordering = ["assignment", "cycle", "slot"]
        constraints = [
            # Independence: one grade per judge per essay and grading cycle; at most three grades a cycle.
            models.UniqueConstraint(fields=["assignment", "cycle", "grader"], name="essay_grade_once_per_grader"),
            models.UniqueConstraint(fields=["assignment", "cycle", "slot"], name="essay_grade_slot_unique"),
            models.CheckConstraint(condition=Q(slot__gte=1) & Q(slot__lte=3), name="essay_grade_slot_range"),
            models.CheckConstraint(condition=Q(mark__gte=0), name="essay_grade_mark_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id}#{self.cycle}.{self.slot}"


class EssayGradeCorrection(models.Model):
    """A judge corrected their own grade (before the ranking was proposed): the earlier mark, the new one and
    why. Append-only; the grade row holds the current mark."""

    tenant_path = "grade__assignment__round__contest__organisation"

    grade = models.ForeignKey(EssayGrade, on_delete=models.CASCADE, related_name="corrections")
    old_mark = models.DecimalField(_("điểm cũ"), max_digits=6, decimal_places=2)
    new_mark = models.DecimalField(_("điểm mới"), max_digits=6, decimal_places=2)
    reason = models.TextField(_("lý do"))
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("lúc"))

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "sửa điểm chấm")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "sửa điểm chấm")
        ordering = ["grade", "at", "id"]

    def __str__(self) -> str:
        return f"{self.grade_id}: {self.old_mark} → {self.new_mark}"


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("Đang giải quyết")
    REGRADING = "regrading", _("Đang chấm lại")
    DECIDED = "decided", _("Đã kết luận")


class ComplaintOutcome(models.TextChoices):
    UPHELD = "upheld", _("Chấp nhận, điều chỉnh kết quả")
    REJECTED = "rejected", _("Không chấp nhận, giữ nguyên kết quả")


class Complaint(models.Model):
    """A contestant's complaint (khiếu nại / đề nghị phúc khảo) about a published result, and what was done
    about it: who lodged it and when, what it says, the re-grade of an essay if one was ordered, the decision
    (who, when, what) and the ranking version published after it. Every step is also in the audit log."""

    tenant_path = "round__contest__organisation"

    round = models.ForeignKey("contests.Round", on_delete=models.CASCADE, related_name="complaints",
                              verbose_name=_("đợt thi"))
    registration = models.ForeignKey("contests.Registration", on_delete=models.PROTECT, related_name="complaints",
                                     verbose_name=_("thí sinh"))
    received_at = models.DateTimeField(_("nhận đơn lúc"))
    channel = models.CharField(_("hình thức gửi"), max_length=100, blank=True,
                               help_text=_("Ví dụ: đơn giấy, thư điện tử, điện thoại."))
    content = models.TextField(_("nội dung khiếu nại"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("người tiếp nhận"))
    status = models.CharField(_("trạng thái"), max_length=10, choices=ComplaintStatus.choices,
                              default=ComplaintStatus.OPEN, db_index=True)
    regraded = models.ManyToManyField(EssayAssignment, blank=True, related_name="complaints",
                                      verbose_name=_("bài được chấm lại"))
    outcome = models.CharField(_("kết luận"), max_length=10, choices=ComplaintOutcome.choices, blank=True)
    decision = models.TextField(_("nội dung kết luận"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("người kết luận"))
    decided_at = models.DateTimeField(_("kết luận lúc"), null=True, blank=True)
    ranking = models.ForeignKey("leaderboards.RoundRanking", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("phiên bản kết quả sau kết luận"))

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "khiếu nại")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "khiếu nại")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(status="decided") | ~Q(outcome=""),
                                   name="complaint_decided_has_outcome"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} — {self.round}"


class CertificateSettings(models.Model):
    """What a contest's certificates (giấy chứng nhận) say besides the winner: the official form of an
    administrative document (Nghị định 30/2020/NĐ-CP) — the issuing body under its superior body, the place
    of issue, the signer's title and name, and the sign of the certificate numbers."""

    tenant_path = "contest__organisation"

    contest = models.OneToOneField("contests.Contest", on_delete=models.CASCADE, related_name="certificate_settings",
                                   verbose_name=_("cuộc thi"))
    superior_body = models.CharField(_("cơ quan chủ quản"), max_length=200, blank=True,
                                     help_text=_("Ví dụ: ỦY BAN NHÂN DÂN THÀNH PHỐ CẦN THƠ (để trống nếu không có)."))
    issuing_body = models.CharField(_("cơ quan cấp"), max_length=200,
                                    help_text=_("Ví dụ: SỞ TƯ PHÁP hoặc BAN TỔ CHỨC CUỘC THI."))
    place = models.CharField(_("địa danh"), max_length=100, help_text=_("Ví dụ: Cần Thơ."))
    signer_title = models.CharField(_("chức vụ người ký"), max_length=200,
                                    help_text=_("Ví dụ: GIÁM ĐỐC hoặc TRƯỞNG BAN TỔ CHỨC."))
    signer_name = models.CharField(_("họ tên người ký"), max_length=150)
    number_sign = models.CharField(_("ký hiệu số giấy chứng nhận"), max_length=40, default="GCN",
                                   help_text=_("Phần sau dấu “/” của số, ví dụ GCN-STP → Số: 12/GCN-STP."))

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "mẫu giấy chứng nhận")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "mẫu giấy chứng nhận")

    def __str__(self) -> str:
        return str(self.contest)


class Certificate(models.Model):
    """The number of the certificate of one winner of a round: given once (in order, per contest) the first
    time the certificate is produced and kept when it is produced again, also from a corrected version."""

    tenant_path = "round__contest__organisation"

    contest = models.ForeignKey("contests.Contest", on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey("contests.Round", on_delete=models.CASCADE, related_name="certificates")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    serial = models.PositiveIntegerField(_("số"))
    issued_at = models.DateTimeField(_("cấp lúc"))

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "giấy chứng nhận")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "giấy chứng nhận")
        constraints = [
            models.UniqueConstraint(fields=["round", "user"], name="certificate_once_per_round_person"),
            models.UniqueConstraint(fields=["contest", "serial"], name="certificate_serial_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.serial} — {self.round}"

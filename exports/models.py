"""Export jobs: one requested export, its progress and its file (stored on the *private* storage, never
reachable as media, and served only through the permission-checked download view)."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organisation
from contests.models import Contest as _Contest
from contests.models import Registration as _Registration
from questionbank.models import Question as _Question


def private_storage() -> Storage:
    """The storage for files with personal data (settings.STORAGES["private"])."""
    return storages["private"]


class ExportKind(models.TextChoices):
    RESULTS_XLSX = "results_xlsx", _("Bảng kết quả (Excel)")
    ANSWERS_CSV = "answers_csv", _("Bài làm (CSV nén)")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Đang chờ")
    RUNNING = "running", _("Đang xuất")
    DONE = "done", _("Hoàn tất")
    FAILED = "failed", _("Lỗi")
    EXPIRED = "expired", _("Đã xoá tệp (hết thời hạn lưu)")


class ExportJob(models.Model):
    """One export of a round or of a whole contest (exactly one of ``round``/``contest`` scope: ``contest``
    is always set, ``round`` only for a round export)."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="export_jobs",
                                     verbose_name=_("tổ chức"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="export_jobs", verbose_name=_("người yêu cầu"))
    kind = models.CharField(_("loại"), max_length=20, choices=ExportKind.choices, default=ExportKind.RESULTS_XLSX)
    contest = models.ForeignKey("contests.Contest", on_delete=models.CASCADE, related_name="export_jobs",
                                verbose_name=_("cuộc thi"))
    round = models.ForeignKey("contests.Round", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="export_jobs", verbose_name=_("đợt thi"))
    full_personal_data = models.BooleanField(_("thông tin cá nhân đầy đủ"), default=False)
    # The publication export: only the published ranking version of each round, personal data masked, no
    # answer or essay texts.
    published = models.BooleanField(_("bản để công bố"), default=False)
    # The ranking version each round's sheet was written from: [{"round_id", "version", "status"}, …]
    # (None when no ranking was stored yet and a provisional one was computed).
    rankings = models.JSONField(_("phiên bản kết quả đã xuất"), default=list, blank=True)
    status = models.CharField(_("trạng thái"), max_length=10, choices=ExportStatus.choices,
                              default=ExportStatus.QUEUED, db_index=True)
    progress = models.PositiveBigIntegerField(_("số dòng đã xuất"), default=0)
    total = models.PositiveBigIntegerField(_("tổng số dòng (ước tính)"), default=0)
    file = models.FileField(_("tệp"), upload_to="exports/", max_length=300, blank=True, storage=private_storage)
    filename = models.CharField(_("tên tệp tải về"), max_length=200, blank=True)
    error = models.TextField(_("lỗi"), blank=True)
    task_id = models.CharField(_("mã tác vụ"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("yêu cầu lúc"), auto_now_add=True)
    started_at = models.DateTimeField(_("bắt đầu lúc"), null=True, blank=True)
    finished_at = models.DateTimeField(_("xong lúc"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "lượt xuất dữ liệu")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "lượt xuất dữ liệu")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ExportStatus.values), name="exportjob_status_valid"),
            models.CheckConstraint(condition=~Q(status="done") | ~Q(file=""), name="exportjob_done_has_file"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} — {self.round or self.contest}"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, int(self.progress * 100 / self.total))

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED, ExportStatus.EXPIRED)



# --- Proxies: admin entry points of the small django-import-export exports (exports.admin) -------------


class QuestionExport(_Question):
    class Meta:
        proxy = True
        verbose_name = pgettext_lazy("verbose_name", "xuất câu hỏi")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "xuất câu hỏi")


class ContestExport(_Contest):
    class Meta:
        proxy = True
        verbose_name = pgettext_lazy("verbose_name", "xuất cuộc thi")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "xuất cuộc thi")


class ParticipantExport(_Registration):
    class Meta:
        proxy = True
        verbose_name = pgettext_lazy("verbose_name", "xuất danh sách thí sinh")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "xuất danh sách thí sinh")

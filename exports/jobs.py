"""Periodic jobs of exports (run by ``manage.py run_worker``)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contest_engine.periodic import periodic
from exports.models import ExportJob, ExportStatus

logger = logging.getLogger(__name__)


def retention_days() -> int:
    return int(getattr(settings, "EXPORTS_RETENTION_DAYS", 7))


@periodic(every_seconds=60 * 60)
def purge_expired_export_files(now: dt.datetime | None = None) -> int:
    """Retention (Law 91/2025: keep personal data no longer than needed): the file of an export finished more
    than ``EXPORTS_RETENTION_DAYS`` ago is deleted from storage and the job marked expired (the job row and
    its audit events stay). Safe in several workers: rows are claimed with SKIP LOCKED."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=retention_days())
    purged = 0
    while True:
        with transaction.atomic():
            jobs = list(ExportJob.objects.select_for_update(skip_locked=True)
                        .filter(status=ExportStatus.DONE, finished_at__lt=cutoff).order_by("id")[:100])
            if not jobs:
                return purged
            for job in jobs:
                if job.file:
                    job.file.storage.delete(job.file.name)
                ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.EXPIRED, file="")
            purged += len(jobs)
            logger.info("export files purged: %s", len(jobs))

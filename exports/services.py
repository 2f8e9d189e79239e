"""Write side of exports: request a job, run it (in the worker), record downloads.

Every export of personal data is written to the audit log (``accounts.services.audit_record``): who, which
round/contest, which personal fields, how many rows — never the values themselves.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import tempfile
from typing import Any

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.services import audit_record
from accounts.tenancy import has_role
from contest_engine.tasks import task_enqueue
from contests.blind_grading import blinded_rounds_for
from contests.models import Contest, Round
from exports import errors
from exports.masking import FULL_DATA_ROLES, sees_full_personal_data
from exports.models import ExportJob, ExportKind, ExportStatus, private_storage
from exports.selectors import ExportTarget, answers_count, export_target, ranking_source, rows_total
from exports.workbook import ExportStats, answers_csv_write, results_workbook_write, vietnam_stamp

logger = logging.getLogger(__name__)

EXTENSIONS = {ExportKind.RESULTS_XLSX: "xlsx", ExportKind.ANSWERS_CSV: "zip"}
# The task that runs ``export_job_run`` in a worker (``exports.tasks``, registered under this name).
EXPORT_JOB_TASK = "exports.export_job"


def can_export(*, user: Any, organisation_id: int) -> bool:
    """Only organisers and judges of the owning organisation export results."""
    return has_role(user, organisation_id, FULL_DATA_ROLES)


def export_blinded(*, user: Any, contest: Contest, round: Round | None = None) -> bool:
    """A judge may not export a round (or a contest with a round) whose essays are still being graded: the
    ranking's names and the answers' texts together tell whose essay is whose (contests.blind_grading)."""
    if user is None:
        return False
    hidden = blinded_rounds_for(user)
    if not hidden:
        return False
    if round is not None:
        return round.pk in hidden
    return contest.rounds.filter(pk__in=hidden).exists()


def _display_name(user: Any) -> str:
    if user is None:
        return "Hệ thống (dòng lệnh)"
    return f"{user.get_full_name()} ({user.username})"


def export_filename(*, target: ExportTarget, kind: str, now: dt.datetime) -> str:
    base = slugify(target.contest.slug or target.contest.title)[:60] or "cuoc-thi"
    if target.round is not None:
        base += f"-dot-{target.round.position}"
    prefix = "ket-qua" if kind == ExportKind.RESULTS_XLSX else "bai-lam"
    return f"{prefix}-{base}-{vietnam_stamp(now)}.{EXTENSIONS[ExportKind(kind)]}"


def export_job_request(*, actor: Any, contest: Contest, round: Round | None = None,
                       kind: str = ExportKind.RESULTS_XLSX, published: bool = False) -> ExportJob:
    """Create an export job and enqueue it on the "exports" queue (same transaction).

    ``published=True`` asks for the publication export: the published ranking version of each round only,
    phone and ID numbers masked, no answer or essay texts.
    Raises ``ExportNotAllowed`` unless ``actor`` is an organiser or judge of the contest's organisation,
    ``ExportBlindGrading`` for a judge while the essays are being graded, ``ExportPublishedAnswers`` for a
    publication export of the answers, ``ExportNothingPublished`` when nothing is published yet.
    """
    if round is not None and round.contest_id != contest.pk:
        raise ValueError("round of another contest")
    if not can_export(user=actor, organisation_id=contest.organisation_id):
        raise errors.ExportNotAllowed()
    if kind not in ExportKind.values:
        raise ValueError(kind)
    if export_blinded(user=actor, contest=contest, round=round):
        raise errors.ExportBlindGrading()
    if published and kind != ExportKind.RESULTS_XLSX:
        raise errors.ExportPublishedAnswers()
    if published and not any(ranking_source(r, published=True).ranking is not None
                             for r in ([round] if round is not None else contest.rounds.all())):
        raise errors.ExportNothingPublished()
    full = kind == ExportKind.RESULTS_XLSX and sees_full_personal_data(
        user=actor, organisation_id=contest.organisation_id, published=published)
    with transaction.atomic():
        job = ExportJob.objects.create(organisation_id=contest.organisation_id, requested_by=actor, kind=kind,
                                       contest=contest, round=round, full_personal_data=full, published=published)
        result = task_enqueue(EXPORT_JOB_TASK, job_id=job.pk)
        job.task_id = str(result.id)
        job.save(update_fields=["task_id"])
        audit_record(actor=actor, action="exports.requested", target=job, organisation=contest.organisation_id,
                     data={"kind": kind, "contest_id": contest.pk, "round_id": round.pk if round else None,
                           "full_personal_data": full, "published": published})
    return job


def export_job_run(*, job_id: int, now: dt.datetime | None = None) -> ExportJob:
    """Produce the file of a job (worker side). Idempotent: a finished job is returned unchanged; a job
    left RUNNING by a dead worker starts over. Progress is saved every ``EXPORTS_PROGRESS_EVERY`` rows
    (outside any transaction, so the polling page sees it). On failure the job is FAILED and the error
    re-raised (the task result records it too)."""
    job = ExportJob.objects.select_related("contest", "round", "requested_by").get(pk=job_id)
    if job.is_finished:
        return job
    now = now or timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, started_at=now, progress=0, error="")
    target = (export_target(round_id=job.round_id, published=job.published) if job.round_id
              else export_target(contest_id=job.contest_id, published=job.published))

    def progress(rows: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(progress=rows)

    try:
        total = rows_total(target=target) if job.kind == ExportKind.RESULTS_XLSX else answers_count(target=target)
        ExportJob.objects.filter(pk=job.pk).update(total=total)
        filename = export_filename(target=target, kind=job.kind, now=now)
        with tempfile.TemporaryDirectory(prefix="ce-export-") as tmp:
            path = os.path.join(tmp, filename)
            stats = _write(job=job, target=target, path=path, now=now, progress=progress)
            # The private storage is never served as media; the name is unguessable all the same.
            name = f"exports/{job.organisation_id}/{secrets.token_urlsafe(24)}.{EXTENSIONS[ExportKind(job.kind)]}"
            with open(path, "rb") as handle:
                stored = private_storage().save(name, File(handle))
    except Exception as exc:
        logger.exception("export job %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, error=str(exc)[:2000],
                                                  finished_at=timezone.now())
        raise
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.DONE, file=stored, filename=filename,
                                              progress=stats.rows, finished_at=timezone.now(),
                                              rankings=stats.rankings)
    _audit_export(actor=job.requested_by, target=target, job=job, stats=stats, full=job.full_personal_data)
    job.refresh_from_db()
    return job


def _write(*, job: ExportJob, target: ExportTarget, path: str, now: dt.datetime, progress: Any) -> ExportStats:
    if job.kind == ExportKind.ANSWERS_CSV:
        return answers_csv_write(target=target, out=path, progress=progress)
    return results_workbook_write(target=target, out=path, generated_by=_display_name(job.requested_by),
                                  full_personal_data=job.full_personal_data, now=now, progress=progress)


def _audit_export(*, actor: Any, target: ExportTarget, job: ExportJob | None, stats: ExportStats,
                  full: bool, via: str = "job") -> None:
    audit_record(
        actor=actor, action="exports.results_exported", target=job if job is not None else
        (target.round or target.contest), organisation=target.organisation_id,
        data={"via": via, "kind": job.kind if job else ExportKind.RESULTS_XLSX, "contest_id": target.contest.pk,
              "round_id": target.round.pk if target.round else None, "full_personal_data": full,
              "published": target.published, "rankings": stats.rankings,
              "personal_fields": stats.personal_fields, "rows": stats.rows, "sheets": stats.sheets})


def export_results_to_path(*, target: ExportTarget, path: str, actor: Any = None, kind: str = ExportKind.RESULTS_XLSX,
                           max_rows: int | None = None, now: dt.datetime | None = None) -> ExportStats:
    """Command-line export (full data: the operator of the server), audited as the system or ``actor``."""
    now = now or timezone.now()
    if kind == ExportKind.ANSWERS_CSV:
        stats = answers_csv_write(target=target, out=path)
    else:
        stats = results_workbook_write(target=target, out=path, generated_by=_display_name(actor),
                                       full_personal_data=True, now=now, max_rows=max_rows)
    _audit_export(actor=actor, target=target, job=None, stats=stats, full=kind == ExportKind.RESULTS_XLSX,
                  via="command")
    return stats


def export_job_download(*, actor: Any, job: ExportJob) -> ExportJob:
    """Record a download (the file leaves the server). Raises ``ExportNotAllowed``/``ExportNotReady``."""
    if not can_export(user=actor, organisation_id=job.organisation_id):
        raise errors.ExportNotAllowed()
    if export_blinded(user=actor, contest=job.contest, round=job.round):
        raise errors.ExportBlindGrading()
    if job.status != ExportStatus.DONE or not job.file:
        raise errors.ExportNotReady()
    audit_record(actor=actor, action="exports.downloaded", target=job, organisation=job.organisation_id,
                 data={"kind": job.kind, "full_personal_data": job.full_personal_data,
                       "requested_by_id": job.requested_by_id})
    return job

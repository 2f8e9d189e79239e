"""Export jobs end to end: request page → job on the "exports" queue → the real database worker →
progress JSON → permission-checked download; audit records of who exported which personal data."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from accounts.models import AuditEvent
from exports.models import ExportJob, ExportKind, ExportStatus
from exports.services import export_job_request, export_job_run
from tests.exports.xlsx_read import read_book, sheet_rows


def run_exports_worker() -> None:
    call_command("db_worker", queue_name="exports", batch=True, startup_delay=False, reload=False, interval=0,
                 verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_job_lifecycle_through_the_database_worker(client, organiser_a, results, export_media, settings):
    settings.EXPORTS_PROGRESS_EVERY = 3
    client.force_login(organiser_a)
    response = client.post(reverse("exports:round_request", kwargs={"pk": results.round.pk}),
                           {"kind": "results_xlsx"})
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("exports:job", kwargs={"job_id": job.pk})
    assert job.status == ExportStatus.QUEUED
    assert job.full_personal_data is True
    task = DBTaskResult.objects.get()
    assert task.queue_name == "exports"
    assert job.task_id == str(task.id)

    status = client.get(reverse("exports:status", kwargs={"job_id": job.pk})).json()
    assert status["status"] == "queued"
    assert status["download_url"] is None
    page = client.get(reverse("exports:job", kwargs={"job_id": job.pk}))
    assert page.status_code == 200
    assert reverse("exports:status", kwargs={"job_id": job.pk}) in page.content.decode()

    run_exports_worker()

    job.refresh_from_db()
    assert job.status == ExportStatus.DONE, job.error
    assert job.progress == job.total == len(results.attempts) + results.answers
    assert job.filename.endswith(".xlsx")
    assert job.file.name.startswith(f"exports/{job.organisation_id}/")
    status = client.get(reverse("exports:status", kwargs={"job_id": job.pk})).json()
    assert status["status"] == "done"
    assert status["percent"] == 100
    download = client.get(status["download_url"])
    assert download.status_code == 200
    assert download["Cache-Control"] == "private, no-store"
    assert job.filename in download["Content-Disposition"]
    book = read_book(b"".join(download.streaming_content))
    assert len(sheet_rows(book, "Xếp hạng")) - 1 == len(results.attempts)

    actions = list(AuditEvent.objects.filter(target_type="exports.exportjob", target_id=str(job.pk))
                   .order_by("at", "id").values_list("action", "actor_id"))
    assert actions == [("exports.requested", organiser_a.pk), ("exports.results_exported", organiser_a.pk),
                       ("exports.downloaded", organiser_a.pk)]
    exported = AuditEvent.objects.get(action="exports.results_exported")
    assert exported.data["full_personal_data"] is True
    assert "national_id" in exported.data["personal_fields"]
    assert exported.data["rows"] == job.total
    assert exported.organisation_id == results.round.contest.organisation_id
    # No personal values in the log.
    assert results.registrations[0].national_id not in str(exported.data)


@pytest.mark.django_db(transaction=True)
def test_zipped_csv_job(client, judge_a, results, export_media):
    client.force_login(judge_a)
    client.post(reverse("exports:contest_request", kwargs={"pk": results.round.contest.pk}), {"kind": "answers_csv"})
    run_exports_worker()
    job = ExportJob.objects.get()
    assert job.status == ExportStatus.DONE
    assert job.kind == ExportKind.ANSWERS_CSV
    body = b"".join(client.get(reverse("exports:download", kwargs={"job_id": job.pk})).streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        lines = archive.read("bai-lam.csv").decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + results.answers


def publish_ranking(round, organiser):
    """A ranking taken through propose → approve → publish (prize-less, confirmed)."""
    from judging.services.approval import ranking_approve, ranking_propose, ranking_publish
    from leaderboards.services.ranking import ranking_compute
    from tests.factories import make_staff

    ranking = ranking_compute(round=round, prize_places=2)
    ranking_propose(actor=make_staff(round.contest.organisation, "judge"), ranking=ranking)
    ranking_approve(actor=organiser, ranking=ranking)
    return ranking_publish(actor=organiser, ranking=ranking)


@pytest.mark.django_db
def test_published_variant_is_masked_even_for_organisers(organiser_a, results, export_media):
    from exports import errors

    with pytest.raises(errors.ExportNothingPublished):
        export_job_request(actor=organiser_a, contest=results.round.contest, round=results.round, published=True)
    publish_ranking(results.round, organiser_a)
    job = export_job_request(actor=organiser_a, contest=results.round.contest, round=results.round, published=True)
    assert job.full_personal_data is False
    job = export_job_run(job_id=job.pk)
    book = read_book(job.file.read())
    header = [c.value for c in sheet_rows(book, "Xếp hạng")[0]]
    phones = [r[header.index("Số điện thoại")].value for r in sheet_rows(book, "Xếp hạng")[1:]]
    assert all(p.startswith("*******") for p in phones)


@pytest.mark.django_db
def test_run_is_idempotent_and_a_failure_is_recorded(organiser_a, results, export_media, monkeypatch):
    job = export_job_request(actor=organiser_a, contest=results.round.contest, round=results.round)
    done = export_job_run(job_id=job.pk)
    assert export_job_run(job_id=job.pk).file.name == done.file.name  # a finished job is left alone

    broken = export_job_request(actor=organiser_a, contest=results.round.contest, round=results.round)

    def boom(**kwargs):
        raise RuntimeError("đĩa đầy")

    monkeypatch.setattr("exports.services.results_workbook_write", boom)
    with pytest.raises(RuntimeError):
        export_job_run(job_id=broken.pk)
    broken.refresh_from_db()
    assert broken.status == ExportStatus.FAILED
    assert "đĩa đầy" in broken.error


@pytest.mark.django_db
def test_download_before_ready_goes_back_to_the_job_page(client, organiser_a, results, export_media):
    job = export_job_request(actor=organiser_a, contest=results.round.contest, round=results.round)
    client.force_login(organiser_a)
    response = client.get(reverse("exports:download", kwargs={"job_id": job.pk}))
    assert response.status_code == 302
    assert response["Location"] == reverse("exports:job", kwargs={"job_id": job.pk})
    assert not AuditEvent.objects.filter(action="exports.downloaded").exists()


@pytest.mark.django_db
def test_files_are_deleted_after_the_retention_period(organiser_a, results, export_media, settings):
    import datetime as dt

    from django.utils import timezone

    from exports.jobs import purge_expired_export_files

    settings.EXPORTS_RETENTION_DAYS = 7
    job = export_job_run(job_id=export_job_request(actor=organiser_a, contest=results.round.contest,
                                                   round=results.round).pk)
    path = job.file.path
    assert purge_expired_export_files(now=timezone.now() + dt.timedelta(days=6)) == 0
    assert purge_expired_export_files(now=timezone.now() + dt.timedelta(days=8)) == 1
    job.refresh_from_db()
    assert job.status == ExportStatus.EXPIRED
    assert not job.file
    import os

    assert not os.path.exists(path)


@pytest.mark.django_db
def test_export_files_live_in_the_private_storage_not_in_public_media(organiser_a, results, export_media, settings):
    from pathlib import Path

    job = export_job_request(actor=organiser_a, contest=results.round.contest, round=results.round)
    job = export_job_run(job_id=job.pk)
    assert (export_media / job.file.name).is_file()
    public = Path(settings.MEDIA_ROOT)
    assert not public.exists() or not any(p.is_file() for p in public.rglob("*"))

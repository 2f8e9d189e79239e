"""Staff pages of exports: request an export, watch its progress, download it. Thin: parse, check scope
through accounts.tenancy, call a service, render.

Access: anonymous → login; logged-in users without any staff role → 403; staff of another organisation
→ 404 (a foreign round is indistinguishable from a missing one); organisers and judges of the owning
organisation → allowed.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.tenancy import get_scoped_or_404, is_staff_member
from contests.models import Contest, Round
from exports import errors, selectors, services
from exports.masking import FULL_DATA_ROLES
from exports.models import ExportJob, ExportKind
from exports.selectors import ranking_source, ranking_source_text


def _require_staff(request: HttpRequest) -> None:
    if not is_staff_member(request.user):
        raise PermissionDenied


def _target(request: HttpRequest, scope: str, pk: int) -> tuple[Contest, Round | None]:
    _require_staff(request)
    if scope == "round":
        round = get_scoped_or_404(Round.objects.select_related("contest"), request.user, FULL_DATA_ROLES, pk=pk)
        return round.contest, round
    return get_scoped_or_404(Contest.objects.all(), request.user, FULL_DATA_ROLES, pk=pk), None


@login_required
@require_GET
def export_page(request: HttpRequest, scope: str, pk: int) -> HttpResponse:
    contest, round = _target(request, scope, pk)
    jobs = ExportJob.objects.filter(contest=contest, round=round).select_related("requested_by")[:20]
    rounds = [round] if round is not None else list(contest.rounds.order_by("position", "opens_at", "id"))
    for r in rounds:
        r.contest = contest
    versions = [{"round": r, "current": ranking_source_text(ranking_source(r)),
                 "published": ranking_source_text(ranking_source(r, published=True))} for r in rounds]
    return render(request, "exports/export_page.html", {
        "contest": contest, "round": round, "scope": scope, "pk": pk, "jobs": jobs, "versions": versions,
        "blinded": services.export_blinded(user=request.user, contest=contest, round=round),
        "any_published": any(ranking_source(r, published=True).ranking is not None for r in rounds)})


@login_required
@require_GET
def round_statistics_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Item and test statistics of a round (Moodle's quiz statistics report): organisers and judges."""
    _contest, round = _target(request, "round", pk)
    return render(request, "exports/statistics.html",
                  {"report": selectors.round_statistics_report(round=round), "round": round})


@login_required
@require_POST
def export_request(request: HttpRequest, scope: str, pk: int) -> HttpResponse:
    contest, round = _target(request, scope, pk)
    kind = request.POST.get("kind", ExportKind.RESULTS_XLSX)
    if kind not in ExportKind.values:
        kind = ExportKind.RESULTS_XLSX
    try:
        job = services.export_job_request(actor=request.user, contest=contest, round=round, kind=kind,
                                          published=request.POST.get("published") == "1")
    except errors.ExportNotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except errors.ExportError as exc:
        messages.error(request, exc.message)
        return redirect(f"exports:{scope}", pk=pk)
    messages.info(request, _("Đã xếp yêu cầu xuất dữ liệu vào hàng đợi."))
    return redirect("exports:job", job_id=job.pk)


def _job(request: HttpRequest, job_id: int) -> ExportJob:
    _require_staff(request)
    return get_scoped_or_404(ExportJob.objects.select_related("contest", "round", "requested_by"), request.user,
                             FULL_DATA_ROLES, pk=job_id)


def _status_payload(job: ExportJob) -> dict:
    return {
        "id": job.pk, "status": job.status, "status_label": str(job.get_status_display()),
        "progress": job.progress, "total": job.total, "percent": job.percent,
        "download_url": reverse("exports:download", kwargs={"job_id": job.pk}) if job.status == "done" else None,
        "error": "Xuất dữ liệu không thành công, vui lòng thử lại hoặc liên hệ quản trị." if job.status == "failed"
        else None,
    }


@login_required
@require_GET
def job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    return render(request, "exports/job.html", {"job": job, "status": _status_payload(job)})


@login_required
@require_GET
def job_status(request: HttpRequest, job_id: int) -> JsonResponse:
    job = _job(request, job_id)
    response = JsonResponse(_status_payload(job))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def job_download(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    try:
        services.export_job_download(actor=request.user, job=job)
    except errors.ExportNotReady:
        messages.warning(request, errors.ExportNotReady.default_message)
        return redirect("exports:job", job_id=job.pk)
    except errors.ExportBlindGrading as exc:
        messages.error(request, exc.message)
        return redirect("exports:job", job_id=job.pk)
    except errors.ExportNotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    response = FileResponse(job.file.open("rb"), as_attachment=True, filename=job.filename)
    response["Cache-Control"] = "private, no-store"
    return response

"""Pages of judging: approval of the official ranking, anonymous essay grading, the published list.
Thin: scope through accounts.tenancy, call a service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from accounts.services import audit_record
from accounts.tenancy import get_scoped_or_404, has_role, is_staff_member
from contests.models import ContestVisibility, Round
from judging import errors, selectors
from judging.certificates import certificate_pdf
from judging.models import EssayAssignment, RankingDecision
from judging.services import approval, essays
from leaderboards.models import RankingEntry, RankingStatus, RoundRanking
from leaderboards.services.ranking import ranking_current

STAFF_ROLES = (Role.ORGANISER, Role.JUDGE)
ACTIONS = {
    "propose": approval.ranking_propose,
    "return": approval.ranking_return,
    "approve": approval.ranking_approve,
    "publish": approval.ranking_publish,
    "revise": approval.ranking_revise,
}
REASON_ACTIONS = {"return", "revise"}


def _staff(request: HttpRequest) -> None:
    if not is_staff_member(request.user):
        raise PermissionDenied


def _round(request: HttpRequest, round_id: int, roles=STAFF_ROLES) -> Round:
    _staff(request)
    return get_scoped_or_404(Round.objects.select_related("contest"), request.user, roles, pk=round_id)


@login_required
def round_page(request: HttpRequest, round_id: int) -> HttpResponse:
    round = _round(request, round_id)
    ranking = ranking_current(round=round)
    org = round.contest.organisation_id
    context = {
        "round": round,
        "ranking": ranking,
        "decisions": RankingDecision.objects.filter(ranking__round=round).select_related("actor", "ranking"),
        "is_judge": has_role(request.user, org, [Role.JUDGE]),
        "is_organiser": has_role(request.user, org, [Role.ORGANISER]),
        "progress": selectors.essay_progress(round=round),
        "grading_complete": selectors.essay_grading_complete(round=round),
        "published": selectors.ranking_published(round=round),
        "winners": selectors.winners(ranking=ranking) if ranking is not None and ranking.status == "published"
        else [],
    }
    return render(request, "judging/round.html", context)


@login_required
@require_POST
def ranking_decide(request: HttpRequest, ranking_id: int, action: str) -> HttpResponse:
    _staff(request)
    service = ACTIONS.get(action)
    if service is None:
        raise Http404
    ranking = get_scoped_or_404(RoundRanking.objects.select_related("round__contest"), request.user, STAFF_ROLES,
                                pk=ranking_id)
    text = request.POST.get("note", "")
    kwargs = {"reason": text} if action in REASON_ACTIONS else {"note": text}
    try:
        service(actor=request.user, ranking=ranking, **kwargs)
    except errors.NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except errors.JudgingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Đã ghi nhận quyết định."))
    return redirect("judging:round", round_id=ranking.round_id)


@login_required
def essay_queue(request: HttpRequest, round_id: int) -> HttpResponse:
    round = _round(request, round_id, roles=(Role.JUDGE,))
    queue = selectors.essays_for_grader(round=round, grader=request.user)
    return render(request, "judging/essays.html", {"round": round, "queue": queue[:200],
                                                   "progress": selectors.essay_progress(round=round)})


@login_required
@require_POST
def essay_assign(request: HttpRequest, round_id: int) -> HttpResponse:
    round = _round(request, round_id)
    try:
        created = essays.essay_assignments_create(round=round, actor=request.user)
    except errors.NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    messages.success(request, _("Đã tạo %(count)d bài cần chấm.") % {"count": created})
    return redirect("judging:round", round_id=round.pk)


@login_required
@require_http_methods(["GET", "POST"])
def essay_grade(request: HttpRequest, assignment_id: int) -> HttpResponse:
    _staff(request)
    assignment = get_scoped_or_404(EssayAssignment.objects.select_related("round__contest", "answer",
                                                                          "attempt_question"),
                                   request.user, (Role.JUDGE,), pk=assignment_id)
    own = assignment.grades.filter(grader=request.user).first()
    error = None
    if request.method == "POST" and own is None:
        try:
            essays.essay_grade_submit(assignment=assignment, grader=request.user, mark=request.POST.get("mark", ""),
                                      comment=request.POST.get("comment", ""))
        except errors.NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except errors.JudgingError as exc:
            error = exc.message
        else:
            messages.success(request, _("Đã lưu điểm."))
            following = selectors.essays_for_grader(round=assignment.round, grader=request.user).first()
            if following is not None:
                return redirect("judging:essay", assignment_id=following.pk)
            return redirect("judging:essays", round_id=assignment.round_id)
    # Only the code, the question and the text: never the contestant, never the other judges' grades.
    context = {"assignment": assignment, "own": own, "error": error,
               "stem": assignment.attempt_question.snapshot.get("stem", ""),
               "text": (assignment.answer.response or {}).get("text", "")}
    return render(request, "judging/essay.html", context, status=400 if error else 200)


@login_required
def certificate(request: HttpRequest, ranking_id: int, position: int) -> HttpResponse:
    """The PDF certificate of one winner of a published ranking (organisers and judges of the owner)."""
    _staff(request)
    ranking = get_scoped_or_404(RoundRanking.objects.select_related("round__contest__organisation"), request.user,
                                STAFF_ROLES, pk=ranking_id)
    entry = (RankingEntry.objects.filter(ranking=ranking, position=position, is_winner=True)
             .select_related("unit", "attempt__registration").first())
    if ranking.status != RankingStatus.PUBLISHED or entry is None:
        raise Http404
    contest = ranking.round.contest
    body = certificate_pdf(contest_title=contest.title, round_name=ranking.round.name,
                           organisation=contest.organisation.name, full_name=entry.attempt.registration.full_name,
                           unit=entry.unit.name, rank=entry.rank, score=entry.score)
    audit_record(actor=request.user, action="judging.certificate_downloaded", target=ranking,
                 organisation=contest.organisation_id, data={"position": position, "version": ranking.version})
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="chung-nhan-{ranking.round_id}-{position}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


def published_list(request: HttpRequest, round_id: int) -> HttpResponse:
    # A contest taken back to draft takes its published lists with it.
    round = (Round.objects.select_related("contest")
             .filter(pk=round_id, contest__visibility=ContestVisibility.PUBLISHED).first())
    ranking = selectors.ranking_published(round=round) if round is not None else None
    if ranking is None:
        raise Http404
    try:
        after = max(0, int(request.GET.get("after", "0")))
    except ValueError:
        after = 0
    rows = list(selectors.published_rows(ranking=ranking, after=after, limit=100))
    return render(request, "judging/published.html", {
        "round": round, "ranking": ranking, "rows": rows,
        "next_after": rows[-1].position if len(rows) == 100 else None})

"""Pages of judging: the judges' home, a round's results page (grading progress, the ranking under review, prizes,
decisions, complaints, certificates), anonymous essay grading, the published list.
Thin: scope through accounts.tenancy, call a service or selector, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import AuditEvent, Role
from accounts.services import audit_record
from accounts.tenancy import get_scoped_or_404, has_role, is_staff_member, organisation_ids_for
from contests.blind_grading import judge_is_blinded
from contests.models import ContestVisibility, Registration, Round
from judging import errors, selectors
from judging.certificates import certificates_pdf, settings_for
from judging.forms import CertificateSettingsForm, ComplaintDecisionForm, ComplaintForm, PrizesForm, PrizeTieForm
from judging.models import CertificateSettings, Complaint, EssayAssignment, EssayGrade, RankingDecision
from judging.review import review_flags
from judging.services import approval, complaints, essays
from leaderboards.models import RankingStatus, RoundRanking
from leaderboards.services.ranking import ranking_current

STAFF_ROLES = (Role.ORGANISER, Role.JUDGE)
QUEUE_PAGE = 50
ACTIONS = {
    "propose": approval.ranking_propose,
    "return": approval.ranking_return,
    "approve": approval.ranking_approve,
    "publish": approval.ranking_publish,
    "revise": approval.ranking_revise,
    "withdraw": approval.ranking_withdraw,
}
REASON_ACTIONS = {"return", "revise", "withdraw"}
VERSIONED_ACTIONS = {"propose", "return", "approve", "publish"}
CONFIRM_ACTIONS = {"approve", "publish", "withdraw"}


def _staff(request: HttpRequest) -> None:
    if not is_staff_member(request.user):
        raise PermissionDenied


def _round(request: HttpRequest, round_id: int, roles: Any = STAFF_ROLES) -> Round:
    _staff(request)
    return get_scoped_or_404(Round.objects.select_related("contest__organisation"), request.user, roles, pk=round_id)


def _version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST["version"])
    except (KeyError, ValueError):
        return None


# --------------------------------------------------------------------------------------------------
# Home and the round's results page
# --------------------------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The judges' (and organisers') landing page: their rounds, what is left to grade, what awaits a
    decision."""
    _staff(request)
    return render(request, "judging/home.html", {
        "rounds": selectors.staff_rounds(user=request.user),
        "is_organiser": request.user.is_superuser or bool(organisation_ids_for(request.user, [Role.ORGANISER])),
    })


def _round_context(request: HttpRequest, round: Round) -> dict[str, Any]:

    user = request.user
    org = round.contest.organisation_id
    is_judge = has_role(user, org, [Role.JUDGE])
    is_organiser = has_role(user, org, [Role.ORGANISER])
    if round.closed_at is not None or EssayAssignment.objects.filter(round=round).exists():
        essays.essay_assignments_create(round=round)  # anything the submit hook missed
    ranking = ranking_current(round=round)
    blinded = judge_is_blinded(user, round)
    context: dict[str, Any] = {
        "round": round, "contest": round.contest, "ranking": ranking, "is_judge": is_judge,
        "is_organiser": is_organiser, "blinded": blinded, "both_roles": is_judge and is_organiser,
        "progress": selectors.essay_progress(round=round),
        "my_progress": selectors.grader_progress(round=round, grader=user) if is_judge else None,
        "decisions": (RankingDecision.objects.filter(ranking__round=round).select_related("actor", "ranking")
                      .order_by("-at", "-id")),
        "publications": selectors.publication_history(round=round),
        "published": selectors.ranking_published(round=round),
        "complaints_open": Complaint.objects.filter(round=round).exclude(status="decided").count(),
    }
    if ranking is None:
        return context
    readiness = selectors.ranking_readiness(ranking=ranking)
    proposer = approval.proposer_of(ranking)
    context.update({
        "readiness": readiness,
        "proposer": proposer,
        "is_proposer": proposer is not None and proposer.pk == user.pk,
        "prizes_text": selectors.prizes_text(ranking.prizes, ranking.prize_places),
        "prizes_form": PrizesForm.for_ranking(ranking) if is_organiser else None,
        "prize_tie_form": (PrizeTieForm(initial={"rule": ranking.prize_tie_rule or None})
                           if is_organiser else None),
        "can_recompute": (is_judge or is_organiser) and ranking.status == RankingStatus.DRAFT,
        "winners": (selectors.winners(ranking=ranking, limit=200)
                    if ranking.status == RankingStatus.PUBLISHED else []),
    })
    if not blinded:
        context.update({
            "preview": selectors.ranking_preview(ranking=ranking),
            "ties": selectors.prize_boundary_ties(ranking=ranking),
            "disqualifications": selectors.ranking_disqualifications(round=round),
            "flags": review_flags(round=round, ranking=ranking),
            "changes": selectors.ranking_changes_in_words(ranking=ranking),
            "collective": selectors.collective_results(ranking=ranking),
        })
    return context


@login_required
def round_page(request: HttpRequest, round_id: int) -> HttpResponse:
    round = _round(request, round_id)
    return render(request, "judging/round.html", _round_context(request, round))


@login_required
@require_POST
def ranking_decide(request: HttpRequest, ranking_id: int, action: str) -> HttpResponse:
    """A decision on a ranking version. Approve, publish and withdraw first show what is decided and ask
    for a confirmation (``confirmed=1``)."""
    _staff(request)
    service = ACTIONS.get(action)
    if service is None:
        raise Http404
    ranking = get_scoped_or_404(RoundRanking.objects.select_related("round__contest__organisation"), request.user,
                                STAFF_ROLES, pk=ranking_id)
    text = request.POST.get("note", "").strip()
    if action in CONFIRM_ACTIONS and request.POST.get("confirmed") != "1":
        if action == "withdraw" and not (text and request.POST.get("notice", "").strip()):
            messages.error(request, _("Cần ghi lý do thu hồi và nội dung thông báo công khai."))
            return redirect("judging:round", round_id=ranking.round_id)
        return _confirm_page(request, ranking, action, text)
    kwargs: dict[str, Any] = {"reason": text} if action in REASON_ACTIONS else {"note": text}
    if action in VERSIONED_ACTIONS:
        kwargs["version"] = _version(request)
    if action == "publish":
        kwargs["without_prizes"] = request.POST.get("without_prizes") == "1"
    if action == "withdraw":
        kwargs["notice"] = request.POST.get("notice", "")
    try:
        result = service(actor=request.user, ranking=ranking, **kwargs)
    except errors.SelfApproval as exc:
        messages.error(request, exc.message)
    except errors.NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except errors.JudgingError as exc:
        messages.error(request, exc.message)
    else:
        done = {
            "propose": _("Đã đề xuất kết quả phiên bản %(v)s."), "return": _("Đã trả lại phiên bản %(v)s."),
            "approve": _("Đã phê duyệt phiên bản %(v)s."), "publish": _("Đã công bố phiên bản %(v)s."),
            "revise": _("Đã tính lại: phiên bản %(v)s (bản nháp, cần đề xuất và phê duyệt lại)."),
            "withdraw": _("Đã thu hồi phiên bản %(v)s; trang kết quả hiện thông báo."),
        }[action]
        messages.success(request, done % {"v": result.version})
    return redirect("judging:round", round_id=ranking.round_id)


def _confirm_page(request: HttpRequest, ranking: Any, action: str, note: str) -> HttpResponse:
    round = ranking.round
    readiness = selectors.ranking_readiness(ranking=ranking)
    proposer = approval.proposer_of(ranking)
    if action == "approve" and proposer is not None and proposer.pk == request.user.pk:
        messages.error(request, errors.SelfApproval.default_message)
        return redirect("judging:round", round_id=round.pk)
    return render(request, "judging/confirm.html", {
        "round": round, "contest": round.contest, "ranking": ranking, "action": action, "note": note,
        "notice": request.POST.get("notice", ""), "readiness": readiness, "proposer": proposer,
        "preview": selectors.ranking_preview(ranking=ranking, top=10),
        "prizes_text": selectors.prizes_text(ranking.prizes, ranking.prize_places),
        "ties": selectors.prize_boundary_ties(ranking=ranking),
        "disqualifications": selectors.ranking_disqualifications(round=round),
        "flags": review_flags(round=round, ranking=ranking),
        "changes": selectors.ranking_changes_in_words(ranking=ranking),
        "published": selectors.ranking_published(round=round),
    })


@login_required
@require_POST
def round_recompute(request: HttpRequest, round_id: int) -> HttpResponse:
    round = _round(request, round_id)
    try:
        new = approval.ranking_recompute(actor=request.user, round=round)
    except errors.NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except errors.JudgingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Đã tính lại kết quả từ dữ liệu hiện tại: phiên bản %(v)s.") % {"v": new.version})
    return redirect("judging:round", round_id=round.pk)


@login_required
@require_POST
def ranking_prizes(request: HttpRequest, ranking_id: int) -> HttpResponse:
    _staff(request)
    ranking = get_scoped_or_404(RoundRanking.objects.select_related("round__contest"), request.user, STAFF_ROLES,
                                pk=ranking_id)
    form = PrizesForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Số giải chưa hợp lệ: %(errors)s") % {
            "errors": "; ".join(f"{form.fields[k].label}: {' '.join(v)}" if k in form.fields else " ".join(v)
                                for k, v in form.errors.items())})
        return redirect("judging:round", round_id=ranking.round_id)
    try:
        target = approval.ranking_prizes_set(actor=request.user, ranking=ranking, prizes=form.prizes(),
                                             collective_prizes=form.collective(), reason=form.cleaned_data["reason"])
    except errors.NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except errors.JudgingError as exc:
        messages.error(request, exc.message)
    else:
        if target.pk != ranking.pk:
            messages.success(request, _("Đã đặt số giải: phiên bản %(v)s mới (cần đề xuất và phê duyệt lại).")
                             % {"v": target.version})
        else:
            messages.success(request, _("Đã đặt số giải của phiên bản %(v)s.") % {"v": target.version})
    return redirect("judging:round", round_id=ranking.round_id)


@login_required
@require_POST
def ranking_prize_tie(request: HttpRequest, ranking_id: int) -> HttpResponse:
    _staff(request)
    ranking = get_scoped_or_404(RoundRanking.objects.select_related("round__contest"), request.user, STAFF_ROLES,
                                pk=ranking_id)
    form = PrizeTieForm(request.POST)
    if not form.is_valid():
        messages.error(request, errors.InvalidPrizeTieRule.default_message if "rule" in form.errors
                       else errors.ReasonRequired.default_message)
        return redirect("judging:round", round_id=ranking.round_id)
    try:
        target = approval.ranking_prize_tie_decide(actor=request.user, ranking=ranking,
                                                   rule=form.cleaned_data["rule"], reason=form.cleaned_data["reason"])
    except errors.NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except errors.JudgingError as exc:
        messages.error(request, exc.message)
    else:
        if target.pk != ranking.pk:
            messages.success(request, _("Đã quyết định cách xử lý đồng hạng: phiên bản %(v)s mới (cần đề xuất và "
                                        "phê duyệt lại).") % {"v": target.version})
        else:
            messages.success(request, _("Đã quyết định cách xử lý đồng hạng cho phiên bản %(v)s.")
                             % {"v": target.version})
    return redirect("judging:round", round_id=ranking.round_id)


# --------------------------------------------------------------------------------------------------
# Essay grading
# --------------------------------------------------------------------------------------------------


@login_required
def essay_queue(request: HttpRequest, round_id: int) -> HttpResponse:
    round = _round(request, round_id, roles=(Role.JUDGE,))
    essays.essay_assignments_create(round=round)
    show = "graded" if request.GET.get("show") == "graded" else "queue"
    source = (selectors.essays_graded_by(round=round, grader=request.user) if show == "graded"
              else selectors.essays_for_grader(round=round, grader=request.user))
    page = Paginator(source, QUEUE_PAGE).get_page(request.GET.get("page"))
    return render(request, "judging/essays.html", {
        "round": round, "contest": round.contest, "page": page, "show": show,
        "progress": selectors.essay_progress(round=round),
        "mine": selectors.grader_progress(round=round, grader=request.user),
    })


def _assignment(request: HttpRequest, assignment_id: int) -> EssayAssignment:
    _staff(request)
    return get_scoped_or_404(EssayAssignment.objects.select_related("round__contest", "answer",
                                                                    "attempt_question__question"),
                             request.user, (Role.JUDGE,), pk=assignment_id)


@login_required
@require_http_methods(["GET", "POST"])
def essay_grade(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Grade one essay: the code, the question, its model answer and rubric beside the text — never the
    contestant, never the other judges' grades. A refused mark is shown again with the precise reason."""
    assignment = _assignment(request, assignment_id)
    own = assignment.grades.filter(grader=request.user, cycle=assignment.cycle).first()
    error = None
    typed = {"mark": "", "comment": ""}
    if request.method == "POST" and own is None:
        typed = {"mark": request.POST.get("mark", ""), "comment": request.POST.get("comment", "")}
        try:
            essays.essay_grade_submit(assignment=assignment, grader=request.user, mark=typed["mark"],
                                      comment=typed["comment"])
        except errors.NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except errors.JudgingError as exc:
            error = exc.message
        else:
            messages.success(request, _("Đã lưu điểm bài %(code)s.") % {"code": assignment.code})
            following = selectors.essay_next_to_grade(assignment=assignment, grader=request.user)
            if following is not None:
                return redirect("judging:essay", assignment_id=following)
            return redirect("judging:essays", round_id=assignment.round_id)
    return _essay_page(request, assignment, own=own, error=error, typed=typed)


def _essay_page(request: HttpRequest, assignment: EssayAssignment, *, own: EssayGrade | None, error: str | None,
                typed: dict[str, str], correction_error: str | None = None,
                correction_typed: dict[str, str] | None = None) -> HttpResponse:
    question = assignment.attempt_question.question
    model_answer, rubric = essays.essay_guide_for(round=assignment.round, question=question)
    context = {
        "assignment": assignment, "round": assignment.round, "own": own, "error": error, "typed": typed,
        "stem": assignment.attempt_question.snapshot.get("stem", ""),
        "text": (assignment.answer.response or {}).get("text", ""),
        "model_answer": model_answer, "rubric": rubric,
        "mine": selectors.grader_progress(round=assignment.round, grader=request.user),
        "neighbours": selectors.essay_neighbours(assignment=assignment, grader=request.user),
        "can_correct": own is not None and essays.grade_correction_allowed(round=assignment.round),
        "correction_error": correction_error, "correction_typed": correction_typed or {},
    }
    status = 400 if (error or correction_error) else 200
    return render(request, "judging/essay.html", context, status=status)


@login_required
@require_POST
def essay_correct(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """A judge corrects their own grade (with a reason) before the ranking is proposed."""
    assignment = _assignment(request, assignment_id)
    own = assignment.grades.filter(grader=request.user, cycle=assignment.cycle).first()
    if own is None:
        raise Http404
    typed = {"mark": request.POST.get("mark", ""), "reason": request.POST.get("reason", ""),
             "comment": request.POST.get("comment", own.comment)}
    try:
        essays.essay_grade_correct(grade=own, grader=request.user, mark=typed["mark"], reason=typed["reason"],
                                   comment=typed["comment"])
    except errors.NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except errors.JudgingError as exc:
        return _essay_page(request, assignment, own=own, error=None, typed={}, correction_error=exc.message,
                           correction_typed=typed)
    messages.success(request, _("Đã sửa điểm bài %(code)s.") % {"code": assignment.code})
    return redirect("judging:essay", assignment_id=assignment.pk)


@login_required
@require_http_methods(["GET", "POST"])
def essay_guides(request: HttpRequest, round_id: int) -> HttpResponse:
    """The marking scheme (model answer and rubric) of each essay question of the round, written by the
    judging panel and shown beside every essay."""
    round = _round(request, round_id)
    questions = essays.essay_questions(round=round)
    if request.method == "POST":
        question = next((q for q in questions if str(q.pk) == request.POST.get("question")), None)
        if question is None:
            raise Http404
        try:
            essays.essay_guide_save(actor=request.user, round=round, question=question,
                                    model_answer=request.POST.get("model_answer", ""),
                                    rubric=request.POST.get("rubric", ""))
        except errors.NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        messages.success(request, _("Đã lưu hướng dẫn chấm."))
        return redirect("judging:guides", round_id=round.pk)
    items = []
    for question in questions:
        model_answer, rubric = essays.essay_guide_for(round=round, question=question)
        items.append({"question": question, "model_answer": model_answer, "rubric": rubric})
    return render(request, "judging/guides.html", {"round": round, "contest": round.contest, "items": items})


# --------------------------------------------------------------------------------------------------
# Complaints
# --------------------------------------------------------------------------------------------------


def _find_registration(round: Round, login: str) -> Registration | None:
    value = "".join(login.split())
    return (Registration.objects.filter(contest_id=round.contest_id, user__phone=value).first()
            or (Registration.objects.filter(contest_id=round.contest_id, national_id=value).first() if value else None))


@login_required
@require_http_methods(["GET", "POST"])
def complaint_list(request: HttpRequest, round_id: int) -> HttpResponse:
    round = _round(request, round_id, roles=(Role.ORGANISER,))
    form = ComplaintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        registration = _find_registration(round, form.cleaned_data["contestant"])
        if registration is None:
            form.add_error("contestant", _("Không tìm thấy thí sinh của cuộc thi với số này."))
        else:
            received = form.cleaned_data.get("received_at")
            if received is not None and timezone.is_naive(received):
                received = timezone.make_aware(received)
            try:
                complaint = complaints.complaint_record(
                    actor=request.user, round=round, registration=registration,
                    content=form.cleaned_data["content"], channel=form.cleaned_data.get("channel", ""),
                    received_at=received)
            except errors.NotAllowed as exc:
                raise PermissionDenied(exc.message) from exc
            except errors.JudgingError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Đã ghi nhận khiếu nại số %(n)s.") % {"n": complaint.pk})
                return redirect("judging:complaint", complaint_id=complaint.pk)
    items = (Complaint.objects.filter(round=round).select_related("registration", "recorded_by", "decided_by")
             .order_by("-received_at", "-id"))
    return render(request, "judging/complaints.html", {"round": round, "contest": round.contest, "form": form,
                                                       "complaints": items},
                  status=400 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def complaint_detail(request: HttpRequest, complaint_id: int) -> HttpResponse:
    _staff(request)
    complaint = get_scoped_or_404(Complaint.objects.select_related("round__contest", "registration__user",
                                                                   "recorded_by", "decided_by", "ranking"),
                                  request.user, (Role.ORGANISER,), pk=complaint_id)
    decision_form = ComplaintDecisionForm(request.POST if request.POST.get("do") == "decide" else None)
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("do") == "regrade":
                assignment = get_scoped_or_404(EssayAssignment.objects.all(), request.user, (Role.ORGANISER,),
                                               pk=request.POST.get("assignment") or 0)
                reopened = complaints.complaint_regrade(actor=request.user, complaint=complaint,
                                                        assignment=assignment,
                                                        reason=request.POST.get("reason", ""))
                messages.success(request, _("Đã mở chấm lại bài %(code)s (lần chấm %(n)s).")
                                 % {"code": reopened.code, "n": reopened.cycle})
                return redirect("judging:complaint", complaint_id=complaint.pk)
            if request.POST.get("do") == "decide" and decision_form.is_valid():
                complaints.complaint_decide(actor=request.user, complaint=complaint,
                                            outcome=decision_form.cleaned_data["outcome"],
                                            decision=decision_form.cleaned_data["decision"])
                messages.success(request, _("Đã ghi kết luận khiếu nại."))
                return redirect("judging:complaint", complaint_id=complaint.pk)
            status = 400
        except errors.NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except errors.JudgingError as exc:
            messages.error(request, exc.message)
            status = 400
    labels = {"judging.complaint_recorded": _("Tiếp nhận khiếu nại"),
              "judging.complaint_regrade_ordered": _("Cho chấm lại bài tự luận"),
              "judging.complaint_decided": _("Kết luận")}
    history = [{"at": e.at, "label": labels.get(e.action, e.action), "actor": e.actor, "reason": e.reason}
               for e in AuditEvent.objects.filter(target_type="judging.complaint", target_id=str(complaint.pk))
               .select_related("actor").order_by("at", "id")]
    return render(request, "judging/complaint.html", {
        "complaint": complaint, "round": complaint.round, "contest": complaint.round.contest,
        "essays": complaints.complaint_essays(complaint=complaint), "regraded": set(
            complaint.regraded.values_list("pk", flat=True)), "decision_form": decision_form, "history": history,
    }, status=status)


# --------------------------------------------------------------------------------------------------
# Certificates
# --------------------------------------------------------------------------------------------------


def _published_ranking(request: HttpRequest, ranking_id: int) -> Any:
    _staff(request)
    ranking = get_scoped_or_404(RoundRanking.objects.select_related("round__contest__organisation"), request.user,
                                STAFF_ROLES, pk=ranking_id)
    if ranking.status != RankingStatus.PUBLISHED:
        raise Http404
    return ranking


def _pdf(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def certificate(request: HttpRequest, ranking_id: int, position: int) -> HttpResponse:
    """The PDF certificate of one winner of a published ranking (organisers and judges of the owner)."""
    ranking = _published_ranking(request, ranking_id)
    body, count = certificates_pdf(ranking=ranking, actor=request.user, positions=[position])
    if not count:
        raise Http404
    return _pdf(body, f"chung-nhan-{ranking.round_id}-{position}.pdf")


@login_required
def certificates_all(request: HttpRequest, ranking_id: int) -> HttpResponse:
    """Every winner's certificate of a published ranking in one PDF (one page each)."""
    ranking = _published_ranking(request, ranking_id)
    body, count = certificates_pdf(ranking=ranking, actor=request.user)
    if not count:
        raise Http404
    return _pdf(body, f"chung-nhan-{ranking.round_id}-tat-ca.pdf")


@login_required
@require_http_methods(["GET", "POST"])
def certificate_settings(request: HttpRequest, round_id: int) -> HttpResponse:
    """What the contest's certificates say (issuing body, place, signer); organisers."""
    round = _round(request, round_id, roles=(Role.ORGANISER,))
    existing = CertificateSettings.objects.filter(contest=round.contest).first()
    instance = existing or settings_for(round.contest)
    form = CertificateSettingsForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.contest = round.contest
        saved.save()
        audit_record(actor=request.user, action="judging.certificate_settings_saved", target=saved,
                     organisation=round.contest.organisation_id, data={"fields": sorted(form.changed_data)})
        messages.success(request, _("Đã lưu mẫu giấy chứng nhận."))
        return redirect("judging:round", round_id=round.pk)
    return render(request, "judging/certificate_settings.html", {"round": round, "contest": round.contest,
                                                                 "form": form, "saved": existing is not None},
                  status=400 if request.method == "POST" else 200)


# --------------------------------------------------------------------------------------------------
# The published list (public)
# --------------------------------------------------------------------------------------------------


def published_list(request: HttpRequest, round_id: int) -> HttpResponse:
    """The official result as published: the published version (masked), with when and by whom it was
    approved and published; a withdrawn result shows its notice; earlier publications are listed."""

    # A contest taken back to draft takes its published lists with it.
    round = (Round.objects.select_related("contest__organisation")
             .filter(pk=round_id, contest__visibility=ContestVisibility.PUBLISHED).first())
    history = selectors.publication_history(round=round) if round is not None else []
    if not history:
        raise Http404
    latest = history[0]
    ranking = latest if latest.status == RankingStatus.PUBLISHED else selectors.ranking_published(round=round)
    try:
        after = max(0, int(request.GET.get("after", "0")))
    except ValueError:
        after = 0
    rows = list(selectors.published_rows(ranking=ranking, after=after, limit=100)) if ranking is not None else []
    return render(request, "judging/published.html", {
        "round": round, "contest": round.contest, "ranking": ranking, "rows": rows, "latest": latest,
        "history": history, "withdrawn": latest.status == RankingStatus.WITHDRAWN,
        "collective": selectors.collective_results(ranking=ranking) if ranking is not None and after == 0 else [],
        "next_after": rows[-1].position if len(rows) == 100 else None,
        "with_prediction": ranking is not None and ranking.prediction_target_value is not None,
        "page_url": reverse("judging:published", kwargs={"round_id": round.pk}),
    })

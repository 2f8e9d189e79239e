"""Survey pages: the list and form for citizens, results and export for the owning organisation's organisers.
Thin: parse, call a selector or service, render."""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Role
from accounts.tenancy import get_scoped_or_404, is_staff_member, scope_for
from surveys import errors, exports, selectors, services
from surveys.models import QuestionKind, Survey, SurveyStatus

RESULT_ROLES = frozenset({Role.ORGANISER})


@login_required
def survey_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    surveys = selectors.surveys_open_for(user=request.user, now=now)
    managed = (scope_for(Survey.objects.select_related("organisation"), request.user, RESULT_ROLES)
               .annotate(response_count=Count("responses")).order_by("-opens_at", "-id")[:50]
               if is_staff_member(request.user) else [])
    return render(request, "surveys/list.html", {
        "surveys": surveys, "responded": selectors.responded_ids(user=request.user, surveys=surveys),
        "managed": managed})


def _raw_answers(request: HttpRequest, survey: Survey) -> dict[int, services.RawAnswer]:
    answers = {}
    for question in survey.questions.all():
        prefix = f"q{question.pk}"
        answers[question.pk] = services.RawAnswer(
            choices=request.POST.getlist(prefix)[:50] if question.kind in {QuestionKind.SINGLE, QuestionKind.MULTIPLE}
            else [], other=request.POST.get(f"{prefix}-other", ""),
            number=request.POST.get(prefix, "") if question.kind == QuestionKind.SCALE else "",
            text=request.POST.get(prefix, "") if question.kind == QuestionKind.TEXT else "")
    return answers


@login_required
def survey_detail(request: HttpRequest, survey_id: int) -> HttpResponse:
    """The form (GET) and its submission (POST). A survey that is not published is a 404 for everyone here;
    one outside its window or audience says so."""
    survey = Survey.objects.select_related("organisation").filter(pk=survey_id, status=SurveyStatus.PUBLISHED).first()
    if survey is None:
        raise Http404
    now = timezone.now()
    problems: dict[int, str] = {}
    posted = None
    if request.method == "POST":
        posted = request.POST
        try:
            services.survey_respond(survey=survey, user=request.user, answers=_raw_answers(request, survey),
                                    consent=request.POST.get("consent") == "on", now=now)
        except errors.InvalidAnswers as exc:
            problems = exc.problems
            messages.error(request, exc.message)
        except errors.SurveyError as exc:
            messages.error(request, exc.message)
        else:
            return render(request, "surveys/thanks.html", {"survey": survey})
    blocked = None
    if not survey.is_open(now):
        blocked = errors.SurveyNotOpen().message
    elif not selectors.audience_includes(survey=survey, user=request.user):
        blocked = errors.NotInAudience().message
    elif selectors.has_responded(survey=survey, user=request.user):
        blocked = errors.AlreadyResponded().message
    questions = list(survey.questions.prefetch_related("choices").order_by("position", "id"))
    for question in questions:
        question.problem = problems.get(question.pk)
        question.posted = posted.getlist(f"q{question.pk}") if posted is not None else []
        question.posted_other = posted.get(f"q{question.pk}-other", "") if posted is not None else ""
    return render(request, "surveys/detail.html", {
        "survey": survey, "questions": questions, "blocked": blocked, "scale": (1, 2, 3, 4, 5),
        "consent_checked": posted is not None and posted.get("consent") == "on",
    }, status=400 if problems else 200)


@login_required
def survey_results(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = get_scoped_or_404(Survey.objects.select_related("organisation"), request.user, RESULT_ROLES,
                               pk=survey_id)
    return render(request, "surveys/results.html", {"survey": survey,
                                                     "results": selectors.survey_results(survey=survey)})


@login_required
def survey_export(request: HttpRequest, survey_id: int) -> HttpResponse:
    """The results workbook, written to a temporary file (constant memory) and sent; audited."""
    survey = get_scoped_or_404(Survey.objects.select_related("organisation"), request.user, RESULT_ROLES,
                               pk=survey_id)
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed by FileResponse
    rows = exports.survey_workbook_write(survey=survey, out=handle, generated_by=request.user.get_full_name())
    services.survey_export_audit(actor=request.user, survey=survey, rows=rows)
    handle.seek(0)
    name = f"khao-sat-{survey.pk}-{slugify(survey.title)[:40] or 'ket-qua'}.xlsx"
    response = FileResponse(handle, as_attachment=True, filename=name,
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Cache-Control"] = "private, no-store"
    return response



"""Practice pages: thin — parse, call a selector or service, render. Server-rendered forms, no script needed:
an answer is a form POST whose response is the feedback page (``Accept: application/json`` gets the same
feedback as JSON, for app clients and the load benchmark)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.tenancy import is_staff_member, organisation_ids_for
from contests.errors import ContestError
from contests.models import Round
from practice import errors, selectors, services
from practice.models import PracticeItem
from questionbank.models import Question


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdecimal() and len(text) <= 18 else None


@login_required
def home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    return render(request, "practice/home.html", {
        "topics": selectors.practice_topics(now=now),
        "documents": selectors.practice_documents(now=now),
        "mock_rounds": selectors.mock_rounds(now=now),
        "progress": selectors.progress_for(user=request.user, now=now),
        "recent": selectors.recent_sessions(user=request.user),
        "count_choices": services.COUNT_CHOICES,
        "minute_choices": services.MINUTE_CHOICES,
    })


@login_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    minutes = _int(request.POST.get("minutes"))
    try:
        session = services.practice_session_start(
            user=request.user, mode=request.POST.get("mode", ""), topic_id=_int(request.POST.get("topic")),
            document=request.POST.get("document", ""), count=_int(request.POST.get("count")) or 10,
            minutes=minutes or None)
    except ContestError as exc:
        messages.error(request, exc.message)
        return redirect("practice:home")
    return redirect("practice:session", session_id=session.pk)


@login_required
@require_POST
def mock_start(request: HttpRequest, round_id: int) -> HttpResponse:
    round = get_object_or_404(Round.objects.select_related("contest"), pk=round_id, contest__visibility="published")
    try:
        session = services.practice_mock_start(user=request.user, round=round)
    except ContestError as exc:
        messages.error(request, exc.message)
        return redirect("practice:home")
    return redirect("practice:session", session_id=session.pk)


def _question_context(item: PracticeItem) -> dict[str, Any]:
    question = Question.objects.prefetch_related("options").get(pk=item.question_id)
    return services.question_view(question, item.option_order)


def _page(request: HttpRequest, session: Any, now: dt.datetime, **extra: Any) -> HttpResponse:
    current = services.next_item(session=session, now=now)
    context: dict[str, Any] = {"session": session, "now": now, **extra}
    if current is not None:
        context["item"] = current
        context["question"] = _question_context(current)["view"]
        if session.deadline:
            context["remaining_ms"] = max(0, int((session.deadline - now).total_seconds() * 1000))
    else:
        context["review"] = services.session_review(session=session, now=now)
        context["answered"] = sum(1 for r in context["review"] if r["item"].answered_at)
        context["correct"] = sum(1 for r in context["review"] if r["item"].is_correct)
    return render(request, "practice/session.html", context)


@login_required
def session(request: HttpRequest, session_id: int) -> HttpResponse:
    now = timezone.now()
    try:
        practice = services.practice_session_get(user=request.user, session_id=session_id, now=now)
    except errors.SessionNotFound as exc:
        raise Http404 from exc
    return _page(request, practice, now)


def _response_from(request: HttpRequest) -> Any:
    if "number" in request.POST:
        return {"number": request.POST.get("number", "")}
    if "text" in request.POST:
        return {"text": request.POST.get("text", "")}
    return {"options": request.POST.getlist("option")}


@login_required
@require_POST
def answer(request: HttpRequest, session_id: int) -> HttpResponse:
    wants_json = "application/json" in request.headers.get("Accept", "")
    now = timezone.now()
    position = _int(request.POST.get("position"))
    try:
        feedback = services.practice_answer(user=request.user, session_id=session_id, position=position or 0,
                                            response=_response_from(request), now=now)
    except errors.SessionNotFound as exc:
        if wants_json:
            return JsonResponse(exc.as_dict(), status=404)
        raise Http404 from exc
    except ContestError as exc:
        if wants_json:
            return JsonResponse(exc.as_dict(), status=409 if exc.code in {"time_up", "session_finished",
                                                                          "question_withdrawn"} else 400)
        messages.error(request, exc.message)
        return redirect("practice:session", session_id=session_id)
    if wants_json:
        return JsonResponse(feedback.as_dict())
    practice = feedback.item.session
    if not feedback.show_key:  # mock exam: saved, straight on to the next question
        return _page(request, practice, now, saved_position=feedback.position)
    return render(request, "practice/session.html", {
        "session": practice, "now": now, "feedback": feedback, "item": feedback.item, "question": feedback.view,
        "finished": practice.is_finished,
    })


@login_required
@require_POST
def finish(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        services.practice_session_finish(user=request.user, session_id=session_id)
    except errors.SessionNotFound as exc:
        raise Http404 from exc
    return redirect("practice:session", session_id=session_id)


@login_required
def insights(request: HttpRequest) -> HttpResponse:
    """Organisers: the topics and questions citizens miss most, by unit (aggregates, no person)."""
    user = request.user
    if not is_staff_member(user) or not (user.is_superuser or organisation_ids_for(user, selectors.INSIGHT_ROLES)):
        raise PermissionDenied
    units = selectors.insight_units(user=user)
    unit_id = _int(request.GET.get("unit"))
    if unit_id is not None and unit_id not in {u for u, _ in units}:
        unit_id = None
    days = _int(request.GET.get("days"))
    since = timezone.now() - dt.timedelta(days=days) if days in {7, 30, 90, 365} else None
    return render(request, "practice/insights.html", {
        "figures": selectors.insights(user=user, unit_id=unit_id, since=since), "units": units,
        "unit_id": unit_id, "days": days if since else None, "day_choices": (7, 30, 90, 365),
    })


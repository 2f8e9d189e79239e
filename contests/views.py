"""Citizen-facing pages of contests: thin — parse, call a selector or service, render."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Organisation
from accounts.selectors import unit_choices
from contests import errors, selectors
from contests.models import AttemptStatus, Round
from contests.pages import head_meta
from contests.services.attempts.finish import attempt_finalise_if_expired, attempts_finalise_expired_for_user
from contests.services.attempts.start import attempt_start
from contests.services.registrations import registration_create

logger = logging.getLogger(__name__)


def contest_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.contest_list_public(), 20).get_page(request.GET.get("page"))
    return render(request, "contests/contest_list.html", {"page": page, "now": timezone.now()})


def contest_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        contest = selectors.contest_get_public(slug=slug)
    except errors.NotFound as exc:
        raise Http404 from exc
    now = timezone.now()
    if request.user.is_authenticated:
        attempts_finalise_expired_for_user(user_id=request.user.pk, now=now)
    rounds = list(contest.rounds.order_by("position", "opens_at"))
    for round in rounds:
        round.contest = contest
    registration = selectors.registration_for(user=request.user, contest=contest)
    current = selectors.round_current(contest=contest, now=now)
    context = {
        "contest": contest,
        "rounds": rounds,
        "now": now,
        "current_round": current,
        "registration": registration,
        "participation": selectors.contest_participation(contest=contest),
        "head_meta": head_meta(request=request, contest=contest),
        "unit_groups": unit_choices(queryset=selectors.units_for_registration(contest=contest))
        if request.user.is_authenticated and registration is None else None,
    }
    if registration is not None and current is not None and current.is_open(now):
        context["in_progress"] = selectors.attempt_in_progress(registration=registration, round=current)
        context["attempts_left"] = selectors.attempts_left(registration=registration, round=current)
    return render(request, "contests/contest_detail.html", context)


@login_required
@require_POST
def contest_register(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        contest = selectors.contest_get_public(slug=slug)
    except errors.NotFound as exc:
        raise Http404 from exc
    unit = None
    raw_unit = request.POST.get("unit", "").strip()
    if raw_unit:
        # A chosen unit must be one of the list: never a 500 on a malformed id, never a silent fallback.
        if raw_unit.isdecimal() and len(raw_unit) <= 18:
            unit = Organisation.objects.filter(pk=int(raw_unit), is_unit=True, is_active=True).first()
        if unit is None:
            messages.error(request, _("Đơn vị không hợp lệ, vui lòng chọn đơn vị trong danh sách."))
            return redirect(contest.get_absolute_url())
    try:
        registration_create(user=request.user, contest=contest, unit=unit)
    except errors.ContestError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Đăng ký dự thi thành công."))
    return redirect(contest.get_absolute_url())


@login_required
@require_POST
def round_start(request: HttpRequest, round_id: int) -> HttpResponse:
    round = get_object_or_404(Round.objects.select_related("contest"), pk=round_id,
                              contest__visibility="published")
    try:
        attempt = attempt_start(user=request.user, round=round)
    except errors.BlueprintUnsatisfiable as exc:
        # A staff problem (the bank cannot fill the round's structure): the contestant is told to come back,
        # the staff message goes to the log and to the round's admin page (its blueprint check).
        logger.error("round %s cannot draw an attempt: %s", round.pk, exc.message)
        messages.error(request, str(errors.BlueprintUnsatisfiable.citizen_message))
        return redirect(round.contest.get_absolute_url())
    except errors.ContestError as exc:
        messages.error(request, exc.message)
        return redirect(round.contest.get_absolute_url())
    return redirect("contests:exam", attempt_id=attempt.pk)


@login_required
def exam(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """The exam page (template and client owned by realtime): questions arrive over the socket."""
    try:
        attempt = selectors.attempt_get_for_user(attempt_id=attempt_id, user_id=request.user.pk)
    except errors.AttemptNotFound as exc:
        raise Http404 from exc
    if selectors.attempt_status_at(attempt=attempt, now=timezone.now()) != AttemptStatus.IN_PROGRESS:
        return redirect("contests:result", attempt_id=attempt.pk)  # finished, or its time is up
    ws_url = f"/ws/attempts/{attempt.pk}/"  # realtime/routing.py; the client adds scheme and host
    return render(request, "contests/exam.html", {"attempt": attempt, "round": attempt.round, "ws_url": ws_url})


@login_required
def result(request: HttpRequest, attempt_id: int) -> HttpResponse:
    try:
        attempt = selectors.attempt_get_for_user(attempt_id=attempt_id, user_id=request.user.pk)
    except errors.AttemptNotFound as exc:
        raise Http404 from exc
    now = timezone.now()
    if selectors.attempt_status_at(attempt=attempt, now=now) == AttemptStatus.IN_PROGRESS:
        return redirect("contests:exam", attempt_id=attempt.pk)
    # Its time may be up with nobody having finished it yet (the sweeper runs every few seconds): finish it
    # now, so that the page shows its score.
    attempt = attempt_finalise_if_expired(attempt=attempt, now=now)
    review = selectors.attempt_review(attempt=attempt, now=now)
    return render(request, "contests/result.html", {
        "attempt": attempt, "round": attempt.round, "contest": attempt.round.contest, "review": review,
    })


@login_required
def my_attempts(request: HttpRequest) -> HttpResponse:
    attempts_finalise_expired_for_user(user_id=request.user.pk)
    page = Paginator(selectors.attempts_of_user(user=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "contests/my_attempts.html", {"page": page})

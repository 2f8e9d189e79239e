"""The judges' pages: the review queue of a round, an attempt's timeline, decisions. Thin: scope through
accounts.tenancy (another organisation's round or attempt is a 404, like a missing one), call a selector or
a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.tenancy import get_scoped_or_404, has_role, is_staff_member
from anticheat import errors, selectors, services
from anticheat.models import FlagKind, ReviewAction, ReviewStatus, Severity
from contests.models import Attempt, Round

STAFF_ROLES = (Role.JUDGE, Role.ORGANISER)


def _staff(request: HttpRequest) -> None:
    if not is_staff_member(request.user):
        raise PermissionDenied


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
def queue(request: HttpRequest, round_id: int) -> HttpResponse:
    _staff(request)
    round = get_scoped_or_404(Round.objects.select_related("contest"), request.user, STAFF_ROLES, pk=round_id)
    kind = request.GET.get("kind", "")
    kind = kind if kind in FlagKind.values else ""
    review = request.GET.get("review", "")
    review = review if review in ReviewStatus.values else ""
    unit_id = _int(request.GET.get("unit"))
    page = max(1, _int(request.GET.get("page")) or 1)
    data = selectors.review_queue(round=round, kind=kind, unit_id=unit_id, review=review, limit=100,
                                  offset=(page - 1) * 100)
    return render(request, "anticheat/queue.html", {
        "round": round, "queue": data, "kind": kind, "unit_id": unit_id, "review": review, "page": page,
        "has_next": page * 100 < data.total, "kinds": FlagKind.choices, "reviews": ReviewStatus.choices,
        "severities": Severity.choices,
        "can_analyse": has_role(request.user, round.contest.organisation_id, [Role.ORGANISER, Role.JUDGE]),
    })


def _attempt(request: HttpRequest, attempt_id: int) -> Attempt:
    _staff(request)
    return get_scoped_or_404(Attempt.objects.select_related("round__contest", "registration", "unit"),
                             request.user, STAFF_ROLES, pk=attempt_id)


@login_required
def timeline(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _attempt(request, attempt_id)
    return render(request, "anticheat/timeline.html", {
        "attempt": attempt, "round": attempt.round, **selectors.attempt_timeline(attempt=attempt),
        "actions": [(a, label) for a, label in ReviewAction.choices if a != ReviewAction.REVERT],
    })


@login_required
@require_POST
def decide(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _attempt(request, attempt_id)
    try:
        services.attempt_review_decide(actor=request.user, attempt=attempt, action=request.POST.get("action", ""),
                                       reason=request.POST.get("reason", ""))
    except errors.AntiCheatError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Đã ghi quyết định."))
    return redirect("anticheat:timeline", attempt_id=attempt.pk)


@login_required
@require_POST
def revert(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _attempt(request, attempt_id)
    try:
        services.attempt_review_revert(actor=request.user, attempt=attempt, reason=request.POST.get("reason", ""))
    except errors.AntiCheatError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Đã huỷ quyết định."))
    return redirect("anticheat:timeline", attempt_id=attempt.pk)


@login_required
@require_POST
def analyse(request: HttpRequest, round_id: int) -> HttpResponse:
    """Run every check on the round now (organisers and judges of the owner)."""
    _staff(request)
    round = get_scoped_or_404(Round.objects.select_related("contest"), request.user, STAFF_ROLES, pk=round_id)
    report = services.round_analyse(round=round)
    messages.success(request, _("Đã phân tích %(n)s lượt thi.") % {"n": report["attempts"]})
    return redirect("anticheat:queue", round_id=round.pk)

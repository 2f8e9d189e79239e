"""Organisers' exceptions to the rules: extra time, an extra attempt, extending or reopening a round.

Each needs a reason, is stored as an ``OverrideGrant`` and written to the audit log. Deadlines of attempts
in progress are recomputed from their start (never incremented), and their open connections are told to
refresh after the commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from accounts.models import Role
from accounts.tenancy import require_role
from contests import errors
from contests.limits import compute_deadline, extra_seconds_for
from contests.models import Attempt, AttemptStatus, OverrideGrant, OverrideKind, Registration, Round
from contests.services._common import audit, broadcast_attempt_changed, resolve_now

MAX_EXTRA_SECONDS = 24 * 3600


def _check(actor: Any, round: Round, reason: str) -> None:
    require_role(actor, round.contest.organisation_id, [Role.ORGANISER])
    if not (reason or "").strip():
        raise errors.ReasonRequired()


def _recompute_deadlines(attempts: list[Attempt], round: Round, *, reason: str) -> None:
    for attempt in attempts:
        attempt.deadline = compute_deadline(
            started_at=attempt.started_at, round=round,
            extra_seconds=extra_seconds_for(registration_id=attempt.registration_id, round_id=round.pk))
        broadcast_attempt_changed(attempt, reason=reason)
    if attempts:
        Attempt.objects.bulk_update(attempts, ["deadline"])


def override_extra_time(*, actor: Any, registration: Registration, round: Round, seconds: int, reason: str,
                        now: dt.datetime | None = None) -> OverrideGrant:
    """Give one contestant ``seconds`` more for every attempt of theirs in ``round``, including the one in
    progress (its deadline is recomputed; still capped by the round's close). An attempt already finished
    is not reopened: give an extra attempt instead."""
    now = resolve_now(now)
    round = Round.objects.select_related("contest").get(pk=round.pk)
    _check(actor, round, reason)
    if registration.contest_id != round.contest_id or not 0 < int(seconds) <= MAX_EXTRA_SECONDS:
        raise errors.OverrideInvalid()
    with transaction.atomic():
        grant = OverrideGrant.objects.create(
            kind=OverrideKind.EXTRA_TIME, contest_id=round.contest_id, round=round, registration=registration,
            extra_seconds=int(seconds), reason=reason, actor=actor, created_at=now)
        in_progress = list(Attempt.objects.select_for_update(of=("self",)).filter(
            registration=registration, round=round, status=AttemptStatus.IN_PROGRESS))
        _recompute_deadlines(in_progress, round, reason="extra_time")
        audit(actor=actor, action="contests.extra_time", target=registration,
              organisation=round.contest.organisation_id, reason=reason,
              data={"round_id": round.pk, "seconds": int(seconds), "grant_id": grant.pk})
    return grant


def override_extra_attempt(*, actor: Any, registration: Registration, round: Round, reason: str, count: int = 1,
                           now: dt.datetime | None = None) -> OverrideGrant:
    """Allow one contestant ``count`` more attempts in ``round`` than its maximum."""
    now = resolve_now(now)
    round = Round.objects.select_related("contest").get(pk=round.pk)
    _check(actor, round, reason)
    if registration.contest_id != round.contest_id or not 0 < int(count) <= 10:
        raise errors.OverrideInvalid()
    with transaction.atomic():
        grant = OverrideGrant.objects.create(
            kind=OverrideKind.EXTRA_ATTEMPT, contest_id=round.contest_id, round=round, registration=registration,
            extra_attempts=int(count), reason=reason, actor=actor, created_at=now)
        audit(actor=actor, action="contests.extra_attempt", target=registration,
              organisation=round.contest.organisation_id, reason=reason,
              data={"round_id": round.pk, "count": int(count), "grant_id": grant.pk})
    return grant


def round_extend(*, actor: Any, round: Round, until: dt.datetime, reason: str,
                 now: dt.datetime | None = None) -> OverrideGrant:
    """Extend a round, or reopen a closed one (e.g. after an outage), until ``until``.

    Clears ``closed_at`` (the official ranking must be recomputed at the new close). Attempts in progress
    whose deadline was capped by the old close get their deadline recomputed. Finished attempts stay
    finished."""
    now = resolve_now(now)
    with transaction.atomic():
        round = Round.objects.select_for_update(of=("self",)).select_related("contest").get(pk=round.pk)
        _check(actor, round, reason)
        previous = round.effective_closes_at
        if until <= now or until <= round.opens_at or until <= previous:
            raise errors.OverrideInvalid()
        round.extended_until = until
        round.closed_at = None
        round.prediction_target_value = None
        round.results_revision += 1  # a stored ranking of the earlier close is out of date
        round.save(update_fields=["extended_until", "closed_at", "prediction_target_value", "results_revision"])
        grant = OverrideGrant.objects.create(
            kind=OverrideKind.ROUND_EXTEND, contest_id=round.contest_id, round=round, previous_close=previous,
            new_close=until, reason=reason, actor=actor, created_at=now)
        capped = list(Attempt.objects.select_for_update(of=("self",)).filter(
            round=round, status=AttemptStatus.IN_PROGRESS, deadline__gte=previous))
        _recompute_deadlines(capped, round, reason="round_extended")
        audit(actor=actor, action="contests.round_extended", target=round,
              organisation=round.contest.organisation_id, reason=reason,
              data={"previous_close": previous, "new_close": until, "grant_id": grant.pk})
    return grant

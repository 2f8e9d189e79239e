"""Disqualification of an attempt, or of a person for a whole contest: audited, reversible, off every board.

Contract: the actor must be a judge or organiser of the organisation owning the contest; the affected
attempt rows are locked (``FOR UPDATE``) and set to status ``disqualified`` (their previous status is kept on
the decision so a reversal restores it exactly); one decision in force per attempt and per person (DB
constraints); the live boards are corrected after the commit. The stored official ranking is not touched:
it is recomputed by an organiser (``ranking_compute``), which excludes disqualified attempts and people.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.tenancy import has_role
from contests.models import FINISHED_STATUSES, Attempt, AttemptStatus, Registration, Round
from contests.services._common import audit
from contests.services.contests import round_results_changed
from leaderboards import errors
from leaderboards.models import Disqualification, DisqualificationScope
from leaderboards.services.live import leaderboard_refresh_person
from leaderboards.visibility import STAFF_ROLES


def _check(actor: Any, organisation_id: int, reason: str) -> str:
    if not has_role(actor, organisation_id, STAFF_ROLES):
        raise errors.PermissionDenied()
    reason = (reason or "").strip()
    if not reason:
        raise errors.ReasonRequired()
    return reason


def _refresh_boards_on_commit(*, rounds: set[int], user_id: int) -> None:
    def refresh() -> None:
        for round in Round.objects.filter(pk__in=rounds).select_related("contest"):
            leaderboard_refresh_person(round=round, user_id=user_id)

    transaction.on_commit(refresh, robust=True)


def _audit(**kwargs: Any) -> None:
    audit(**kwargs)


def _results_changed(round_ids: set[int]) -> None:
    """The stored rankings of these rounds no longer match (leaderboards.selectors.ranking_freshness)."""
    round_results_changed(round_ids=round_ids)


def attempt_disqualify(*, actor: Any, attempt: Attempt, reason: str,
                       now: dt.datetime | None = None) -> Disqualification:
    """Disqualify one finished attempt. Raises PermissionDenied, ReasonRequired, AttemptNotFinished,
    AlreadyDisqualified."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (Attempt.objects.select_for_update(of=("self",)).select_related("round__contest", "registration")
                  .get(pk=attempt.pk))
        contest = locked.round.contest
        reason = _check(actor, contest.organisation_id, reason)
        if locked.status == AttemptStatus.DISQUALIFIED:
            raise errors.AlreadyDisqualified()
        if locked.status not in FINISHED_STATUSES:
            raise errors.AttemptNotFinished()
        try:
            with transaction.atomic():
                decision = Disqualification.objects.create(
                    scope=DisqualificationScope.ATTEMPT, contest=contest, registration_id=locked.registration_id,
                    attempt=locked, reason=reason, previous_statuses={str(locked.pk): locked.status},
                    created_by=actor, created_at=now)
        except IntegrityError as exc:
            raise errors.AlreadyDisqualified() from exc
        locked.status = AttemptStatus.DISQUALIFIED
        locked.disqualified_reason = reason
        locked.save(update_fields=["status", "disqualified_reason"])
        _audit(actor=actor, action="leaderboards.attempt_disqualified", target=locked,
               organisation=contest.organisation_id, reason=reason,
               data={"disqualification_id": decision.pk, "round_id": locked.round_id})
        _results_changed({locked.round_id})
        _refresh_boards_on_commit(rounds={locked.round_id}, user_id=locked.user_id)
    return decision


def person_disqualify(*, actor: Any, registration: Registration, reason: str,
                      now: dt.datetime | None = None) -> Disqualification:
    """Disqualify a person in a contest: every finished attempt now, and any later one (the ranking SQL and
    the live boards skip a person with a decision in force)."""
    now = now or timezone.now()
    with transaction.atomic():
        registration = Registration.objects.select_related("contest").get(pk=registration.pk)
        contest = registration.contest
        reason = _check(actor, contest.organisation_id, reason)
        attempts = list(Attempt.objects.select_for_update().filter(registration=registration,
                                                                   status__in=FINISHED_STATUSES))
        try:
            with transaction.atomic():
                decision = Disqualification.objects.create(
                    scope=DisqualificationScope.PERSON, contest=contest, registration=registration, reason=reason,
                    previous_statuses={str(a.pk): a.status for a in attempts}, created_by=actor, created_at=now)
        except IntegrityError as exc:
            raise errors.AlreadyDisqualified() from exc
        Attempt.objects.filter(pk__in=[a.pk for a in attempts]).update(status=AttemptStatus.DISQUALIFIED,
                                                                        disqualified_reason=reason)
        _audit(actor=actor, action="leaderboards.person_disqualified", target=registration,
               organisation=contest.organisation_id, reason=reason,
               data={"disqualification_id": decision.pk, "attempts": len(attempts)})
        rounds = set(Attempt.objects.filter(registration=registration).values_list("round_id", flat=True))
        _results_changed(rounds)
        _refresh_boards_on_commit(rounds=rounds, user_id=registration.user_id)
    return decision


def disqualification_revoke(*, actor: Any, disqualification: Disqualification, reason: str,
                            now: dt.datetime | None = None) -> Disqualification:
    """Reverse a decision: restore each affected attempt's previous status unless another decision in force
    still covers it. Raises PermissionDenied, ReasonRequired, NotDisqualified."""
    now = now or timezone.now()
    with transaction.atomic():
        decision = (Disqualification.objects.select_for_update().select_related("contest", "registration")
                    .get(pk=disqualification.pk))
        reason = _check(actor, decision.contest.organisation_id, reason)
        if decision.revoked_at is not None:
            raise errors.NotDisqualified()
        decision.revoked_at, decision.revoked_by, decision.revoke_reason = now, actor, reason
        decision.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        others = Disqualification.objects.filter(registration=decision.registration, revoked_at__isnull=True)
        person_still = others.filter(scope=DisqualificationScope.PERSON).exists()
        still_attempts = set(others.filter(scope=DisqualificationScope.ATTEMPT).values_list("attempt_id", flat=True))
        restored = 0
        attempts = Attempt.objects.select_for_update().filter(pk__in=[int(k) for k in decision.previous_statuses])
        for attempt in attempts:
            if person_still or attempt.pk in still_attempts or attempt.status != AttemptStatus.DISQUALIFIED:
                continue
            attempt.status = decision.previous_statuses[str(attempt.pk)]
            attempt.disqualified_reason = ""
            attempt.save(update_fields=["status", "disqualified_reason"])
            restored += 1
        _audit(actor=actor, action="leaderboards.disqualification_revoked", target=decision,
               organisation=decision.contest.organisation_id, reason=reason,
               data={"scope": decision.scope, "attempts_restored": restored})
        rounds = set(Attempt.objects.filter(registration=decision.registration).values_list("round_id", flat=True))
        _results_changed(rounds)
        _refresh_boards_on_commit(rounds=rounds, user_id=decision.registration.user_id)
    return decision

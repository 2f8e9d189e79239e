"""Writes of anticheat: running the checks (flags, idempotently) and the judges' decisions.

- ``round_checks_run`` — the in-exam checks for the attempts finished since the last run, and the round's
  network bursts (``anticheat.jobs`` every minute for open rounds; ``round_analyse`` for all at close);
- ``round_analyse`` — everything, for every finished attempt of a closed round: the in-exam checks, answer
  copying, prediction farming, duplicate persons, account-creation bursts;
- ``attempt_review_decide`` / ``attempt_review_revert`` — clear, disqualify (the audited reversible
  disqualification of leaderboards), ask for an identity check; each with a required reason, audited,
  reversible. A disqualification (or its reversal) recomputes the round's official ranking when its current
  version is still a draft; a locked (proposed/approved/published) ranking is left to the organisers'
  audited revision, and the approval page shows that decisions are pending (``selectors``).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from accounts.tenancy import has_role
from anticheat import errors
from anticheat.checks import copying, inexam, load, people
from anticheat.checks.inexam import FlagSpec
from anticheat.models import (
    IN_EXAM_KINDS,
    SEVERITY_RANK,
    AnswerEvent,
    AttemptReview,
    ClientEvent,
    ConnectionEvidence,
    Flag,
    FlagKind,
    ReviewAction,
    ReviewDecision,
    ReviewStatus,
    RoundCheckSettings,
    SignupEvidence,
)
from anticheat.selectors import settings_for
from contests.models import FINISHED_STATUSES, Attempt, AttemptStatus, Registration, Round
from contests.services._common import audit
from leaderboards import errors as leaderboard_errors
from leaderboards.services.disqualification import attempt_disqualify, disqualification_revoke
from leaderboards.services.ranking import ranking_compute, ranking_current, ranking_is_locked

logger = logging.getLogger(__name__)

REVIEW_ROLES = (Role.JUDGE, Role.ORGANISER)
# Attempts finished this recently are left to the next run: the deadline sweeper stamps an automatic
# submit with the deadline itself, a few seconds after it passed.
SETTLE_SECONDS = 60
ANALYSED_STATUSES = (*FINISHED_STATUSES, AttemptStatus.DISQUALIFIED)


# --- flags --------------------------------------------------------------------------------------------------
def flags_store(*, round: Round, specs: Iterable[FlagSpec], kinds: Iterable[str], attempt_ids: Iterable[int] | None,
                settings: dict[str, Any], now: dt.datetime) -> int:
    """Replace the flags of ``kinds`` (on ``attempt_ids``, or on the whole round when None) by ``specs``.
    A flag that is found again keeps its ``created_at``; decisions live on the attempt, so they stay."""
    specs = list(specs)
    kinds = list(kinds)
    existing = Flag.objects.filter(round=round, kind__in=kinds)
    if attempt_ids is not None:
        existing = existing.filter(attempt_id__in=list(attempt_ids))
    created = {(a, k): c for a, k, c in existing.values_list("attempt_id", "kind", "created_at")}
    units = dict(Attempt.objects.filter(pk__in={s.attempt_id for s in specs}).values_list("pk", "unit_id"))
    rows = [Flag(round=round, attempt_id=s.attempt_id, unit_id=units.get(s.attempt_id), kind=s.kind,
                 severity=s.severity, severity_rank=SEVERITY_RANK[s.severity], score=s.score, evidence=s.evidence,
                 settings_used=settings, group_key=s.group_key[:80],
                 created_at=created.get((s.attempt_id, s.kind), now), updated_at=now)
            for s in specs if s.attempt_id in units]
    with transaction.atomic():
        existing.delete()
        Flag.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _finished_ids(round: Round, **filters: Any) -> list[int]:
    return list(Attempt.objects.filter(round=round, status__in=ANALYSED_STATUSES, **filters)
                .order_by("pk").values_list("pk", flat=True))


def attempts_check(*, round: Round, attempt_ids: list[int], settings: dict[str, Any] | None = None,
                   now: dt.datetime | None = None) -> int:
    """The per-attempt in-exam checks for ``attempt_ids`` (their previous in-exam flags are replaced)."""
    now = now or timezone.now()
    settings = settings or settings_for(round.pk)
    specs: list[FlagSpec] = []
    for data in load.attempts_data(attempt_ids=attempt_ids, settings=settings):
        specs.extend(inexam.attempt_checks(data, settings))
    return flags_store(round=round, specs=specs, kinds=IN_EXAM_KINDS, attempt_ids=attempt_ids, settings=settings,
                       now=now)


def network_bursts_check(*, round: Round, settings: dict[str, Any], now: dt.datetime) -> int:
    specs = inexam.check_network_bursts(load.first_connections(round_id=round.pk), settings)
    return flags_store(round=round, specs=specs, kinds=[FlagKind.NETWORK_BURST], attempt_ids=None,
                       settings=settings, now=now)


def round_checks_run(*, round: Round, now: dt.datetime | None = None) -> dict[str, int]:
    """Incremental: the in-exam checks of attempts finished since the last run (``evaluated_until``), then the
    round's network bursts. Idempotent; safe in several workers (the settings row is locked, skip_locked)."""
    now = now or timezone.now()
    RoundCheckSettings.objects.get_or_create(round=round)
    with transaction.atomic():
        state = RoundCheckSettings.objects.select_for_update(skip_locked=True).filter(round=round).first()
        if state is None:
            return {"attempts": 0, "flags": 0}
        until = now - dt.timedelta(seconds=SETTLE_SECONDS)
        filters: dict[str, Any] = {"submitted_at__lte": until}
        if state.evaluated_until is not None:
            filters["submitted_at__gt"] = state.evaluated_until
        ids = _finished_ids(round, **filters)
        settings = settings_for(round.pk)
        flags = attempts_check(round=round, attempt_ids=ids, settings=settings, now=now) if ids else 0
        flags += network_bursts_check(round=round, settings=settings, now=now)
        state.evaluated_until = until
        state.save(update_fields=["evaluated_until"])
    return {"attempts": len(ids), "flags": flags}


def _round_meta(round: Round) -> tuple[copying.AttemptMeta, dict[int, tuple[str, str]],
                                                          list[tuple[int, int, int | None, Any]]]:
    rows = list(Attempt.objects.filter(round=round, status__in=ANALYSED_STATUSES).order_by("pk").values_list(
        "pk", "user_id", "unit_id", "started_at", "submitted_at", "prediction"))
    first: dict[int, tuple[str, str]] = {}
    for attempt_id, network, device in ConnectionEvidence.objects.filter(round_id=round.pk) \
            .order_by("attempt_id", "at", "id").values_list("attempt_id", "network", "device"):
        first.setdefault(attempt_id, (network, device))
    n = len(rows)
    started = np.zeros(n)
    submitted = np.zeros(n)
    networks: list[str | None] = [None] * n
    devices: list[str | None] = [None] * n
    units: list[int | None] = [None] * n
    for i, (pk, _user, unit, start, submit, _prediction) in enumerate(rows):
        started[i] = start.timestamp()
        submitted[i] = (submit or start).timestamp()
        network, device = first.get(pk, ("", ""))
        networks[i] = network or None
        devices[i] = (f"{device}@{network}" if device.startswith("ua:") else device) or None
        units[i] = unit
    meta = copying.AttemptMeta(ids=np.array([r[0] for r in rows], dtype=np.int64), started=started,
                               submitted=submitted, blocks={"network": networks, "device": devices, "unit": units})
    return meta, first, [(r[0], r[1], r[5], r[2]) for r in rows]


def round_analyse(*, round: Round, now: dt.datetime | None = None, recheck_all: bool = False) -> dict[str, Any]:
    """Every check of a closed round (after its close, by ``anticheat.jobs``; also from the queue page and
    bench/anticheat.py): the in-exam checks of the attempts the incremental runs have not seen yet (all of them
    with ``recheck_all``), network bursts, answer copying, prediction farming, duplicate persons, sign-up bursts.
    Idempotent: flags are replaced, decisions stay. Returns timings and counts (bench/anticheat.py prints them)."""
    now = now or timezone.now()
    settings = settings_for(round.pk)
    report: dict[str, Any] = {"round_id": round.pk, "seconds": {}}
    clock = time.perf_counter
    started = clock()
    state, _ = RoundCheckSettings.objects.get_or_create(round=round)
    filters: dict[str, Any] = {}
    if state.evaluated_until is not None and not recheck_all:
        filters["submitted_at__gt"] = state.evaluated_until
    ids = _finished_ids(round, **filters)
    report["attempts"] = Attempt.objects.filter(round=round, status__in=ANALYSED_STATUSES).count()
    report["attempts_checked_in_exam"] = len(ids)
    report["flags_in_exam"] = attempts_check(round=round, attempt_ids=ids, settings=settings, now=now) if ids else 0
    RoundCheckSettings.objects.filter(pk=state.pk).update(evaluated_until=now)
    report["flags_network_burst"] = network_bursts_check(round=round, settings=settings, now=now)
    report["seconds"]["in_exam"], started = clock() - started, clock()

    meta, first, predictions = _round_meta(round)
    table = copying.answers_load(round_id=round.pk)
    report["seconds"]["load_answers"], started = clock() - started, clock()
    result = copying.copying_analyse(table=table, meta=meta, settings=settings)
    del table
    report["copying"] = result.stats
    report["flags_answer_copying"] = flags_store(round=round, specs=result.flags, kinds=[FlagKind.ANSWER_COPYING],
                                                 attempt_ids=None, settings=settings, now=now)
    report["seconds"]["answer_copying"], started = clock() - started, clock()

    farming_rows = []
    for attempt_id, user_id, prediction, _unit in predictions:
        if prediction is None:
            continue
        network, device = first.get(attempt_id, ("", ""))
        farming_rows.append(people.PredictionRow(attempt_id=attempt_id, user_id=user_id, prediction=prediction,
                                                 network=network, device=device))
    report["flags_prediction_farming"] = flags_store(
        round=round, specs=people.check_prediction_farming(farming_rows, settings),
        kinds=[FlagKind.PREDICTION_FARMING], attempt_ids=None, settings=settings, now=now)
    report["seconds"]["prediction_farming"], started = clock() - started, clock()

    in_round = list(Attempt.objects.filter(round=round, status__in=ANALYSED_STATUSES).values_list(
        "pk", "registration_id", "user_id", "registration__full_name", "registration__date_of_birth", "unit_id"))
    round_people = [people.PersonRow(*row) for row in in_round]
    contest_people = [people.PersonRow(0, *row) for row in Registration.objects.filter(contest_id=round.contest_id)
                      .values_list("pk", "user_id", "full_name", "date_of_birth", "unit_id")]
    report["flags_duplicate_person"] = flags_store(
        round=round, specs=people.check_duplicate_persons(round_people, contest_people),
        kinds=[FlagKind.DUPLICATE_PERSON], attempt_ids=None, settings=settings, now=now)
    report["seconds"]["duplicate_person"], started = clock() - started, clock()

    attempts_by_user: dict[int, list[int]] = defaultdict(list)
    for attempt_id, _registration, user_id, *_rest in in_round:
        attempts_by_user[user_id].append(attempt_id)
    networks = set(SignupEvidence.objects.filter(user_id__in=list(attempts_by_user)).exclude(network="")
                   .values_list("network", flat=True))
    signups = [people.SignupRow(*row) for row in SignupEvidence.objects.filter(network__in=networks)
               .values_list("user_id", "at", "network", "device")]
    report["flags_signup_burst"] = flags_store(
        round=round, specs=people.check_signup_bursts(signups, attempts_by_user, settings),
        kinds=[FlagKind.SIGNUP_BURST], attempt_ids=None, settings=settings, now=now)
    report["seconds"]["signup_burst"] = clock() - started
    RoundCheckSettings.objects.update_or_create(round=round, defaults={"analysed_at": now})
    report["seconds"]["total"] = round_seconds(report["seconds"])
    return report


def round_seconds(parts: dict[str, float]) -> float:
    return sum(parts.values())


# --- decisions ------------------------------------------------------------------------------------------------
DECISION_STATUS = {ReviewAction.CLEAR: ReviewStatus.CLEARED, ReviewAction.DISQUALIFY: ReviewStatus.DISQUALIFIED,
                   ReviewAction.IDENTITY_CHECK: ReviewStatus.IDENTITY_CHECK}


def _checked(actor: Any, attempt: Attempt, reason: str) -> str:
    if not has_role(actor, attempt.round.contest.organisation_id, REVIEW_ROLES):
        raise errors.PermissionDenied()
    reason = (reason or "").strip()
    if not reason:
        raise errors.ReasonRequired()
    return reason


def _recompute_ranking_if_draft(*, round: Round, now: dt.datetime) -> int | None:
    """The official ranking follows a decision at once while it is a draft; a locked one waits for the
    organisers' audited revision. Returns the new version, or None."""
    current = ranking_current(round=round)
    if current is None or ranking_is_locked(current) or round.closed_at is None:
        return None
    return ranking_compute(round=round, actor=None, now=now).version


def attempt_review_decide(*, actor: Any, attempt: Attempt, action: str, reason: str,
                          now: dt.datetime | None = None) -> AttemptReview:
    """Decide on a flagged attempt: ``clear``, ``disqualify`` or ``identity_check``.

    Locks the attempt's review row. Raises PermissionDenied, ReasonRequired, InvalidAction, NotFlagged,
    AlreadyDecided (revert first), AttemptNotFinished (disqualify). Audited as ``anticheat.review_<action>``;
    a disqualification is ``leaderboards.attempt_disqualify`` (its own audit, reversible)."""
    now = now or timezone.now()
    if action not in DECISION_STATUS:
        raise errors.InvalidAction()
    with transaction.atomic():
        attempt = Attempt.objects.select_related("round__contest").get(pk=attempt.pk)
        reason = _checked(actor, attempt, reason)
        if not Flag.objects.filter(attempt=attempt).exists():
            raise errors.NotFlagged()
        review, _ = AttemptReview.objects.get_or_create(attempt=attempt, defaults={"round": attempt.round})
        review = AttemptReview.objects.select_for_update().get(pk=review.pk)
        if review.status != ReviewStatus.UNREVIEWED:
            raise errors.AlreadyDecided()
        data: dict[str, Any] = {"round_id": attempt.round_id, "flags": sorted(Flag.objects.filter(
            attempt=attempt).values_list("kind", flat=True))}
        if action == ReviewAction.DISQUALIFY:
            try:
                review.disqualification = attempt_disqualify(actor=actor, attempt=attempt, reason=reason, now=now)
            except leaderboard_errors.AttemptNotFinished as exc:
                raise errors.AttemptNotFinished() from exc
            except leaderboard_errors.AlreadyDisqualified:
                review.disqualification = None  # another decision (a person-level one) already excludes it
            data["disqualification_id"] = getattr(review.disqualification, "pk", None)
        previous = review.status
        review.status = DECISION_STATUS[action]
        review.reason, review.decided_by, review.decided_at = reason, actor, now
        review.save()
        ReviewDecision.objects.create(attempt=attempt, round=attempt.round, action=action, from_status=previous,
                                      to_status=review.status, reason=reason, actor=actor, at=now)
        if action == ReviewAction.DISQUALIFY:
            data["ranking_version"] = _recompute_ranking_if_draft(round=attempt.round, now=now)
        audit(actor=actor, action=f"anticheat.review_{action}", target=attempt,
              organisation=attempt.round.contest.organisation_id, reason=reason, data=data)
    return review


def attempt_review_revert(*, actor: Any, attempt: Attempt, reason: str,
                          now: dt.datetime | None = None) -> AttemptReview:
    """Undo the decision in force (a disqualification is revoked through leaderboards). Raises PermissionDenied,
    ReasonRequired, NothingToRevert."""
    now = now or timezone.now()
    with transaction.atomic():
        attempt = Attempt.objects.select_related("round__contest").get(pk=attempt.pk)
        reason = _checked(actor, attempt, reason)
        review = AttemptReview.objects.select_for_update().filter(attempt=attempt).first()
        if review is None or review.status == ReviewStatus.UNREVIEWED:
            raise errors.NothingToRevert()
        data: dict[str, Any] = {"round_id": attempt.round_id, "from": review.status}
        was_disqualified = review.status == ReviewStatus.DISQUALIFIED
        if was_disqualified and review.disqualification is not None and review.disqualification.in_force:
            disqualification_revoke(actor=actor, disqualification=review.disqualification, reason=reason, now=now)
            data["disqualification_id"] = review.disqualification.pk
        previous = review.status
        review.status, review.reason, review.decided_by, review.decided_at = ReviewStatus.UNREVIEWED, "", None, None
        review.disqualification = None
        review.save()
        ReviewDecision.objects.create(attempt=attempt, round=attempt.round, action=ReviewAction.REVERT,
                                      from_status=previous, to_status=review.status, reason=reason, actor=actor,
                                      at=now)
        if was_disqualified:
            data["ranking_version"] = _recompute_ranking_if_draft(round=attempt.round, now=now)
        audit(actor=actor, action="anticheat.review_revert", target=attempt,
              organisation=attempt.round.contest.organisation_id, reason=reason, data=data)
    return review


# --- retention ------------------------------------------------------------------------------------------------
def evidence_purge(*, now: dt.datetime | None = None) -> int:
    """Delete the network and device evidence of rounds whose retention (days after their close) has passed;
    flags keep only counts and masked network labels. Sign-up evidence goes after the longest retention of
    any contest the account entered (default when none)."""
    now = now or timezone.now()
    purged = 0
    for state in RoundCheckSettings.objects.filter(purged_at__isnull=True).select_related("round"):
        closes = state.round.effective_closes_at
        if closes + dt.timedelta(days=state.evidence_retention_days) > now:
            continue
        with transaction.atomic():
            purged += ConnectionEvidence.objects.filter(round_id=state.round_id).delete()[0]
            attempt_ids = Attempt.objects.filter(round_id=state.round_id).values("pk")
            purged += ClientEvent.objects.filter(attempt_id__in=attempt_ids).delete()[0]
            purged += AnswerEvent.objects.filter(attempt_id__in=attempt_ids).delete()[0]
            state.purged_at = now
            state.save(update_fields=["purged_at"])
    cutoff = now - dt.timedelta(days=RoundCheckSettings._meta.get_field("evidence_retention_days").default)
    purged += SignupEvidence.objects.filter(at__lt=cutoff).delete()[0]
    return purged


# --- personal data (accounts' registries, connected in AntiCheatConfig.ready) ----------------------------------
def personal_data_export(user: Any) -> dict[str, Any]:
    """The citizen's own anti-cheat evidence, for "Dữ liệu của tôi": where they connected from, with which
    browser, and where their account was created from. Flags and judges' notes are the judges' working file
    and are not part of it (docs/privacy.md)."""
    connections = [{"attempt_id": c.attempt_id, "at": c.at, "address": c.address or "", "user_agent": c.user_agent,
                    "device": c.device} for c in ConnectionEvidence.objects.filter(user_id=user.pk).order_by("at")]
    signup = SignupEvidence.objects.filter(user_id=user.pk).first()
    return {"anticheat": {"connections": connections,
                          "signup": {"at": signup.at, "address": signup.address or "", "device": signup.device}
                          if signup else None}}


def personal_data_anonymise(user: Any) -> None:
    """Account deletion: the network and device evidence of the person goes (flags keep counts only)."""
    ConnectionEvidence.objects.filter(user_id=user.pk).update(address=None, user_agent="", device="", network="")
    SignupEvidence.objects.filter(user_id=user.pk).delete()

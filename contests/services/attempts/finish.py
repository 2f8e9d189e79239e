"""Finishing attempts: a client's submit, the deadline sweeper, and the finishing of expired attempts before
they are shown; all of them score from the stored answers through ``_finish_locked``.

A submit locks the attempt row ``FOR UPDATE``; the sweeper locks expired attempts with ``SKIP LOCKED`` and
takes what a live batch is not holding; the official close (``round_attempts_finalise``) waits for them.
The finish time of an attempt is ``min(now, deadline)`` — for an automatic submit exactly the deadline.

Group commit (the end-of-round storm, docs/decisions.md): the socket's submits (``attempts_submit_batch``)
and the sweeper finish many attempts in ONE transaction — one statement for the scores of every attempt
the set-based finaliser reproduces exactly (``finalise_sql``), the Python reference for the others — and
announce them with ONE ``attempts_finalised`` signal carrying the list (the pushes, the live boards and the
judges' queue then run once per batch, after the commit). An attempt whose finalisation fails (a corrupt
key, a bug) does not fail the batch: the batch is retried one attempt at a time, each in a savepoint, and
the failing one stays in progress with nothing of it written (its requester is told; the sweeper retries).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Q, QuerySet

from contest_engine.outages import is_database_unavailable
from contests.limits import is_past_grace
from contests.models import (
    Answer,
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    Round,
    SubmitKind,
)
from contests.scoring import QuestionInput, essay_marks_for, get_strategy
from contests.services._common import broadcast_attempts_submitted, bulk_update_rows, resolve_now
from contests.services.attempts.finalise_sql import attempts_finalise_set_based, set_based_ids

logger = logging.getLogger(__name__)

# What finalising writes on an attempt (restored on the instance when its savepoint is rolled back).
FINALISED_FIELDS = ("status", "submit_kind", "submitted_at", "duration_ms", "score", "correct_count")


@dataclass(frozen=True, slots=True)
class SubmitRequest:
    """A client's submit: ``user_id`` must own ``attempt_id`` (anything else is "not found")."""

    attempt_id: int
    user_id: int


@dataclass(frozen=True, slots=True)
class SubmitOutcome:
    """``attempt`` as stored after the batch (finished by it or before; None: not found / not the requester's);
    ``failed``: its finalisation failed, it is still in progress and nothing of it was written."""

    attempt: Attempt | None
    failed: bool = False


def attempt_submit(*, attempt: Attempt, now: dt.datetime | None = None, kind: str = SubmitKind.CLIENT) -> Attempt:
    """Finish ``attempt`` and score it from its stored answers; idempotent (a finished attempt is returned
    unchanged). The finish time is ``min(now, deadline)``; a client submit after deadline + grace is
    recorded as an automatic one at the deadline. Locks the attempt row (FOR UPDATE); sends
    ``attempt.submitted`` after commit. A failure raises (nothing written)."""
    now = resolve_now(now)
    with transaction.atomic():
        locked = (Attempt.objects.select_for_update(of=("self",)).select_related("round__contest")
                  .get(pk=attempt.pk))
        if locked.status == AttemptStatus.IN_PROGRESS:
            if kind == SubmitKind.CLIENT and is_past_grace(locked, now):
                kind = SubmitKind.AUTO
            _finish_locked({kind: [locked]}, now=now, tolerate_failures=False)
    return locked


def attempts_submit_batch(*, requests: Sequence[SubmitRequest], now: dt.datetime | None = None,
                          ) -> list[SubmitOutcome]:
    """``attempt_submit`` for many client submits at once (the socket's submitter batches them): one
    transaction, the rows locked ``FOR UPDATE`` in ascending id order, one statement for the scores, one
    ``attempts_finalised`` signal for the batch. Same rules per request: idempotent (a finished attempt
    comes back unchanged; the same attempt twice in a batch is finished once), a submit after deadline +
    grace is recorded as an automatic one at the deadline, an attempt of somebody else is "not found".
    One outcome per request, in order. An attempt whose finalisation fails comes back ``failed`` and the
    others are finished all the same."""
    now = resolve_now(now)
    with transaction.atomic():
        locked = _lock(Attempt.objects.filter(pk__in={r.attempt_id for r in requests}).order_by("pk"))
        by_id = {a.pk: a for a in locked}
        owned = {r.attempt_id for r in requests if r.attempt_id in by_id and by_id[r.attempt_id].user_id == r.user_id}
        by_kind: dict[str, list[Attempt]] = {SubmitKind.CLIENT: [], SubmitKind.AUTO: []}
        for attempt_id in sorted(owned):
            attempt = by_id[attempt_id]
            if attempt.status == AttemptStatus.IN_PROGRESS:
                by_kind[SubmitKind.AUTO if is_past_grace(attempt, now) else SubmitKind.CLIENT].append(attempt)
        failed = _finish_locked(by_kind, now=now, tolerate_failures=True)
    return [SubmitOutcome(attempt=by_id[r.attempt_id], failed=r.attempt_id in failed) if r.attempt_id in owned
            else SubmitOutcome(attempt=None) for r in requests]


def attempt_finalise_if_expired(*, attempt: Attempt, now: dt.datetime | None = None) -> Attempt:
    """Finish ``attempt`` if it is in progress past deadline + grace (automatic submit at its deadline), else
    return it unchanged: what a page or the socket calls before showing an attempt whose time may be up
    (selectors only report it: ``selectors.attempt_status_at``)."""
    now = resolve_now(now)
    if attempt.status == AttemptStatus.IN_PROGRESS and is_past_grace(attempt, now):
        return attempt_submit(attempt=attempt, now=now, kind=SubmitKind.AUTO)
    return attempt


def attempts_sweep_expired(*, now: dt.datetime | None = None, batch: int = 1000) -> int:
    """Automatically submit in-progress attempts past deadline + grace (the clients may be gone), ``batch``
    at most in one transaction through the same group-commit path as the socket's submits.

    Safe in several workers at once: rows are locked ``FOR UPDATE SKIP LOCKED``. The recorded finish time
    is the deadline, not the sweep time. Returns how many attempts were finished (an attempt whose
    finalisation failed stays in progress, is logged, and is tried again by the next sweep).
    """
    now = resolve_now(now)
    # Rows still inside their round's grace are never locked: a live answer batch may need them.
    round_ids = set(Attempt.objects.filter(status=AttemptStatus.IN_PROGRESS, deadline__lt=now)
                    .order_by().values_list("round_id", flat=True).distinct())
    if not round_ids:
        return 0
    past_grace = Q()
    for round in Round.objects.select_related("contest").filter(pk__in=round_ids):
        past_grace |= Q(round_id=round.pk, deadline__lt=now - round.settings.grace)
    with transaction.atomic():
        expired = _lock(Attempt.objects.filter(past_grace, status=AttemptStatus.IN_PROGRESS).order_by("deadline")
                        [:batch], skip_locked=True)
        failed = _finish_locked({SubmitKind.AUTO: expired}, now=now, tolerate_failures=True)
    return len(expired) - len(failed)


def round_attempts_finalise(*, round: Round, now: dt.datetime) -> int:
    """Finish every attempt of ``round`` still in progress (automatic submits, finish time min(now, deadline)),
    for the official close once nothing can be accepted any more. Unlike the sweeper this WAITS for row locks
    instead of skipping them: an answer batch holding an attempt commits first, and its answers count. Call
    inside the close's transaction (the round row locked). Returns how many attempts were finished."""
    left = _lock(Attempt.objects.filter(round_id=round.pk, status=AttemptStatus.IN_PROGRESS).order_by("pk"))
    _finish_locked({SubmitKind.AUTO: left}, now=now, tolerate_failures=False)
    return len(left)


def attempts_finalise_expired_for_user(*, user_id: int, now: dt.datetime | None = None) -> int:
    """Lazy enforcement for pages listing a person's attempts: finish their expired ones first (one query
    when there is nothing to do)."""
    now = resolve_now(now)
    expired = [a for a in Attempt.objects.select_related("round__contest")
               .filter(user_id=user_id, status=AttemptStatus.IN_PROGRESS, deadline__lt=now)
               if is_past_grace(a, now)]
    for attempt in expired:
        attempt_submit(attempt=attempt, now=now, kind=SubmitKind.AUTO)
    return len(expired)


def attempt_score_inputs(attempts: Iterable[Attempt]) -> tuple[dict[int, list[QuestionInput]], list[Answer]]:
    """Scoring inputs of several attempts in two queries. Only what scoring reads is loaded: the question's
    type is taken out of the snapshot by the database (the snapshot's text and options are not decoded —
    that was ~40% of a batched submit's CPU)."""
    attempts = list(attempts)
    ids = [a.pk for a in attempts]
    questions = list(AttemptQuestion.objects.filter(attempt_id__in=ids).order_by("attempt_id", "position")
                     .values_list("id", "attempt_id", "position", "snapshot__type", "key", "points", "shown_at"))
    answers = list(Answer.objects.filter(attempt_id__in=ids)
                   .only("id", "attempt_id", "attempt_question_id", "response", "received_at", "is_correct",
                         "points_awarded"))
    by_question = {a.attempt_question_id: a for a in answers}
    marks = essay_marks_for(ids) if any(qtype == "essay" for _, _, _, qtype, *_ in questions) else {}
    inputs: dict[int, list[QuestionInput]] = defaultdict(list)
    position_of: dict[int, int] = {}
    for pk, attempt_id, position, qtype, key, points, shown_at in questions:
        answer = by_question.get(pk)
        position_of[pk] = position
        inputs[attempt_id].append(QuestionInput(
            position=position, qtype=qtype or "", key=key, points=points, shown_at=shown_at,
            response=answer.response if answer else None, received_at=answer.received_at if answer else None,
            judged_points=marks.get((attempt_id, position))))
    for answer in answers:
        answer._position = position_of.get(answer.attempt_question_id)  # type: ignore[attr-defined]
    return inputs, answers


def _lock(queryset: QuerySet[Attempt], *, skip_locked: bool = False) -> list[Attempt]:
    """Lock the attempts of ``queryset`` (``FOR UPDATE``, in its order) and attach their rounds (with their
    contests): one query per round for the whole batch instead of three model instances per row."""
    attempts = list(queryset.select_for_update(skip_locked=skip_locked, of=("self",)))
    rounds = Round.objects.select_related("contest").in_bulk({a.round_id for a in attempts}) if attempts else {}
    for attempt in attempts:
        attempt.round = rounds[attempt.round_id]
    return attempts


def _finish_locked(by_kind: dict[str, list[Attempt]], *, now: dt.datetime, tolerate_failures: bool) -> set[int]:
    """Finalise locked, in-progress attempts (kind → attempts; the caller holds the row locks inside a
    transaction) and send ONE ``attempts_finalised`` signal for those finished. Returns the ids of those
    whose finalisation failed (only with ``tolerate_failures``; otherwise the error is raised): the batch
    runs in a savepoint, and if it fails, again one attempt at a time, each in its own savepoint. A lost
    database is raised at once (the whole batch fails; nothing was written)."""
    attempts = [a for group in by_kind.values() for a in group]
    if not attempts:
        return set()
    if not tolerate_failures:
        for kind, group in by_kind.items():
            _finalise_rows(group, now=now, kind=kind)
        broadcast_attempts_submitted(attempts)
        return set()
    before = {a.pk: tuple(getattr(a, f) for f in FINALISED_FIELDS) for a in attempts}

    def restore(attempt: Attempt) -> None:
        for field, value in zip(FINALISED_FIELDS, before[attempt.pk], strict=True):
            setattr(attempt, field, value)

    failed: set[int] = set()
    try:
        with transaction.atomic():
            for kind, group in by_kind.items():
                _finalise_rows(group, now=now, kind=kind)
    except Exception as exc:
        if is_database_unavailable(exc):
            raise
        logger.exception("finalising a batch of %d attempts failed; finishing them one at a time", len(attempts))
        for attempt in attempts:
            restore(attempt)
        for kind, group in by_kind.items():
            for attempt in group:
                try:
                    with transaction.atomic():
                        _finalise_rows([attempt], now=now, kind=kind)
                except Exception as exc:
                    if is_database_unavailable(exc):
                        raise
                    logger.exception("finalising attempt %s failed; it stays in progress", attempt.pk)
                    restore(attempt)
                    failed.add(attempt.pk)
    done = [a for a in attempts if a.pk not in failed]
    if done:
        broadcast_attempts_submitted(done)
    return failed


def _finalise_rows(attempts: list[Attempt], *, now: dt.datetime, kind: str) -> None:
    """Score and close locked, in-progress attempts (rounds attached): the set-based statement for those it
    reproduces exactly, the Python reference for the others (``CONTESTS_FINALISE = "python"``: all)."""
    if not attempts:
        return
    fast = set() if getattr(django_settings, "CONTESTS_FINALISE", "sql") == "python" else set_based_ids(attempts)
    attempts_finalise_set_based([a for a in attempts if a.pk in fast], now=now, kind=kind)
    _finalise_reference([a for a in attempts if a.pk not in fast], now=now, kind=kind)


def _finalise_reference(attempts: list[Attempt], *, now: dt.datetime, kind: str) -> None:
    """The reference scoring (Python, every strategy): score and close locked, in-progress attempts (caller
    holds the row locks inside a transaction); no signal."""
    if not attempts:
        return
    inputs, answers = attempt_score_inputs(attempts)
    answers_by_attempt: dict[int, dict[int, Answer]] = defaultdict(dict)
    for answer in answers:
        answers_by_attempt[answer.attempt_id][answer._position] = answer  # type: ignore[attr-defined]
    changed_answers: list[Answer] = []
    for attempt in attempts:
        settings = attempt.round.settings
        strategy = get_strategy(settings.scoring_rule)
        outcome = strategy.score(inputs.get(attempt.pk, []), partial=settings.partial_credit == "fractions",
                                 time_limit_seconds=settings.time_limit_seconds)
        for question in outcome.questions:
            answer = answers_by_attempt[attempt.pk].get(question.position)
            if answer is not None:
                answer.is_correct = question.is_correct
                answer.points_awarded = question.points
                changed_answers.append(answer)
        finished = min(now, attempt.deadline)
        attempt.status = AttemptStatus.SUBMITTED if kind == SubmitKind.CLIENT else AttemptStatus.EXPIRED
        attempt.submit_kind = kind
        attempt.submitted_at = finished
        attempt.duration_ms = max(0, int((finished - attempt.started_at) / dt.timedelta(milliseconds=1)))
        attempt.score = outcome.score
        attempt.correct_count = outcome.correct_count
    bulk_update_rows(attempts, ["status", "submit_kind", "submitted_at", "duration_ms", "score", "correct_count"])
    bulk_update_rows(changed_answers, ["is_correct", "points_awarded"])

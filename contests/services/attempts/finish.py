"""Finishing attempts: a client's submit, the deadline sweeper, and the finishing of expired attempts before
they are shown; all of them score through ``_finalise`` from the stored answers.

A submit locks the attempt row ``FOR UPDATE``; the sweeper locks expired attempts with ``SKIP LOCKED`` and
takes what a live batch is not holding; the official close (``round_attempts_finalise``) waits for them.
The finish time of an attempt is ``min(now, deadline)`` — for an automatic submit exactly the deadline.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

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


def attempt_submit(*, attempt: Attempt, now: dt.datetime | None = None, kind: str = SubmitKind.CLIENT) -> Attempt:
    """Finish ``attempt`` and score it from its stored answers; idempotent (a finished attempt is returned
    unchanged). The finish time is ``min(now, deadline)``; a client submit after deadline + grace is
    recorded as an automatic one at the deadline. Locks the attempt row (FOR UPDATE); sends
    ``attempt.submitted`` after commit."""
    now = resolve_now(now)
    with transaction.atomic():
        locked = (Attempt.objects.select_for_update(of=("self",)).select_related("round__contest")
                  .get(pk=attempt.pk))
        if locked.status == AttemptStatus.IN_PROGRESS:
            if kind == SubmitKind.CLIENT and is_past_grace(locked, now):
                kind = SubmitKind.AUTO
            _finalise([locked], now=now, kind=kind)
    return locked


def attempt_finalise_if_expired(*, attempt: Attempt, now: dt.datetime | None = None) -> Attempt:
    """Finish ``attempt`` if it is in progress past deadline + grace (automatic submit at its deadline), else
    return it unchanged: what a page or the socket calls before showing an attempt whose time may be up
    (selectors only report it: ``selectors.attempt_status_at``)."""
    now = resolve_now(now)
    if attempt.status == AttemptStatus.IN_PROGRESS and is_past_grace(attempt, now):
        return attempt_submit(attempt=attempt, now=now, kind=SubmitKind.AUTO)
    return attempt


def attempts_sweep_expired(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Automatically submit in-progress attempts past deadline + grace (the clients may be gone).

    Safe in several workers at once: rows are locked ``FOR UPDATE SKIP LOCKED``. The recorded finish time
    is the deadline, not the sweep time. Returns how many attempts were finished.
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
        expired = list(
            Attempt.objects.select_for_update(skip_locked=True, of=("self",)).select_related("round__contest")
            .filter(past_grace, status=AttemptStatus.IN_PROGRESS).order_by("deadline")[:batch]
        )
        if expired:
            _finalise(expired, now=now, kind=SubmitKind.AUTO)
    return len(expired)


def round_attempts_finalise(*, round: Round, now: dt.datetime) -> int:
    """Finish every attempt of ``round`` still in progress (automatic submits, finish time min(now, deadline)),
    for the official close once nothing can be accepted any more. Unlike the sweeper this WAITS for row locks
    instead of skipping them: an answer batch holding an attempt commits first, and its answers count. Call
    inside the close's transaction (the round row locked). Returns how many attempts were finished."""
    left = list(Attempt.objects.select_for_update(of=("self",)).select_related("round__contest")
                .filter(round_id=round.pk, status=AttemptStatus.IN_PROGRESS).order_by("pk"))
    if left:
        _finalise(left, now=now, kind=SubmitKind.AUTO)
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


def _finalise(attempts: list[Attempt], *, now: dt.datetime, kind: str) -> None:
    """Score and close locked, in-progress attempts (caller holds the row locks inside a transaction)."""
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
    broadcast_attempts_submitted(attempts)

"""Storing what a contestant sends during an attempt: answers (one or a batch from many connections, in one
transaction), the prediction, and the release of the next question (one question at a time).

Every write locks the attempt row first (``FOR NO KEY UPDATE``), in ascending id order within a batch, so an
answer is either stored before a submit reads the answers (and counted) or sees the attempt finished and is
rejected — an acknowledged answer is never left out of the score. Answers are accepted until
``deadline + grace``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL

from contests import errors
from contests.limits import is_past_grace
from contests.models import (
    Answer,
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    Presentation,
    Round,
)
from contests.services._common import resolve_now
from contests.services.attempts.start import CHOICE_TYPES
from contests.services.attempts.state import question_payload

MAX_CLIENT_SEQ = 2**53 - 1
MAX_TEXT_ANSWER = 500
MAX_ESSAY_ANSWER = 20_000
MAX_NUMBER_ANSWER = 40
MAX_PREDICTION = 2**31 - 1


@dataclass(frozen=True)
class AnswerItem:
    """One answer as received: ``position`` is the 1-based position of the question in the attempt
    (as given in the snapshot). ``client_seq`` is the client's own increasing counter (1 … 2**53-1)."""

    attempt_id: int
    user_id: int
    position: int
    response: Any
    client_seq: int


@dataclass
class StoreResult:
    """Outcome of one stored item. ``status``: ``stored`` (new or replaced), ``duplicate`` (same seq seen
    before — acknowledged again, nothing changed), ``stale`` (an answer with a higher seq is already stored;
    acknowledged, nothing changed) or ``error`` (``error`` holds the ContestError)."""

    attempt_id: int
    position: int | None
    client_seq: int
    status: str
    error: errors.ContestError | None = None
    response: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"attempt_id": self.attempt_id, "position": self.position, "seq": self.client_seq,
                                "status": self.status}
        if self.error is not None:
            data.update(self.error.as_dict())
        return data


AnswerResult = StoreResult


def _coerce_item(item: AnswerItem | Mapping[str, Any]) -> AnswerItem:
    if isinstance(item, AnswerItem):
        return item
    return AnswerItem(attempt_id=item["attempt_id"], user_id=item["user_id"], position=item["position"],
                      response=item.get("response"), client_seq=item.get("client_seq", item.get("seq")))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def answer_seq_decision(*, stored_seq: int | None, client_seq: int, allow_change: bool) -> str:
    """What an answer frame does to the stored answer of its question (the one rule both answer stores use):
    "store"; "duplicate" — the same seq again (a resend after a lost ack): acked, nothing changes; "stale" —
    an older seq never overwrites a newer answer. Raises ``AnswerLocked`` when the round forbids changes."""
    if stored_seq is not None:
        if client_seq == stored_seq:
            return "duplicate"
        if client_seq < stored_seq:
            return "stale"
        if not allow_change:
            raise errors.AnswerLocked()
    return "store"


def _storable_text(text: str) -> bool:
    """Whether PostgreSQL can store ``text`` in JSONB: no NUL character (``\\u0000`` cannot be converted to text)
    and no lone surrogate (not encodable as UTF-8). Either would fail the whole group-commit batch, not only
    this answer."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate_response(snapshot: Mapping[str, Any], response: Any) -> Any:
    """The normalised response for a question of this snapshot, or ``InvalidResponse``.

    Shapes: choice questions ``{"options": [<option id>, …]}`` (at most one for single/true-false; an empty
    list clears the answer); numeric ``{"number": "12.5"}``; short text and essay ``{"text": "…"}``.
    """
    qtype = snapshot.get("type")
    if not isinstance(response, dict) or len(response) != 1:
        raise errors.InvalidResponse()
    if qtype in CHOICE_TYPES:
        raw = response.get("options")
        if not isinstance(raw, list) or len(raw) > 50:
            raise errors.InvalidResponse()
        known = {o["id"] for o in snapshot.get("options", [])}
        ids: list[int] = []
        for value in raw:
            if isinstance(value, str) and value.isdigit():
                value = int(value)
            if not _is_int(value) or value not in known:
                raise errors.InvalidResponse()
            if value not in ids:
                ids.append(value)
        if qtype != "multiple" and len(ids) > 1:
            raise errors.InvalidResponse()
        return {"options": sorted(ids)}
    if qtype == "numeric":
        raw = response.get("number")
        if _is_int(raw) or isinstance(raw, float):
            raw = str(raw)
        if not isinstance(raw, str) or len(raw) > MAX_NUMBER_ANSWER:
            raise errors.InvalidResponse()
        text = raw.strip().replace(",", ".")
        try:
            value = Decimal(text) if text else None
        except ArithmeticError as exc:
            raise errors.InvalidResponse() from exc
        if value is not None and not value.is_finite():
            raise errors.InvalidResponse()
        return {"number": text}
    if qtype in {"short", "essay"}:
        raw = response.get("text")
        limit = MAX_ESSAY_ANSWER if qtype == "essay" else MAX_TEXT_ANSWER
        if not isinstance(raw, str) or len(raw) > limit or not _storable_text(raw):
            raise errors.InvalidResponse()
        return {"text": raw}
    raise errors.InvalidResponse()


def attempt_answer(*, attempt_id: int, user_id: int, position: int, response: Any, client_seq: int,
                   now: dt.datetime | None = None) -> StoreResult:
    """Store one answer (see ``attempt_answers_store_batch`` for the rules); a one-item batch."""
    item = AnswerItem(attempt_id=attempt_id, user_id=user_id, position=position, response=response,
                      client_seq=client_seq)
    return attempt_answers_store_batch(items=[item], now=now)[0]


def attempt_answers_store_batch(*, items: Sequence[AnswerItem | Mapping[str, Any]],
                                now: dt.datetime | None = None) -> list[StoreResult]:
    """Store many answers (from many connections) in ONE transaction; results in the order of ``items``.

    Rules per item: the attempt exists and belongs to ``user_id``; it is in progress; ``now`` is no later
    than deadline + grace; the position exists in the attempt (and, one question at a time, is the
    question currently released); the response has the shape of the question type and names only that
    question's options. Idempotency per (attempt, question) by ``client_seq``: a resend with the stored seq
    is ``duplicate``, an older seq is ``stale`` (never overwrites); a newer seq replaces the answer only when
    the round allows changing answers (else ``answer_locked``).

    An invalid item gets its typed error; the other items are still stored. A constant number of queries
    whatever the batch size: lock attempts (1), load their questions (1), load existing answers (1),
    upsert (1). The caller acknowledges only after this function has returned (the commit is inside).
    """
    now = resolve_now(now)
    coerced = [_coerce_item(item) for item in items]
    results: list[StoreResult | None] = [None] * len(coerced)
    if not coerced:
        return []

    def fail(index: int, item: AnswerItem, error: errors.ContestError) -> None:
        results[index] = StoreResult(attempt_id=item.attempt_id, position=item.position,
                                     client_seq=item.client_seq, status="error", error=error)

    with transaction.atomic():
        attempt_ids = sorted({item.attempt_id for item in coerced if _is_int(item.attempt_id)})
        # Lean rows, locked in id order (no join: the round's settings are loaded once per round below).
        attempts = {
            row[0]: _AttemptRow(*row) for row in Attempt.objects.select_for_update(no_key=True)
            .filter(pk__in=attempt_ids).order_by("pk")
            .values_list("pk", "user_id", "status", "deadline", "question_count", "round_id")
        }
        round_settings = {
            r.pk: r.settings for r in Round.objects.select_related("contest")
            .filter(pk__in={a.round_id for a in attempts.values()})
        }
        # First pass: attempt-level checks, collect wanted (attempt, position) pairs.
        pending: list[int] = []
        for index, item in enumerate(coerced):
            attempt = attempts.get(item.attempt_id) if _is_int(item.attempt_id) else None
            if attempt is None or attempt.user_id != item.user_id:
                fail(index, item, errors.AttemptNotFound())
            elif not _is_int(item.client_seq) or not 1 <= item.client_seq <= MAX_CLIENT_SEQ:
                fail(index, item, errors.InvalidSequence())
            elif not _is_int(item.position) or not 1 <= item.position <= max(attempt.question_count, 1):
                fail(index, item, errors.QuestionNotInAttempt())
            elif attempt.status != AttemptStatus.IN_PROGRESS:
                fail(index, item, errors.AttemptClosed())
            elif now > attempt.deadline + round_settings[attempt.round_id].grace:
                fail(index, item, errors.DeadlinePassed())
            else:
                pending.append(index)
        if not pending:
            return [r for r in results if r is not None]

        pairs = sorted({(coerced[i].attempt_id, coerced[i].position) for i in pending})
        questions = {
            (attempt_id, position): _QuestionRow(pk, snapshot, shown_at)
            for pk, attempt_id, position, snapshot, shown_at in AttemptQuestion.objects.filter(_pairs_q(pairs))
            .values_list("id", "attempt_id", "position", "snapshot", "shown_at")
        }
        # One question at a time: only the latest released question may be answered.
        one_at_a_time = {aid for aid, a in attempts.items()
                         if round_settings[a.round_id].presentation == Presentation.ONE_AT_A_TIME}
        current_position: dict[int, int] = {}
        if one_at_a_time:
            for aid, pos in (AttemptQuestion.objects.filter(attempt_id__in=one_at_a_time, shown_at__isnull=False)
                             .order_by().values_list("attempt_id", "position")):
                current_position[aid] = max(pos, current_position.get(aid, 0))
        existing = {
            (attempt_id, question_id): (seq, revision)
            for attempt_id, question_id, seq, revision in Answer.objects.filter(
                attempt_question_id__in=[q.pk for q in questions.values()])
            .values_list("attempt_id", "attempt_question_id", "client_seq", "revision")
        }

        # Second pass: per-item checks and the newest item per (attempt, question).
        winners: dict[tuple[int, int], tuple[int, Any]] = {}
        for index in pending:
            item = coerced[index]
            settings = round_settings[attempts[item.attempt_id].round_id]
            question = questions.get((item.attempt_id, item.position))
            if question is None:
                fail(index, item, errors.QuestionNotInAttempt())
                continue
            if item.attempt_id in one_at_a_time and (
                question.shown_at is None or item.position != current_position.get(item.attempt_id)
            ):
                fail(index, item, errors.QuestionNotReleased())
                continue
            stored = existing.get((item.attempt_id, question.pk))
            try:
                response = validate_response(question.snapshot, item.response)
                decision = answer_seq_decision(stored_seq=stored[0] if stored is not None else None,
                                               client_seq=item.client_seq,
                                               allow_change=settings.allow_answer_change)
            except errors.ContestError as exc:
                fail(index, item, exc)
                continue
            if decision != "store":
                results[index] = StoreResult(item.attempt_id, item.position, item.client_seq, decision)
                continue
            pair = (item.attempt_id, question.pk)
            previous = winners.get(pair)
            if previous is not None:
                previous_index = previous[0]
                if coerced[previous_index].client_seq >= item.client_seq:
                    same = coerced[previous_index].client_seq == item.client_seq
                    results[index] = StoreResult(item.attempt_id, item.position, item.client_seq,
                                                 "duplicate" if same else "stale")
                    continue
                if not settings.allow_answer_change:
                    fail(index, item, errors.AnswerLocked())
                    continue
                prev_item = coerced[previous_index]
                results[previous_index] = StoreResult(prev_item.attempt_id, prev_item.position,
                                                      prev_item.client_seq, "stale")
            winners[pair] = (index, response)
            results[index] = StoreResult(item.attempt_id, item.position, item.client_seq, "stored",
                                         response=response)

        if winners:
            rows = []
            for (attempt_id, question_id), (index, response) in winners.items():
                stored = existing.get((attempt_id, question_id))
                rows.append(Answer(attempt_id=attempt_id, attempt_question_id=question_id, response=response,
                                   client_seq=coerced[index].client_seq, received_at=now,
                                   revision=(stored[1] + 1) if stored is not None else 1))
            Answer.objects.bulk_create(
                rows, update_conflicts=True, unique_fields=["attempt", "attempt_question"],
                update_fields=["response", "client_seq", "received_at", "revision"],
            )
    return [r for r in results if r is not None]


@dataclass(frozen=True, slots=True)
class _AttemptRow:
    pk: int
    user_id: int
    status: str
    deadline: dt.datetime
    question_count: int
    round_id: int


@dataclass(frozen=True, slots=True)
class _QuestionRow:
    pk: int
    snapshot: dict
    shown_at: dt.datetime | None


def _pairs_q(pairs: list[tuple[int, int]]) -> Q:
    """Rows matching any (attempt_id, position) pair. On PostgreSQL one join against two arrays (cheap to
    build and plan for hundreds of pairs, served by the unique (attempt, position) index); elsewhere an OR."""
    if connection.vendor == "postgresql":
        return Q(pk__in=RawSQL(
            "SELECT q.id FROM contests_attemptquestion q "
            "JOIN unnest(%s::bigint[], %s::integer[]) AS w(a, p) ON q.attempt_id = w.a AND q.position = w.p",
            ([a for a, _ in pairs], [p for _, p in pairs])))
    condition = Q()
    for attempt_id, position in pairs:
        condition |= Q(attempt_id=attempt_id, position=position)
    return condition


def _locked_attempt(*, attempt_id: int, user_id: int, no_key: bool = True) -> Attempt:
    attempt = (Attempt.objects.select_for_update(no_key=no_key, of=("self",)).select_related("round__contest")
               .filter(pk=attempt_id, user_id=user_id).first())
    if attempt is None:
        raise errors.AttemptNotFound()
    return attempt


def attempt_set_prediction(*, attempt_id: int, user_id: int, prediction: Any, client_seq: int,
                           now: dt.datetime | None = None) -> StoreResult:
    """Store the prediction (an integer ≥ 0), same deadline and seq rules as answers (position None).

    Raises nothing for domain problems: the error is in the result, like answers.
    """
    now = resolve_now(now)
    result = StoreResult(attempt_id=attempt_id, position=None, client_seq=client_seq, status="stored")
    try:
        with transaction.atomic():
            attempt = _locked_attempt(attempt_id=attempt_id, user_id=user_id)
            if not _is_int(client_seq) or not 1 <= client_seq <= MAX_CLIENT_SEQ:
                raise errors.InvalidSequence()
            if not attempt.round.settings.prediction_enabled:
                raise errors.PredictionDisabled()
            if attempt.status != AttemptStatus.IN_PROGRESS:
                raise errors.AttemptClosed()
            if is_past_grace(attempt, now):
                raise errors.DeadlinePassed()
            if isinstance(prediction, str) and prediction.strip().isdigit():
                prediction = int(prediction.strip())
            if not _is_int(prediction) or not 0 <= prediction <= MAX_PREDICTION:
                raise errors.InvalidPrediction()
            if client_seq == attempt.prediction_seq:
                result.status = "duplicate"
            elif client_seq < attempt.prediction_seq:
                result.status = "stale"
            else:
                attempt.prediction = prediction
                attempt.prediction_seq = client_seq
                attempt.save(update_fields=["prediction", "prediction_seq"])
    except errors.ContestError as exc:
        result.status = "error"
        result.error = exc
    return result


def attempt_next_question(*, attempt_id: int, user_id: int, now: dt.datetime | None = None) -> dict | None:
    """One question at a time: release the next question (records ``shown_at``) and return its public
    payload; ``None`` when every question has been released. Idempotent per call count, not per client:
    each call moves on by one. Raises ``AttemptClosed``/``DeadlinePassed``/``AttemptNotFound``."""
    now = resolve_now(now)
    with transaction.atomic():
        attempt = _locked_attempt(attempt_id=attempt_id, user_id=user_id)
        if attempt.status != AttemptStatus.IN_PROGRESS:
            raise errors.AttemptClosed()
        if is_past_grace(attempt, now):
            raise errors.DeadlinePassed()
        following = (AttemptQuestion.objects.filter(attempt=attempt, shown_at__isnull=True)
                     .order_by("position").first())
        if following is None:
            return None
        following.shown_at = now
        following.save(update_fields=["shown_at"])
        return question_payload(following)

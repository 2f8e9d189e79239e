"""The attempt lifecycle, decided on the server: start, answer, predict, submit, expire.

Locking contract (PostgreSQL; SQLite serialises writers anyway):
- ``attempt_start`` locks the registration row, so one person's concurrent starts serialise and the
  second one resumes the first attempt (also guaranteed by the ``attempt_one_in_progress`` constraint).
- Every write to an attempt's answers or fields locks the attempt row first (``FOR NO KEY UPDATE`` for
  answers and predictions, ``FOR UPDATE`` for submit), in ascending id order within a batch. So an answer
  is either stored before the submit reads the answers (and counted) or sees the attempt finished and is
  rejected — an acknowledged answer is never left out of the score.
- The sweeper locks expired attempts with ``SKIP LOCKED`` and takes what a live batch is not holding.

Time: every function takes one ``now``. Answers are accepted until ``deadline + grace``; the finish time
of an attempt is ``min(now, deadline)`` — for an automatic submit exactly the deadline.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL

from contests import errors
from contests.blueprints import blueprint_candidates, blueprint_cell_label, blueprint_fixed_questions
from contests.limits import compute_deadline, grants_for, is_past_grace
from contests.models import (
    Answer,
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    Presentation,
    Registration,
    Round,
    RoundSettings,
    SubmitKind,
)
from contests.scoring import QuestionInput, essay_marks_for, get_strategy
from contests.services._common import broadcast_attempts_submitted, bulk_update_rows, resolve_now
from questionbank.models import Question

MAX_CLIENT_SEQ = 2**53 - 1
MAX_TEXT_ANSWER = 500
MAX_ESSAY_ANSWER = 20_000
MAX_NUMBER_ANSWER = 40
MAX_PREDICTION = 2**31 - 1
CHOICE_TYPES = frozenset({"single", "multiple", "truefalse"})
SHUFFLED_TYPES = frozenset({"single", "multiple"})  # true/false keeps its natural "Đúng, Sai" order


# --------------------------------------------------------------------------------------------------
# Start
# --------------------------------------------------------------------------------------------------


def attempt_start(*, user: Any, round: Round, now: dt.datetime | None = None) -> Attempt:
    """Start an attempt in ``round`` for ``user``, or return their attempt in progress (resume).

    Checks: contest published, registered, round open, attempts left (max_attempts + extra-attempt grants).
    Draws the questions by the blueprint from approved, current questions the contest's organisation may
    use, snapshots them (stem, options — the key kept apart) and freezes the registration, all in one
    transaction. Raises ``ContestNotPublished``, ``NotRegistered``, ``RoundNotOpen``, ``NoAttemptsLeft``,
    ``BlueprintUnsatisfiable``.
    """
    now = resolve_now(now)
    round = Round.objects.select_related("contest").get(pk=round.pk)
    contest = round.contest
    if not contest.is_published:
        raise errors.ContestNotPublished()
    with transaction.atomic():
        registration = (Registration.objects.select_for_update()
                        .filter(user_id=user.pk, contest_id=contest.pk).first())
        if registration is None:
            raise errors.NotRegistered()
        # One query for both: how many attempts were used, and the one in progress if any.
        mine = list(Attempt.objects.filter(registration=registration, round=round).values_list("pk", "status"))
        current_id = next((pk for pk, status in mine if status == AttemptStatus.IN_PROGRESS), None)
        if current_id is not None:
            current = Attempt.objects.select_related("round__contest").get(pk=current_id)
            if not is_past_grace(current, now):
                return current
            attempt_submit(attempt=current, now=now, kind=SubmitKind.AUTO)  # locks and re-checks
        if not round.is_open(now) or round.closed_at is not None:
            raise errors.RoundNotOpen()
        settings = round.settings
        used = len(mine)
        extra = grants_for(registration_id=registration.pk, round_id=round.pk)
        if settings.max_attempts is not None and used >= settings.max_attempts + extra.attempts:
            raise errors.NoAttemptsLeft()
        seed = secrets.randbits(63)
        drawn = draw_questions(round=round, settings=settings, rng=random.Random(seed))
        deadline = compute_deadline(started_at=now, round=round, extra_seconds=extra.seconds)
        try:
            with transaction.atomic():
                attempt = Attempt.objects.create(
                    round=round, registration=registration, user_id=user.pk, unit_id=registration.unit_id,
                    number=used + 1, status=AttemptStatus.IN_PROGRESS, started_at=now, deadline=deadline,
                    question_count=len(drawn), draw_seed=seed,
                )
        except IntegrityError:  # a concurrent start won (only possible without the row lock, e.g. SQLite)
            return Attempt.objects.select_related("round__contest").get(
                registration=registration, round=round, status=AttemptStatus.IN_PROGRESS)
        one_at_a_time = settings.presentation == Presentation.ONE_AT_A_TIME
        AttemptQuestion.objects.bulk_create([
            AttemptQuestion(attempt=attempt, position=i, question_id=item.question_id, snapshot=item.snapshot,
                            key=item.key, points=item.points,
                            shown_at=now if (i == 1 or not one_at_a_time) else None)
            for i, item in enumerate(drawn, start=1)
        ])
        if registration.frozen_at is None:
            registration.frozen_at = now
            registration.save(update_fields=["frozen_at"])
    attempt.round = round
    return attempt


@dataclass(frozen=True)
class DrawnQuestion:
    question_id: int
    snapshot: dict
    key: dict
    points: Decimal


def draw_questions(*, round: Round, settings: RoundSettings, rng: random.Random | None = None) -> list[DrawnQuestion]:
    """Random questions per blueprint draw, no question family twice, choice options in a per-attempt
    order (all reproducible from ``rng``'s seed); snapshots without keys.

    Candidate ids per draw are cached briefly (see ``contests.blueprints.blueprint_candidates``) so a join storm at
    an announced start time does not rescan the bank for every contestant.
    """
    rng = rng or random.SystemRandom()
    chosen: list[tuple[int, Decimal | None]] = []
    # Fixed questions are checked now (still approved, current, usable) and their families are taken
    # before any random draw, wherever they sit in the blueprint: a draw never repeats a fixed question.
    fixed = blueprint_fixed_questions(organisation=round.contest.organisation, blueprint=settings.blueprint)
    used_families: set[int] = set(fixed.values())
    for index, draw in enumerate(settings.blueprint):
        points = Decimal(str(draw["points"])) if draw.get("points") is not None else None
        if "question_ids" in draw:
            chosen.extend((int(qid), points) for qid in draw["question_ids"])
            continue
        candidates = sorted(c for c in blueprint_candidates(round=round, draw_index=index, draw=draw)
                            if c[1] not in used_families)
        count = int(draw["count"])
        picked = _sample_distinct_families(candidates, count, rng)
        if picked is None:
            raise errors.BlueprintUnsatisfiable.for_cell(
                cell=blueprint_cell_label(draw), needed=count, available=len({c[1] for c in candidates}))
        for question_id, family in picked:
            used_families.add(family)
            chosen.append((question_id, points))
    questions = Question.objects.prefetch_related("options", "media").in_bulk([qid for qid, _ in chosen])
    result = []
    for question_id, points in chosen:
        question = questions[question_id]
        snapshot, key = snapshot_question(question)
        if question.type in SHUFFLED_TYPES and snapshot.get("options"):
            # Per-attempt option order: where the writer put the correct option must not give it away.
            snapshot["options"] = rng.sample(snapshot["options"], len(snapshot["options"]))
        result.append(DrawnQuestion(question_id=question_id, snapshot=snapshot, key=key,
                                    points=points if points is not None else question.default_points))
    return result


def _sample_distinct_families(candidates: list[tuple[int, int]], count: int,
                              rng: random.Random) -> list[tuple[int, int]] | None:
    by_family: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for candidate in sorted(candidates):  # a canonical order: the same seed gives the same pick
        by_family[candidate[1]].append(candidate)
    if len(by_family) < count:
        return None
    families = rng.sample(sorted(by_family), count)
    return [rng.choice(by_family[f]) for f in families]


def snapshot_question(question: Any) -> tuple[dict, dict]:
    """(public snapshot, private key) of one question version. The snapshot never says what is correct."""
    options = list(question.options.all())
    snapshot: dict[str, Any] = {"type": question.type, "stem": question.stem}
    key: dict[str, Any] = {
        "explanation": question.explanation,
        "citation": question.citation,
    }
    if question.type in CHOICE_TYPES:
        snapshot["options"] = [{"id": option.pk, "text": option.text} for option in options]
        key["options"] = {str(option.pk): str(option.fraction) for option in options}
        key["feedback"] = {str(option.pk): option.feedback for option in options if option.feedback}
    elif question.type in {"numeric", "short"}:
        key["accepted"] = [{"text": option.text, "fraction": str(option.fraction),
                            "tolerance": str(option.tolerance) if option.tolerance is not None else None}
                           for option in options]
    media = [{"kind": m.kind, "url": m.file.url} for m in question.media.all()]
    if media:
        snapshot["media"] = media
    return snapshot, key


# --------------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------------


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
        if not isinstance(raw, str) or len(raw) > limit:
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


# --------------------------------------------------------------------------------------------------
# Prediction, one-at-a-time release
# --------------------------------------------------------------------------------------------------


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


def question_payload(question: AttemptQuestion) -> dict[str, Any]:
    """What a client may know about an attempt question: never the key."""
    snapshot = question.snapshot
    payload: dict[str, Any] = {
        "position": question.position,
        "type": snapshot.get("type"),
        "stem": snapshot.get("stem", ""),
        "points": str(question.points),
    }
    if "options" in snapshot:
        payload["options"] = [{"id": o["id"], "text": o["text"]} for o in snapshot["options"]]
    if snapshot.get("media"):
        payload["media"] = snapshot["media"]
    return payload


# --------------------------------------------------------------------------------------------------
# Submit and expiry
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# State for the exam socket, connection ownership
# --------------------------------------------------------------------------------------------------


def attempt_state(*, attempt: Attempt, now: dt.datetime | None = None) -> dict[str, Any]:
    """The snapshot sent on connect: questions WITHOUT keys (one at a time: only those released), the
    contestant's stored answers with their seq, server time, deadline and status. Finalises an expired
    attempt first (lazy enforcement)."""
    now = resolve_now(now)
    attempt = attempt_finalise_if_expired(attempt=attempt, now=now)
    settings = attempt.round.settings
    questions = list(AttemptQuestion.objects.filter(attempt=attempt).order_by("position")
                     .only("id", "attempt_id", "position", "snapshot", "points", "shown_at"))
    one_at_a_time = settings.presentation == Presentation.ONE_AT_A_TIME
    released = [q for q in questions if q.shown_at is not None or not one_at_a_time]
    position_of = {q.pk: q.position for q in questions}
    answers = {}
    last_seq = attempt.prediction_seq
    for answer in Answer.objects.filter(attempt=attempt).only("attempt_question_id", "response", "client_seq"):
        answers[str(position_of[answer.attempt_question_id])] = {"response": answer.response,
                                                                 "seq": answer.client_seq}
        last_seq = max(last_seq, answer.client_seq)
    state: dict[str, Any] = {
        "attempt_id": attempt.pk,
        "round_id": attempt.round_id,
        "status": attempt.status,
        "server_time": now.isoformat(),
        "server_time_ms": _ms(now),
        "started_at": attempt.started_at.isoformat(),
        "deadline": attempt.deadline.isoformat(),
        "deadline_ms": _ms(attempt.deadline),
        "grace_seconds": settings.grace_seconds,
        "presentation": settings.presentation,
        "allow_answer_change": settings.allow_answer_change,
        "prediction_enabled": settings.prediction_enabled,
        "prediction": attempt.prediction,
        "prediction_seq": attempt.prediction_seq,
        "question_count": attempt.question_count,
        "questions": [question_payload(q) for q in released],
        "answers": answers,
        "last_seq": last_seq,
    }
    if attempt.status != AttemptStatus.IN_PROGRESS:
        state.update(submitted_at=attempt.submitted_at.isoformat() if attempt.submitted_at else None,
                     score=str(attempt.score) if attempt.score is not None else None,
                     correct_count=attempt.correct_count, duration_ms=attempt.duration_ms)
    return state


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)

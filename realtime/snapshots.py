"""Connect-time work for many sockets at once: load their attempts, claim them, build their snapshots.

A join storm (thousands of citizens opening the exam at an announced start time) made each connect pay
~5 ms of ORM CPU in the server process (attempt, round, contest, questions and answers, one query each)
— about 100 connects/s per process, far from "10,000 within 60 s". Consumers now queue their connect
through a ``realtime.batching.Batcher`` (the same group machinery as answers) and this module loads every queued attempt
in four queries in all.

What a snapshot contains is still decided by the contests app: ``question_payload`` (what a client may
know about a question — never the key) is called for every question, and an attempt past its deadline
goes through ``attempt_state`` itself (which finalises it first). ``tests/realtime/test_snapshots.py``
checks that the result equals ``attempt_state`` for attempts in every situation.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import psycopg
from django.db import connection

from contests.models import Answer, Attempt, AttemptQuestion, AttemptStatus, Presentation, Round
from contests.services.attempts.state import attempt_state, question_payload
from realtime import presence
from realtime.batching import Batcher, loop_batcher

_ATTEMPTS = """
SELECT id, user_id, round_id, status, started_at, deadline, prediction, prediction_seq, question_count,
       submitted_at, submit_kind, score, correct_count, duration_ms
FROM contests_attempt WHERE id = ANY(%s)
"""
_QUESTIONS = """
SELECT id, attempt_id, position, snapshot, points, shown_at FROM contests_attemptquestion
WHERE attempt_id = ANY(%s) ORDER BY attempt_id, position
"""
_ANSWERS = """
SELECT attempt_id, attempt_question_id, response, client_seq FROM contests_answer WHERE attempt_id = ANY(%s)
"""


@dataclass(frozen=True, slots=True)
class OpenRequest:
    attempt_id: int
    user_id: int
    token: str  # the consumer's channel name
    stamp: int | None = None  # presence.claim_stamp() of the connect (None: when the batch claims)


@dataclass(slots=True)
class Opened:
    """``state`` is None when the attempt does not exist or is not this user's."""

    state: dict[str, Any] | None
    previous: str = ""  # the older connection this one replaced (to be told)
    attempt: Any = None  # enough of the attempt for events.attempt_submitted_event
    newer: str = ""  # a newer connection holds the attempt: this one must step aside
    claimed: bool = False  # the attempt is in progress and this connection claimed it


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


Loaded = tuple[dict[int, dict[str, Any]], dict[int, list[SimpleNamespace]], dict[int, list[tuple[int, Any, int]]]]
_ATTEMPT_COLUMNS = ("id", "user_id", "round_id", "status", "started_at", "deadline", "prediction", "prediction_seq",
                    "question_count", "submitted_at", "submit_kind", "score", "correct_count", "duration_ms")


def _load_postgresql(ids: list[int]) -> Loaded:
    """Attempts, their questions and answers in three statements with server-side binding (the hot path)."""
    connection.ensure_connection()
    cursor = psycopg.Cursor(connection.connection)  # server-side binding; see realtime.store
    cursor.execute(_ATTEMPTS, [ids])
    columns = [c.name for c in cursor.description]
    rows = {row[0]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}
    cursor.execute(_QUESTIONS, [list(rows)])
    question_rows = cursor.fetchall()
    cursor.execute(_ANSWERS, [list(rows)])
    answer_rows = cursor.fetchall()
    cursor.close()
    return rows, _questions_by_attempt(question_rows), _answers_by_attempt(answer_rows)


def _load_orm(ids: list[int]) -> Loaded:
    """The same through the ORM, for the embedded default (SQLite)."""
    rows = {row["id"]: row for row in Attempt.objects.filter(pk__in=ids).values(*_ATTEMPT_COLUMNS)}
    question_rows = (AttemptQuestion.objects.filter(attempt_id__in=list(rows)).order_by("attempt_id", "position")
                     .values_list("id", "attempt_id", "position", "snapshot", "points", "shown_at"))
    answer_rows = Answer.objects.filter(attempt_id__in=list(rows)).values_list(
        "attempt_id", "attempt_question_id", "response", "client_seq")
    return rows, _questions_by_attempt(question_rows), _answers_by_attempt(answer_rows)


def _questions_by_attempt(question_rows: Any) -> dict[int, list[SimpleNamespace]]:
    questions: dict[int, list[SimpleNamespace]] = {}
    for qid, attempt_id, position, snapshot, points, shown_at in question_rows:
        if isinstance(snapshot, str):  # Django loads jsonb as text on its connections
            snapshot = json.loads(snapshot)
        questions.setdefault(attempt_id, []).append(
            SimpleNamespace(pk=qid, position=position, snapshot=snapshot, points=points, shown_at=shown_at))
    return questions


def _answers_by_attempt(answer_rows: Any) -> dict[int, list[tuple[int, Any, int]]]:
    answers: dict[int, list[tuple[int, Any, int]]] = {}
    for attempt_id, question_id, response, seq in answer_rows:
        if isinstance(response, str):
            response = json.loads(response)
        answers.setdefault(attempt_id, []).append((question_id, response, seq))
    return answers


def attempts_open_batch(*, items: list[OpenRequest], now: dt.datetime) -> list[Opened]:
    """For each request: the owner's attempt snapshot (as ``attempt_state`` builds it) and the previous
    active connection, which ``token`` replaces (``realtime.presence``). Four queries for the batch."""
    ids = sorted({r.attempt_id for r in items})
    rows, questions, answers = (_load_postgresql if connection.vendor == "postgresql" else _load_orm)(ids)
    rounds = {r.pk: r for r in Round.objects.select_related("contest").defer("contest__rules_text")
              .filter(pk__in={row["round_id"] for row in rows.values()})}

    # Presence claims in one Redis round trip (only for attempts in progress, as before).
    claims = [r for r in items if (row := rows.get(r.attempt_id)) is not None and row["user_id"] == r.user_id
              and row["status"] == AttemptStatus.IN_PROGRESS]
    found = dict(zip(claims, presence.connection_claim_many(
        [(r.attempt_id, r.token, r.stamp) for r in claims]), strict=True))

    results: list[Opened] = []
    built: dict[int, tuple[dict[str, Any], Any]] = {}
    for request in items:
        row = rows.get(request.attempt_id)
        if row is None or row["user_id"] != request.user_id:
            results.append(Opened(state=None))
            continue
        if request.attempt_id not in built:
            built[request.attempt_id] = _state(row, rounds[row["round_id"]], questions.get(row["id"], []),
                                               answers.get(row["id"], []), now)
        state, attempt = built[request.attempt_id]
        claim = found.get(request)
        results.append(Opened(state=state, attempt=attempt, claimed=claim is not None,
                              previous=claim.previous if claim else "", newer=claim.newer if claim else ""))
    return results


def _state(row: dict[str, Any], round_: Round, questions: list[SimpleNamespace],
           answers: list[tuple[int, Any, int]], now: dt.datetime) -> tuple[dict[str, Any], Any]:
    settings = round_.settings
    if row["status"] == AttemptStatus.IN_PROGRESS and now > row["deadline"] + settings.grace:
        # Expired while nobody looked: the contests service finalises it and builds the state.
        attempt = Attempt.objects.select_related("round__contest").get(pk=row["id"])
        state = attempt_state(attempt=attempt, now=now)
        attempt.refresh_from_db()
        return state, attempt
    one_at_a_time = settings.presentation == Presentation.ONE_AT_A_TIME
    position_of = {q.pk: q.position for q in questions}
    stored: dict[str, Any] = {}
    last_seq = row["prediction_seq"]
    for question_id, response, seq in answers:
        stored[str(position_of[question_id])] = {"response": response, "seq": seq}
        last_seq = max(last_seq, seq)
    state: dict[str, Any] = {
        "attempt_id": row["id"],
        "round_id": row["round_id"],
        "status": row["status"],
        "server_time": now.isoformat(),
        "server_time_ms": _ms(now),
        "started_at": row["started_at"].isoformat(),
        "deadline": row["deadline"].isoformat(),
        "deadline_ms": _ms(row["deadline"]),
        "grace_seconds": settings.grace_seconds,
        "presentation": settings.presentation,
        "allow_answer_change": settings.allow_answer_change,
        "prediction_enabled": settings.prediction_enabled,
        "prediction": row["prediction"],
        "prediction_seq": row["prediction_seq"],
        "question_count": row["question_count"],
        "questions": [question_payload(q) for q in questions if q.shown_at is not None or not one_at_a_time],
        "answers": stored,
        "last_seq": last_seq,
    }
    if row["status"] != AttemptStatus.IN_PROGRESS:
        state.update(submitted_at=row["submitted_at"].isoformat() if row["submitted_at"] else None,
                     score=str(row["score"]) if row["score"] is not None else None,
                     correct_count=row["correct_count"], duration_ms=row["duration_ms"])
    attempt = Attempt(pk=row["id"], status=row["status"], submitted_at=row["submitted_at"],
                      submit_kind=row["submit_kind"])  # unsaved: what events.attempt_submitted_event reads
    return state, attempt


def get_opener() -> Batcher:
    """The running loop's batcher of connect-time work (``attempts_open_batch``): a join storm's connects are
    loaded and claimed together, a few queries per batch instead of per socket."""
    return loop_batcher("opener", lambda: Batcher(store_batch=attempts_open_batch, name="opener", max_batch=200))

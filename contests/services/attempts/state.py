"""What the exam socket sends about an attempt: the snapshot on connect (questions without their keys, the
stored answers, the server's clock and the deadline) and the public payload of one question.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from contests.models import (
    Answer,
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    Presentation,
)
from contests.services._common import resolve_now
from contests.services.attempts.finish import attempt_finalise_if_expired


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

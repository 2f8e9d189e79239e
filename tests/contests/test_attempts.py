from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from contests import errors
from contests.models import Answer, AttemptQuestion, AttemptStatus, SubmitKind
from contests.services.attempts import (
    attempt_answer,
    attempt_start,
    attempt_state,
    attempt_submit,
)

pytestmark = pytest.mark.django_db


def correct_option(aq: AttemptQuestion) -> int:
    return next(int(k) for k, v in aq.key["options"].items() if Decimal(v) == 1)


def wrong_option(aq: AttemptQuestion) -> int:
    return next(int(k) for k, v in aq.key["options"].items() if Decimal(v) == 0)


def test_start_draws_blueprint_and_snapshots(citizen, registration, round_, now):
    attempt = attempt_start(user=citizen, round=round_, now=now)
    qs = list(attempt.questions.order_by("position"))
    assert [q.position for q in qs] == [1, 2, 3, 4, 5]
    assert len({q.question_id for q in qs}) == 5
    assert attempt.deadline == now + dt.timedelta(seconds=900)
    assert attempt.number == 1
    assert attempt.status == AttemptStatus.IN_PROGRESS
    for q in qs:
        assert "options" in q.snapshot
        assert "fraction" not in str(q.snapshot)
        assert q.key["options"]
    registration.refresh_from_db()
    assert registration.frozen_at == now


def test_full_attempt_scores_from_answers(citizen, registration, round_, now):
    attempt = attempt_start(user=citizen, round=round_, now=now)
    qs = list(attempt.questions.order_by("position"))
    for i, q in enumerate(qs, start=1):
        option = correct_option(q) if i <= 3 else wrong_option(q)
        result = attempt_answer(attempt_id=attempt.pk, user_id=citizen.pk, position=q.position,
                                response={"options": [option]}, client_seq=i, now=now + dt.timedelta(seconds=i))
        assert result.status == "stored", result.error
    done = attempt_submit(attempt=attempt, now=now + dt.timedelta(seconds=60))
    assert done.status == AttemptStatus.SUBMITTED
    assert done.submit_kind == SubmitKind.CLIENT
    assert done.score == Decimal("3")
    assert done.correct_count == 3
    assert done.duration_ms == 60_000
    assert Answer.objects.filter(attempt=attempt, is_correct=True).count() == 3
    state = attempt_state(attempt=done, now=now + dt.timedelta(seconds=61))
    assert state["status"] == "submitted"
    with pytest.raises(errors.ContestError):
        raise errors.AttemptClosed()

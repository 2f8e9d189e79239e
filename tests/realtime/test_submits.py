"""Batched client submits finish attempts exactly as contests' attempt_submit does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from contests.models import Attempt, AttemptQuestion, AttemptStatus, SubmitKind
from contests.services.attempts.answers import attempt_answer
from contests.services.attempts.finish import attempt_submit
from realtime import events
from realtime.submits import SubmitRequest, attempts_submit_batch
from tests.factories import CitizenProfileFactory
from tests.realtime.conftest import make_exam

pytestmark = pytest.mark.django_db(transaction=True)


def _answer_all(exam, now, *, correct: int) -> None:
    for aq in AttemptQuestion.objects.filter(attempt=exam.attempt).order_by("position"):
        right = [int(k) for k, v in aq.key["options"].items() if Decimal(v) > 0]
        wrong = [int(k) for k, v in aq.key["options"].items() if Decimal(v) <= 0]
        option = right[0] if aq.position <= correct else wrong[0]
        assert attempt_answer(attempt_id=exam.attempt.pk, user_id=exam.user.pk, position=aq.position,
                              response={"options": [option]}, client_seq=aq.position, now=now).ok


def test_batch_equals_one_by_one(org_a):
    people = [CitizenProfileFactory(unit=org_a).user for _ in range(5)]
    now = timezone.now()
    batch_exam, twin_exam, late, finished, other = (make_exam(org_a, p) for p in people)
    for exam in (batch_exam, twin_exam):
        _answer_all(exam, now, correct=3)
    Attempt.objects.filter(pk=late.attempt.pk).update(deadline=now - dt.timedelta(minutes=1))
    attempt_submit(attempt=finished.attempt, now=now - dt.timedelta(seconds=30))
    before = Attempt.objects.get(pk=finished.attempt.pk)

    later = now + dt.timedelta(seconds=20)
    replies = attempts_submit_batch(items=[
        SubmitRequest(attempt_id=batch_exam.attempt.pk, user_id=people[0].pk, seq=11),
        SubmitRequest(attempt_id=late.attempt.pk, user_id=people[2].pk, seq=None),
        SubmitRequest(attempt_id=finished.attempt.pk, user_id=people[3].pk, seq=3),
        SubmitRequest(attempt_id=other.attempt.pk, user_id=people[0].pk, seq=4),  # not theirs
        SubmitRequest(attempt_id=batch_exam.attempt.pk, user_id=people[0].pk, seq=12),  # twice: idempotent
    ], now=later)
    reference = attempt_submit(attempt=twin_exam.attempt, now=later)

    done = Attempt.objects.get(pk=batch_exam.attempt.pk)
    fields = ("status", "submit_kind", "score", "correct_count")
    assert [getattr(done, f) for f in fields] == [getattr(reference, f) for f in fields]
    assert done.score == Decimal("3")
    assert done.submitted_at == later
    assert [r["type"] for r in replies] == [events.ATTEMPT_SUBMITTED] * 3 + ["error", events.ATTEMPT_SUBMITTED]
    assert (replies[0]["seq"], replies[4]["seq"]) == (11, 12)
    assert replies[3]["code"] == "attempt_not_found"
    expired = Attempt.objects.get(pk=late.attempt.pk)
    assert (expired.status, expired.submit_kind) == (AttemptStatus.EXPIRED, SubmitKind.AUTO)
    assert expired.submitted_at == expired.deadline
    after = Attempt.objects.get(pk=finished.attempt.pk)
    assert (after.submitted_at, after.score) == (before.submitted_at, before.score)
    assert Attempt.objects.get(pk=other.attempt.pk).status == AttemptStatus.IN_PROGRESS

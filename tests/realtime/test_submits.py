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


def _race(first, second):
    """Run two callables from two threads (two database connections) released together; their results."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(2)
    results: dict[int, object] = {}

    def run(index, fn):
        try:
            barrier.wait(5)
            results[index] = fn()
        except BaseException as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return results[0], results[1]


def test_a_submit_racing_its_own_last_answer_counts_it_if_it_was_acked(org_a):
    """The answer writer (``realtime.writer.answers_store``, what acks) and the submitter, from two threads at
    the same moment: an answer whose result was an ack is in the score; one refused because the attempt was
    finished is not stored. Several attempts, so both orders occur in practice; the rule holds either way."""
    from contests.models import Answer
    from contests.services.attempts.answers import AnswerItem
    from realtime.writer import answers_store

    people = [CitizenProfileFactory(unit=org_a).user for _ in range(8)]
    exams = [make_exam(org_a, p) for p in people]
    for exam in exams:
        aq = AttemptQuestion.objects.get(attempt=exam.attempt, position=1)
        right = next(int(k) for k, v in aq.key["options"].items() if Decimal(v) > 0)
        item = AnswerItem(attempt_id=exam.attempt.pk, user_id=exam.user.pk, position=1,
                          response={"options": [right]}, client_seq=1)
        stored, submitted = _race(
            lambda item=item: answers_store(items=[item], now=timezone.now())[0],
            lambda exam=exam: attempts_submit_batch(
                items=[SubmitRequest(attempt_id=exam.attempt.pk, user_id=exam.user.pk, seq=2)], now=timezone.now())[0])
        assert not isinstance(stored, BaseException)
        assert not isinstance(submitted, BaseException)
        assert submitted["type"] == events.ATTEMPT_SUBMITTED
        done = Attempt.objects.get(pk=exam.attempt.pk)
        if stored.error is None:  # acknowledged: it counts
            assert stored.status == "stored"
            assert (done.score, done.correct_count) == (Decimal("1"), 1)
            assert Answer.objects.get(attempt=exam.attempt).points_awarded == Decimal("1")
        else:  # refused: the attempt was finished first, nothing stored
            assert stored.error.code == "attempt_closed"
            assert (done.score, done.correct_count) == (Decimal("0"), 0)
            assert not Answer.objects.filter(attempt=exam.attempt).exists()


def test_an_answer_acked_before_the_submit_is_in_the_score(org_a, citizen):
    from contests.services.attempts.answers import AnswerItem
    from realtime.writer import answers_store

    exam = make_exam(org_a, citizen)
    aq = AttemptQuestion.objects.get(attempt=exam.attempt, position=2)
    right = next(int(k) for k, v in aq.key["options"].items() if Decimal(v) > 0)
    now = timezone.now()
    [ack] = answers_store(items=[AnswerItem(attempt_id=exam.attempt.pk, user_id=citizen.pk, position=2,
                                            response={"options": [right]}, client_seq=5)], now=now)
    assert ack.error is None
    [reply] = attempts_submit_batch(items=[SubmitRequest(attempt_id=exam.attempt.pk, user_id=citizen.pk, seq=6)],
                                    now=now)
    assert reply["type"] == events.ATTEMPT_SUBMITTED
    assert Attempt.objects.get(pk=exam.attempt.pk).score == Decimal("1")
    [late] = answers_store(items=[AnswerItem(attempt_id=exam.attempt.pk, user_id=citizen.pk, position=3,
                                             response={"options": [right]}, client_seq=7)], now=now)
    assert late.error is not None
    assert late.error.code == "attempt_closed"


def test_a_failed_finalisation_is_a_typed_error_and_the_others_are_submitted(org_a):
    people = [CitizenProfileFactory(unit=org_a).user for _ in range(2)]
    good, bad = (make_exam(org_a, p) for p in people)
    aq = AttemptQuestion.objects.get(attempt=bad.attempt, position=1)
    option = int(next(iter(aq.key["options"])))
    attempt_answer(attempt_id=bad.attempt.pk, user_id=bad.user.pk, position=1, response={"options": [option]},
                   client_seq=1, now=timezone.now())
    aq.key = {"options": dict.fromkeys(aq.key["options"], "?")}
    aq.save(update_fields=["key"])
    replies = attempts_submit_batch(items=[SubmitRequest(attempt_id=good.attempt.pk, user_id=good.user.pk, seq=3),
                                           SubmitRequest(attempt_id=bad.attempt.pk, user_id=bad.user.pk, seq=4)],
                                    now=timezone.now())
    assert replies[0]["type"] == events.ATTEMPT_SUBMITTED
    assert (replies[1]["type"], replies[1]["code"], replies[1]["seq"]) == ("error", "submit_failed", 4)
    assert Attempt.objects.get(pk=bad.attempt.pk).status == AttemptStatus.IN_PROGRESS

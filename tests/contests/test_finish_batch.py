"""Group-commit finishing (contests.services.attempts.finish): a batch of submits or of expired attempts in one
transaction and one signal; an attempt that fails does not fail the others; a submit racing the sweeper is
scored once. Real PostgreSQL, real threads where there is a race."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from contests import signals
from contests.models import Answer, Attempt, AttemptQuestion, AttemptStatus, SubmitKind
from contests.services.attempts.answers import attempt_answer
from contests.services.attempts.finish import SubmitRequest, attempts_submit_batch, attempts_sweep_expired
from contests.services.attempts.start import attempt_start
from tests.contests.factories import ContestFactory, RoundFactory, bank, register
from tests.factories import CitizenProfileFactory


@pytest.fixture
def finalised():
    """Every ``attempts_finalised`` signal: the list of attempt ids of each (thread-safe)."""
    seen: list[list[int]] = []
    lock = threading.Lock()

    def receiver(sender, attempts, **kwargs):
        with lock:
            seen.append([a.pk for a in attempts])

    signals.attempts_finalised.connect(receiver, dispatch_uid="test_finish_batch")
    yield seen
    signals.attempts_finalised.disconnect(dispatch_uid="test_finish_batch")


def _people_with_attempts(org, n: int, *, now):
    bank(org, 12)
    contest = ContestFactory(organisation=org)
    round_ = RoundFactory(contest=contest, opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(days=1))
    out = []
    for _ in range(n):
        user = CitizenProfileFactory(unit=org).user
        register(user, contest)
        out.append(attempt_start(user=user, round=round_, now=now))
    return out


def _answer(attempt, position: int, *, correct: bool, now, seq: int | None = None):
    aq = AttemptQuestion.objects.get(attempt=attempt, position=position)
    option = next(int(k) for k, v in aq.key["options"].items() if (Decimal(v) == 1) == correct)
    result = attempt_answer(attempt_id=attempt.pk, user_id=attempt.user_id, position=position,
                            response={"options": [option]}, client_seq=seq or position, now=now)
    assert result.ok
    return aq


def _corrupt_key(aq: AttemptQuestion) -> None:
    """A key whose fraction is not a number: grading this question raises (in Python and in SQL alike)."""
    aq.key = {"options": dict.fromkeys(aq.key["options"], "hỏng")}
    aq.save(update_fields=["key"])


@pytest.mark.django_db
@pytest.mark.parametrize("finaliser", ["sql", "python"])
def test_a_failing_attempt_does_not_fail_the_others(org_a, finalised, finaliser, caplog):
    now = timezone.now()
    good, bad, other = _people_with_attempts(org_a, 3, now=now)
    for attempt in (good, bad, other):
        _answer(attempt, 1, correct=True, now=now)
        _answer(attempt, 2, correct=False, now=now)
    _corrupt_key(AttemptQuestion.objects.get(attempt=bad, position=1))
    later = now + dt.timedelta(seconds=30)
    with override_settings(CONTESTS_FINALISE=finaliser):
        outcomes = attempts_submit_batch(requests=[
            SubmitRequest(attempt_id=good.pk, user_id=good.user_id),
            SubmitRequest(attempt_id=bad.pk, user_id=bad.user_id),
            SubmitRequest(attempt_id=other.pk, user_id=other.user_id),
        ], now=later)
    assert [o.failed for o in outcomes] == [False, True, False]
    for attempt in (good, other):
        stored = Attempt.objects.get(pk=attempt.pk)
        assert (stored.status, stored.score, stored.correct_count, stored.submitted_at) == (
            AttemptStatus.SUBMITTED, Decimal("1"), 1, later)
    stored_bad = Attempt.objects.get(pk=bad.pk)
    assert (stored_bad.status, stored_bad.score, stored_bad.submitted_at) == (AttemptStatus.IN_PROGRESS, None, None)
    assert outcomes[1].attempt.status == AttemptStatus.IN_PROGRESS  # the instance was restored too
    assert not Answer.objects.filter(attempt=bad, is_correct__isnull=False).exists()  # nothing of it written
    assert finalised == [[good.pk, other.pk]]  # one signal for the batch, without the failed one
    assert f"finalising attempt {bad.pk} failed" in caplog.text


@pytest.mark.django_db
def test_the_sweeper_finishes_the_others_when_one_fails(org_a, finalised):
    now = timezone.now()
    attempts = _people_with_attempts(org_a, 4, now=now)
    for attempt in attempts:
        _answer(attempt, 1, correct=True, now=now)
    _corrupt_key(AttemptQuestion.objects.get(attempt=attempts[2], position=1))
    sweep_at = attempts[0].deadline + dt.timedelta(minutes=5)
    assert attempts_sweep_expired(now=sweep_at) == 3
    statuses = dict(Attempt.objects.filter(pk__in=[a.pk for a in attempts]).values_list("pk", "status"))
    assert statuses == {a.pk: AttemptStatus.IN_PROGRESS if a is attempts[2] else AttemptStatus.EXPIRED
                        for a in attempts}
    assert sorted(finalised[0]) == sorted(a.pk for a in attempts if a is not attempts[2])
    # Repaired, it is finished by the next sweep, scored once.
    aq = AttemptQuestion.objects.get(attempt=attempts[2], position=1)
    aq.key = Attempt.objects.get(pk=attempts[0].pk).questions.get(position=1).key
    aq.save(update_fields=["key"])
    assert attempts_sweep_expired(now=sweep_at) == 1
    assert finalised[1] == [attempts[2].pk]


@pytest.mark.django_db
def test_a_batch_is_one_signal_and_idempotent(org_a, finalised):
    now = timezone.now()
    first, second = _people_with_attempts(org_a, 2, now=now)
    _answer(first, 1, correct=True, now=now)
    requests = [SubmitRequest(attempt_id=first.pk, user_id=first.user_id),
                SubmitRequest(attempt_id=second.pk, user_id=first.user_id),  # not theirs
                SubmitRequest(attempt_id=first.pk, user_id=first.user_id)]  # twice in one batch
    outcomes = attempts_submit_batch(requests=requests, now=now + dt.timedelta(seconds=5))
    assert [o.attempt.pk if o.attempt else None for o in outcomes] == [first.pk, None, first.pk]
    assert finalised == [[first.pk]]
    again = attempts_submit_batch(requests=requests[:1], now=now + dt.timedelta(seconds=50))
    assert again[0].attempt.submitted_at == now + dt.timedelta(seconds=5)  # unchanged
    assert finalised == [[first.pk]]  # nothing finished again, nothing announced again
    assert Attempt.objects.get(pk=second.pk).status == AttemptStatus.IN_PROGRESS


@pytest.mark.django_db(transaction=True)
def test_a_submit_racing_the_sweeper_is_scored_once(org_a, finalised):
    """Client submits and the sweeper on the same expired attempts, started together from two threads (two
    database connections), many times: each attempt is finished and announced exactly once, at its deadline."""
    now = timezone.now()
    attempts = _people_with_attempts(org_a, 12, now=now)
    for attempt in attempts:
        _answer(attempt, 1, correct=True, now=now)
        _answer(attempt, 3, correct=True, now=now)
    sweep_at = now + dt.timedelta(minutes=1)  # before the attempts' own deadlines: only a moved one is swept
    errors: list[BaseException] = []

    def run(fn):
        try:
            start.wait(5)
            fn()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    for chunk in (attempts[0:4], attempts[4:8], attempts[8:12]):
        Attempt.objects.filter(pk__in=[a.pk for a in chunk]).update(deadline=now - dt.timedelta(minutes=5))
        start = threading.Barrier(2)
        submit = threading.Thread(target=run, args=(lambda c=chunk: attempts_submit_batch(
            requests=[SubmitRequest(attempt_id=a.pk, user_id=a.user_id) for a in c], now=sweep_at),))
        sweep = threading.Thread(target=run, args=(lambda: attempts_sweep_expired(now=sweep_at),))
        submit.start()
        sweep.start()
        submit.join(20)
        sweep.join(20)
    assert not errors
    announced = [pk for batch in finalised for pk in batch]
    assert sorted(announced) == sorted(a.pk for a in attempts)  # each exactly once
    for stored in Attempt.objects.filter(pk__in=[a.pk for a in attempts]):
        assert (stored.status, stored.submit_kind, stored.submitted_at) == (
            AttemptStatus.EXPIRED, SubmitKind.AUTO, stored.deadline)
        assert (stored.score, stored.correct_count) == (Decimal("2"), 2)


@pytest.mark.django_db
def test_a_batch_costs_the_same_queries_whatever_its_size(org_a):
    """Lock, rounds, the question-type check, one scoring statement: nothing per attempt."""
    from django.test.utils import CaptureQueriesContext

    now = timezone.now()
    attempts = _people_with_attempts(org_a, 8, now=now)
    for attempt in attempts:
        _answer(attempt, 1, correct=True, now=now)

    def queries(batch) -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            outcomes = attempts_submit_batch(
                requests=[SubmitRequest(attempt_id=a.pk, user_id=a.user_id) for a in batch], now=now)
        assert all(o.attempt.status == AttemptStatus.SUBMITTED for o in outcomes)
        return [q["sql"].split()[0] for q in ctx.captured_queries]

    small, large = queries(attempts[:2]), queries(attempts[2:])
    assert small == large
    assert len(small) <= 9  # savepoints, lock, rounds, type check, SET LOCAL jit, the statement

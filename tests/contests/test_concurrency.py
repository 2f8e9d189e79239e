"""Races between real database connections (threads, committed data)."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from contests.models import Attempt, AttemptStatus
from contests.services.attempts.answers import attempt_answer
from contests.services.attempts.finish import attempt_submit
from contests.services.attempts.start import attempt_start
from tests.contests.test_attempts import correct_option

pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(target):
    errors_seen = []

    def run():
        try:
            target()
        except Exception as exc:  # reported to the test
            errors_seen.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors_seen


def test_concurrent_starts_make_one_attempt(citizen, registration, round_, now):
    barrier = threading.Barrier(4)
    started = []

    def start():
        barrier.wait(5)
        started.append(attempt_start(user=citizen, round=round_, now=now).pk)

    threads = [in_thread(start) for _ in range(4)]
    for thread, errs in threads:
        thread.join(20)
        assert errs == []
    assert len(set(started)) == 1
    assert Attempt.objects.filter(round=round_).count() == 1


def test_submit_waits_for_an_answer_batch_in_flight(citizen, registration, round_, now):
    """An answer acknowledged (its batch committed) is always in the score, even if submit ran meanwhile."""
    attempt = attempt_start(user=citizen, round=round_, now=now)
    q = attempt.questions.get(position=1)
    stored, release = threading.Event(), threading.Event()
    submitted = []

    def answer_batch_in_flight():
        with transaction.atomic():  # the batch's own transaction, held open until released
            attempt_answer(attempt_id=attempt.pk, user_id=citizen.pk, position=1,
                           response={"options": [correct_option(q)]}, client_seq=1, now=now)
            stored.set()
            release.wait(10)

    def submit():
        submitted.append(attempt_submit(attempt=attempt, now=now + dt.timedelta(seconds=20)))

    writer, writer_errors = in_thread(answer_batch_in_flight)
    assert stored.wait(5)
    submitter, submit_errors = in_thread(submit)
    submitter.join(0.5)
    assert submitter.is_alive(), "submit must wait for the attempt row lock held by the answer batch"
    release.set()
    writer.join(10)
    submitter.join(10)
    assert writer_errors == []
    assert submit_errors == []
    assert submitted[0].status == AttemptStatus.SUBMITTED
    assert submitted[0].score == Decimal("1")

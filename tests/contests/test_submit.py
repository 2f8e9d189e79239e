"""Submit (idempotent), automatic submit by the sweeper, reads that report an expired attempt without
finishing it, broadcasts after commit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from contests.models import Attempt, AttemptStatus, SubmitKind
from contests.selectors import attempt_get_for_user, attempt_status_at
from contests.services.attempts.answers import attempt_answer
from contests.services.attempts.finish import attempt_submit, attempts_sweep_expired
from contests.services.attempts.start import attempt_start
from tests.contests.test_attempts import correct_option

pytestmark = pytest.mark.django_db


def test_submit_twice_is_safe(citizen, registration, round_, now, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr("realtime.events.group_push_many_now_unsafe",
                        lambda messages: sent.extend(payload for _, payload in messages))
    attempt = attempt_start(user=citizen, round=round_, now=now)
    q = attempt.questions.get(position=1)
    attempt_answer(attempt_id=attempt.pk, user_id=citizen.pk, position=1, response={"options": [correct_option(q)]},
                   client_seq=1, now=now)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = attempt_submit(attempt=attempt, now=now + dt.timedelta(seconds=42))
    assert callbacks
    assert len(sent) == 1
    assert sent[0]["type"] == "attempt.submitted"
    assert "correct" not in str(sent[0])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = attempt_submit(attempt=attempt, now=now + dt.timedelta(seconds=90))
    assert callbacks == []  # nothing changed, nothing broadcast
    assert second.submitted_at == first.submitted_at == now + dt.timedelta(seconds=42)
    assert second.score == first.score == Decimal("1")
    assert second.duration_ms == 42_000


def test_no_broadcast_when_the_transaction_rolls_back(citizen, registration, round_, now, monkeypatch):
    from django.db import transaction

    sent = []
    monkeypatch.setattr("realtime.events.group_push_many_now_unsafe",
                        lambda messages: sent.extend(payload for _, payload in messages))
    attempt = attempt_start(user=citizen, round=round_, now=now)
    def submit_then_fail():
        with transaction.atomic():
            attempt_submit(attempt=attempt, now=now)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        submit_then_fail()
    assert sent == []
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.IN_PROGRESS


def test_sweeper_submits_with_the_deadline_as_finish_time(citizen, registration, round_, now):
    attempt = attempt_start(user=citizen, round=round_, now=now)
    q = attempt.questions.get(position=2)
    attempt_answer(attempt_id=attempt.pk, user_id=citizen.pk, position=2, response={"options": [correct_option(q)]},
                   client_seq=1, now=now + dt.timedelta(minutes=1))
    # Within the grace period nothing is swept: a last answer may still be on its way.
    assert attempts_sweep_expired(now=attempt.deadline + dt.timedelta(seconds=4)) == 0
    sweep_time = attempt.deadline + dt.timedelta(minutes=7)
    assert attempts_sweep_expired(now=sweep_time) == 1
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.EXPIRED
    assert attempt.submit_kind == SubmitKind.AUTO
    assert attempt.submitted_at == attempt.deadline
    assert attempt.duration_ms == 900_000
    assert attempt.score == Decimal("1")
    assert attempts_sweep_expired(now=sweep_time) == 0


@pytest.mark.django_db(transaction=True)
def test_sweeper_skips_rows_locked_by_another_transaction(citizen, registration, round_, now):
    """SKIP LOCKED: a row held by a live answer batch (another connection) is left for the next sweep."""
    import threading

    from django.db import connection, transaction

    attempt = attempt_start(user=citizen, round=round_, now=now)
    later = attempt.deadline + dt.timedelta(minutes=1)
    held, release = threading.Event(), threading.Event()

    def hold_lock():
        try:
            with transaction.atomic():
                Attempt.objects.select_for_update().get(pk=attempt.pk)
                held.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=hold_lock)
    thread.start()
    try:
        assert held.wait(5)
        assert attempts_sweep_expired(now=later) == 0
    finally:
        release.set()
        thread.join()
    assert attempts_sweep_expired(now=later) == 1
    assert Attempt.objects.get(pk=attempt.pk).submitted_at == attempt.deadline


def test_a_read_reports_an_expired_attempt_without_writing(citizen, registration, round_, now):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    attempt = attempt_start(user=citizen, round=round_, now=now)
    later = attempt.deadline + dt.timedelta(seconds=30)
    with CaptureQueriesContext(connection) as queries:
        read = attempt_get_for_user(attempt_id=attempt.pk, user_id=citizen.pk)
        status = attempt_status_at(attempt=read, now=later)
    assert status == AttemptStatus.EXPIRED
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["SELECT"]
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.IN_PROGRESS
    # Within the grace the attempt is still in progress; a finished one keeps its stored status.
    assert attempt_status_at(attempt=read, now=attempt.deadline) == AttemptStatus.IN_PROGRESS
    done = attempt_submit(attempt=attempt, now=now + dt.timedelta(seconds=5))
    assert attempt_status_at(attempt=done, now=later) == AttemptStatus.SUBMITTED


def test_the_writer_path_and_the_sweeper_finish_what_a_read_reported_expired(citizen, registration, round_, now):
    from contests.services.attempts.finish import attempt_finalise_if_expired

    first = attempt_start(user=citizen, round=round_, now=now)
    later = first.deadline + dt.timedelta(seconds=30)
    read = attempt_get_for_user(attempt_id=first.pk, user_id=citizen.pk)
    assert attempt_status_at(attempt=read, now=later) == AttemptStatus.EXPIRED
    finished = attempt_finalise_if_expired(attempt=read, now=later)
    assert finished.status == AttemptStatus.EXPIRED
    assert finished.submitted_at == first.deadline
    assert Attempt.objects.get(pk=first.pk).status == AttemptStatus.EXPIRED

    second = attempt_start(user=citizen, round=round_, now=now + dt.timedelta(hours=1))
    later = second.deadline + dt.timedelta(seconds=30)
    assert attempt_status_at(attempt=attempt_get_for_user(attempt_id=second.pk, user_id=citizen.pk),
                             now=later) == AttemptStatus.EXPIRED
    assert attempts_sweep_expired(now=later) == 1
    swept = Attempt.objects.get(pk=second.pk)
    assert swept.status == AttemptStatus.EXPIRED
    assert swept.submitted_at == second.deadline


def test_client_submit_after_grace_counts_as_automatic(citizen, registration, round_, now):
    attempt = attempt_start(user=citizen, round=round_, now=now)
    done = attempt_submit(attempt=attempt, now=attempt.deadline + dt.timedelta(seconds=3))
    assert done.status == AttemptStatus.SUBMITTED
    assert done.submitted_at == attempt.deadline
    other = attempt_start(user=citizen, round=round_, now=now + dt.timedelta(hours=1))
    late = attempt_submit(attempt=other, now=other.deadline + dt.timedelta(minutes=1))
    assert late.status == AttemptStatus.EXPIRED
    assert late.submitted_at == other.deadline


def test_periodic_job_is_registered():
    from contest_engine.periodic import periodic_jobs

    jobs = {job.name: job for job in periodic_jobs()}
    job = jobs["contests.jobs.sweep_expired_attempts"]
    assert job.every_seconds == 2


def test_the_sweeper_broadcasts_a_batch_in_one_hop(round_, now, django_capture_on_commit_callbacks, monkeypatch):
    """Three expired attempts finalised together: two after-commit callbacks (not two per attempt), one
    call that pushes ``attempt.submitted`` to each attempt's group, one leaderboard signal with all three."""
    from realtime.events import attempts_submitted
    from tests.contests.factories import register
    from tests.factories import CitizenProfileFactory

    calls, signalled = [], []
    monkeypatch.setattr("realtime.events.group_push_many_now_unsafe", lambda messages: calls.append(list(messages)))

    def receiver(sender, attempts, **kwargs):
        signalled.append([a.pk for a in attempts])

    attempts_submitted.connect(receiver, dispatch_uid="test_the_sweeper_broadcasts_a_batch_in_one_hop")
    try:
        started = []
        for _ in range(3):
            user = CitizenProfileFactory().user
            register(user, round_.contest)
            started.append(attempt_start(user=user, round=round_, now=now))
        late = max(a.deadline for a in started) + dt.timedelta(minutes=5)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert attempts_sweep_expired(now=late) == 3
    finally:
        attempts_submitted.disconnect(dispatch_uid="test_the_sweeper_broadcasts_a_batch_in_one_hop")
    assert len(callbacks) == 2
    assert len(calls) == 1
    assert sorted(group for group, _ in calls[0]) == sorted(f"attempt.{a.pk}" for a in started)
    assert {payload["type"] for _, payload in calls[0]} == {"attempt.submitted"}
    assert [sorted(pks) for pks in signalled] == [sorted(a.pk for a in started)]

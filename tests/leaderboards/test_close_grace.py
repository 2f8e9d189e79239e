"""Closing a round inside its network grace (issue 20, point 6): nothing that can still be accepted is left out
of the official ranking or of the prediction target.

A round closes at C with a 5 s grace: an attempt whose deadline is C may still send answers and its submit
until C + 5 s. Closing at C + 2 s used to count the target without it (1 instead of 2) and leave the submit it
then accepted at C + 3 s out of the ranking for good.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction

from contests import errors as contest_errors
from contests.models import Attempt, AttemptStatus, SubmitKind
from contests.services.attempts.answers import attempt_answer
from contests.services.attempts.finish import attempt_submit
from contests.services.attempts.start import attempt_start
from contests.services.contests import round_close as contests_round_close
from leaderboards import errors
from leaderboards.services.ranking import round_close
from tests.contests.factories import ContestFactory, RoundFactory, bank, register
from tests.contests.test_attempts import correct_option
from tests.factories import CitizenProfileFactory

C = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)  # the round's close
GRACE = dt.timedelta(seconds=5)


@pytest.fixture
def closing_round(org_a):
    bank(org_a, 8)
    contest = ContestFactory(organisation=org_a, prediction_target_kind="perfect_attempts", grace_seconds=5,
                             time_limit_seconds=900)
    return RoundFactory(contest=contest, opens_at=C - dt.timedelta(days=1), closes_at=C)


def perfect_attempt(round_, org, *, started: dt.datetime, submit_at: dt.datetime | None) -> Attempt:
    """Every question answered correctly (at ``started`` + 1 s…); submitted at ``submit_at`` unless None."""
    user = CitizenProfileFactory(unit=org).user
    register(user, round_.contest)
    attempt = attempt_start(user=user, round=round_, now=started)
    for seq, question in enumerate(attempt.questions.order_by("position"), start=1):
        stored = attempt_answer(attempt_id=attempt.pk, user_id=user.pk, position=question.position,
                                response={"options": [correct_option(question)]}, client_seq=seq,
                                now=started + dt.timedelta(seconds=seq))
        assert stored.status == "stored", stored.error
    if submit_at is not None:
        attempt = attempt_submit(attempt=attempt, now=submit_at)
    return attempt


@pytest.mark.django_db
def test_a_close_inside_the_grace_waits_and_a_submit_accepted_in_the_grace_is_ranked(closing_round, org_a):
    early = perfect_attempt(closing_round, org_a, started=C - dt.timedelta(minutes=30),
                            submit_at=C - dt.timedelta(minutes=20))
    # Started 10 minutes before the close: its deadline is capped by the close, C.
    late = perfect_attempt(closing_round, org_a, started=C - dt.timedelta(minutes=10), submit_at=None)
    assert late.deadline == C

    with pytest.raises(errors.RoundNotClosed, match="bù trễ mạng"):
        round_close(round=closing_round, now=C + dt.timedelta(seconds=2))
    with pytest.raises(contest_errors.RoundStillAccepting):
        contests_round_close(round=closing_round, now=C + GRACE)  # the grace's last instant still accepts
    closing_round.refresh_from_db()
    assert closing_round.closed_at is None
    assert closing_round.prediction_target_value is None

    # The client's submit, sent at the deadline, arrives in the grace: accepted as the client's.
    late = attempt_submit(attempt=late, now=C + dt.timedelta(seconds=3))
    assert (late.status, late.submit_kind, late.submitted_at) == (AttemptStatus.SUBMITTED, SubmitKind.CLIENT, C)

    ranking = round_close(round=closing_round, now=C + GRACE + dt.timedelta(milliseconds=1))
    assert ranking.prediction_target_value == 2
    assert sorted(ranking.entries.values_list("attempt_id", flat=True)) == sorted([early.pk, late.pk])
    closing_round.refresh_from_db()
    assert closing_round.prediction_target_value == 2


@pytest.mark.django_db
def test_an_attempt_nobody_submits_is_finished_by_the_close_and_counted(closing_round, org_a):
    perfect_attempt(closing_round, org_a, started=C - dt.timedelta(minutes=30), submit_at=C - dt.timedelta(minutes=20))
    offline = perfect_attempt(closing_round, org_a, started=C - dt.timedelta(minutes=10), submit_at=None)
    ranking = round_close(round=closing_round, now=C + dt.timedelta(seconds=6))
    offline.refresh_from_db()
    assert (offline.status, offline.submitted_at) == (AttemptStatus.EXPIRED, C)
    assert ranking.prediction_target_value == 2
    assert ranking.entries.filter(attempt=offline).exists()


@pytest.mark.django_db(transaction=True)
def test_the_close_waits_for_an_answer_batch_holding_an_attempt_and_counts_its_answer(closing_round, org_a):
    """The sweep skips rows a live answer batch holds (SKIP LOCKED); the close must not: it waits for the batch
    to commit and then finishes the attempt with that answer in its score and in the target."""
    perfect_attempt(closing_round, org_a, started=C - dt.timedelta(minutes=30), submit_at=C - dt.timedelta(minutes=20))
    late = perfect_attempt(closing_round, org_a, started=C - dt.timedelta(minutes=10), submit_at=None)
    last = late.questions.order_by("position").last()
    # Its last answer is still missing: a batch holding the row stores it as the grace ends.
    late.answers.filter(attempt_question=last).delete()
    holding = threading.Event()

    def answer_batch() -> None:
        try:
            with transaction.atomic():
                Attempt.objects.select_for_update(no_key=True).get(pk=late.pk)
                holding.set()
                time.sleep(1.5)  # the close starts meanwhile
                stored = attempt_answer(attempt_id=late.pk, user_id=late.user_id, position=last.position,
                                        response={"options": [correct_option(last)]}, client_seq=99,
                                        now=C + dt.timedelta(seconds=4))
                assert stored.status == "stored", stored.error
        finally:
            connection.close()

    batch = threading.Thread(target=answer_batch)
    batch.start()
    assert holding.wait(10)
    ranking = round_close(round=closing_round, now=C + dt.timedelta(seconds=6))
    batch.join(10)
    late.refresh_from_db()
    assert late.status == AttemptStatus.EXPIRED
    assert late.correct_count == late.question_count  # the answer the batch committed counts
    assert ranking.prediction_target_value == 2
    assert ranking.entries.filter(attempt=late).exists()

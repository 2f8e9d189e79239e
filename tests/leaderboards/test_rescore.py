"""A reviewer corrects a question's key: attempts that drew it are rescored from their answers, the live
board is rebuilt, and an organiser's recompute of the official ranking shows what changed (audited)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import AuditEvent
from contests.models import Attempt, AttemptQuestion
from contests.services.attempts.answers import attempt_answer
from contests.services.attempts.finish import attempt_submit
from contests.services.attempts.start import attempt_start
from leaderboards.services import live
from leaderboards.services.ranking import ranking_compute, round_close
from leaderboards.tasks import rescore_question_task
from questionbank.services.review import question_correct
from tests.contests.factories import ContestFactory, RoundFactory, bank, register
from tests.contests.test_attempts import correct_option, wrong_option
from tests.factories import CitizenProfileFactory, make_staff

pytestmark = pytest.mark.django_db


def test_correction_rescores_and_recompute_shows_the_diff(memory_lb, org_a, django_capture_on_commit_callbacks):
    questions = bank(org_a, 5)
    now = timezone.now()
    contest = ContestFactory(organisation=org_a, prediction_enabled=False, max_attempts=1)
    round = RoundFactory(contest=contest, opens_at=now - dt.timedelta(hours=2), closes_at=now - dt.timedelta(minutes=1))
    citizens = [CitizenProfileFactory(unit=org_a).user for _ in range(2)]
    attempts = []
    start = now - dt.timedelta(hours=1)
    for index, user in enumerate(citizens):
        register(user, contest)
        attempt = attempt_start(user=user, round=round, now=start)
        for aq in AttemptQuestion.objects.filter(attempt=attempt):
            # citizen 0 answers the question at position 1 "wrong" (per the old key), citizen 1 right
            right = aq.position != 1 or index == 1
            attempt_answer(attempt_id=attempt.pk, user_id=user.pk, position=aq.position, client_seq=aq.position,
                           response={"options": [correct_option(aq) if right else wrong_option(aq)]}, now=start)
        attempts.append(attempt_submit(attempt=attempt, now=start + dt.timedelta(seconds=60 + index)))
    assert [a.score for a in attempts] == [4, 5]
    organiser = make_staff(org_a, "organiser")
    first = round_close(round=round, actor=organiser)
    assert [e.user_id for e in first.entries.order_by("position")] == [citizens[1].pk, citizens[0].pk]

    # The key was wrong: the option citizen 0 chose for "position 1" is the right one.
    aq0 = AttemptQuestion.objects.get(attempt=attempts[0], position=1)
    chosen = wrong_option(aq0)
    question = next(q for q in questions if q.pk == aq0.question_id)
    fractions = {int(k): ("1" if int(k) == chosen else "0") for k in aq0.key["options"]}
    reviewer = make_staff(org_a, "reviewer")
    with django_capture_on_commit_callbacks(execute=True):
        question_correct(question=question, actor=reviewer, reason="Sai đáp án", fractions=fractions)
    queued = DBTaskResult.objects.get(task_path="leaderboards.tasks.rescore_question_task")
    assert queued.args_kwargs["kwargs"] == {"question_id": question.pk, "actor_id": reviewer.pk}
    with django_capture_on_commit_callbacks(execute=True):  # what the worker does
        rescore_question_task.call(**queued.args_kwargs["kwargs"])

    rescored = {a.pk: a.score for a in Attempt.objects.filter(pk__in=[a.pk for a in attempts])}
    # The bank has exactly the 5 drawn questions: citizen 1 drew the corrected one too and chose the old key.
    assert (rescored[attempts[0].pk], rescored[attempts[1].pk]) == (5, 4)
    assert AuditEvent.objects.filter(action="leaderboards.attempts_rescored").exists()
    top = live.leaderboard_top(round=round)
    assert [r.user_id for r in top] == [citizens[0].pk, citizens[1].pk]

    second = ranking_compute(round=round, actor=organiser)
    assert second.version == 2
    changes = {row["user_id"]: (row["old_rank"], row["new_rank"]) for row in second.diff["rows"]}
    assert changes == {citizens[0].pk: (2, 1), citizens[1].pk: (1, 2)}

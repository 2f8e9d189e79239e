from __future__ import annotations

import pytest

from tests.exports.factories import results_round
from tests.factories import make_staff


@pytest.fixture
def judge_a(org_a):
    return make_staff(org_a, "judge")


@pytest.fixture
def judge_a2(org_a):
    return make_staff(org_a, "judge")


@pytest.fixture
def judge_a3(org_a):
    return make_staff(org_a, "judge")


@pytest.fixture
def results(org_a):
    return results_round(org_a)


@pytest.fixture
def ranking(results):
    from leaderboards.services.ranking import ranking_compute

    return ranking_compute(round=results.round, prize_places=2)


ESSAY = "Theo Hiến pháp 2013, quyền con người được bảo đảm..."


@pytest.fixture
def graded_round(results, org_a):
    """``results`` with a 5-point essay on every attempt, queued for grading; returns the assignments in
    attempt order."""
    import datetime as dt
    from decimal import Decimal

    from contests.models import Answer, AttemptQuestion
    from judging.models import EssayAssignment
    from judging.services.essays import essay_assignments_create
    from tests.contests.factories import QuestionFactory

    question = QuestionFactory(organisation=org_a, type="essay", stem="<p>Trình bày quyền con người.</p>")
    for attempt in results.attempts:
        aq = AttemptQuestion.objects.create(attempt=attempt, position=4, question=question, points=Decimal(5),
                                            snapshot={"type": "essay", "stem": question.stem}, key={},
                                            shown_at=attempt.started_at)
        Answer.objects.create(attempt=attempt, attempt_question=aq, response={"text": ESSAY}, client_seq=9,
                              received_at=attempt.started_at + dt.timedelta(seconds=60), is_correct=None,
                              points_awarded=Decimal(0))
    essay_assignments_create(round=results.round)
    return list(EssayAssignment.objects.filter(round=results.round).order_by("attempt_id"))


def grade_all(assignments, judges, marks):
    """Two judges give each assignment the same mark (final = that mark)."""
    from judging.services.essays import essay_grade_submit

    for assignment, mark in zip(assignments, marks, strict=True):
        for judge in judges:
            essay_grade_submit(assignment=assignment, grader=judge, mark=mark)


def take_to_published(ranking, judge, organiser, *, without_prizes=True):
    from judging.services.approval import ranking_approve, ranking_propose, ranking_publish

    ranking_propose(actor=judge, ranking=ranking)
    ranking_approve(actor=organiser, ranking=ranking)
    return ranking_publish(actor=organiser, ranking=ranking, without_prizes=without_prizes)

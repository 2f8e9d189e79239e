"""Item statistics checked against values computed by hand (worked in the comments) on six attempts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from contests.models import Answer, Attempt, AttemptQuestion, AttemptStatus, Registration
from contests.statistics import question_item_statistics, round_test_statistics
from tests.contests.factories import RoundFactory
from tests.factories import UserFactory
from tests.questionbank.factories import make_question

pytestmark = pytest.mark.django_db

# Marks of q1, q2, q3 (1 point each) in attempts A1..A6; totals T = 3, 2, 1, 1, 0, 1.
MARKS = [(1, 1, 1), (1, 1, 0), (1, 0, 0), (0, 1, 0), (0, 0, 0), (0, 0, 1)]


@pytest.fixture
def data(org_a):
    rnd = RoundFactory(contest__organisation=org_a)
    questions = [make_question(org_a) for _ in range(3)]
    q1_options = list(questions[0].options.order_by("position"))
    # q1 responses: A1–A3 pick the right option, A4–A5 the first wrong one, A6 does not answer q1.
    q1_choice = [q1_options[0].pk] * 3 + [q1_options[1].pk] * 2 + [None]
    now = timezone.now()
    attempts = []
    for i, marks in enumerate(MARKS):
        user = UserFactory()
        reg = Registration.objects.create(user=user, contest=rnd.contest, unit=org_a, full_name=user.full_name)
        attempt = Attempt.objects.create(round=rnd, registration=reg, user=user, unit=org_a, number=1,
                                         status=AttemptStatus.SUBMITTED, started_at=now - dt.timedelta(minutes=5),
                                         deadline=now + dt.timedelta(minutes=10), submitted_at=now,
                                         score=Decimal(sum(marks)), question_count=3)
        attempts.append(attempt)
        for pos, (question, mark) in enumerate(zip(questions, marks, strict=True)):
            aq = AttemptQuestion.objects.create(attempt=attempt, position=pos, question=question,
                                                snapshot={"type": "single", "stem": question.stem}, key={},
                                                points=Decimal(1))
            if pos == 0 and q1_choice[i] is None:
                continue
            chosen = q1_choice[i] if pos == 0 else None
            Answer.objects.create(attempt=attempt, attempt_question=aq, client_seq=1, received_at=now,
                                  response={"options": [chosen] if chosen else []}, is_correct=bool(mark),
                                  points_awarded=Decimal(mark))
    # An unfinished attempt never counts.
    user = UserFactory()
    reg = Registration.objects.create(user=user, contest=rnd.contest, unit=org_a, full_name=user.full_name)
    live = Attempt.objects.create(round=rnd, registration=reg, user=user, unit=org_a, number=1,
                                  started_at=now, deadline=now + dt.timedelta(minutes=10))
    AttemptQuestion.objects.create(attempt=live, position=0, question=questions[0], snapshot={"type": "single"},
                                   key={}, points=Decimal(1))
    return rnd, questions, q1_options


def test_item_statistics_match_hand_computation(data):
    rnd, (q1, q2, q3), q1_options = data
    stats = {s.question_id: s for s in question_item_statistics(round_id=rnd.pk)}
    s1, s2, s3 = stats[q1.pk], stats[q2.pk], stats[q3.pk]
    assert (s1.times_drawn, s2.times_drawn, s3.times_drawn) == (6, 6, 6)

    # q1: x = 1,1,1,0,0,0 → facility 0.5; SD = sqrt(1.5/5) = 0.547723.
    # rest R = T − x = 2,1,0,1,0,1 (mean 5/6): Σdx·dR = 0.5, Σdx² = 1.5, ΣdR² = 2.8333
    # → r = 0.5 / sqrt(1.5 × 2.8333) = 0.242536 → discrimination index 24.25.
    assert s1.facility == pytest.approx(0.5)
    assert s1.sd == pytest.approx(0.547723, abs=1e-6)
    assert s1.discrimination_index == pytest.approx(24.253563, abs=1e-6)
    # Discriminative efficiency against the rest of the test (as Moodle): the largest Σdx·dR the same marks
    # allow pairs x sorted (0,0,0,1,1,1) with R sorted (0,0,1,1,1,2): (−½)(−5/6−5/6+1/6) + (½)(1/6+1/6+7/6)
    # = 1.5 → 100 × 0.5 / 1.5 = 33.33 %.
    assert s1.discriminative_efficiency == pytest.approx(100 / 3, abs=1e-9)
    # Upper/lower 27 % of 6 → 2 attempts each. By T desc (ties by attempt id): A1, A2 | … | A6, A5.
    # q1 in upper = 1, 1; lower = 0, 0 → D = 1.
    assert s1.discrimination_27 == pytest.approx(1.0)

    # q3: x = 1,0,0,0,0,1, T = 3,2,1,1,0,1. R = 2,2,1,1,0,0 (mean 1): Σdx·dR = 0 → index 0, and the
    # efficiency 0 too (against the whole test, which counts q3 itself, it was a flattering 57.14 %).
    assert s3.facility == pytest.approx(1 / 3)
    assert s3.discrimination_index == pytest.approx(0.0, abs=1e-9)
    assert s3.discriminative_efficiency == pytest.approx(0.0, abs=1e-9)
    # Upper A1, A2 → 1, 0 (0.5); lower A6, A5 → 1, 0 (0.5) → D = 0.
    assert s3.discrimination_27 == pytest.approx(0.0)

    # Option distribution of q1: right option 3, first wrong 2, others 0; A6 did not answer.
    assert [(o.option_id, o.count) for o in s1.options] == [(q1_options[0].pk, 3), (q1_options[1].pk, 2),
                                                             (q1_options[2].pk, 0), (q1_options[3].pk, 0)]
    assert s1.unanswered == 1


def test_cronbach_alpha_matches_hand_computation(data):
    rnd, _questions, _options = data
    stats = round_test_statistics(round_id=rnd.pk)
    # Item variances (n − 1): 0.3, 0.3, 0.26667 → Σ = 13/15; var(T) = 5.3333/5 = 16/15.
    # α = 3/2 × (1 − 13/16) = 9/32 = 0.28125.
    assert (stats.attempts, stats.slots) == (6, 3)
    assert stats.mean == pytest.approx(8 / 6)
    assert stats.cronbach_alpha == pytest.approx(0.28125)


def test_statistics_by_question_ids_use_whole_attempt_totals(data):
    _rnd, (q1, _q2, _q3), _options = data
    only = question_item_statistics(question_ids=[q1.pk])
    assert [s.question_id for s in only] == [q1.pk]
    # The rest of the test counts q2 and q3 although only q1 was asked for.
    assert only[0].discriminative_efficiency == pytest.approx(100 / 3, abs=1e-9)
    assert question_item_statistics(question_ids=[make_question(q1.organisation).pk]) == []


def test_edit_after_a_real_attempt_leaves_the_attempt_intact(data, org_a):
    """With the contests app's own "used" checker: the attempts keep the version (and key) they drew."""
    from accounts.models import Role
    from questionbank.importers.base import ParsedOption
    from questionbank.models import Question
    from questionbank.services.questions import question_update
    from tests.factories import make_staff

    rnd, (q1, _q2, _q3), q1_options = data
    before = list(AttemptQuestion.objects.filter(question=q1).values_list("id", "question_id", "snapshot"))
    writer = make_staff(org_a, Role.WRITER)
    new = question_update(question=q1, actor=writer, stem="Nội dung đã sửa sau đợt thi",
                                   options=[ParsedOption("Mới đúng", Decimal(1)), ParsedOption("Mới sai")])
    assert new.pk != q1.pk
    assert list(AttemptQuestion.objects.filter(question=q1).values_list("id", "question_id", "snapshot")) == before
    assert list(Question.objects.get(pk=q1.pk).options.order_by("position")) == q1_options
    stats = {s.question_id: s for s in question_item_statistics(round_id=rnd.pk)}
    assert stats[q1.pk].facility == pytest.approx(0.5)
    assert new.pk not in stats

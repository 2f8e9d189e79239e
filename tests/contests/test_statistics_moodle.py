"""Item and test statistics equal Moodle's definitions to 1e-6 (issue 20, points 7–9), checked against an
independent implementation of the formulas of Moodle's "Quiz statistics calculations" (docs.moodle.org/dev),
written here from those definitions in exact rational arithmetic — never against the code's own output.

Notation (Moodle's): xᵢ(s) the mark of item i in attempt s, X(s) the attempt's total, X₋ᵢ(s) = X(s) − xᵢ(s) the
rest of the test; V and C the sample (n − 1) variance and covariance over the attempts that drew item i.

- facility Fᵢ = 100 · mean(xᵢ) / max(xᵢ);  SDᵢ = 100 · √V(xᵢ) / max(xᵢ)
- discrimination index Dᵢ = 100 · C(xᵢ, X₋ᵢ) / √(V(xᵢ) · V(X₋ᵢ))
- discriminative efficiency DEᵢ = 100 · C(xᵢ, X₋ᵢ) / Cmax(xᵢ, X₋ᵢ), Cmax pairing both lists sorted ascending
- test: mean and SD of X; Cronbach's α = k/(k − 1) · (1 − Σ V(x_k) / V(X)) over the k slots

The data are partial-credit multiple-choice answers scored by the engine itself (``attempt_submit`` with
credit fractions), so the marks tested are the stored ones: a one-third credit (0.33333) must be stored
exactly enough for the statistics to agree to 1e-6 (it was stored as 0.333). One item is built to work
against the rest of the test: Moodle's efficiency for it is negative, the whole-test version was positive.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal
from fractions import Fraction

import pytest
from django.utils import timezone

from contests.models import Answer, Attempt, AttemptQuestion, AttemptStatus, Registration
from contests.services.attempts.finish import attempt_submit
from contests.statistics import question_item_statistics, round_statistics, round_test_statistics
from tests.contests.factories import ContestFactory, RoundFactory
from tests.factories import UserFactory
from tests.questionbank.factories import make_question

pytestmark = pytest.mark.django_db

THIRD = Decimal("0.33333")  # how a one-third credit is stored (Moodle writes 0.3333333)
N_ATTEMPTS = 40
POINTS = [Decimal(2), Decimal(1), Decimal("1.5"), Decimal(1)]


# --- the reference: Moodle's definitions, exact ----------------------------------------------------------


def _mean(values):
    return sum(values, Fraction(0)) / len(values)


def _cov(a, b):
    ma, mb = _mean(a), _mean(b)
    return sum(((x - ma) * (y - mb) for x, y in zip(a, b, strict=True)), Fraction(0)) / (len(a) - 1)


def moodle_item(marks: list[list[Fraction]], i: int, max_mark: Fraction) -> dict[str, float | None]:
    x = [m[i] for m in marks]
    rest = [sum(m, Fraction(0)) - m[i] for m in marks]
    var_x, var_rest, cov = _cov(x, x), _cov(rest, rest), _cov(x, rest)
    cov_max = _cov(sorted(x), sorted(rest))
    return {
        "facility": float(100 * _mean(x) / max_mark),
        "sd": 100 * math.sqrt(var_x) / float(max_mark),
        "discrimination_index": float(100 * cov) / math.sqrt(var_x * var_rest) if var_x and var_rest else None,
        "discriminative_efficiency": float(100 * cov / cov_max) if cov_max > 0 else None,
    }


def moodle_test(marks: list[list[Fraction]]) -> dict[str, float]:
    totals = [sum(m, Fraction(0)) for m in marks]
    k = len(marks[0])
    slot_variances = sum((_cov([m[j] for m in marks], [m[j] for m in marks]) for j in range(k)), Fraction(0))
    return {"mean": float(_mean(totals)), "sd": math.sqrt(_cov(totals, totals)),
            "alpha": float(Fraction(k, k - 1) * (1 - slot_variances / _cov(totals, totals)))}


# --- the data: partial-credit answers scored by the engine -----------------------------------------------


def credit(chosen: int) -> Fraction:
    """The engine's credit for ``chosen`` of the three right options (each 0.33333), as Moodle defines it."""
    return min(Fraction(1), chosen * Fraction(THIRD))


@pytest.fixture
def round_with_partial_credit(org_a):
    contest = ContestFactory(organisation=org_a, partial_credit="fractions")
    rnd = RoundFactory(contest=contest)
    questions = [make_question(org_a) for _ in POINTS]
    rng = random.Random(20)
    now = timezone.now()
    expected: list[list[Fraction]] = []
    for n in range(N_ATTEMPTS):
        ability = rng.random()
        # Items 1–3 follow ability; item 0 — all or nothing, mostly chance — leans against it (the weaker do a
        # little better on it): a large variance of its own, a small negative covariance with the rest.
        right = [3 if rng.random() < 0.9 - 0.8 * ability else 0] + [
            min(3, int(ability * 3 + rng.random() * 1.5)) for _ in POINTS[1:]]
        user = UserFactory()
        reg = Registration.objects.create(user=user, contest=contest, unit=org_a, full_name=user.full_name)
        attempt = Attempt.objects.create(round=rnd, registration=reg, user=user, unit=org_a, number=1,
                                         started_at=now - dt.timedelta(minutes=5),
                                         deadline=now + dt.timedelta(minutes=10), question_count=len(POINTS))
        marks = []
        for position, (question, points, chosen) in enumerate(zip(questions, POINTS, right, strict=True), start=1):
            # Options 1–3 are right (one third each), 4 is wrong (no credit).
            key = {"options": {"1": str(THIRD), "2": str(THIRD), "3": str(THIRD), "4": "0"}}
            aq = AttemptQuestion.objects.create(attempt=attempt, position=position, question=question,
                                                snapshot={"type": "multiple"}, key=key, points=points)
            if chosen or n % 7 == 0:  # now and then a wrong option only: 0 credit, but answered
                Answer.objects.create(attempt=attempt, attempt_question=aq, client_seq=position, received_at=now,
                                      response={"options": list(range(1, chosen + 1)) or [4]})
            marks.append(Fraction(points) * credit(chosen))
        attempt_submit(attempt=attempt, now=now)
        expected.append(marks)
    return rnd, questions, expected


def test_stored_marks_are_exact_points_times_credit(round_with_partial_credit):
    rnd, _questions, expected = round_with_partial_credit
    stored = {(a.attempt_question.attempt_id, a.attempt_question.position): a.points_awarded
              for a in Answer.objects.filter(attempt__round=rnd).select_related("attempt_question")}
    attempts = list(Attempt.objects.filter(round=rnd).order_by("pk"))
    for attempt, marks in zip(attempts, expected, strict=True):
        for position, mark in enumerate(marks, start=1):
            if (attempt.pk, position) in stored:
                assert Fraction(stored[attempt.pk, position]) == mark  # 0.33333, never 0.333
    assert any(Fraction(v) == Fraction(THIRD) for v in stored.values())


def test_item_statistics_equal_moodle_definitions(round_with_partial_credit):
    rnd, questions, expected = round_with_partial_credit
    assert Attempt.objects.filter(round=rnd, status=AttemptStatus.SUBMITTED).count() == N_ATTEMPTS
    stats = {s.question_id: s for s in question_item_statistics(round_id=rnd.pk)}
    for i, (question, points) in enumerate(zip(questions, POINTS, strict=True)):
        moodle = moodle_item(expected, i, Fraction(points))
        ours = stats[question.pk]
        assert ours.times_drawn == N_ATTEMPTS
        assert 100 * ours.facility == pytest.approx(moodle["facility"], abs=1e-6)
        assert 100 * ours.sd == pytest.approx(moodle["sd"], abs=1e-6)
        assert ours.discrimination_index == pytest.approx(moodle["discrimination_index"], abs=1e-6)
        assert ours.discriminative_efficiency == pytest.approx(moodle["discriminative_efficiency"], abs=1e-6)
    # The item that works against the rest: Moodle's efficiency is negative (the whole-test one was not).
    against = stats[questions[0].pk]
    assert against.discriminative_efficiency < 0
    x = [m[0] for m in expected]
    totals = [sum(m, Fraction(0)) for m in expected]
    assert _cov(x, totals) > 0  # what the whole-test version divided: it said this item discriminates well


def test_test_statistics_equal_moodle_definitions(round_with_partial_credit):
    rnd, _questions, expected = round_with_partial_credit
    moodle = moodle_test(expected)
    test = round_test_statistics(round_id=rnd.pk)
    assert (test.attempts, test.slots) == (N_ATTEMPTS, len(POINTS))
    assert test.mean == pytest.approx(moodle["mean"], abs=1e-6)
    assert test.sd == pytest.approx(moodle["sd"], abs=1e-6)
    assert test.cronbach_alpha == pytest.approx(moodle["alpha"], abs=1e-6)
    # The one-pass version the page and the workbook use gives the same.
    both = round_statistics(round_id=rnd.pk)
    assert both.test == test
    assert both.items == question_item_statistics(round_id=rnd.pk)

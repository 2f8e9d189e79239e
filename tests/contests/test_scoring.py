"""Scoring strategies and grading (pure functions, no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from contests.scoring import (
    QuestionInput,
    ScoringStrategy,
    get_strategy,
    grade_response,
    register,
    strategy_choices,
)

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
SINGLE_KEY = {"options": {"1": "1", "2": "0", "3": "0"}}
MULTI_KEY = {"options": {"1": "0.5", "2": "0.5", "3": "-0.5"}}


def q(position, response, *, qtype="single", key=SINGLE_KEY, points="1", shown=T0, received=None):
    return QuestionInput(position=position, qtype=qtype, key=key, points=Decimal(points), shown_at=shown,
                         response=response, received_at=received)


@pytest.mark.parametrize(("qtype", "key", "response", "partial", "expected"), [
    ("single", SINGLE_KEY, {"options": [1]}, False, (Decimal(1), True)),
    ("single", SINGLE_KEY, {"options": [2]}, False, (Decimal(0), False)),
    ("single", SINGLE_KEY, {"options": []}, False, (Decimal(0), False)),
    ("single", SINGLE_KEY, None, False, (Decimal(0), False)),
    ("multiple", MULTI_KEY, {"options": [1, 2]}, False, (Decimal(1), True)),
    ("multiple", MULTI_KEY, {"options": [1]}, False, (Decimal(0), False)),
    ("multiple", MULTI_KEY, {"options": [1]}, True, (Decimal("0.5"), False)),
    ("multiple", MULTI_KEY, {"options": [1, 2, 3]}, True, (Decimal("0.5"), False)),
    ("multiple", MULTI_KEY, {"options": [1, 2, 3]}, False, (Decimal(0), False)),
    ("multiple", MULTI_KEY, {"options": [3]}, True, (Decimal(0), False)),
    ("numeric", {"accepted": [{"text": "42", "fraction": "1", "tolerance": "0.5"}]}, {"number": "42,4"}, False,
     (Decimal(1), True)),
    ("numeric", {"accepted": [{"text": "42", "fraction": "1", "tolerance": None}]}, {"number": "43"}, False,
     (Decimal(0), False)),
    ("short", {"accepted": [{"text": "Quốc hội", "fraction": "1"}]}, {"text": "  quốc   HỘI "}, False,
     (Decimal(1), True)),
    ("essay", {}, {"text": "Bài luận"}, False, (Decimal(0), None)),
])
def test_grade_response(qtype, key, response, partial, expected):
    assert grade_response(qtype=qtype, key=key, response=response, partial=partial) == expected


def test_weighted_strategy_uses_question_points():
    result = get_strategy("weighted").score(
        [q(1, {"options": [1]}, points="2"), q(2, {"options": [2]}, points="3"), q(3, None),
         q(4, {"options": [1]}, points="0.5")],
        partial=False, time_limit_seconds=600)
    assert result.score == Decimal("2.500")
    assert result.correct_count == 2
    assert [r.points for r in result.questions] == [Decimal("2.000"), 0, 0, Decimal("0.500")]


def test_weighted_partial_credit_by_fractions():
    result = get_strategy("weighted").score([q(1, {"options": [1]}, qtype="multiple", key=MULTI_KEY, points="4")],
                                            partial=True, time_limit_seconds=600)
    assert result.score == Decimal("2.000")
    assert result.correct_count == 0


def test_speed_strategy_decreases_with_elapsed_time():
    # 4 questions in 80 s: a 20 s window per question.
    items = [
        q(1, {"options": [1]}, points="1000", received=T0),                              # instant: 100 %
        q(2, {"options": [1]}, points="1000", received=T0 + dt.timedelta(seconds=10)),   # half window: 75 %
        q(3, {"options": [1]}, points="1000", received=T0 + dt.timedelta(seconds=60)),   # too late: floor 50 %
        q(4, {"options": [2]}, points="1000", received=T0),                              # wrong: 0
    ]
    result = get_strategy("speed").score(items, partial=False, time_limit_seconds=80)
    assert [r.points for r in result.questions] == [Decimal("1000"), Decimal("750"), Decimal("500"), 0]
    assert result.correct_count == 3
    assert get_strategy("speed").requires_one_at_a_time


def test_registering_a_new_strategy_is_a_new_class():
    @register
    class DoublePoints(ScoringStrategy):
        name = "double-test"
        label = "Gấp đôi"

        def question_points(self, item, fraction, *, time_limit_seconds, question_count):
            return item.points * fraction * 2

    assert get_strategy("double-test").score([q(1, {"options": [1]})], partial=False,
                                             time_limit_seconds=60).score == Decimal("2.000")
    assert ("double-test", "Gấp đôi") in strategy_choices()
    with pytest.raises(KeyError):
        get_strategy("no-such-rule")

"""Scoring of live games, and the contests scoring strategies that recompute it from saved attempts.

One rule per setting (docs/live.md):

- **plain** — 1 point per correct answer (the default for formal contests); saved rounds use the contests'
  ``weighted`` strategy with 1 point per question, which gives the same score;
- **speed** — a correct answer earns 1,000 × (1 − t / T / 2) points, t = server-measured answer time,
  T = the question's time limit: the contests' ``speed`` strategy itself computes it (an instant answer
  1,000, one at the deadline 500), so a saved round rescored after a question correction keeps its scores;
- **speed + streak** — plus 100 points for each correct answer in a row before this one, at most 500
  (Kahoot's answer streak); registered here as the contests strategy ``live_speed_streak``;
- **elimination** (Rung chuông vàng) — the score is the number of the last question passed: a wrong or
  missing answer eliminates, a rescue brings players back; registered as ``live_elimination``.

Grading one response is the contests' ``grade_response`` (all or nothing), so a live game and a saved round
can never disagree on what is correct.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from contests.scoring import (
    ONE,
    Q3,
    ZERO,
    AttemptResult,
    QuestionInput,
    QuestionResult,
    ScoringStrategy,
    SpeedScoring,
    grade_response,
    register,
)

SPEED_MAX_POINTS = Decimal(1000)
STREAK_STEP = Decimal(100)
STREAK_MAX_BONUS = Decimal(500)
_speed = SpeedScoring()
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def answer_is_correct(*, qtype: str, key: dict[str, Any], options: Iterable[int]) -> bool:
    """Whether a chosen set of options is fully correct (the contests' grading, all or nothing)."""
    _fraction, full = grade_response(qtype=qtype, key=key, response={"options": list(options)}, partial=False)
    return bool(full)


def speed_points(*, elapsed_ms: int, limit_seconds: int) -> Decimal:
    """1,000 × (1 − t/T/2) for a correct answer, computed by the contests' speed strategy (the window of one
    question is the time limit T), rounded as it rounds."""
    shown = _EPOCH
    item = QuestionInput(position=1, qtype="single", key={}, points=SPEED_MAX_POINTS, shown_at=shown,
                         response=None, received_at=shown + dt.timedelta(milliseconds=elapsed_ms))
    points = _speed.question_points(item, ONE, time_limit_seconds=limit_seconds, question_count=1)
    return points.quantize(Q3, rounding=ROUND_HALF_UP)


def streak_bonus(streak_before: int) -> Decimal:
    """+100 for each correct answer in a row before this one, at most +500."""
    return min(STREAK_STEP * streak_before, STREAK_MAX_BONUS)


def answer_points(*, scoring: str, with_streak: bool, correct: bool, elapsed_ms: int, limit_seconds: int,
                  streak_before: int) -> Decimal:
    """Points of one answer in a live game (0 when wrong)."""
    if not correct:
        return ZERO
    if scoring != "speed":
        return ONE
    points = speed_points(elapsed_ms=elapsed_ms, limit_seconds=limit_seconds)
    if with_streak:
        points += streak_bonus(streak_before)
    return points


# --------------------------------------------------------------------------------------------------
# Contests strategies for the rounds a live game is saved as (contests.scoring registry)
# --------------------------------------------------------------------------------------------------


def _elapsed_ms(item: QuestionInput) -> int:
    if item.shown_at is None or item.received_at is None:
        return 0
    return max(0, int((item.received_at - item.shown_at) / dt.timedelta(milliseconds=1)))


@register
class LiveSpeedStreakScoring(ScoringStrategy):
    """Speed points plus the answer-streak bonus of a live game, recomputed in question order."""

    name = "live_speed_streak"
    label = "Trò chơi trực tiếp: điểm theo tốc độ và chuỗi câu đúng"
    requires_one_at_a_time = True

    def score(self, items: Iterable[QuestionInput], *, partial: bool, time_limit_seconds: int) -> AttemptResult:
        ordered = sorted(items, key=lambda i: i.position)
        limit = time_limit_seconds // max(len(ordered), 1)
        total, correct, streak = ZERO, 0, 0
        results = []
        for item in ordered:
            _fraction, full = grade_response(qtype=item.qtype, key=item.key, response=item.response, partial=False)
            points = answer_points(scoring="speed", with_streak=True, correct=bool(full),
                                   elapsed_ms=_elapsed_ms(item), limit_seconds=limit, streak_before=streak)
            streak = streak + 1 if full else 0
            correct += 1 if full else 0
            total += points
            results.append(QuestionResult(position=item.position, is_correct=bool(full),
                                          fraction=ONE if full else ZERO, points=points))
        return AttemptResult(score=total.quantize(Q3, rounding=ROUND_HALF_UP), correct_count=correct,
                             questions=results)


@register
class LiveEliminationScoring(ScoringStrategy):
    """Rung chuông vàng: the score is the position of the last question answered correctly (a player only
    answers while in the game, so that is the last question passed); each correct answer shows 1 point."""

    name = "live_elimination"
    label = "Rung chuông vàng: số thứ tự câu cuối cùng vượt qua"
    requires_one_at_a_time = True

    def score(self, items: Iterable[QuestionInput], *, partial: bool, time_limit_seconds: int) -> AttemptResult:
        last, correct = 0, 0
        results = []
        for item in sorted(items, key=lambda i: i.position):
            _fraction, full = grade_response(qtype=item.qtype, key=item.key, response=item.response, partial=False)
            if full:
                last, correct = max(last, item.position), correct + 1
            results.append(QuestionResult(position=item.position, is_correct=bool(full),
                                          fraction=ONE if full else ZERO, points=ONE if full else ZERO))
        return AttemptResult(score=Decimal(last).quantize(Q3), correct_count=correct, questions=results)


def saved_round_rule(*, mode: str, scoring: str, streak: bool) -> str:
    """The contests scoring strategy of the round a game is saved as."""
    if mode == "elimination":
        return LiveEliminationScoring.name
    if scoring == "speed":
        return LiveSpeedStreakScoring.name if streak else "speed"
    return "weighted"

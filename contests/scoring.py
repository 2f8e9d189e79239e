"""Scoring strategies, registered by name (``Round.settings.scoring_rule``).

A strategy turns an attempt's snapshotted questions and stored answers into per-question credit and an
attempt total. It is pure: no queries, no writes (``attempt_submit`` stores the result). A new contest
format is a new subclass decorated with ``@register``.

Grading of one response against the snapshotted key (``grade_response``) is shared by all strategies.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, ClassVar

ZERO = Decimal("0")
ONE = Decimal("1")
Q3 = Decimal("0.001")
# A question's mark is kept exact: points have 2 decimals and credit fractions 5 (Moodle's 1/3 is 0.33333),
# so points × fraction needs 7 — a one-third mark is 0.33333, not 0.333 (item statistics drifted on the
# rounded marks, issue 20). Only the attempt's total is rounded, once, to the 3 decimals a score has.
MARK_QUANTUM = Decimal("0.0000001")


@dataclass(frozen=True)
class QuestionInput:
    """What a strategy needs to know about one question of an attempt."""

    position: int
    qtype: str
    key: Mapping[str, Any]
    points: Decimal
    shown_at: dt.datetime | None
    response: Any | None  # None when unanswered
    received_at: dt.datetime | None
    judged_points: Decimal | None = None  # an essay's final mark from the judges (None: not graded yet)


@dataclass(frozen=True)
class QuestionResult:
    position: int
    is_correct: bool | None  # None: not auto-graded (essay)
    fraction: Decimal
    points: Decimal


@dataclass(frozen=True)
class AttemptResult:
    score: Decimal
    correct_count: int
    questions: list[QuestionResult]


# --------------------------------------------------------------------------------------------------
# Grading one response
# --------------------------------------------------------------------------------------------------


def normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFC", str(text)).casefold()
    return " ".join(text.split())


def _dec(value: Any) -> Decimal | None:
    try:
        result = Decimal(str(value).replace(",", ".").strip())
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def grade_response(*, qtype: str, key: Mapping[str, Any], response: Any, partial: bool) -> tuple[Decimal, bool | None]:
    """Credit fraction in [0, 1] and whether the response is fully correct (None: needs a judge).

    ``key`` (AttemptQuestion.key): ``{"options": {"<option id>": "<fraction>"}}`` for choice questions,
    ``{"accepted": [{"text": ..., "fraction": ..., "tolerance": ...}]}`` for numeric and short text.
    ``response`` shapes: ``{"options": [id, …]}``, ``{"number": "…"}``, ``{"text": "…"}``.
    """
    if response is None:
        return ZERO, False
    if qtype == "essay":
        return ZERO, None
    if qtype in {"single", "truefalse", "multiple"}:
        fractions = {str(k): Decimal(v) for k, v in key.get("options", {}).items()}
        chosen = {str(x) for x in response.get("options", [])}
        if not chosen:
            return ZERO, False
        if qtype != "multiple":
            fraction = fractions.get(next(iter(chosen)), ZERO) if len(chosen) == 1 else ZERO
        else:
            correct = {k for k, f in fractions.items() if f > 0}
            if not partial:
                return (ONE, True) if chosen == correct else (ZERO, False)
            fraction = sum((fractions.get(c, ZERO) for c in chosen), ZERO)
        fraction = max(ZERO, min(ONE, fraction))
        full = fraction >= ONE
        if not partial and not full:
            fraction = ZERO
        return fraction, full
    accepted = key.get("accepted", [])
    best = ZERO
    if qtype == "numeric":
        given = _dec(response.get("number"))
        if given is None:
            return ZERO, False
        for item in accepted:
            value = _dec(item.get("text"))
            if value is None:
                continue
            tolerance = _dec(item.get("tolerance") or 0) or ZERO
            if abs(given - value) <= tolerance:
                best = max(best, Decimal(str(item.get("fraction", "0"))))
    elif qtype == "short":
        given_text = normalise_text(response.get("text", ""))
        if not given_text:
            return ZERO, False
        for item in accepted:
            if normalise_text(item.get("text", "")) == given_text:
                best = max(best, Decimal(str(item.get("fraction", "0"))))
    best = max(ZERO, min(ONE, best))
    full = best >= ONE
    if not partial and not full:
        best = ZERO
    return best, full


# --------------------------------------------------------------------------------------------------
# Essay marks: graded by judges (the judging app), read by every score computation
# --------------------------------------------------------------------------------------------------

EssayMarksProvider = Callable[[list[int]], Mapping[tuple[int, int], Decimal]]
_essay_marks_providers: list[EssayMarksProvider] = []


def register_essay_marks(provider: EssayMarksProvider) -> EssayMarksProvider:
    """Register ``provider(attempt_ids) -> {(attempt_id, position): final mark}``. Every recompute of a
    score (submit, sweeper, rescore after a correction, essay grading) then includes the judges' marks."""
    if provider not in _essay_marks_providers:
        _essay_marks_providers.append(provider)
    return provider


def essay_marks_for(attempt_ids: list[int]) -> dict[tuple[int, int], Decimal]:
    marks: dict[tuple[int, int], Decimal] = {}
    for provider in _essay_marks_providers:
        marks.update(provider(attempt_ids))
    return marks


# --------------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------------

_registry: dict[str, type[ScoringStrategy]] = {}


def register(cls: type[ScoringStrategy]) -> type[ScoringStrategy]:
    if not cls.name:
        raise ValueError("A scoring strategy needs a name")
    _registry[cls.name] = cls
    return cls


def get_strategy(name: str) -> ScoringStrategy:
    """The strategy registered under ``name``; KeyError if unknown."""
    return _registry[name]()


def strategy_class(name: str) -> type[ScoringStrategy] | None:
    """The class registered under ``name`` (None if unknown), for code that must know which one it is."""
    return _registry.get(name)


def strategy_choices() -> list[tuple[str, str]]:
    return [(name, str(cls.label)) for name, cls in sorted(_registry.items())]


class ScoringStrategy:
    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    # Strategies that use the moment each question was shown need the server to release questions one by one.
    requires_one_at_a_time: ClassVar[bool] = False

    def question_points(self, item: QuestionInput, fraction: Decimal, *, time_limit_seconds: int,
                        question_count: int) -> Decimal:
        raise NotImplementedError

    def score(self, items: Iterable[QuestionInput], *, partial: bool, time_limit_seconds: int) -> AttemptResult:
        items = list(items)
        results: list[QuestionResult] = []
        total = ZERO
        correct = 0
        for item in items:
            if item.qtype == "essay" and item.judged_points is not None:
                # The judges' mark is the points, whatever the strategy (no speed factor on an essay).
                points = max(ZERO, min(item.points, item.judged_points)).quantize(MARK_QUANTUM,
                                                                                  rounding=ROUND_HALF_UP)
                fraction = points / item.points if item.points else ZERO
                total += points
                results.append(QuestionResult(position=item.position, is_correct=None, fraction=fraction,
                                              points=points))
                continue
            fraction, full = grade_response(qtype=item.qtype, key=item.key, response=item.response, partial=partial)
            points = ZERO
            if fraction > 0:
                points = self.question_points(item, fraction, time_limit_seconds=time_limit_seconds,
                                              question_count=len(items))
                points = points.quantize(MARK_QUANTUM, rounding=ROUND_HALF_UP)
            total += points
            correct += 1 if full else 0
            results.append(QuestionResult(position=item.position, is_correct=full, fraction=fraction, points=points))
        return AttemptResult(score=total.quantize(Q3, rounding=ROUND_HALF_UP), correct_count=correct,
                             questions=results)


@register
class WeightedScoring(ScoringStrategy):
    """Points per correct answer × the question's points (1 by default); partial credit per setting."""

    name = "weighted"
    label = "Điểm theo số câu đúng (có trọng số)"

    def question_points(self, item: QuestionInput, fraction: Decimal, *, time_limit_seconds: int,
                        question_count: int) -> Decimal:
        return item.points * fraction


@register
class SpeedScoring(ScoringStrategy):
    """Kahoot-style: a correct answer earns points × (1 − elapsed / window / 2), where elapsed runs from
    the moment the server released the question to the moment it received the answer, and the window is
    the attempt's time limit shared equally between its questions. An instant answer earns 100 %, one at
    the end of the window 50 %."""

    name = "speed"
    label = "Điểm theo tốc độ (kiểu Kahoot)"
    requires_one_at_a_time = True

    def question_points(self, item: QuestionInput, fraction: Decimal, *, time_limit_seconds: int,
                        question_count: int) -> Decimal:
        window = Decimal(time_limit_seconds) / Decimal(max(question_count, 1))
        if item.shown_at is None or item.received_at is None or window <= 0:
            elapsed = window
        else:
            seconds = Decimal(str((item.received_at - item.shown_at).total_seconds()))
            elapsed = max(ZERO, min(window, seconds))
        factor = ONE - (elapsed / window) / 2 if window > 0 else Decimal("0.5")
        return item.points * fraction * factor

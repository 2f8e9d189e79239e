"""Read side of judging: grading queues (anonymous), grading progress, the published list (masked)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from contests.models import FINISHED_STATUSES, Answer, Round
from exports.masking import mask_digits
from judging.models import EssayAssignment, EssayStatus
from leaderboards.models import RankingEntry
from leaderboards.selectors import ranking_latest


def essay_grading_complete(*, round: Round) -> bool:
    """True when the round has no essay answer left without a final mark (none at all counts as complete)."""
    essays = Answer.objects.filter(attempt__round=round, attempt__status__in=FINISHED_STATUSES,
                                   attempt_question__snapshot__type="essay")
    if not essays.exists():
        return True
    if essays.filter(essay_assignment__isnull=True).exists():
        return False
    return not EssayAssignment.objects.filter(round=round).exclude(status=EssayStatus.FINAL).exists()


def essays_for_grader(*, round: Round, grader: Any) -> QuerySet[EssayAssignment]:
    """Assignments ``grader`` may grade now: not graded by them, not final, and either fewer than two grades
    or waiting for a third. Ordered by code (random, so not by contestant)."""
    return (EssayAssignment.objects.filter(round=round).exclude(status=EssayStatus.FINAL)
            .exclude(grades__grader=grader)
            .annotate(n=Count("grades"))
            .filter(Q(n__lt=2) | Q(status=EssayStatus.NEEDS_THIRD, n=2))
            .order_by("code"))


def essay_progress(*, round: Round) -> dict[str, int]:
    counts = dict(EssayAssignment.objects.filter(round=round).values_list("status").annotate(n=Count("id")))
    return {status: counts.get(status, 0) for status in EssayStatus.values}


@dataclass(frozen=True)
class PublishedRow:
    position: int
    rank: int
    full_name: str
    birth_year: int | None
    unit: str
    phone: str
    national_id: str
    score: Any
    correct_count: int | None
    duration_seconds: float
    is_winner: bool


def ranking_published(*, round: Round) -> Any:
    return ranking_latest(round=round, published_only=True)


def published_rows(*, ranking: Any, after: int = 0, limit: int = 100) -> Iterator[PublishedRow]:
    """A page of the published list (keyset on position), phone and ID numbers masked (last 3 digits)."""
    rows = (RankingEntry.objects.filter(ranking=ranking, position__gt=after).order_by("position")
            .values_list("position", "rank", "attempt__registration__full_name", "attempt__registration__date_of_birth",
                         "unit__name", "user__phone", "attempt__registration__national_id", "score", "correct_count",
                         "duration_ms", "is_winner")[:limit])
    for position, rank, name, dob, unit, phone, national_id, score, correct, duration_ms, winner in rows:
        yield PublishedRow(position, rank, name or "", dob.year if dob else None, unit or "", mask_digits(phone),
                           mask_digits(national_id), score, correct, duration_ms / 1000, winner)


def winners(*, ranking: Any, limit: int = 500) -> list[Any]:
    """Winners of a ranking in listing order, with names (for the certificates list of staff)."""
    return list(RankingEntry.objects.filter(ranking=ranking, is_winner=True).order_by("position")
                .select_related("unit", "attempt__registration")[:limit])

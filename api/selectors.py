"""What the read API may show, decided once: the public (published contests, published results with names
masked, unit figures counting only published winners) and an organisation's own data for its tokens.

Every read goes through the apps' own selectors where they have one (``contests.selectors``,
``leaderboards.selectors``, ``leaderboards.visibility.display_name``); the rules added here are the API's:
no prediction target (the prediction question's answer) before the round's official close, no personal data
without ``personal_data:read``, and another organisation's private objects are "not found" like missing ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Min, OuterRef, QuerySet, Value
from django.db.models.functions import Coalesce

from anticheat.models import AttemptReview, Flag, ReviewStatus
from contests.models import Contest, ContestVisibility, Round
from contests.selectors import contest_list_public
from leaderboards.models import RankingEntry, RankingStatus, RoundRanking
from leaderboards.selectors import ranking_latest, unit_stats
from leaderboards.visibility import display_name

# --- Contests and rounds --------------------------------------------------------------------------------


def contests_public() -> QuerySet[Contest]:
    return contest_list_public()


def contests_public_to_count() -> QuerySet[Contest]:
    """The same contests as ``contests_public``, without the per-contest aggregates (a cheap COUNT)."""
    return Contest.objects.filter(visibility=ContestVisibility.PUBLISHED)


def contests_of(*, organisation_id: int) -> QuerySet[Contest]:
    """Every contest of the organisation, drafts included, annotated like the public list."""
    return (Contest.objects.filter(organisation_id=organisation_id).select_related("organisation")
            .annotate(round_count=Count("rounds"), first_opens=Min("rounds__opens_at"),
                      last_closes=Max(Coalesce("rounds__extended_until", "rounds__closes_at")))
            .order_by("-created_at", "-id"))


def contest_public(*, slug: str) -> Contest | None:
    return contests_public().filter(slug=slug).first()


def contest_of(*, organisation_id: int, slug: str) -> Contest | None:
    return contests_of(organisation_id=organisation_id).filter(slug=slug).first()


def round_public(*, round_id: int) -> Round | None:
    """A round of a published contest (a contest taken back to draft takes its rounds and results with it)."""
    return (Round.objects.select_related("contest__organisation")
            .filter(pk=round_id, contest__visibility=ContestVisibility.PUBLISHED).first())


def round_of(*, organisation_id: int, round_id: int) -> Round | None:
    return (Round.objects.select_related("contest__organisation")
            .filter(pk=round_id, contest__organisation_id=organisation_id).first())


def round_status(round: Round, now: dt.datetime) -> str:
    if round.closed_at is not None or round.has_closed(now):
        return "closed"
    return "open" if round.opens_at <= now else "upcoming"


def round_prediction_target(round: Round) -> int | None:
    """The prediction question's real value: known, and shown, only after the round's official close."""
    return round.prediction_target_value if round.closed_at is not None else None


def rounds_with_published_results(*, round_ids: list[int]) -> set[int]:
    return set(RoundRanking.objects.filter(round_id__in=round_ids, status=RankingStatus.PUBLISHED)
               .values_list("round_id", flat=True))


def contest_rounds(*, contest: Contest) -> list[Round]:
    rounds = list(contest.rounds.all())
    for round in rounds:
        round.contest = contest
    return rounds


# --- Results ---------------------------------------------------------------------------------------------


def ranking_public(*, round: Round) -> RoundRanking | None:
    """The published version of the round's official ranking (none while unpublished or withdrawn)."""
    return ranking_latest(round=round, published_only=True)


def ranking_for_organisation(*, round: Round, version: int | None) -> RoundRanking | None:
    """A version of the round's ranking (any status) for its organisation; the newest when ``version`` is None."""
    if version is None:
        return ranking_latest(round=round)
    return RoundRanking.objects.filter(round=round, version=version).first()


@dataclass(frozen=True)
class ResultRowData:
    position: int
    rank: int
    name: str
    unit: dict[str, Any] | None
    score: float
    correct_count: int | None
    prediction: int | None
    duration_ms: int
    is_winner: bool
    prize: str
    full_name: str | None = None
    date_of_birth: dt.date | None = None
    phone: str | None = None
    national_id: str | None = None


def result_rows(*, ranking: RoundRanking, after: int, limit: int, personal: bool) -> list[ResultRowData]:
    """A page of the ranking (keyset on the unique position): names masked; with ``personal`` the registered
    name, date of birth, phone and ID number as well (``personal_data:read``)."""
    fields = ["position", "rank", "attempt__registration__full_name", "unit_id", "unit__name", "score",
              "correct_count", "prediction", "duration_ms", "is_winner", "prize"]
    if personal:
        fields += ["attempt__registration__date_of_birth", "user__phone", "attempt__registration__national_id"]
    rows = (RankingEntry.objects.filter(ranking=ranking, position__gt=after).order_by("position")
            .values(*fields)[:limit])
    result = []
    for row in rows:
        name = row["attempt__registration__full_name"] or ""
        extra: dict[str, Any] = {}
        if personal:
            extra = {"full_name": name, "date_of_birth": row["attempt__registration__date_of_birth"],
                     "phone": row["user__phone"] or "", "national_id": row["attempt__registration__national_id"]}
        result.append(ResultRowData(
            position=row["position"], rank=row["rank"], name=display_name(name, masked=True),
            unit={"id": row["unit_id"], "name": row["unit__name"]} if row["unit_id"] else None,
            score=float(row["score"]), correct_count=row["correct_count"], prediction=row["prediction"],
            duration_ms=row["duration_ms"], is_winner=row["is_winner"], prize=row["prize"] or "", **extra))
    return result


# --- Unit participation ------------------------------------------------------------------------------------


def unit_figures(*, contest: Contest, round: Round | None, public: bool) -> list[dict[str, Any]]:
    """Per unit: registered, entrants, attempts, population and rate, winners (``leaderboards.unit_stats``),
    best first by entrants. For the public the winners are counted from published results only (the
    organisers' unpublished versions are not news yet) and nobody's exam in progress is shown."""
    stats = unit_stats(contest=contest, round=round, order="entrants")
    published_winners: dict[int, int] = {}
    if public:
        rounds = [round] if round is not None else contest_rounds(contest=contest)
        ids = [r.pk for r in (ranking_public(round=r) for r in rounds) if r is not None]
        if ids:
            published_winners = dict(
                RankingEntry.objects.filter(ranking_id__in=ids, is_winner=True).values("unit_id")
                .annotate(n=Count("id")).values_list("unit_id", "n"))
    return [{"unit": {"id": s.unit_id, "name": s.name}, "registered": s.registered, "entrants": s.entrants,
             "attempts": s.attempts, "population": s.population, "participation_rate_percent": s.rate_percent,
             "winners": published_winners.get(s.unit_id, 0) if public else s.winners,
             "in_progress": None if public else s.in_progress} for s in stats]


# --- Anti-cheat flags ----------------------------------------------------------------------------------------


def flags_of_round(*, round: Round) -> QuerySet[Flag]:
    """The round's flags, most serious first (the review queue's order), with the judges' decision."""
    review = AttemptReview.objects.filter(attempt_id=OuterRef("attempt_id")).values("status")[:1]
    return (Flag.objects.filter(round=round)
            .annotate(review_status=Coalesce(review, Value(ReviewStatus.UNREVIEWED.value)))
            .select_related("unit", "attempt__registration")
            .order_by("-severity_rank", "-score", "attempt_id", "id"))


def flag_row(flag: Flag, *, personal: bool) -> dict[str, Any]:
    registration = getattr(flag.attempt, "registration", None)
    name = registration.full_name if registration is not None else ""
    return {"id": flag.pk, "kind": flag.kind, "severity": flag.severity, "score": float(flag.score),
            "attempt_id": flag.attempt_id,
            "unit": {"id": flag.unit_id, "name": flag.unit.name} if flag.unit_id and flag.unit else None,
            "name": display_name(name, masked=True), "full_name": name if personal else None,
            "review_status": flag.review_status, "evidence": flag.evidence if personal else None,
            "created_at": flag.created_at, "updated_at": flag.updated_at}


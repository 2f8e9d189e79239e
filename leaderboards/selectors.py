"""Reads shared by views, the consumer and the admin: official and contest-wide rankings, collective (unit)
statistics, disqualifications (who may see what on a board: ``leaderboards.visibility``). Phone numbers and
ID numbers are never read here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Q

from accounts.models import Organisation
from accounts.tenancy import has_role, organisation_ids_for, scope_for
from contests.models import (
    FINISHED_STATUSES,
    Attempt,
    AttemptStatus,
    Contest,
    ContestVisibility,
    Registration,
    Round,
)
from leaderboards.models import (
    ContestAggregate,
    ContestLeaderboardSettings,
    Disqualification,
    DisqualificationScope,
    PrizeTieRule,
    RankingEntry,
    RankingStatus,
    RoundRanking,
    UnitPopulation,
)
from leaderboards.services.ranking import prize_tiers
from leaderboards.visibility import STAFF_ROLES, display_name


def person_disqualified(*, registration_id: int) -> bool:
    return Disqualification.objects.filter(registration_id=registration_id, scope=DisqualificationScope.PERSON,
                                           revoked_at__isnull=True).exists()


# --------------------------------------------------------------------------------------------------
# Official ranking
# --------------------------------------------------------------------------------------------------


def ranking_latest(*, round: Round, published_only: bool = False) -> RoundRanking | None:
    qs = RoundRanking.objects.filter(round=round)
    if published_only:
        qs = qs.filter(status=RankingStatus.PUBLISHED)
    return qs.order_by("-version").first()


@dataclass(frozen=True)
class RankingFreshness:
    """Whether a stored ranking still matches what it was computed from.

    ``changes``: how many recorded changes (``Round.results_revision``) happened since it was computed;
    ``mismatched``: entries whose counted attempt no longer has the stored score, status, duration,
    prediction or correct count (only counted when asked for with ``deep=True``: a join over the entries,
    done before a decision, not on every page view)."""

    changes: int
    mismatched: int = 0

    @property
    def stale(self) -> bool:
        return self.changes > 0 or self.mismatched > 0


def ranking_freshness(*, ranking: RoundRanking, deep: bool = False) -> RankingFreshness:
    current = Round.objects.filter(pk=ranking.round_id).values_list("results_revision", flat=True).first() or 0
    changes = current - ranking.inputs_revision if current >= ranking.inputs_revision else 1
    mismatched = ranking_entries_mismatched(ranking=ranking) if deep else 0
    return RankingFreshness(changes=changes, mismatched=mismatched)


def ranking_entries_mismatched(*, ranking: RoundRanking) -> int:
    """Entries whose attempt's stored values differ from the ranking's copy (a change nobody recorded with
    ``round_results_changed`` — e.g. a write from a shell — still makes the ranking stale)."""
    entry, attempt = RankingEntry._meta.db_table, Attempt._meta.db_table
    sql = (f"SELECT COUNT(*) FROM {entry} e JOIN {attempt} a ON a.id = e.attempt_id WHERE e.ranking_id = %s "
           f"AND (a.status NOT IN (%s, %s) OR COALESCE(a.score, 0) <> e.score "
           f"OR COALESCE(a.duration_ms, 0) <> e.duration_ms "
           f"OR COALESCE(a.correct_count, -1) <> COALESCE(e.correct_count, -1) "
           f"OR COALESCE(a.prediction, -1) <> COALESCE(e.prediction, -1))")
    with connection.cursor() as cursor:
        cursor.execute(sql, [ranking.pk, AttemptStatus.SUBMITTED, AttemptStatus.EXPIRED])
        return int(cursor.fetchone()[0])


def ranking_entries(*, ranking: RoundRanking, limit: int = 100, offset: int = 0) -> list[RankingEntry]:
    """A page of entries (keyset-friendly: ordered by the unique position) with names and units."""
    entries = list(RankingEntry.objects.filter(ranking=ranking).select_related("unit")
                   .order_by("position")[offset:offset + limit])
    names = dict(Registration.objects.filter(contest_id=ranking.round.contest_id,
                                             user_id__in=[e.user_id for e in entries])
                 .values_list("user_id", "full_name"))
    for entry in entries:
        entry.full_name = names.get(entry.user_id, "")  # type: ignore[attr-defined]
    return entries


def contest_rankings_counted(*, contest: Contest, published_only: bool = False) -> dict[int, RoundRanking]:
    """The round rankings a contest-wide ranking totals, by round id: each round's newest ranking (staff), or
    its newest *published* one (the public). Rounds still open or not yet ranked have none."""
    qs = RoundRanking.objects.filter(round__contest=contest)
    if published_only:
        qs = qs.filter(status=RankingStatus.PUBLISHED)
    current: dict[int, RoundRanking] = {}
    for ranking in qs.only("id", "round_id", "version", "status", "computed_at"):
        if ranking.round_id not in current or ranking.version > current[ranking.round_id].version:
            current[ranking.round_id] = ranking
    return current


def contest_ranking(*, contest: Contest, limit: int = 100, offset: int = 0, published_only: bool = False,
                    rankings: dict[int, RoundRanking] | None = None) -> list[dict[str, Any]]:
    """Contest-wide ranking from the official ranking of every round that has one (``contest_rankings_counted``:
    the newest version, or the newest published one for the public): each person's counted round results
    totalled (score sum, duration sum) or their best round (setting), ranked 1, 1, 3 in SQL. Rounds without
    an official ranking yet (still open) are not counted: their live boards are provisional."""
    setting = ContestLeaderboardSettings.objects.filter(contest=contest).values_list("aggregate", flat=True).first()
    if rankings is None:
        rankings = contest_rankings_counted(contest=contest, published_only=published_only)
    ids = [ranking.pk for ranking in rankings.values()]
    if not ids:
        return []
    entry = RankingEntry._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    if setting == ContestAggregate.BEST:
        per_user = (f"SELECT user_id, unit_id, score AS total_score, duration_ms AS total_duration, 1 AS rounds FROM "
                    f"(SELECT user_id, unit_id, score, duration_ms, ROW_NUMBER() OVER (PARTITION BY user_id "
                    f"ORDER BY score DESC, duration_ms ASC, ranking_id ASC) AS pick FROM {entry} "
                    f"WHERE ranking_id IN ({marks})) b WHERE pick = 1")
    else:
        per_user = (f"SELECT user_id, MIN(unit_id) AS unit_id, SUM(score) AS total_score, "
                    f"SUM(duration_ms) AS total_duration, COUNT(*) AS rounds FROM {entry} "
                    f"WHERE ranking_id IN ({marks}) GROUP BY user_id")
    sql = (f"SELECT user_id, unit_id, total_score, total_duration, rounds, "
           f"RANK() OVER (ORDER BY total_score DESC, total_duration ASC) AS rnk FROM ({per_user}) t "
           f"ORDER BY rnk, user_id LIMIT %s OFFSET %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ids, int(limit), int(offset)])
        rows = cursor.fetchall()
    names = dict(Registration.objects.filter(contest=contest, user_id__in=[r[0] for r in rows])
                 .values_list("user_id", "full_name"))
    units = dict(Organisation.objects.filter(pk__in={r[1] for r in rows}).values_list("pk", "name"))
    return [{"user_id": user_id, "name": names.get(user_id, ""), "unit_id": unit_id, "unit": units.get(unit_id, ""),
             "score": Decimal(str(score)).quantize(Decimal("0.001")), "duration_ms": int(duration),
             "rounds": int(rounds), "rank": int(rank)}
            for user_id, unit_id, score, duration, rounds, rank in rows]


# --------------------------------------------------------------------------------------------------
# Collective (unit) leaderboards
# --------------------------------------------------------------------------------------------------


@dataclass
class UnitStats:
    unit_id: int
    name: str
    entrants: int
    attempts: int
    population: int | None
    winners: int
    registered: int = 0     # people of the unit registered for the contest
    in_progress: int = 0    # people of the unit with an attempt in progress now

    @property
    def rate(self) -> float | None:
        """Participation rate (entrants / registered population), None when the population is not set."""
        if not self.population:
            return None
        return self.entrants / self.population

    @property
    def rate_percent(self) -> float | None:
        rate = self.rate
        return None if rate is None else round(rate * 100, 2)


def unit_populations(*, contest: Contest) -> dict[int, int]:
    """{unit id: population} the contest's organisers set for its participation rates (``UnitPopulation``)."""
    return dict(UnitPopulation.objects.filter(contest=contest).values_list("unit_id", "population"))


def unit_stats(*, contest: Contest, round: Round | None = None, order: str = "entrants") -> list[UnitStats]:
    """Registered people, people in progress now, entrants (people with a finished attempt), attempts and
    winners per unit, for one round or the whole contest; ``order`` = "entrants" | "rate" | "winners"
    (collective prizes). The rate's population is the contest's own figure for the unit where set
    (``UnitPopulation``), else the unit's ``registered_population``."""
    all_attempts = Attempt.objects.filter(round__contest=contest)
    if round is not None:
        all_attempts = all_attempts.filter(round=round)
    attempts = all_attempts.filter(status__in=FINISHED_STATUSES)
    counts = {row["unit_id"]: row for row in attempts.values("unit_id").annotate(
        entrants=Count("user_id", distinct=True), attempts=Count("id"))}
    running = dict(all_attempts.filter(status=AttemptStatus.IN_PROGRESS).values("unit_id")
                   .annotate(n=Count("user_id", distinct=True)).values_list("unit_id", "n"))
    registered = dict(Registration.objects.filter(contest=contest).values("unit_id")
                      .annotate(n=Count("id")).values_list("unit_id", "n"))
    overrides = unit_populations(contest=contest)
    rankings = [ranking_latest(round=r) for r in ([round] if round is not None else contest.rounds.all())]
    winners: dict[int, int] = {}
    ranking_ids = [r.pk for r in rankings if r is not None]
    if ranking_ids:
        for row in (RankingEntry.objects.filter(ranking_id__in=ranking_ids, is_winner=True).values("unit_id")
                    .annotate(n=Count("id"))):
            winners[row["unit_id"]] = row["n"]
    unit_ids = set(counts) | set(winners) | set(registered) | set(running)
    unit_ids.discard(None)
    if contest.allowed_units.exists():
        unit_ids |= set(contest.allowed_units.values_list("pk", flat=True))
    units = Organisation.objects.filter(pk__in=unit_ids).only("id", "name", "registered_population")
    stats = [UnitStats(unit_id=u.pk, name=u.name, entrants=counts.get(u.pk, {}).get("entrants", 0),
                       attempts=counts.get(u.pk, {}).get("attempts", 0),
                       population=overrides.get(u.pk, u.registered_population),
                       winners=winners.get(u.pk, 0), registered=registered.get(u.pk, 0),
                       in_progress=running.get(u.pk, 0)) for u in units]
    return unit_stats_sorted(stats, order=order)


UNIT_ORDERS = ("entrants", "rate", "winners")


def unit_stats_sorted(stats: list[UnitStats], *, order: str = "entrants") -> list[UnitStats]:
    """The dashboard's orders (sorted in place and returned): by entrants, by rate, by winners."""
    if order == "rate":
        stats.sort(key=lambda s: (-(s.rate or 0), -s.entrants, s.name))
    elif order == "winners":
        stats.sort(key=lambda s: (-s.winners, -s.entrants, s.name))
    else:
        stats.sort(key=lambda s: (-s.entrants, -s.attempts, s.name))
    return stats


def unit_stats_all(*, contest: Contest) -> dict[int | None, list[UnitStats]]:
    """``unit_stats`` of the whole contest (key None) and of each of its rounds (key: round id) at once, in a
    fixed number of queries whatever the number of rounds (what the units dashboard's pushes compute, once per
    contest per push interval). Each list is ordered by entrants; the same numbers as ``unit_stats``
    (tests/leaderboards/test_unit_push.py compares them)."""
    round_ids = list(contest.rounds.values_list("pk", flat=True))
    attempts = Attempt.objects.filter(round__contest=contest)
    finished = attempts.filter(status__in=FINISHED_STATUSES)
    running = attempts.filter(status=AttemptStatus.IN_PROGRESS)
    per_round: dict[int | None, dict[str, dict[int, int]]] = {
        key: {"entrants": {}, "attempts": {}, "in_progress": {}, "winners": {}} for key in [None, *round_ids]}
    for row in finished.values("round_id", "unit_id").annotate(entrants=Count("user_id", distinct=True),
                                                                attempts=Count("id")):
        figures = per_round[row["round_id"]]
        figures["entrants"][row["unit_id"]] = row["entrants"]
        figures["attempts"][row["unit_id"]] = row["attempts"]
    whole = per_round[None]
    for row in finished.values("unit_id").annotate(entrants=Count("user_id", distinct=True), attempts=Count("id")):
        whole["entrants"][row["unit_id"]] = row["entrants"]
        whole["attempts"][row["unit_id"]] = row["attempts"]
    for row in running.values("round_id", "unit_id").annotate(n=Count("user_id", distinct=True)):
        per_round[row["round_id"]]["in_progress"][row["unit_id"]] = row["n"]
    for row in running.values("unit_id").annotate(n=Count("user_id", distinct=True)):
        whole["in_progress"][row["unit_id"]] = row["n"]
    latest: dict[int, tuple[int, int]] = {}  # round id: (version, ranking id) of its latest ranking
    for round_id, ranking_id, version in RoundRanking.objects.filter(round__contest=contest).values_list(
            "round_id", "pk", "version"):
        if round_id not in latest or version > latest[round_id][0]:
            latest[round_id] = (version, ranking_id)
    round_of_ranking = {ranking_id: round_id for round_id, (_v, ranking_id) in latest.items()}
    if round_of_ranking:
        for row in (RankingEntry.objects.filter(ranking_id__in=list(round_of_ranking), is_winner=True)
                    .values("ranking_id", "unit_id").annotate(n=Count("id"))):
            winners = per_round[round_of_ranking[row["ranking_id"]]]["winners"]
            winners[row["unit_id"]] = winners.get(row["unit_id"], 0) + row["n"]
            whole["winners"][row["unit_id"]] = whole["winners"].get(row["unit_id"], 0) + row["n"]
    registered = dict(Registration.objects.filter(contest=contest).values("unit_id")
                      .annotate(n=Count("id")).values_list("unit_id", "n"))
    overrides = unit_populations(contest=contest)
    allowed = set(contest.allowed_units.values_list("pk", flat=True))
    every_unit = set(registered) | allowed
    for figures in per_round.values():
        for numbers in figures.values():
            every_unit |= set(numbers)
    every_unit.discard(None)
    units = {u.pk: u for u in Organisation.objects.filter(pk__in=every_unit).only("id", "name",
                                                                                  "registered_population")}
    result: dict[int | None, list[UnitStats]] = {}
    for key, figures in per_round.items():
        ids = set(registered) | allowed
        for numbers in figures.values():
            ids |= set(numbers)
        ids.discard(None)
        stats = [UnitStats(unit_id=u.pk, name=u.name, entrants=figures["entrants"].get(u.pk, 0),
                           attempts=figures["attempts"].get(u.pk, 0),
                           population=overrides.get(u.pk, u.registered_population),
                           winners=figures["winners"].get(u.pk, 0), registered=registered.get(u.pk, 0),
                           in_progress=figures["in_progress"].get(u.pk, 0))
                 for u in (units[i] for i in ids if i in units)]
        result[key] = unit_stats_sorted(stats)
    return result


def unit_winners(*, ranking: RoundRanking, unit_id: int, limit: int = 50) -> list[RankingEntry]:
    return list(RankingEntry.objects.filter(ranking=ranking, unit_id=unit_id, is_winner=True)
                .order_by("position")[:limit])


def disqualifications_for(*, contest: Contest, active_only: bool = True) -> list[Disqualification]:
    qs = Disqualification.objects.filter(contest=contest)
    if active_only:
        qs = qs.filter(revoked_at__isnull=True)
    return list(qs.select_related("registration", "attempt"))


def rounds_for_dashboard(*, user: Any) -> Any:
    return scope_for(Round.objects.select_related("contest"), user, STAFF_ROLES).order_by("-opens_at")



@dataclass(frozen=True)
class PrizeLineTie:
    """People with the same rank (the tie-break chain left them equal) on both sides of a prize line — the
    last place of ``tier`` ("" = the winners of a ranking without tiers) — or, once the organiser extended the
    prizes to all of them, the places that were added.

    ``tied``: the people of that rank still to be given a prize at this line; ``inside``: how many of them the
    tier's count holds (or, extended, gave the prize to); ``extended``: places added beyond the tier's count;
    ``resolved``: False while the organiser has not decided, or when the chosen further criterion leaves the
    line inside a tie still."""

    tier: str
    rank: int
    tied: int
    inside: int
    extended: int
    rule: str
    resolved: bool


def _award_key(ranking: RoundRanking, row: dict) -> tuple:
    """Python twin of ``leaderboards.services.ranking.prize_award_order`` inside one rank."""
    if ranking.prize_tie_rule == PrizeTieRule.CORRECT_COUNT:
        return (-(row["correct_count"] if row["correct_count"] is not None else -1),)
    if ranking.prize_tie_rule == PrizeTieRule.LOT:
        import hashlib

        text = f"{ranking.prize_tie_seed}:{row['attempt_id']}".encode()
        return (hashlib.md5(text, usedforsecurity=False).hexdigest(),)
    return ()


def prize_line_ties(*, ranking: RoundRanking) -> list[PrizeLineTie]:
    """Every prize line of ``ranking`` that falls inside a tie, in tier order (see PrizeLineTie). Reads the
    prize-eligible entries down to the lowest rank that won a prize (every winner and the whole tie at the
    last line)."""
    tiers = prize_tiers(ranking)
    if not tiers:
        return []
    eligible = RankingEntry.objects.filter(ranking=ranking, prize_eligible=True)
    lowest = eligible.filter(is_winner=True).order_by("-rank").values_list("rank", flat=True).first()
    if lowest is None:
        return []
    rows = list(eligible.filter(rank__lte=lowest).order_by("position")
                .values("rank", "correct_count", "attempt_id", "prize", "is_winner"))
    result = []
    done: set[int] = set()  # indexes of rows given a prize at an earlier line
    for tier, count in tiers:
        members = [i for i, r in enumerate(rows) if i not in done and r["is_winner"] and (r["prize"] == tier)]
        if not members:
            continue
        last_rank = max(rows[i]["rank"] for i in members)
        group = [i for i, r in enumerate(rows) if r["rank"] == last_rank and i not in done]
        inside = [i for i in group if i in members]
        outside = [i for i in group if i not in members]
        done.update(members)
        extended = max(0, len(members) - count)
        if not outside and not extended:
            continue
        if outside:
            rule = ranking.prize_tie_rule
            resolved = (rule in (PrizeTieRule.CORRECT_COUNT, PrizeTieRule.LOT)
                        and max(_award_key(ranking, rows[i]) for i in inside)
                        < min(_award_key(ranking, rows[i]) for i in outside))
        else:
            rule, resolved = ranking.prize_tie_rule, True
        result.append(PrizeLineTie(tier=tier, rank=last_rank, tied=len(group), inside=len(inside),
                                   extended=extended, rule=rule, resolved=resolved))
    return result
# --------------------------------------------------------------------------------------------------
# A unit's own participation in contests open to it (ward organisers, issue 25)
# --------------------------------------------------------------------------------------------------


def units_of_staff(*, user: Any) -> set[int]:
    """Units (organisations contestants choose, e.g. a ward) where ``user`` is an organiser or judge: whose
    participation they follow in every contest open to them, whoever organises it."""
    ids = organisation_ids_for(user, STAFF_ROLES)
    if not ids:
        return set()
    return set(Organisation.objects.filter(pk__in=ids, is_unit=True).values_list("pk", flat=True))


def contest_open_to_unit(*, contest: Contest, unit_id: int) -> bool:
    """Whether a unit takes part in a published contest, for following its own participation: the contest
    names it among its allowed units, or names none (open to every unit) and people of the unit registered.
    (A contest open to every unit is not every unit's business until its people take part.)"""
    if not contest.is_published:
        return False
    allowed = set(contest.allowed_units.values_list("pk", flat=True))
    if allowed:
        return unit_id in allowed
    return Registration.objects.filter(contest=contest, unit_id=unit_id).exists()


def contests_open_to_units(*, unit_ids: set[int]) -> list[tuple[Contest, list[Organisation]]]:
    """Published contests that any of ``unit_ids`` takes part in (``contest_open_to_unit``), each with those
    units, newest first. Three queries."""
    if not unit_ids:
        return []
    units = {u.pk: u for u in Organisation.objects.filter(pk__in=unit_ids).order_by("name")}
    registered = Registration.objects.filter(unit_id__in=unit_ids, contest__allowed_units__isnull=True)
    contests = list(Contest.objects.filter(visibility=ContestVisibility.PUBLISHED).filter(
        Q(allowed_units__in=unit_ids) | Q(pk__in=registered.values("contest_id"))).distinct()
        .select_related("organisation").prefetch_related("allowed_units").order_by("-created_at", "-id")[:100])
    taking_part = set(registered.values_list("contest_id", "unit_id").distinct())
    out = []
    for contest in contests:
        allowed = {u.pk for u in contest.allowed_units.all()}
        mine = [u for pk, u in units.items()
                if (pk in allowed if allowed else (contest.pk, pk) in taking_part)]
        if mine:
            out.append((contest, mine))
    return out


def unit_participation_visible(*, user: Any, contest: Contest, unit: Organisation) -> bool:
    """Who may see ``unit``'s own participation in ``contest``: its organisers and judges when the unit takes
    part (``contest_open_to_unit``), and the contest's own staff (they see every unit anyway)."""
    if has_role(user, contest.organisation_id, STAFF_ROLES):
        return True
    if not unit.is_unit:
        return False
    return has_role(user, unit.pk, STAFF_ROLES) and contest_open_to_unit(contest=contest, unit_id=unit.pk)


@dataclass
class UnitRoundFigures:
    """One unit in one round (or the whole contest when ``round`` is None)."""

    round: Round | None
    registered: int
    in_progress: int
    entrants: int
    attempts: int
    population: int | None

    @property
    def rate_percent(self) -> float | None:
        if not self.population:
            return None
        return round(100.0 * self.entrants / self.population, 2)


def unit_participation(*, contest: Contest, unit: Organisation) -> list[UnitRoundFigures]:
    """The unit's figures for the whole contest, then per round: registered people (of the unit), people with
    an attempt in progress, people with a finished attempt (entrants), finished attempts. Three grouped
    queries whatever the number of rounds."""
    rounds = list(contest.rounds.all())
    registered = Registration.objects.filter(contest=contest, unit=unit).count()
    attempts = Attempt.objects.filter(round__contest=contest, unit=unit)
    finished = {row["round_id"]: row for row in attempts.filter(status__in=FINISHED_STATUSES).values("round_id")
                .annotate(entrants=Count("user_id", distinct=True), n=Count("id"))}
    running = dict(attempts.filter(status=AttemptStatus.IN_PROGRESS).values("round_id")
                   .annotate(n=Count("user_id", distinct=True)).values_list("round_id", "n"))
    total = attempts.filter(status__in=FINISHED_STATUSES).aggregate(
        entrants=Count("user_id", distinct=True), n=Count("id"))
    population = unit_populations(contest=contest).get(unit.pk, unit.registered_population)
    figures = [UnitRoundFigures(None, registered, sum(running.values()), total["entrants"] or 0, total["n"] or 0,
                                population)]
    for r in rounds:
        row = finished.get(r.pk, {})
        figures.append(UnitRoundFigures(r, registered, running.get(r.pk, 0), row.get("entrants", 0),
                                        row.get("n", 0), population))
    return figures


def unit_people(*, contest: Contest, unit: Organisation, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """The unit's registered people in the contest with how far they got — names masked ("Nguyễn V. A."),
    never phone or ID numbers (docs/privacy.md): the list a ward uses to remind its people."""
    regs = list(Registration.objects.filter(contest=contest, unit=unit).order_by("full_name", "pk")
                .values_list("pk", "full_name")[offset:offset + limit])
    ids = [pk for pk, _name in regs]
    finished = dict(Attempt.objects.filter(registration_id__in=ids, status__in=FINISHED_STATUSES)
                    .values("registration_id").annotate(n=Count("id")).values_list("registration_id", "n"))
    running = set(Attempt.objects.filter(registration_id__in=ids, status=AttemptStatus.IN_PROGRESS)
                  .values_list("registration_id", flat=True))
    return [{"name": display_name(name, masked=True), "finished": finished.get(pk, 0), "in_progress": pk in running}
            for pk, name in regs]

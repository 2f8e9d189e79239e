"""The official ranking of a round, computed in SQL from the database at close and stored.

Contract of ``ranking_compute``:
- one statement ``INSERT … SELECT`` with window functions does the work (``ROW_NUMBER() OVER (PARTITION BY
  user …)`` picks each person's counted attempt per the selection policy, ``RANK()`` ranks them), so 1,000,000
  attempts never pass through Python. The same SQL runs on PostgreSQL and on SQLite (≥ 3.25, the embedded
  default);
- the round row is locked (``FOR UPDATE``) while a version is computed, so two computations serialise and
  versions are gap-free;
- finished attempts only; disqualified attempts (status ``disqualified``) and attempts of a person
  disqualified in the contest are excluded;
- a locked ranking (proposed/approved/published) is only recomputed as an audited *revision* with a reason,
  which creates a new draft version (approval is needed again);
- every computation is audited, with the number of ranks that changed against the previous version.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Role
from accounts.tenancy import has_role
from contests import errors as contest_errors
from contests.models import Attempt, AttemptStatus, Round
from contests.services._common import audit
from contests.services.contests import round_close as contests_round_close
from leaderboards import errors
from leaderboards.models import (
    LOCKED_STATUSES,
    Disqualification,
    PrizeTier,
    PrizeTieRule,
    RankingEntry,
    RankingStatus,
    RoundRanking,
)
from leaderboards.strategies import TieBreak, policy_for, tie_break_for

DIFF_ROWS_KEPT = 200
RANKING_ROLES = frozenset({Role.ORGANISER})
# Judges may recompute a draft (e.g. once the essays are graded); a locked version only organisers revise.
DRAFT_RANKING_ROLES = frozenset({Role.ORGANISER, Role.JUDGE})
MAX_PRIZES_PER_TIER = 100_000


def ranking_is_locked(ranking: RoundRanking | None) -> bool:
    """A ranking that a judge proposed (or that was approved/published/withdrawn) must not move silently."""
    return ranking is not None and ranking.status in LOCKED_STATUSES


def prizes_clean(prizes: dict[str, Any] | None) -> dict[str, int]:
    """{tier: count} with every PrizeTier key, counts ≥ 0. Raises ValueError on anything else."""
    cleaned: dict[str, int] = {}
    for tier in PrizeTier.values:
        value = (prizes or {}).get(tier, 0)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PRIZES_PER_TIER:
            raise ValueError(f"prize count for {tier}: {value!r}")
        cleaned[tier] = value
    unknown = set(prizes or {}) - set(PrizeTier.values)
    if unknown:
        raise ValueError(f"unknown prize tiers {sorted(unknown)}")
    return cleaned


def ranking_current(*, round: Round) -> RoundRanking | None:
    return RoundRanking.objects.filter(round=round).order_by("-version").first()


# --------------------------------------------------------------------------------------------------
# SQL shared with the live boards' rebuild
# --------------------------------------------------------------------------------------------------


def counted_attempts_sql(*, round_id: int, policy: str, order: TieBreak, with_prediction: bool,
                         target: int | None, submitted_before: dt.datetime | None = None,
                         user_id: int | None = None) -> tuple[str, list]:
    """SELECT of each person's counted attempt in a round: columns id, user_id, unit_id, registration_id,
    number, score, correct_count, prediction, dist, duration_ms, submitted_at. ``submitted_before`` limits
    the candidates (the frozen board); ``user_id`` limits them to one person."""
    attempt = Attempt._meta.db_table
    disq = Disqualification._meta.db_table
    params: list[Any] = []
    use_prediction = with_prediction and target is not None
    if use_prediction:
        dist = "CAST(ABS(a.prediction - %s) AS BIGINT)"
        params.append(int(target))
    else:
        dist = "CAST(NULL AS BIGINT)"
    rank_sql = order.sql(with_prediction=use_prediction)
    before = ""
    params_where: list[Any] = [round_id, AttemptStatus.SUBMITTED, AttemptStatus.EXPIRED]
    if submitted_before is not None:
        before = " AND a.submitted_at < %s"
        params_where.append(submitted_before)
    if user_id is not None:
        before += " AND a.user_id = %s"
        params_where.append(int(user_id))
    inner = (
        f"SELECT a.id, a.user_id, a.unit_id, a.registration_id, a.number, COALESCE(a.score, 0) AS score, "
        f"a.correct_count, a.prediction, {dist} AS dist, COALESCE(a.duration_ms, 0) AS duration_ms, a.submitted_at "
        f"FROM {attempt} a WHERE a.round_id = %s AND a.status IN (%s, %s){before} "
        f"AND NOT EXISTS (SELECT 1 FROM {disq} d WHERE d.registration_id = a.registration_id "
        f"AND d.scope = 'person' AND d.revoked_at IS NULL)"
    )
    picked = (
        f"SELECT c.*, ROW_NUMBER() OVER (PARTITION BY c.user_id ORDER BY "
        f"{policy_for(policy).sql_order(rank_sql)}) AS pick FROM ({inner}) c"
    )
    sql = (f"SELECT id, user_id, unit_id, registration_id, number, score, correct_count, prediction, dist, "
           f"duration_ms, submitted_at FROM ({picked}) p WHERE pick = 1")
    return sql, params + params_where


def _other_current_ranking_ids(round: Round) -> list[int]:
    """The current (newest) ranking of every other round of the contest."""
    ids: dict[int, tuple[int, int]] = {}
    for rid, round_id, version in (RoundRanking.objects.filter(round__contest_id=round.contest_id)
                                   .exclude(round_id=round.pk).values_list("id", "round_id", "version")):
        if round_id not in ids or version > ids[round_id][1]:
            ids[round_id] = (rid, version)
    return [rid for rid, _ in ids.values()]


def _insert_entries(*, ranking: RoundRanking, round: Round, order: TieBreak, policy: str, with_prediction: bool,
                    target: int | None) -> int:
    entry = RankingEntry._meta.db_table
    counted, params = counted_attempts_sql(round_id=round.pk, policy=policy, order=order,
                                           with_prediction=with_prediction, target=target)
    rank_sql = order.sql(with_prediction=with_prediction and target is not None)
    eligible = "TRUE"
    eligible_params: list[Any] = []
    others = _other_current_ranking_ids(round) if round.contest.one_prize_per_person else []
    if others:
        marks = ", ".join(["%s"] * len(others))
        eligible = (f"NOT EXISTS (SELECT 1 FROM {entry} w WHERE w.user_id = c.user_id AND w.is_winner "
                    f"AND w.ranking_id IN ({marks}))")
        eligible_params = list(others)
    sql = (
        f"INSERT INTO {entry} (ranking_id, attempt_id, user_id, unit_id, position, rank, score, correct_count, "
        f"prediction, prediction_distance, duration_ms, submitted_at, prize_eligible, is_winner, prize) "
        f"SELECT %s, id, user_id, unit_id, ROW_NUMBER() OVER (ORDER BY {rank_sql}, id ASC), "
        f"RANK() OVER (ORDER BY {rank_sql}), score, correct_count, prediction, dist, duration_ms, submitted_at, "
        f"{eligible}, FALSE, '' FROM ({counted}) c"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [ranking.pk, *eligible_params, *params])
        inserted = cursor.rowcount
    _apply_prizes(ranking)
    return inserted


def prize_award_order(ranking: RoundRanking) -> tuple[str, list[Any]]:
    """ORDER BY (and its parameters) in which prize-eligible entries receive the prizes: the listing order,
    refined inside a rank by the organiser's further criterion for ties at a prize line
    (``RoundRanking.prize_tie_rule``): more correct answers, or a draw by lot — md5 of "seed:attempt id",
    reproducible by anyone who has the recorded seed. ``leaderboards.selectors.prize_line_ties`` sorts the same
    way in Python."""
    rule = ranking.prize_tie_rule
    if rule == PrizeTieRule.CORRECT_COUNT:
        return "rank ASC, COALESCE(correct_count, -1) DESC, position ASC", []
    if rule == PrizeTieRule.LOT:
        # Byte order of the hex digest on PostgreSQL whatever the database's collation (SQLite compares bytes).
        collate = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
        return (f"rank ASC, MD5(%s || ':' || CAST(attempt_id AS TEXT)){collate} ASC, position ASC",
                [ranking.prize_tie_seed])
    return "position ASC", []


def _apply_prizes(ranking: RoundRanking) -> None:
    """Mark the winners of ``ranking``: tier by tier (``prizes``: the first N₁ eligible get the first prize, the
    next N₂ the second…), the prize-eligible entries not yet given a prize, in ``prize_award_order``. A ranking
    with ``prize_places`` but no tiers (older versions) marks winners without a tier.

    When the organiser chose to extend prizes to everyone tied at a prize line (``PrizeTieRule.EXTEND``), a tier
    takes every remaining entry ranked no lower than its N-th one, so a tie at its last place gets the prize
    whole (the next tier still has its own N). Otherwise a tie at a line is cut in the award order — which the
    approval refuses until the organiser has decided (judging: ``PrizeTieUndecided``)."""
    entry = RankingEntry._meta.db_table
    order, order_params = prize_award_order(ranking)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {entry} SET is_winner = FALSE, prize = '' WHERE ranking_id = %s "
                       f"AND (is_winner OR prize <> '')", [ranking.pk])
        for tier, count in prize_tiers(ranking):
            remaining = "ranking_id = %s AND prize_eligible AND NOT is_winner"
            if ranking.prize_tie_rule == PrizeTieRule.EXTEND:
                cursor.execute(f"SELECT rank FROM {entry} WHERE {remaining} ORDER BY position LIMIT 1 OFFSET %s",
                               [ranking.pk, count - 1])
                row = cursor.fetchone()
                last_rank = row[0] if row else None
                cursor.execute(f"UPDATE {entry} SET is_winner = TRUE, prize = %s WHERE {remaining}"
                               + ("" if last_rank is None else " AND rank <= %s"),
                               [tier, ranking.pk, *([] if last_rank is None else [last_rank])])
                continue
            cursor.execute(
                f"UPDATE {entry} SET is_winner = TRUE, prize = %s WHERE id IN (SELECT id FROM {entry} "
                f"WHERE {remaining} ORDER BY {order} LIMIT %s)",
                [tier, ranking.pk, *order_params, count])


def prize_tiers(ranking: RoundRanking) -> list[tuple[str, int]]:
    """The tiers with a prize, in order, with their counts; ``[("", prize_places)]`` for a ranking with
    ``prize_places`` but no tiers (older versions)."""
    tiers = [(tier, int((ranking.prizes or {}).get(tier, 0))) for tier in PrizeTier.values]
    if not any(count for _, count in tiers):
        return [("", ranking.prize_places)] if ranking.prize_places else []
    return [(tier, count) for tier, count in tiers if count > 0]


def ranking_prize_tie_set(*, ranking: RoundRanking, rule: str, seed: str = "") -> RoundRanking:
    """Set how ties at a prize line are settled on an unlocked (draft) ranking and re-mark its winners; a locked
    version changes only in a new version (``ranking_compute`` with ``prize_tie``). The caller (judging) checks
    roles and records the decision. Raises RankingLocked, ValueError (unknown rule)."""
    if rule not in PrizeTieRule.values:
        raise ValueError(f"unknown prize tie rule {rule!r}")
    with transaction.atomic():
        locked = RoundRanking.objects.select_for_update().get(pk=ranking.pk)
        if ranking_is_locked(locked):
            raise errors.RankingLocked()
        locked.prize_tie_rule, locked.prize_tie_seed = rule, seed if rule == PrizeTieRule.LOT else ""
        locked.save(update_fields=["prize_tie_rule", "prize_tie_seed"])
        _apply_prizes(locked)
    return locked


def ranking_prizes_set(*, ranking: RoundRanking, prizes: dict[str, int],
                       collective_prizes: dict[str, int] | None = None) -> RoundRanking:
    """Change the prizes of an unlocked (draft) ranking in place and re-mark its winners. A locked version is
    never changed: its prizes change only in a new version (``ranking_compute`` with ``prizes``). The caller
    (judging) checks roles and records the decision. Raises RankingLocked, ValueError."""
    prizes = prizes_clean(prizes)
    with transaction.atomic():
        locked = RoundRanking.objects.select_for_update().get(pk=ranking.pk)
        if ranking_is_locked(locked):
            raise errors.RankingLocked()
        locked.prizes = prizes
        locked.prize_places = sum(prizes.values())
        if collective_prizes is not None:
            locked.collective_prizes = dict(collective_prizes)
        locked.save(update_fields=["prizes", "prize_places", "collective_prizes"])
        _apply_prizes(locked)
    return locked


def ranking_diff(*, old: RoundRanking | None, new: RoundRanking, limit: int = DIFF_ROWS_KEPT) -> dict[str, Any]:
    """What changed between two versions, per person: rank, score or counted attempt (SQL, both ways)."""
    if old is None:
        return {"previous_version": None, "changed": 0, "rows": []}
    entry = RankingEntry._meta.db_table
    sql = (
        f"SELECT COALESCE(n.user_id, o.user_id), o.rank, n.rank, o.score, n.score, o.attempt_id, n.attempt_id "
        f"FROM (SELECT * FROM {entry} WHERE ranking_id = %s) n "
        f"FULL OUTER JOIN (SELECT * FROM {entry} WHERE ranking_id = %s) o ON o.user_id = n.user_id "
        f"WHERE o.user_id IS NULL OR n.user_id IS NULL OR o.rank <> n.rank OR o.score <> n.score "
        f"OR o.attempt_id <> n.attempt_id ORDER BY COALESCE(n.position, o.position + 1000000000)"
    )
    rows = []
    changed = 0
    with connection.cursor() as cursor:
        cursor.execute(sql, [new.pk, old.pk])
        for user_id, old_rank, new_rank, old_score, new_score, old_attempt, new_attempt in cursor:
            changed += 1
            if len(rows) < limit:
                rows.append({"user_id": user_id, "old_rank": old_rank, "new_rank": new_rank,
                             "old_score": str(old_score) if old_score is not None else None,
                             "new_score": str(new_score) if new_score is not None else None,
                             "old_attempt_id": old_attempt, "new_attempt_id": new_attempt})
    return {"previous_version": old.version, "changed": changed, "rows": rows}


def ranking_compute(*, round: Round, actor: Any = None, revision_reason: str = "",
                    prize_places: int | None = None, prizes: dict[str, int] | None = None,
                    collective_prizes: dict[str, int] | None = None,
                    prize_tie: tuple[str, str] | None = None,
                    now: dt.datetime | None = None, first_only: bool = False) -> RoundRanking:
    """Compute and store a new version of the official ranking of a closed round.

    ``actor`` None = the system (the close job); otherwise an organiser of the owning organisation, or a
    judge when the current version is a draft (not a revision). Raises RoundNotClosed (no prediction target
    stored yet / round not officially closed), RankingLocked (the current version is locked and no
    ``revision_reason`` was given), PermissionDenied. ``prizes`` ({tier: count}) / ``collective_prizes`` None
    keep the previous version's; ``prize_places`` alone (no tiers) marks that many winners without a tier.
    ``prize_tie`` ((PrizeTieRule, seed)) None keeps the previous version's decision on ties at a prize line.
    Stores ``Round.results_revision`` as the version's ``inputs_revision`` (read under the round's lock).
    ``first_only`` (the close): if a version of this close exists once the round row is locked, return it
    unchanged (a version from before a reopening does not count) — so
    the first ranking is computed exactly once, whether several workers close the round together or a
    worker killed while computing it left the round closed without one.
    """
    now = now or timezone.now()
    revision_reason = (revision_reason or "").strip()
    if prizes is not None:
        prizes = prizes_clean(prizes)
    if prize_tie is not None and prize_tie[0] not in PrizeTieRule.values:
        raise ValueError(f"unknown prize tie rule {prize_tie[0]!r}")
    with transaction.atomic():
        round = Round.objects.select_for_update(of=("self",)).select_related("contest").get(pk=round.pk)
        organisation_id = round.contest.organisation_id
        if round.closed_at is None:
            raise errors.RoundNotClosed()
        previous = ranking_current(round=round)
        if first_only and previous is not None and previous.computed_at >= round.closed_at:
            return previous  # this close was ranked meanwhile (an earlier close's version does not count)
        revision = ranking_is_locked(previous)
        roles = RANKING_ROLES if revision else DRAFT_RANKING_ROLES
        if actor is not None and not has_role(actor, organisation_id, roles):
            raise errors.PermissionDenied()
        if revision and not revision_reason:
            raise errors.RankingLocked()
        if connection.vendor == "postgresql":
            # The two window sorts of a million rows fit in memory instead of spilling to disk.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '256MB'")
        settings = round.settings
        order = tie_break_for(settings.tie_break_order)
        with_prediction = bool(settings.prediction_enabled)
        target = round.prediction_target_value if with_prediction else None
        ranking = RoundRanking.objects.create(
            round=round, version=(previous.version + 1) if previous else 1, status=RankingStatus.DRAFT,
            computed_at=now, created_by=actor if getattr(actor, "pk", None) else None,
            prediction_target_kind=settings.prediction_target_kind if with_prediction else "",
            prediction_target_value=target, counted_attempt=settings.counted_attempt,
            tie_break_order=list(order.keys),
            prizes=prizes if prizes is not None else (dict(previous.prizes) if previous and prize_places is None
                                                      else {}),
            collective_prizes=(dict(collective_prizes) if collective_prizes is not None
                               else dict(previous.collective_prizes) if previous else {}),
            revision_reason=revision_reason, inputs_revision=round.results_revision,
            **_prize_tie_fields(prize_tie, previous),
        )
        if prizes is not None:
            ranking.prize_places = sum(prizes.values())
        elif prize_places is not None:
            ranking.prize_places = prize_places
        elif previous is not None:
            ranking.prize_places = previous.prize_places
        ranking.save(update_fields=["prize_places"])
        ranking.entry_count = _insert_entries(ranking=ranking, round=round, order=order,
                                              policy=settings.counted_attempt, with_prediction=with_prediction,
                                              target=target)
        ranking.diff = ranking_diff(old=previous, new=ranking)
        ranking.save(update_fields=["entry_count", "diff"])
        audit(actor=actor, action="leaderboards.ranking_revised" if revision else "leaderboards.ranking_computed",
              target=ranking, organisation=organisation_id, reason=revision_reason,
              data={"round_id": round.pk, "version": ranking.version, "entries": ranking.entry_count,
                    "prediction_target_value": target, "changed": ranking.diff.get("changed", 0),
                    "previous_version": previous.version if previous else None,
                    "previous_status": previous.status if previous else None})
    return ranking


def _prize_tie_fields(prize_tie: tuple[str, str] | None, previous: RoundRanking | None) -> dict[str, str]:
    if prize_tie is not None:
        rule, seed = prize_tie
    elif previous is not None:
        rule, seed = previous.prize_tie_rule, previous.prize_tie_seed
    else:
        rule, seed = PrizeTieRule.UNDECIDED, ""
    return {"prize_tie_rule": rule, "prize_tie_seed": seed if rule == PrizeTieRule.LOT else ""}


def round_close(*, round: Round, actor: Any = None, now: dt.datetime | None = None) -> RoundRanking:
    """Officially close a round and store its first official ranking.

    The close itself (finish attempts still in progress, compute and store ``prediction_target_value`` per
    the round's target kind — people or attempts with every answer correct, entrants, attempts —, set
    ``closed_at``) is ``contests.services.contests.round_close``; this adds the ranking. Idempotent: a round
    that already has a ranking of this close gets it back unchanged, and a closed round without one (the worker
    computing it was killed: its transaction rolled back) gets it now, exactly once. A round that was reopened
    after an earlier close (``round_extend``) gets a new version at its new close — a revision, with its reason,
    when the earlier version had been proposed or approved. Raises RoundNotClosed before the (extended) close
    and its network grace have passed.
    """
    try:
        round = contests_round_close(round=round, now=now, actor=actor)
    except contest_errors.RoundStillAccepting as exc:
        raise errors.RoundNotClosed(exc.message) from exc
    except contest_errors.RoundNotOpen as exc:
        raise errors.RoundNotClosed() from exc
    existing = ranking_current(round=round)
    if existing is not None and existing.computed_at >= round.closed_at:
        return existing
    reason = ""
    if ranking_is_locked(existing):
        reason = gettext("Đợt thi được mở lại và kết thúc lại: tính lại kết quả xếp hạng.")
    return ranking_compute(round=round, actor=actor, now=now, revision_reason=reason, first_only=True)

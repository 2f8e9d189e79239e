"""Property: for any set of attempts (ties included), the SQL official ranking (without a prediction
question), the Redis board and the in-process board give the same order and the same ranks, under each
selection policy."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contests.models import Attempt, Round
from leaderboards.models import RankingEntry, RoundRanking
from leaderboards.services import boards, live
from leaderboards.services.ranking import ranking_compute
from tests.leaderboards.conftest import People, clear_redis, redis_board

pytestmark = pytest.mark.django_db

# Few distinct values so that ties on every key (and on the whole chain) are common.
attempt_st = st.tuples(
    st.integers(0, 7),  # person
    st.sampled_from(["0", "1", "2.5", "3", "10"]),  # score
    st.sampled_from([0, 1000, 1001, 60_000]),  # duration ms
    st.sampled_from([0, 0.000001, 1, 3600]),  # submitted (seconds after T0)
)


def board_rows(board, round_id):
    return [(r.user_id, r.rank, r.attempt_id) for r in board.top(round_id, "live", limit=1000)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attempts=st.lists(attempt_st, min_size=0, max_size=25), policy=st.sampled_from(["first", "best", "last"]))
def test_sql_redis_and_memory_agree(lb_round, attempts, policy):
    round = Round.objects.select_related("contest").get(pk=lb_round.pk)
    contest = round.contest
    contest.counted_attempt, contest.prediction_enabled = policy, False
    contest.save()
    round.refresh_settings()
    # Every example starts from an empty round (hypothesis reuses the function-scoped fixtures).
    RankingEntry.objects.filter(ranking__round=round).delete()
    RoundRanking.objects.filter(round=round).delete()
    Attempt.objects.filter(round=round).delete()
    people = People(round)
    for person, score, duration, submitted in attempts:
        people.attempt(person, score=score, duration_ms=duration, submitted=submitted)
    Round.objects.filter(pk=round.pk).update(closed_at=round.closes_at)
    round.closed_at = round.closes_at

    ranking = ranking_compute(round=round)
    sql = [(e.user_id, e.rank, e.attempt_id) for e in ranking.entries.order_by("position")]

    redis = redis_board()
    clear_redis(redis)
    memory = boards.MemoryBoard()
    try:
        results = {}
        for name, board in (("redis", redis), ("memory", memory)):
            boards.set_board(board)
            live.leaderboard_rebuild(round=round)
            results[name] = board_rows(board, round.pk)
            # The same boards built incrementally (submit order = id order) must agree too.
            board.drop(round.pk)
            board.replace(round.pk, {"live": []})
            for attempt in Attempt.objects.filter(round=round).select_related("round__contest").order_by("pk"):
                live._apply_attempt(attempt, round=round)
            results[name + "-incremental"] = board_rows(board, round.pk)
        for name, rows in results.items():
            assert rows == sql, name
        # my-rank agrees with the listing for everyone
        boards.set_board(redis)
        for user_id, rank, attempt_id in sql:
            mine = live.leaderboard_my_rank(round=round, user_id=user_id)
            assert (mine.rank, mine.attempt_id) == (rank, attempt_id)
    finally:
        clear_redis(redis)
        boards.set_board(None)


def test_t0_is_timezone_aware():
    from tests.leaderboards.conftest import T0

    assert T0.tzinfo is dt.UTC


def reference_ranking(attempts, *, policy, order, target):
    """A plain-Python statement of the rules: the counted attempt per person, then ranks 1-1-3 over the chain."""
    from leaderboards.strategies import tie_break_for

    chain = tie_break_for(order)

    def key(a):
        row = {"score": a.score, "duration_ms": a.duration_ms, "submitted_at": a.submitted_at,
               "dist": None if a.prediction is None else abs(a.prediction - target)}
        return chain.python_key(row, with_prediction=True)

    counted = {}
    for a in attempts:
        cur = counted.get(a.user_id)
        if cur is None:
            counted[a.user_id] = a
        elif policy == "first":
            counted[a.user_id] = min(cur, a, key=lambda x: x.number)
        elif policy == "last":
            counted[a.user_id] = max(cur, a, key=lambda x: x.number)
        else:
            counted[a.user_id] = min(cur, a, key=lambda x: (key(x), x.pk))
    ordered = sorted(counted.values(), key=lambda a: (key(a), a.pk))
    result = []
    for index, a in enumerate(ordered):
        rank = index + 1 if index == 0 or key(ordered[index - 1]) != key(a) else result[-1][1]
        result.append((a.user_id, rank, a.pk))
    return result


official_st = st.tuples(
    st.integers(0, 6),
    st.sampled_from(["1", "2", "5"]),
    st.sampled_from([1000, 2000]),
    st.sampled_from([0, 1]),
    st.one_of(st.none(), st.integers(0, 12)),  # prediction
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attempts=st.lists(official_st, min_size=1, max_size=20), policy=st.sampled_from(["first", "best", "last"]),
       order=st.sampled_from([["score", "prediction", "duration", "submitted_at"],
                              ["score", "duration", "prediction", "submitted_at"]]),
       target_kind=st.sampled_from(["attempts", "entrants", "perfect_attempts", "perfect_people"]))
def test_official_ranking_matches_the_rules(lb_round, attempts, policy, order, target_kind):
    round = Round.objects.select_related("contest").get(pk=lb_round.pk)
    contest = round.contest
    contest.counted_attempt, contest.prediction_enabled, contest.tie_break_order = policy, True, order
    contest.prediction_target_kind = target_kind
    contest.save()
    RankingEntry.objects.filter(ranking__round=round).delete()
    RoundRanking.objects.filter(round=round).delete()
    Attempt.objects.filter(round=round).delete()
    Round.objects.filter(pk=round.pk).update(closed_at=None, prediction_target_value=None)
    people = People(round)
    made = [people.attempt(p, score=s, duration_ms=d, submitted=t, prediction=pred, correct=int(s), questions=5)
            for p, s, d, t, pred in attempts]
    from leaderboards.services.ranking import round_close

    ranking = round_close(round=Round.objects.select_related("contest").get(pk=round.pk))
    fresh = list(Attempt.objects.filter(pk__in=[a.pk for a in made]))
    assert [(e.user_id, e.rank, e.attempt_id) for e in ranking.entries.order_by("position")] == reference_ranking(
        fresh, policy=policy, order=order, target=ranking.prediction_target_value)

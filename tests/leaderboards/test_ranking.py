"""The official ranking computed in SQL at close: tie-break orders, selection policies, ranks 1-1-3,
prediction targets, prize eligibility, locking and audited revisions, contest-wide totals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent
from contests.models import AttemptStatus
from leaderboards import errors
from leaderboards.models import ContestLeaderboardSettings, RankingStatus, RoundRanking
from leaderboards.selectors import contest_ranking
from leaderboards.services.ranking import ranking_compute, ranking_is_locked, round_close
from tests.contests.factories import RoundFactory
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def table(ranking):
    return [(e.user_id, e.rank, e.attempt_id) for e in ranking.entries.order_by("position")]


def users(ranking):
    return [e.user_id for e in ranking.entries.order_by("position")]


def set_rules(round, **values):
    for name, value in values.items():
        setattr(round.contest, name, value)
    round.contest.save()
    round.refresh_settings()


def test_close_stores_target_and_ranks_standard_competition(people, lb_round):
    set_rules(lb_round, prediction_enabled=False)
    a = people.attempt(1, score="8", duration_ms=5000)
    b = people.attempt(2, score="8", duration_ms=5000)  # identical tie chain → same rank
    c = people.attempt(3, score="7", duration_ms=1000)
    d = people.attempt(4, score="9", duration_ms=9000)
    ranking = round_close(round=lb_round)
    assert [(e.attempt_id, e.rank, e.position) for e in ranking.entries.order_by("position")] == [
        (d.pk, 1, 1), (a.pk, 2, 2), (b.pk, 2, 3), (c.pk, 4, 4)]
    lb_round.refresh_from_db()
    assert lb_round.closed_at is not None
    assert round_close(round=lb_round).pk == ranking.pk  # idempotent


def test_round_close_before_close_refused(people, lb_round):
    lb_round.closes_at = lb_round.opens_at + dt.timedelta(days=30)
    lb_round.save()
    with pytest.raises(errors.RoundNotClosed):
        round_close(round=lb_round)


@pytest.mark.parametrize(("kind", "expected"), [("perfect_people", 2), ("perfect_attempts", 3),
                                                ("entrants", 3), ("attempts", 5)])
def test_prediction_target_kinds(people, lb_round, kind, expected):
    set_rules(lb_round, prediction_target_kind=kind)
    people.attempt(1, score="5", correct=5)
    people.attempt(1, score="5", correct=5)
    people.attempt(2, score="5", correct=5)
    people.attempt(3, score="3", correct=3)
    people.attempt(3, score="4", correct=4)
    ranking = round_close(round=lb_round)
    assert ranking.prediction_target_value == expected
    lb_round.refresh_from_db()
    assert lb_round.prediction_target_value == expected


def test_tie_break_prediction_before_duration(people, lb_round):
    set_rules(lb_round, prediction_target_kind="attempts", tie_break_order=["score", "prediction", "duration",
                                                                            "submitted_at"])
    far_fast = people.attempt(1, score="5", duration_ms=1000, prediction=100)
    near_slow = people.attempt(2, score="5", duration_ms=9000, prediction=4)
    none_fast = people.attempt(3, score="5", duration_ms=500, prediction=None)
    people.attempt(4, score="1", prediction=5)  # 5 attempts in total: target 5 (exact prediction, low score)
    people.attempt(5, score="1", prediction=5)
    ranking = round_close(round=lb_round)
    assert ranking.prediction_target_value == 5
    order = [e.attempt_id for e in ranking.entries.order_by("position")][:3]
    assert order == [near_slow.pk, far_fast.pk, none_fast.pk]
    entry = ranking.entries.get(attempt=near_slow)
    assert entry.prediction_distance == 1


def test_tie_break_duration_before_prediction(people, lb_round):
    set_rules(lb_round, prediction_target_kind="attempts", tie_break_order=["score", "duration", "prediction",
                                                                            "submitted_at"])
    far_fast = people.attempt(1, score="5", duration_ms=1000, prediction=100)
    near_slow = people.attempt(2, score="5", duration_ms=9000, prediction=3)
    ranking = round_close(round=lb_round)
    assert [e.attempt_id for e in ranking.entries.order_by("position")] == [far_fast.pk, near_slow.pk]


def test_submitted_at_then_attempt_id(people, lb_round):
    set_rules(lb_round, prediction_enabled=False)
    later = people.attempt(1, score="5", duration_ms=1000, submitted=10)
    earlier = people.attempt(2, score="5", duration_ms=1000, submitted=5)
    twin_a = people.attempt(3, score="5", duration_ms=1000, submitted=20)
    twin_b = people.attempt(4, score="5", duration_ms=1000, submitted=20)
    ranking = round_close(round=lb_round)
    assert [(e.attempt_id, e.rank) for e in ranking.entries.order_by("position")] == [
        (earlier.pk, 1), (later.pk, 2), (twin_a.pk, 3), (twin_b.pk, 3)]


@pytest.mark.parametrize(("policy", "counted"), [("first", 0), ("best", 1), ("last", 2)])
def test_attempt_selection_policies(people, lb_round, policy, counted):
    set_rules(lb_round, counted_attempt=policy, prediction_enabled=False)
    attempts = [people.attempt(1, score="4", submitted=1), people.attempt(1, score="9", submitted=2),
                people.attempt(1, score="6", submitted=3)]
    other = people.attempt(2, score="5")
    ranking = round_close(round=lb_round)
    entry = ranking.entries.get(user=people.regs[1].user)
    assert entry.attempt_id == attempts[counted].pk
    assert ranking.entry_count == 2
    assert ranking.entries.get(attempt=other).rank == (2 if policy == "best" else 1 if policy == "first" else 2)


def test_best_uses_the_ranking_order_for_ties(people, lb_round):
    """Best of two attempts with the same score is the faster one (the same order as the ranking)."""
    set_rules(lb_round, counted_attempt="best", prediction_enabled=False)
    people.attempt(1, score="7", duration_ms=9000, submitted=1)
    fast = people.attempt(1, score="7", duration_ms=2000, submitted=2)
    ranking = round_close(round=lb_round)
    assert ranking.entries.get().attempt_id == fast.pk


def test_disqualified_and_unfinished_attempts_are_excluded(people, lb_round):
    set_rules(lb_round, counted_attempt="best", prediction_enabled=False)
    people.attempt(1, score="10", status=AttemptStatus.DISQUALIFIED)
    kept = people.attempt(1, score="3")
    people.attempt(2, score="9", status=AttemptStatus.IN_PROGRESS)
    # Closed without the close's sweep (which would finish the attempt in progress first).
    type(lb_round).objects.filter(pk=lb_round.pk).update(closed_at=lb_round.closes_at)
    ranking = ranking_compute(round=lb_round)
    assert [e.attempt_id for e in ranking.entries.all()] == [kept.pk]


def test_one_prize_per_person_per_contest(people, lb_round, org_a):
    set_rules(lb_round, prediction_enabled=False, one_prize_per_person=True)
    second = RoundFactory(contest=lb_round.contest, opens_at=lb_round.opens_at, closes_at=lb_round.closes_at,
                          position=2)
    people.attempt(1, score="9")
    people.attempt(2, score="8")
    people.attempt(3, score="7")
    first_ranking = round_close(round=lb_round)
    organiser = make_staff(org_a, "organiser")
    first_ranking = ranking_compute(round=lb_round, actor=organiser, prize_places=1)
    assert [e.is_winner for e in first_ranking.entries.order_by("position")] == [True, False, False]
    people.attempt(1, score="9", round=second)
    people.attempt(2, score="8", round=second)
    second_ranking = round_close(round=second)
    second_ranking = ranking_compute(round=second, actor=organiser, prize_places=1)
    rows = [(e.user_id, e.rank, e.prize_eligible, e.is_winner) for e in second_ranking.entries.order_by("position")]
    assert rows == [(people.regs[1].user_id, 1, False, False), (people.regs[2].user_id, 2, True, True)]


def test_locked_ranking_needs_an_audited_revision(people, lb_round, org_a):
    organiser = make_staff(org_a, "organiser")
    people.attempt(1, score="5")
    ranking = round_close(round=lb_round, actor=organiser)
    assert not ranking_is_locked(ranking)
    again = ranking_compute(round=lb_round, actor=organiser)  # draft: plain recompute
    assert again.version == 2
    RoundRanking.objects.filter(pk=again.pk).update(status=RankingStatus.PROPOSED)  # issue 6 proposes
    again.refresh_from_db()
    assert ranking_is_locked(again)
    with pytest.raises(errors.RankingLocked):
        ranking_compute(round=lb_round, actor=organiser)
    revised = ranking_compute(round=lb_round, actor=organiser, revision_reason="Đính chính đáp án câu 3")
    assert (revised.version, revised.status) == (3, RankingStatus.DRAFT)
    event = AuditEvent.objects.filter(action="leaderboards.ranking_revised").get()
    assert event.reason == "Đính chính đáp án câu 3"
    assert event.data["previous_status"] == "proposed"
    assert AuditEvent.objects.filter(action="leaderboards.ranking_computed").count() == 2


def test_only_staff_of_the_owner_compute_and_only_organisers_revise(people, lb_round, org_a, org_b):
    """Organisers and judges of the owner compute a draft (judges recompute it once the essays are graded);
    a locked version is revised by organisers only."""
    people.attempt(1, score="5")
    round_close(round=lb_round)
    for actor in (make_staff(org_b, "organiser"), make_staff(org_b, "judge"), make_staff(org_a, "writer")):
        with pytest.raises(errors.PermissionDenied):
            ranking_compute(round=lb_round, actor=actor)
    judge = make_staff(org_a, "judge")
    draft = ranking_compute(round=lb_round, actor=judge)
    assert draft.version == 2
    draft.status = RankingStatus.PROPOSED
    draft.save(update_fields=["status"])
    with pytest.raises(errors.PermissionDenied):
        ranking_compute(round=lb_round, actor=judge, revision_reason="Sửa đáp án câu 3")
    assert ranking_compute(round=lb_round, actor=make_staff(org_a, "organiser"),
                           revision_reason="Sửa đáp án câu 3").version == 3


def test_recompute_shows_what_changed(people, lb_round, org_a):
    set_rules(lb_round, prediction_enabled=False)
    a = people.attempt(1, score="5")
    b = people.attempt(2, score="4")
    round_close(round=lb_round)
    a.score, b.score = 3, 6  # e.g. after a rescore
    a.save()
    b.save()
    new = ranking_compute(round=lb_round, actor=make_staff(org_a, "organiser"))
    assert new.diff["previous_version"] == 1
    assert new.diff["changed"] == 2
    changes = {row["user_id"]: (row["old_rank"], row["new_rank"]) for row in new.diff["rows"]}
    assert changes == {a.user_id: (1, 2), b.user_id: (2, 1)}


def test_compute_is_one_insert_select_not_a_python_loop(people, lb_round):
    for i in range(30):
        people.attempt(i, score=str(i % 7), duration_ms=1000 + i)
    from contests.services.contests import round_close as contests_close

    contests_close(round=lb_round)
    with CaptureQueriesContext(connection) as ctx:
        ranking = ranking_compute(round=lb_round)
    assert ranking.entry_count == 30
    assert len(ctx.captured_queries) < 15


@pytest.mark.parametrize("aggregate", ["sum", "best"])
def test_contest_wide_ranking(people, lb_round, aggregate):
    set_rules(lb_round, prediction_enabled=False)
    ContestLeaderboardSettings.objects.create(contest=lb_round.contest, aggregate=aggregate)
    second = RoundFactory(contest=lb_round.contest, opens_at=lb_round.opens_at, closes_at=lb_round.closes_at)
    people.attempt(1, score="9", duration_ms=1000)
    people.attempt(2, score="6", duration_ms=1000)
    people.attempt(1, score="1", duration_ms=1000, round=second)
    people.attempt(2, score="6", duration_ms=1000, round=second)
    round_close(round=lb_round)
    round_close(round=second)
    rows = contest_ranking(contest=lb_round.contest)
    summary = [(r["user_id"], str(r["score"]), r["rank"]) for r in rows]
    u1, u2 = people.regs[1].user_id, people.regs[2].user_id
    if aggregate == "sum":
        assert summary == [(u2, "12.000", 1), (u1, "10.000", 2)]
    else:
        assert summary == [(u1, "9.000", 1), (u2, "6.000", 2)]

"""Live boards on both backends: order and ranks, policies, units, the submit hook, disqualification,
the frozen view, rebuild after the board's keys are lost, and the throttled, coalesced pushes."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.utils import timezone

from contests.models import Attempt, AttemptStatus
from leaderboards.services import live
from leaderboards.services.boards import NotReady, decode_key, encode_key
from leaderboards.services.disqualification import attempt_disqualify, disqualification_revoke, person_disqualify
from tests.factories import make_staff
from tests.leaderboards.conftest import T0

pytestmark = pytest.mark.django_db


def board_users(round, **kwargs):
    return [(r.user_id, r.rank) for r in live.leaderboard_top(round=round, limit=100, **kwargs)]


def record(attempt):
    return live.leaderboard_record_attempt(attempt=Attempt.objects.select_related("round__contest").get(pk=attempt.pk))


def freeze_at_t0(round) -> None:
    """A frozen scoreboard (60 min before the close) whose freeze falls exactly at T0."""
    contest = round.contest
    contest.scoreboard_visibility, contest.freeze_minutes = "frozen", 60
    contest.save()
    round.closes_at = T0 + dt.timedelta(hours=1)
    round.opens_at = T0 - dt.timedelta(days=1)
    round.save()
    round.refresh_settings()


def test_key_encoding_orders_like_the_tie_break_chain():
    t = T0
    keys = [
        encode_key(score="10", duration_ms=50_000, submitted_at=t, attempt_id=9),
        encode_key(score="9.5", duration_ms=1, submitted_at=t, attempt_id=1),
        encode_key(score="9.5", duration_ms=2, submitted_at=t - dt.timedelta(days=300), attempt_id=1),
        encode_key(score="9.5", duration_ms=2, submitted_at=t, attempt_id=1),
        encode_key(score="9.5", duration_ms=2, submitted_at=t + dt.timedelta(microseconds=1), attempt_id=1),
        encode_key(score="9.5", duration_ms=2, submitted_at=t + dt.timedelta(microseconds=1), attempt_id=10**11),
        encode_key(score="0", duration_ms=0, submitted_at=t, attempt_id=1),
        encode_key(score="-1.25", duration_ms=0, submitted_at=t, attempt_id=1),
    ]
    assert keys == sorted(keys)
    assert len({len(k) for k in keys}) == 1
    assert decode_key(keys[7])["score"] == -1.25
    assert decode_key(keys[5])["submitted_at"] == t + dt.timedelta(microseconds=1)


def test_top_and_my_rank_with_ties(any_lb, people, lb_round):
    a = people.attempt(1, score="8", duration_ms=5000)
    b = people.attempt(2, score="8", duration_ms=5000)
    c = people.attempt(3, score="9", duration_ms=9000)
    d = people.attempt(4, score="7")
    assert board_users(lb_round) == [(c.user_id, 1), (a.user_id, 2), (b.user_id, 2), (d.user_id, 4)]
    mine = live.leaderboard_my_rank(round=lb_round, user_id=b.user_id)
    assert (mine.rank, mine.position, mine.attempt_id) == (2, 3, b.pk)
    assert live.leaderboard_my_rank(round=lb_round, user_id=999_999) is None
    # A page that starts inside a tie still shows the tie's rank.
    page = live.leaderboard_top(round=lb_round, limit=2, offset=2)
    assert [(r.user_id, r.rank, r.position) for r in page] == [(b.user_id, 2, 3), (d.user_id, 4, 4)]


def test_unit_boards(any_lb, people, lb_round):
    a = people.attempt(1, score="5", unit=0)
    people.attempt(2, score="9", unit=1)
    c = people.attempt(3, score="7", unit=0)
    unit = people.units[0].pk
    assert board_users(lb_round, unit_id=unit) == [(c.user_id, 1), (a.user_id, 2)]
    mine = live.leaderboard_my_rank(round=lb_round, user_id=a.user_id, unit_id=unit)
    assert (mine.rank, mine.position) == (2, 2)
    assert live.leaderboard_count(round=lb_round, unit_id=unit) == 2


@pytest.mark.parametrize(("policy", "expected"), [("first", "4"), ("best", "9"), ("last", "6")])
def test_live_selection_policy(any_lb, people, lb_round, policy, expected):
    lb_round.contest.counted_attempt = policy
    lb_round.contest.save()
    lb_round.refresh_settings()
    live.leaderboard_rebuild(round=lb_round)  # empty board, ready
    for score in ("4", "9", "6"):
        record(people.attempt(1, score=score))
    rows = live.leaderboard_top(round=lb_round)
    assert [str(r.score.normalize()) for r in rows] == [expected]
    rebuilt = live.leaderboard_rebuild(round=lb_round)
    assert rebuilt == 1
    assert [str(r.score.normalize()) for r in live.leaderboard_top(round=lb_round)] == [expected]


def test_real_submit_updates_the_board_after_commit(redis_lb, org_a, django_capture_on_commit_callbacks):
    from contests.services.attempts.finish import attempt_submit
    from contests.services.attempts.start import attempt_start
    from tests.contests.factories import ContestFactory, RoundFactory, bank, register
    from tests.factories import CitizenProfileFactory

    bank(org_a, 6)
    now = timezone.now()
    contest = ContestFactory(organisation=org_a)
    round = RoundFactory(contest=contest, opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(days=1))
    user = CitizenProfileFactory(unit=org_a).user
    register(user, contest)
    live.leaderboard_rebuild(round=round)
    attempt = attempt_start(user=user, round=round, now=now)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        attempt_submit(attempt=attempt, now=now + dt.timedelta(seconds=30))
    assert live.leaderboard_top(round=round) == []  # nothing before the commit
    for callback in callbacks:
        callback()
    row = live.leaderboard_my_rank(round=round, user_id=user.pk)
    assert (row.rank, row.attempt_id, row.duration_ms) == (1, attempt.pk, 30_000)


def test_rebuild_after_redis_lost_the_board(redis_lb, people, lb_round):
    a = people.attempt(1, score="5")
    b = people.attempt(2, score="6")
    assert board_users(lb_round) == [(b.user_id, 1), (a.user_id, 2)]
    keys = list(redis_lb.redis.scan_iter(match=f"{redis_lb.prefix}:*"))
    assert keys
    redis_lb.redis.delete(*keys)  # what a FLUSHDB/restart does to our keys (never FLUSHALL a shared server)
    assert not redis_lb.is_ready(lb_round.pk)
    with pytest.raises(NotReady):
        redis_lb.top(lb_round.pk, "live", limit=10)
    c = people.attempt(3, score="7")
    assert record(c) is True  # the submit hook notices and rebuilds
    assert board_users(lb_round) == [(c.user_id, 1), (b.user_id, 2), (a.user_id, 3)]


def test_rebuild_command(redis_lb, people, lb_round):
    from django.core.management import call_command

    people.attempt(1, score="5")
    call_command("rebuild_leaderboards", "--round", str(lb_round.pk))
    assert redis_lb.is_ready(lb_round.pk)
    assert redis_lb.count(lb_round.pk, "live") == 1


def test_attempts_recorded_during_a_rebuild_are_not_lost(memory_lb, people, lb_round):
    a = people.attempt(1, score="5")
    live.leaderboard_rebuild(round=lb_round)
    original = memory_lb.replace

    def slow_replace(round_id, boards, expire_at=None):
        total = original(round_id, {view: list(entries) for view, entries in boards.items()}, expire_at=expire_at)
        # Submitted after the rebuild read the database, recorded before the swap finished:
        late = people.attempt(2, score="9")
        record(late)
        return total

    memory_lb.replace = slow_replace
    live.leaderboard_rebuild(round=lb_round)
    memory_lb.replace = original
    assert [r.user_id for r in live.leaderboard_top(round=lb_round)] == [people.regs[2].user_id, a.user_id]


def test_disqualification_leaves_every_board_and_is_reversible(any_lb, people, lb_round, org_a,
                                                              django_capture_on_commit_callbacks):
    judge = make_staff(org_a, "judge")
    best = people.attempt(1, score="9")
    second = people.attempt(1, score="7")
    other = people.attempt(2, score="8")
    live.leaderboard_rebuild(round=lb_round)
    assert board_users(lb_round)[0] == (best.user_id, 1)
    with django_capture_on_commit_callbacks(execute=True):
        decision = attempt_disqualify(actor=judge, attempt=best, reason="Gian lận")
    # The person's next-best attempt now counts.
    assert [(r.user_id, r.attempt_id) for r in live.leaderboard_top(round=lb_round)] == [
        (other.user_id, other.pk), (best.user_id, second.pk)]
    with django_capture_on_commit_callbacks(execute=True):
        person = person_disqualify(actor=judge, registration=people.regs[1], reason="Nhiều tài khoản")
    assert board_users(lb_round) == [(other.user_id, 1)]
    # A new attempt of a disqualified person never reaches the board.
    late = people.attempt(1, score="10", status=AttemptStatus.SUBMITTED)
    assert record(late) is False
    with django_capture_on_commit_callbacks(execute=True):
        disqualification_revoke(actor=judge, disqualification=person, reason="Xác minh lại: hợp lệ")
    assert [r.attempt_id for r in live.leaderboard_top(round=lb_round)] == [late.pk, other.pk]
    with django_capture_on_commit_callbacks(execute=True):
        disqualification_revoke(actor=judge, disqualification=decision, reason="Xác minh lại")
    assert Attempt.objects.get(pk=best.pk).status == AttemptStatus.SUBMITTED


def test_frozen_board_keeps_only_attempts_before_the_freeze(any_lb, people, lb_round):
    freeze_at_t0(lb_round)
    before = people.attempt(1, score="5", submitted=-10)
    live.leaderboard_rebuild(round=lb_round)
    after = people.attempt(2, score="9", submitted=+10)
    improved = people.attempt(1, score="10", submitted=+20)
    record(after)
    record(improved)
    assert [r.attempt_id for r in live.leaderboard_top(round=lb_round, view="frozen")] == [before.pk]
    assert [r.attempt_id for r in live.leaderboard_top(round=lb_round, view="live")] == [improved.pk, after.pk]
    live.leaderboard_rebuild(round=lb_round)
    assert [r.attempt_id for r in live.leaderboard_top(round=lb_round, view="frozen")] == [before.pk]


def test_a_batch_of_submits_is_recorded_with_one_query(any_lb, people, lb_round, org_a, django_assert_num_queries,
                                                      django_capture_on_commit_callbacks):
    """The submit hook gets one commit's worth of attempts: every name in one query, the live and the frozen
    board updated for each attempt, a disqualified person left out."""
    freeze_at_t0(lb_round)
    people.registration(6)
    with django_capture_on_commit_callbacks(execute=True):
        person_disqualify(actor=make_staff(org_a, "judge"), registration=people.regs[6], reason="Nhiều tài khoản")
    live.leaderboard_rebuild(round=lb_round)
    made = [people.attempt(i, score=str(i), submitted=-10 if i % 2 else 10) for i in range(1, 7)]
    batch = list(Attempt.objects.select_related("round__contest").filter(pk__in=[a.pk for a in made]))
    with django_assert_num_queries(1):
        assert live.leaderboard_record_attempts(attempts=batch) == 5
    assert [r.attempt_id for r in live.leaderboard_top(round=lb_round)] == [a.pk for a in reversed(made[:5])]
    assert [r.attempt_id for r in live.leaderboard_top(round=lb_round, view="frozen")] == [made[4].pk, made[2].pk,
                                                                                         made[0].pk]
    assert live.leaderboard_record_attempts(attempts=batch) == 0  # already there: nothing moves


def test_pushes_are_throttled_and_coalesced(any_lb, people, lb_round, monkeypatch, settings):
    """50 submissions within ~1 s produce one push per group (and the final state is never lost)."""
    settings.LEADERBOARD_PUSH_INTERVAL = 0.5
    sent: list[tuple[str, dict]] = []
    done = threading.Event()

    def fake_push(group, payload):
        sent.append((group, payload))
        done.set()

    monkeypatch.setattr("realtime.events.group_push_now_unsafe", fake_push)
    live.leaderboard_rebuild(round=lb_round)
    time.sleep(0.8)
    sent.clear()
    done.clear()
    started = time.monotonic()
    for i in range(50):
        record(people.attempt(i, score=str(i % 10)))
    assert done.wait(3)
    time.sleep(1.2)  # a second window: the flusher re-arms only if something changed after it sent
    elapsed = time.monotonic() - started
    public = [p for g, p in sent if g.endswith(".public")]
    staff = [p for g, p in sent if g.endswith(".staff")]
    assert 1 <= len(staff) <= int(elapsed / 0.5) + 1
    assert len(public) == len(staff)
    last = staff[-1]
    assert last["type"] == "leaderboard.update"
    assert last["total"] == 50
    assert [p["version"] for p in staff] == sorted(p["version"] for p in staff)
    assert public[-1]["rows"][0]["name"].endswith(".")  # masked on the public group


def test_pages_are_cached_briefly(memory_lb, people, lb_round, settings):
    settings.LEADERBOARD_TOP_CACHE_SECONDS = 30
    people.attempt(1, score="5")
    assert len(live.leaderboard_top(round=lb_round, limit=7)) == 1
    record(people.attempt(2, score="6"))
    assert len(live.leaderboard_top(round=lb_round, limit=7)) == 1  # served from the process cache
    assert len(live.leaderboard_top(round=lb_round, limit=7, max_age=0)) == 2


def test_round_keys_expire_after_the_close_marker_first(redis_lb, people, lb_round):
    a = people.attempt(1, score="5", unit=0)
    live.leaderboard_rebuild(round=lb_round)
    ttl = {name: redis_lb.redis.ttl(redis_lb.k(lb_round.pk, *name.split(":"))) for name in
           ("ready", "meta", "live:z", "live:who", f"live:u:{a.unit_id}")}
    week = 7 * 86400
    assert all(week - 3600 < value <= week for value in ttl.values()), ttl
    assert ttl["ready"] < ttl["live:z"]
    record(people.attempt(2, score="6", unit=1))  # the submit hook sets the same expiry on what it touches
    unit_key = redis_lb.k(lb_round.pk, "live", "u", people.regs[2].unit_id)
    assert week - 3600 < redis_lb.redis.ttl(unit_key) <= week


def test_in_process_board_refreshes_from_the_database(people, lb_round):
    """Embedded default: the worker process submits too; this process's board is rebuilt when it is older than
    ``refresh_seconds``."""
    from leaderboards.services.boards import MemoryBoard, set_board

    board = MemoryBoard(refresh_seconds=0.2)
    set_board(board)
    try:
        people.attempt(1, score="5")
        assert len(live.leaderboard_top(round=lb_round)) == 1
        people.attempt(2, score="6")  # recorded by another process: this board never heard of it
        assert len(live.leaderboard_top(round=lb_round)) == 1
        time.sleep(0.25)
        assert len(live.leaderboard_top(round=lb_round)) == 2
    finally:
        set_board(None)


def test_the_push_throttle_lives_in_redis(redis_lb, people, lb_round, monkeypatch):
    """Another process (its own Redis connection) sees the window taken and schedules nothing."""
    from tests.leaderboards.conftest import redis_board

    monkeypatch.setattr("realtime.events.group_push_now_unsafe", lambda group, payload: None)
    other_process = redis_board()  # same Redis and prefix, its own connection pool
    assert other_process.redis is not redis_lb.redis
    live.leaderboard_changed(round=lb_round)
    assert redis_lb.redis.pttl(redis_lb.k(lb_round.pk, "push")) > 0
    assert other_process.try_lock(lb_round.pk, "push", 1000) is False
    live.cancel_pending_pushes()
    redis_lb.unlock(lb_round.pk, "push")
    assert other_process.try_lock(lb_round.pk, "push", 1000) is True


def test_one_rounds_failure_does_not_cost_the_other_rounds_of_a_batch(any_lb, people, lb_round, monkeypatch):
    from tests.contests.factories import RoundFactory

    other_round = RoundFactory(contest=lb_round.contest, opens_at=lb_round.opens_at, closes_at=lb_round.closes_at)
    live.leaderboard_rebuild(round=lb_round)
    live.leaderboard_rebuild(round=other_round)
    lost = people.attempt(1, score="7")
    kept = people.attempt(2, score="8", round=other_round)
    real = type(any_lb).apply_many

    def failing(board, round_id, changes, **kwargs):
        if round_id == lb_round.pk:
            raise ConnectionError("Redis went away")
        return real(board, round_id, changes, **kwargs)

    monkeypatch.setattr(type(any_lb), "apply_many", failing)
    batch = list(Attempt.objects.select_related("round__contest").filter(pk__in=[lost.pk, kept.pk]))
    assert live.leaderboard_record_attempts(attempts=batch) == 1
    assert [r.attempt_id for r in live.leaderboard_top(round=other_round)] == [kept.pk]

"""A task worker killed (SIGKILL) while it computes a round's official ranking (issue 20, point 5): the close had
committed (``closed_at``, the prediction target), the ranking's transaction dies with the worker. Afterwards
the ranking is still computed — exactly once, though two workers pick the round up together.

The moment is made exact rather than hoped for: the test holds a lock on the ranking entries' table, so the
worker's ``INSERT … SELECT`` waits inside its transaction; it is killed there, in real PostgreSQL."""

from __future__ import annotations

import sys
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from contests.models import Round
from leaderboards.models import RankingEntry, RoundRanking
from tests.browser.conftest import ROOT, _wait_for_server_sessions_to_end
from tests.outage_data import child_env
from tests.services import LoggedProcess

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def database_url() -> str:
    db = connection.settings_dict
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{db.get('USER') or 'postgres'}@{host}/{db['NAME']}"


def worker() -> LoggedProcess:
    return LoggedProcess([sys.executable, "manage.py", "run_worker", "--no-queue"], cwd=ROOT,
                         env=child_env(database_url(), REDIS_URL=settings.REDIS_URL,
                                       REDIS_PREFIX=f"{settings.REDIS_PREFIX}-crash"))


def waiting_on_the_entries_lock(cursor) -> int | None:
    cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
                   "AND query ILIKE %s", [f"%INSERT INTO {RankingEntry._meta.db_table}%"])
    row = cursor.fetchone()
    return row[0] if row else None


def wait_until(check, timeout: float, what: str, procs=()) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            logs = "\n---\n".join(p.output[-3000:] for p in procs)
            pytest.fail(f"{what} did not happen within {timeout} s\n{logs}")
        time.sleep(0.2)


def test_a_worker_killed_while_ranking_leaves_the_ranking_to_be_computed_exactly_once(people, lb_round):
    for person in range(1, 6):
        people.attempt(person, score=str(person), correct=person)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    holder = psycopg.connect(**params, autocommit=False)
    procs: list[LoggedProcess] = []
    try:
        with holder.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {RankingEntry._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        first = worker()
        procs.append(first)
        with psycopg.connect(**params, autocommit=True) as watcher, watcher.cursor() as cursor:
            wait_until(lambda: waiting_on_the_entries_lock(cursor) is not None, 60,
                       "the worker reaching the ranking's INSERT", procs)
            pid = waiting_on_the_entries_lock(cursor)
            first.kill()  # SIGKILL, in the middle of the ranking's transaction
            # The lock goes: the dead worker's session runs its INSERT, finds its client gone and rolls back.
            holder.rollback()
            wait_until(lambda: (cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]),
                                cursor.fetchone()[0] == 0)[1], 30, "the killed worker's session ending", procs)

        lb_round.refresh_from_db()
        assert lb_round.closed_at is not None  # the close itself had committed …
        assert lb_round.prediction_target_value is not None
        assert not RoundRanking.objects.filter(round=lb_round).exists()  # … its ranking had not

        procs += [worker(), worker()]  # two workers, both finding the round closed without a ranking
        wait_until(lambda: RoundRanking.objects.filter(round=lb_round).exists(), 60, "the ranking being computed",
                   procs)
        time.sleep(3)  # both workers' first close runs are over
        rankings = list(RoundRanking.objects.filter(round=lb_round))
        assert len(rankings) == 1, [(r.version, r.computed_at) for r in rankings]
        assert rankings[0].entry_count == 5
        assert RankingEntry.objects.filter(ranking=rankings[0]).count() == 5
        assert Round.objects.get(pk=lb_round.pk).closed_at == lb_round.closed_at  # closed once, not again
    finally:
        holder.close()
        for proc in procs:
            proc.stop()
        _wait_for_server_sessions_to_end()
    for proc in procs[1:]:
        assert "Traceback" not in proc.output, proc.output[-4000:]


def test_two_closes_racing_on_a_closed_round_without_ranking_compute_it_once(people, lb_round):
    """Deterministic twin of the above: both closes are inside ``round_close`` together — one holds the round
    row waiting at the ranking's INSERT, the other waits for the round row — and only one version results."""
    import threading

    from contests.services.contests import round_close as contests_round_close
    from leaderboards.services.ranking import round_close

    for person in range(1, 4):
        people.attempt(person, score=str(person), correct=person)
    contests_round_close(round=lb_round)  # closed, no ranking: what the killed worker left
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    holder = psycopg.connect(**params, autocommit=False)
    results: list[int] = []
    failures: list[BaseException] = []

    def close() -> None:
        try:
            results.append(round_close(round=lb_round).version)
        except BaseException as exc:  # reported by the test below
            failures.append(exc)
        finally:
            connection.close()

    try:
        with holder.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {RankingEntry._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        threads = [threading.Thread(target=close) for _ in range(2)]
        for thread in threads:
            thread.start()
        with psycopg.connect(**params, autocommit=True) as watcher, watcher.cursor() as cursor:
            def both_waiting() -> bool:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND wait_event_type = 'Lock'")
                return cursor.fetchone()[0] >= 2

            wait_until(both_waiting, 30, "both closes waiting")
        holder.rollback()
        for thread in threads:
            thread.join(30)
    finally:
        holder.close()
    assert not failures, failures
    assert results == [1, 1]
    assert RoundRanking.objects.filter(round=lb_round).count() == 1

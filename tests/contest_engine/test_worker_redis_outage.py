"""The worker's periodic jobs while Redis is away (found by the fault runs, bench/faults --run redis-restart).

``leaderboards.jobs.rebuild_lost_boards`` needs Redis; during a Redis restart each of its runs failed and the
worker logged a full traceback every time ("periodic job … failed", every 15 s for as long as Redis was down).
A Redis outage is logged like a database outage: state changes through ``contest_engine.outages.redis_outage``
(down once, up once), no traceback; the other jobs go on, and the failed job runs again at its next time."""

from __future__ import annotations

import logging
import threading
import time

import pytest
import redis

from contest_engine.management.commands import run_worker
from contest_engine.outages import redis_outage
from contest_engine.periodic import PeriodicJob

pytestmark = pytest.mark.django_db


def test_a_redis_outage_under_the_periodic_jobs_is_logged_as_state_changes(monkeypatch, caplog):
    calls = {"boards": 0, "sweep": 0}

    def boards() -> int:
        calls["boards"] += 1
        if calls["boards"] <= 3:  # Redis is down for the first three runs
            raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")
        return 0

    def sweep() -> int:
        calls["sweep"] += 1
        return 0

    jobs = [PeriodicJob("test.boards", 0.01, boards), PeriodicJob("test.sweep", 0.01, sweep)]
    monkeypatch.setattr(run_worker, "periodic_jobs", lambda: jobs)
    redis_outage.reset()
    stop = threading.Event()
    caplog.set_level(logging.WARNING)
    thread = threading.Thread(target=run_worker.run_periodic_forever, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while calls["boards"] < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    thread.join(10)
    redis_outage.reset()

    assert calls["boards"] >= 5
    assert calls["sweep"] >= calls["boards"]  # the other job was not held up
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records if r.exc_info]
    messages = [r.getMessage() for r in caplog.records]
    assert sum("redis unavailable (periodic test.boards" in m for m in messages) == 1, messages
    assert sum(m.startswith("redis available again") for m in messages) == 1, messages

"""Two task workers picking up one closed round at once (found by bench/faults --run worker-ranking: after a
worker was killed, two new ones both ran ``analyse_closed_rounds`` on the round and one failed on the flags'
unique constraint, with a traceback). The analysis of a round runs in one worker at a time; the other skips it."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from anticheat import jobs, simulate
from anticheat.models import RoundCheckSettings
from contests.models import Round

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_never_analyse_one_closed_round_together(monkeypatch):
    sim = simulate.round_create(questions=10, per_attempt=5, units=2, seed=31)
    simulate.people_store(sim, simulate.honest_people(sim, 20, seed=32), per_attempt=5, seed=33)
    Round.objects.filter(pk=sim.round.pk).update(closed_at=timezone.now())
    real = jobs.round_analyse
    running = {"now": 0, "most": 0, "runs": 0}
    lock = threading.Lock()

    def analyse(*, round, **kwargs):
        with lock:
            running["now"] += 1
            running["most"] = max(running["most"], running["now"])
            running["runs"] += 1
        try:
            time.sleep(1.0)  # a big round takes tens of seconds: the other worker's run comes meanwhile
            return real(round=round, **kwargs)
        finally:
            with lock:
                running["now"] -= 1

    monkeypatch.setattr(jobs, "round_analyse", analyse)
    start = threading.Barrier(2)
    results: list[int] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(10)
            results.append(jobs.analyse_closed_rounds())
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    assert sorted(results) == [0, 1]
    assert (running["most"], running["runs"]) == (1, 1)
    assert RoundCheckSettings.objects.get(round=sim.round).analysed_at is not None
    assert jobs.analyse_closed_rounds() == 0  # analysed: nothing left to do

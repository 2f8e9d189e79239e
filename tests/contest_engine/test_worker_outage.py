"""``manage.py run_worker`` rides out a PostgreSQL outage (issue 20, points 1 and 4): a real PostgreSQL of the
test's own (tests/services.py, never the shared server) is stopped under a running worker while a task runs
and an offline citizen's attempt falls due; the worker stays up, logs the outage once when it starts and once
when it ends (no traceback per try), and afterwards runs the interrupted task again and finalises the
attempt."""

from __future__ import annotations

import sys
import time
import uuid

import pytest

from tests import outage_data
from tests.outage_data import ROOT, child_env
from tests.services import LoggedProcess

pytestmark = pytest.mark.slow


def task_status(db, task_id: str) -> str:
    uuid.UUID(task_id)  # an id made by the queue, checked before it goes into the SQL text
    return db.pg.psql(f"SELECT status FROM django_tasks_database_dbtaskresult WHERE id = '{task_id}'",  # noqa: S608
                      dbname=db.name)


def wait_until(check, timeout: float, what: str, output=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s\n{output()[-4000:]}")
        time.sleep(0.2)


def test_the_worker_rides_out_a_postgresql_outage_and_finishes_the_work_afterwards(outage_database):
    db = outage_database
    task_id = outage_data.run("slow-task", "3", database_url=db.url)["task_id"]
    # Falls due (deadline + grace) in 6 s — while the database is down.
    attempt = outage_data.run("expired", "6", database_url=db.url)
    worker = LoggedProcess([sys.executable, "manage.py", "run_worker", "--interval", "0.2"], cwd=ROOT,
                           env=child_env(db.url, REDIS_PREFIX=f"ce-test-worker-{db.name}"))
    try:
        wait_until(lambda: task_status(db, task_id) == "RUNNING", 30, "the task starting", lambda: worker.output)
        db.pg.stop(mode="fast")
        worker.wait_for("database unavailable", timeout=20)
        time.sleep(8)  # several reconnect tries with backoff, the attempt falls due meanwhile
        assert worker.alive, f"the worker exited during the outage:\n{worker.output[-4000:]}"
        db.pg.start()
        worker.wait_for("database available again", timeout=30)
        wait_until(lambda: task_status(db, task_id) == "SUCCESSFUL", 30, "the interrupted task running again",
                   lambda: worker.output)
        wait_until(lambda: outage_data.run("status", str(attempt["attempt_id"]), database_url=db.url)["status"]
                   == "expired", 30, "the attempt being finalised", lambda: worker.output)
        assert worker.alive
    finally:
        worker.stop()
    # One line when it went down, one when it came back — whatever number of tries and loops met it.
    assert worker.count("database unavailable") == 1, worker.output
    assert worker.count("database available again") == 1, worker.output
    assert "Traceback" not in worker.output, worker.output
    assert worker.count("queued again 1 task") == 1, worker.output

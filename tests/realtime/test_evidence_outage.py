"""The evidence flusher while PostgreSQL is away (found by the fault runs: bench/faults --run postgres-restart).

Each server process flushes its anti-cheat evidence every 0.5 s (realtime/evidence.py). While the database is
down, every flush that has records fails, and each failure was logged with a full traceback ("evidence sink
anticheat failed on N records") — the per-batch traceback flood issue 20 (point 4) removed from the answer
writer, still here. A database outage met by the flusher belongs in ``contest_engine.outages.database_outage``'s
state lines like the writer's: one "database unavailable" line per outage, no traceback."""

from __future__ import annotations

import logging
import time

import psycopg
from django.db import OperationalError

from contest_engine.outages import database_outage
from realtime import evidence


def test_a_database_outage_met_by_the_evidence_flusher_is_logged_without_a_traceback(caplog, monkeypatch):
    def sink(records) -> None:
        refused = psycopg.OperationalError('connection failed: connection to server at "127.0.0.1", port 5999 '
                                           "failed: Connection refused")
        raise OperationalError(str(refused)) from refused  # as Django wraps the driver's error

    monkeypatch.setattr(evidence, "_sinks", {})  # only this sink (the anticheat app's needs a test database)
    database_outage.reset()  # this process's state: the test's outage is the first
    evidence.register_sink("test-outage", sink)
    try:
        caplog.set_level(logging.WARNING)
        for kind in ("blur", "copy"):  # two flushes during one outage (by this call or the flusher thread)
            before = evidence.stats["failed_flushes"]
            evidence.client_event(attempt_id=1, kind=kind, position=1)
            evidence.flush()
            deadline = time.monotonic() + 5
            while evidence.stats["failed_flushes"] == before and time.monotonic() < deadline:
                time.sleep(0.05)
            assert evidence.stats["failed_flushes"] > before
    finally:
        evidence.unregister_sink("test-outage")
        evidence.discard()
        database_outage.reset()
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
    assert sum("database unavailable" in r.getMessage() for r in caplog.records) == 1

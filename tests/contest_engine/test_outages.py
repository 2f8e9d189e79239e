"""contest_engine.outages: telling a lost database from a failing statement, and logging an outage as state
changes (down, still down with counts, up) — the unit behind the outage tests with real servers."""

from __future__ import annotations

import logging

import psycopg
import pytest
from django.db import IntegrityError, OperationalError, ProgrammingError, connection

from contest_engine.outages import Backoff, Outage, is_database_unavailable, is_redis_unavailable


def wrapped(error: Exception) -> OperationalError:
    """What Django raises: its own error, the driver's as the cause."""
    try:
        raise OperationalError(str(error)) from error
    except OperationalError as exc:
        return exc


def test_a_lost_connection_is_an_outage_a_bad_statement_is_not(db):
    assert is_database_unavailable(wrapped(psycopg.OperationalError("connection refused")))
    assert is_database_unavailable(wrapped(psycopg.errors.AdminShutdown("terminating connection")))
    assert is_database_unavailable(psycopg.InterfaceError("the connection is closed"))
    # Errors of the statement itself stay errors (with their traceback).
    assert not is_database_unavailable(wrapped(psycopg.errors.LockNotAvailable("lock timeout")))
    assert not is_database_unavailable(wrapped(psycopg.errors.DeadlockDetected("deadlock")))
    assert not is_database_unavailable(IntegrityError("duplicate key"))
    assert not is_database_unavailable(ValueError("bug"))
    with pytest.raises(ProgrammingError) as real, connection.cursor() as cursor:
        cursor.execute("SELECT no_such_column FROM contests_attempt")
    assert not is_database_unavailable(real.value)


def test_redis_connection_errors_are_outages():
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import ResponseError

    assert is_redis_unavailable(RedisConnectionError("Connection reset by peer"))
    assert not is_redis_unavailable(ResponseError("WRONGTYPE"))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_outage_is_logged_when_it_starts_while_it_lasts_and_when_it_ends(caplog):
    clock = Clock()
    outage = Outage("database", remind_every=30, clock=clock)
    caplog.set_level(logging.WARNING, logger="contest_engine.outages")
    outage.succeeded()  # nothing was down: nothing to say
    for _ in range(1000):
        outage.failed(OperationalError("connection refused"), source="writer", items=3)
        clock.now += 0.01
    clock.now += 25
    outage.failed(OperationalError("connection refused"), source="worker")
    assert outage.is_down
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines  # down, then one reminder 30 s later
    assert lines[0].startswith("database unavailable (writer: OperationalError: connection refused)")
    assert lines[1].startswith("database still unavailable after 35 s")
    assert "writer 1,000 failed (3,000 items)" in lines[1]
    assert "worker 1 failed" in lines[1]
    assert all(r.exc_info is None for r in caplog.records)  # no traceback

    clock.now += 5
    outage.succeeded()
    outage.succeeded()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert lines[2].startswith("database available again after 40.0 s: worker 1 failed, writer 1,000 failed")
    assert not outage.is_down
    assert outage.outages == 1

    outage.failed("again", source="http")
    assert outage.outages == 2
    assert caplog.records[-1].getMessage() == "database unavailable (http: again); retrying with backoff"


def test_backoff_doubles_up_to_its_maximum_with_jitter():
    backoff = Backoff(initial=0.5, maximum=4, jitter=0.2)
    waits = [backoff.next() for _ in range(6)]
    for wait, nominal in zip(waits, [0.5, 1, 2, 4, 4, 4], strict=True):
        assert nominal * 0.8 <= wait <= nominal * 1.2
    backoff.reset()
    assert backoff.next() <= 0.6

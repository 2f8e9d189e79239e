"""Riding out an outage of a service the engine depends on (PostgreSQL, Redis): telling a lost connection
from a bug, backing off, and logging the state changes of the outage — never a traceback per failed batch.

An outage is a state, not a stream of errors: with 300 citizens answering, a stopped PostgreSQL made the
answer writer log 4,672 full tracebacks in 8 s (issue 20). ``Outage`` turns that into

    WARNING contest_engine.outages database unavailable (writer: connection refused …); retrying
    WARNING contest_engine.outages database still unavailable after 30 s: writer 1,204 batches (3,611 items) …
    WARNING contest_engine.outages database available again after 41.2 s: writer 1,655 batches (4,672 items) …

— one line when it goes down, a reminder every ``remind_every`` seconds while it stays down (with counts),
one when it is back. A process has one ``Outage`` per dependency (``database_outage``, ``redis_outage``);
every place that may meet the failure (the task worker's loops, the socket batchers, HTTP views, the health
endpoints) reports to it, so the log tells one story per process whoever noticed first.

This module imports no app (contest_engine infrastructure, docs/architecture.md).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

# SQLSTATE classes/codes that mean "the server went away", not "this statement is wrong".
_CONNECTION_SQLSTATES = ("08",)  # connection exception
# admin/crash shutdown, cannot connect now (starting up, shutting down, in recovery); too many connections
_SHUTDOWN_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def is_database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or its cause) says the database connection is lost or cannot be made — PostgreSQL
    stopped, restarting, unreachable — as opposed to an error of the statement (a constraint, a lock timeout,
    a deadlock, a bug), which stays an error with its traceback."""
    from django.db import utils as db_utils

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, db_utils.InterfaceError):
            return True
        module = type(current).__module__ or ""
        if module.startswith("psycopg"):
            import psycopg

            if _is_pool_timeout(current):  # every pooled connection busy: load, not an outage
                return False
            if isinstance(current, psycopg.InterfaceError):
                return True
            if isinstance(current, psycopg.OperationalError):
                sqlstate = getattr(current, "sqlstate", None)
                return sqlstate is None or sqlstate.startswith(_CONNECTION_SQLSTATES) or sqlstate in _SHUTDOWN_SQLSTATES
        current = current.__cause__ or current.__context__
    return False


def _is_pool_timeout(exc: BaseException) -> bool:
    try:
        from psycopg_pool import PoolTimeout
    except ImportError:  # no pool configured anywhere (the embedded default)
        return False
    return isinstance(exc, PoolTimeout)


def is_database_busy(exc: BaseException) -> bool:
    """True when ``exc`` (or its cause) is a connection pool's timeout: every connection of the pool stayed busy
    for the pool's whole ``timeout`` while the database itself answers (contest_engine/postgresql/base.py tells
    the two apart: when it cannot connect, the connection error is raised instead)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if (type(current).__module__ or "").startswith("psycopg"):  # the driver's error decides, as above
            return _is_pool_timeout(current)
        current = current.__cause__ or current.__context__
    return False


def is_redis_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or its cause) is a lost or refused Redis connection (a restart, a failover)."""
    try:
        from redis import exceptions as redis_errors
    except ImportError:  # the embedded default may run without the redis package's server
        return False
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (redis_errors.ConnectionError, redis_errors.TimeoutError, ConnectionError, OSError)):
            return True
        current = current.__cause__ or current.__context__
    return False


@dataclass
class _State:
    down_since: float | None = None  # monotonic
    last_reminder: float = 0.0
    first_error: str = ""
    failures: Counter[str] = field(default_factory=Counter)
    items: Counter[str] = field(default_factory=Counter)
    outages: int = 0


class Outage:
    """The up/down state of one dependency in this process, logged on change. Thread-safe: the socket
    batchers' threads, the worker's periodic thread and its main loop share one."""

    def __init__(self, name: str, *, remind_every: float = 30.0, clock: Callable[[], float] = time.monotonic,
                 log: logging.Logger | None = None) -> None:
        self.name = name
        self.remind_every = remind_every
        self._clock = clock
        self._log = log or logger
        self._lock = threading.Lock()
        self._state = _State()

    @property
    def is_down(self) -> bool:
        return self._state.down_since is not None

    @property
    def down_for(self) -> float | None:
        since = self._state.down_since
        return None if since is None else self._clock() - since

    @property
    def outages(self) -> int:
        """How many outages this process has seen (for the health endpoints and tests)."""
        return self._state.outages

    def failed(self, exc: BaseException | str, *, source: str = "", items: int = 0) -> None:
        """Record one failure met by ``source`` (``writer``, ``worker``…) affecting ``items`` items. Logs when
        this starts an outage, and a reminder with the counts every ``remind_every`` seconds."""
        now = self._clock()
        message = ""
        with self._lock:
            state = self._state
            key = source or "-"
            state.failures[key] += 1
            state.items[key] += items
            if state.down_since is None:
                state.down_since = now
                state.last_reminder = now
                state.outages += 1
                state.first_error = _describe(exc)
                message = f"{self.name} unavailable ({key}: {state.first_error}); retrying with backoff"
            elif now - state.last_reminder >= self.remind_every:
                state.last_reminder = now
                message = f"{self.name} still unavailable after {now - state.down_since:.0f} s: {self._counts()}"
        if message:
            self._log.warning("%s", message)

    def succeeded(self) -> None:
        """Record a success: ends the outage (one log line) if there was one. Cheap when nothing was down."""
        if self._state.down_since is None:
            return
        with self._lock:
            state = self._state
            if state.down_since is None:
                return
            message = (f"{self.name} available again after {self._clock() - state.down_since:.1f} s: "
                       f"{self._counts()}")
            self._state = _State(outages=state.outages)
        self._log.warning("%s", message)

    def _counts(self) -> str:
        state = self._state
        parts = []
        for key, failures in sorted(state.failures.items()):
            part = f"{key} {failures:,} failed"
            if state.items[key]:
                part += f" ({state.items[key]:,} items)"
            parts.append(part)
        return ", ".join(parts) or "no failures counted"

    def reset(self) -> None:
        """Forget the state (tests)."""
        with self._lock:
            self._state = _State()


def _describe(exc: BaseException | str) -> str:
    if isinstance(exc, str):
        return exc
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


class Backoff:
    """Exponential backoff with jitter: ``next()`` gives the next wait (``initial`` doubling up to
    ``maximum``, ±``jitter`` share), ``reset()`` starts again. Jitter keeps many workers from reconnecting
    in step when the database comes back."""

    def __init__(self, *, initial: float = 0.5, maximum: float = 10.0, factor: float = 2.0,
                 jitter: float = 0.2) -> None:
        self.initial, self.maximum, self.factor, self.jitter = initial, maximum, factor, jitter
        self._current = initial

    def next(self) -> float:
        wait = self._current
        self._current = min(self.maximum, self._current * self.factor)
        return max(0.0, wait * (1 + random.uniform(-self.jitter, self.jitter)))

    def reset(self) -> None:
        self._current = self.initial


database_outage = Outage("database")
redis_outage = Outage("redis")

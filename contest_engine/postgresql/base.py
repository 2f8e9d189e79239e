"""Django's PostgreSQL backend with two connection pools per process and a quick answer during an outage.

Why a pool at all: under ASGI every request runs its sync code in a thread of its own, so persistent
connections (``CONN_MAX_AGE > 0``) were never reused — each request thread left one open connection behind
until PostgreSQL refused new clients (issue 19: 100 GETs, 44 × "too many clients", 98 connections held).
Django 5.2's psycopg 3 pool (``OPTIONS["pool"]``, ``CONN_MAX_AGE = 0``) bounds a process's connections and
hands them from request to request.

What this subclass adds to Django's backend:

- **the exam pool** (``OPTIONS["exam_pool"]``, same keys as ``"pool"``): threads that called
  ``contest_engine.dbpools.use_exam_pool()`` — the exam socket's batchers and database threads — take their
  connections from a pool of their own. One shared pool would queue an answer batch behind every page request
  waiting for a connection; with two, a storm of page requests waits only for the page pool;
- **an outage told from a busy pool**: psycopg_pool makes a caller wait its whole ``timeout`` for a
  connection, whether all are busy or none can be made. When the wait times out, one direct connection attempt
  (``PROBE_TIMEOUT_SECONDS``) tells which: its connection error is raised (an outage) or the ``PoolTimeout``
  (busy: 503, not an outage; ``contest_engine.outages.is_database_busy``);
- **a quick answer while the database is known to be away**: once ``contest_engine.outages.database_outage``
  records an outage, each new connection is preceded by that direct attempt, which fails at once while
  PostgreSQL is down (the page answers 503, the answer is refused and resent) instead of waiting for the pool;
- **fresh pools when the database is back**: the pools' own reconnection attempts back off to tens of
  seconds during a long outage; the first probe that succeeds replaces both pools (connections still out
  are closed when returned) and ends the outage, so the process serves again at once; a pool whose wait
  timed out while it failed to connect and the database answers again is replaced too.

Contract: connections are only ever returned by Django (``close()``; ``close_old_connections`` at the end of
each request, of each batch, of each ``realtime.db`` call). A thread that keeps its connection keeps one
pool slot.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql import base

from contest_engine.dbpools import uses_exam_pool
from contest_engine.outages import database_outage

PROBE_TIMEOUT_SECONDS = 2
HEALTH_WAIT_SECONDS = 0.5  # /healthz and /readyz wait this long for a pooled connection, not the pool's timeout
PROBE_REUSE_SECONDS = 1.0
_renew_lock = threading.Lock()
_probe_lock = threading.Lock()
# Per server and database: (monotonic time, error text or None) of the last direct attempt.
_probe_results: dict[tuple, tuple[float, str | None]] = {}


class DatabaseWrapper(base.DatabaseWrapper):
    _exam_pools: dict[str, Any] = {}

    @property
    def pool(self):
        if uses_exam_pool() and self.settings_dict["OPTIONS"].get("exam_pool"):
            return self._exam_pool()
        return super().pool

    def _exam_pool(self):
        if self.alias not in self._exam_pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            from psycopg_pool import ConnectionPool  # as Django's own pool: only where a pool is configured

            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # as Django's pool; Django sets it properly later on
            checks = self.settings_dict["CONN_HEALTH_CHECKS"]
            pool = ConnectionPool(kwargs=connect_kwargs, open=False, configure=self._configure_connection,
                                  check=ConnectionPool.check_connection if checks else None, name="exam",
                                  **self.settings_dict["OPTIONS"]["exam_pool"])
            self._exam_pools.setdefault(self.alias, pool)  # the first thread's pool wins, as in Django's
        return self._exam_pools[self.alias]

    def get_connection_params(self):
        params = super().get_connection_params()
        params.pop("exam_pool", None)
        return params

    def get_new_connection(self, conn_params):
        pool = self.pool
        if pool is None:
            return super().get_new_connection(conn_params)
        from psycopg_pool import PoolClosed, PoolTimeout  # as Django's own pool: only where a pool is configured

        if database_outage.is_down:
            self._probe(conn_params)  # raises psycopg's OperationalError at once while the server is away
            self._renew_pools(outage=True)
            pool = self.pool
        errors_before = pool.get_stats().get("connections_errors", 0)
        try:
            return super().get_new_connection(conn_params)
        except PoolClosed:  # renewed by another thread while this one waited: take one from the new pool
            return super().get_new_connection(conn_params)
        except PoolTimeout:
            # Every connection busy, or none could be made? A direct attempt tells: during an outage it raises the
            # connection error (an outage, contest_engine.outages). If the database answers but the pool failed to
            # connect meanwhile, the pool is still backing off after an outage: renew it and try once more.
            # Otherwise the PoolTimeout stands (busy: DatabaseUnavailableMiddleware answers 503, no outage).
            self._probe(conn_params)
            if pool.get_stats().get("connections_errors", 0) == errors_before:
                raise
            self._renew_pools(stale=pool)
            return super().get_new_connection(conn_params)

    def health_check(self, *, extra: Callable[[Any], None] | None = None) -> None:
        """``SELECT 1`` for /healthz and /readyz, answered within about ``HEALTH_WAIT_SECONDS`` (plus one direct
        attempt, ``PROBE_TIMEOUT_SECONDS`` at most, when the pool has nothing to give): a probe must not wait the
        pool's whole ``timeout`` (10 s) that a page request may wait. Raises psycopg's OperationalError when the
        database cannot be reached (an outage), ``PoolTimeout`` when every connection stayed busy (``busy``).
        ``extra(cursor)`` runs after ``SELECT 1`` on the same connection (the task queue's check,
        contest_engine/health.py), in autocommit: a statement it gets wrong leaves no aborted transaction."""
        pool = self.pool
        if pool is None:
            with self.cursor() as cursor:
                cursor.execute("SELECT 1")
                if extra is not None:
                    extra(cursor)
            return
        from psycopg_pool import PoolClosed, PoolTimeout

        params = self.get_connection_params()
        if database_outage.is_down:
            self._probe(params)  # as get_new_connection: fails at once while the server is away
            self._renew_pools(outage=True)
            pool = self.pool
        errors_before = pool.get_stats().get("connections_errors", 0)
        try:
            self._select_one(pool, extra)
        except PoolClosed:  # renewed by another thread meanwhile
            self._select_one(self.pool, extra)
        except PoolTimeout:
            self._probe(params)
            if pool.get_stats().get("connections_errors", 0) == errors_before:
                raise
            self._renew_pools(stale=pool)
            self._select_one(self.pool, extra)

    @staticmethod
    def _select_one(pool, extra: Callable[[Any], None] | None = None) -> None:
        pool.open()  # as Django's get_new_connection: the first use opens the pool (a no-op afterwards)
        with pool.connection(timeout=HEALTH_WAIT_SECONDS) as conn:
            conn.execute("SELECT 1")
            if extra is not None:
                with conn.cursor() as cursor:
                    extra(cursor)

    def _probe(self, conn_params) -> None:
        """Raise psycopg's OperationalError unless a direct connection can be made now. One attempt at a time per
        process, its result shared for ``PROBE_REUSE_SECONDS`` (a thousand waiting requests make one attempt) by
        the callers of the same server and database (another database's answer says nothing of this one)."""
        target = tuple(str(conn_params.get(key, "")) for key in ("host", "port", "dbname", "user"))
        at, error = _probe_results.get(target, (-1e9, None))
        if time.monotonic() - at > PROBE_REUSE_SECONDS:
            with _probe_lock:
                at, error = _probe_results.get(target, (-1e9, None))
                if time.monotonic() - at > PROBE_REUSE_SECONDS:
                    try:
                        self.Database.connect(**{**conn_params, "connect_timeout": PROBE_TIMEOUT_SECONDS}).close()
                        error = None
                    except self.Database.OperationalError as exc:
                        error = str(exc)
                    _probe_results[target] = (time.monotonic(), error)
        if error is not None:
            raise self.Database.OperationalError(error)

    def _renew_pools(self, *, outage: bool = False, stale: Any = None) -> None:
        """Replace the pools (``outage``: both, once, ending the outage) or the ``stale`` one (unless another
        thread did already); connections still out are closed when they are returned."""
        with _renew_lock:
            if outage and not database_outage.is_down:  # another thread renewed them
                return
            for pools in (self._connection_pools, self._exam_pools):
                old = pools.get(self.alias)
                if old is not None and (outage or old is stale):
                    del pools[self.alias]
                    old.close(timeout=1)
            if outage:
                database_outage.succeeded()

    def close_pool(self):
        # Both pools, whichever thread asks (Django's version closes ``self.pool``: in an exam thread, the other).
        for pools in (self._connection_pools, self._exam_pools):
            pool = pools.pop(self.alias, None)
            if pool is not None:
                pool.close()

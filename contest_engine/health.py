"""What ``/healthz`` and ``/readyz`` report about the services a server process depends on: PostgreSQL, Redis
and the task queue — each probe quick enough for a load balancer that asks every second.

Each probe answers within about a second whatever the dependency does (down, hung, overloaded), never raises,
and opens no new connection per probe while the dependency is up:

- **database**: ``SELECT 1`` on a pooled connection (``contest_engine.postgresql``'s ``health_check``: half a
  second for a free connection, not the pool's 10 s) → ``up`` / ``busy`` / ``down``;
- **task queue**: django-tasks-db keeps its queue in a PostgreSQL table, so on the same pooled connection the
  head of the queue is read (the task a worker would take next; the table's partial index on READY rows makes
  it one index probe) → ``up``, ``stalled`` when it has waited longer than ``READYZ_TASK_STALL_SECONDS``
  (no worker is taking tasks: an alert for the operator, not a reason to take this process out of the load
  balancer — every process would go out at once), ``down`` when the table cannot be read, ``unused`` when
  another tasks backend is configured;
- **redis**: ``PING`` on a small pool of this module's own (``REDIS_PROBE_TIMEOUT_SECONDS`` to connect and to
  answer, one immediate retry on a fresh connection so a connection left stale by a Redis restart does not
  read as an outage) → ``up`` / ``down``, ``unused`` without ``REDIS_URL`` (the embedded default).

Failures are reported to ``contest_engine.outages`` (one log line per outage, not per probe).

This module imports no app (contest_engine infrastructure, docs/architecture.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from contest_engine.outages import (
    database_outage,
    is_database_busy,
    is_database_unavailable,
    is_redis_unavailable,
    redis_outage,
)

logger = logging.getLogger(__name__)

REDIS_PROBE_TIMEOUT_SECONDS = 0.5
REDIS_PROBE_CONNECTIONS = 4  # concurrent probes of one process; more wait (at most the timeout) for a free one

_redis_lock = threading.Lock()
_redis_clients: dict[str, Any] = {}


# --- database and task queue ---------------------------------------------------------------------------------


def _queue_head_sql() -> tuple[str, list[Any]]:
    from django_tasks_db.models import DBTaskResult, get_date_max  # the tasks backend's table: only if configured

    table = connection.ops.quote_name(DBTaskResult._meta.db_table)
    # The worker's own order (DBTaskResult.Meta.ordering) over READY rows whose time has come: the partial index
    # tasks_db_new_ordering_idx answers it without reading the backlog.
    # The table name is the model's own, quoted; the values are parameters.
    return (f"SELECT enqueued_at FROM {table} WHERE status = 'READY' AND (run_after <= %s OR run_after = %s) "  # noqa: S608
            f"ORDER BY priority DESC, run_after, enqueued_at LIMIT 1", [timezone.now(), get_date_max()])


def _queue_head_orm() -> dt.datetime | None:
    from django_tasks_db.models import DBTaskResult  # the tasks backend's table: only if configured

    return DBTaskResult.objects.ready().values_list("enqueued_at", flat=True).first()


def _uses_database_queue() -> bool:
    backend = settings.TASKS.get("default", {}).get("BACKEND", "")
    return backend.startswith("django_tasks_db.")


def _queue_state_from(enqueued_at: dt.datetime | None) -> str:
    if enqueued_at is None:
        return "up"
    if timezone.is_naive(enqueued_at):
        enqueued_at = timezone.make_aware(enqueued_at, dt.UTC)
    waited = (timezone.now() - enqueued_at).total_seconds()
    return "stalled" if waited > settings.READYZ_TASK_STALL_SECONDS else "up"


def database_and_queue_state() -> tuple[str, str]:
    """(database, task queue) states as described above, from one pooled connection."""
    queue = "unused" if not _uses_database_queue() else "down"

    def read_queue(cursor: Any) -> None:
        nonlocal queue
        sql, params = _queue_head_sql()
        try:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        except Exception as exc:
            if is_database_unavailable(exc):
                raise  # the database itself went away: that is the database's state
            logger.warning("health check: the task queue cannot be read: %s", exc)
            queue = "down"
            return
        queue = _queue_state_from(row[0] if row else None)

    extra: Callable[[Any], None] | None = read_queue if queue != "unused" else None
    try:
        check = getattr(connection, "health_check", None)
        if check is not None:
            check(extra=extra)
        else:
            # The embedded default (SQLite, no pool): the ORM's own connection, the queue read through the ORM.
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            if extra is not None:
                try:
                    queue = _queue_state_from(_queue_head_orm())
                except Exception as exc:
                    logger.warning("health check: the task queue cannot be read: %s", exc)
                    queue = "down"
    except Exception as exc:
        if is_database_busy(exc):
            return "busy", "unused" if queue == "unused" else "busy"
        if is_database_unavailable(exc):
            database_outage.failed(exc, source="health")
        else:
            logger.warning("health check: the database refused SELECT 1: %s", exc)
        try:
            connection.close()  # the next request starts with a fresh connection
        except Exception:
            logger.debug("closing the failed connection failed", exc_info=True)
        return "down", "unused" if queue == "unused" else "down"
    database_outage.succeeded()
    return "up", queue


def database_state() -> str:
    """``up``, ``busy`` (every pooled connection of this process stayed in use) or ``down``."""
    return database_and_queue_state()[0]


# --- Redis -------------------------------------------------------------------------------------------------


def _redis_client(url: str) -> Any:
    """This process's probe client for ``url``: a pool of at most ``REDIS_PROBE_CONNECTIONS`` kept open."""
    client = _redis_clients.get(url)
    if client is None:
        with _redis_lock:
            client = _redis_clients.get(url)
            if client is None:
                import redis  # only where Redis is configured (the embedded default may lack the server)
                from redis.backoff import NoBackoff
                from redis.retry import Retry

                pool = redis.BlockingConnectionPool.from_url(
                    url, max_connections=REDIS_PROBE_CONNECTIONS, timeout=REDIS_PROBE_TIMEOUT_SECONDS,
                    socket_timeout=REDIS_PROBE_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_PROBE_TIMEOUT_SECONDS,
                    retry=Retry(NoBackoff(), 1))
                client = redis.Redis(connection_pool=pool)
                _redis_clients[url] = client
    return client


def redis_clients_reset() -> None:
    """Close and forget the probe clients (tests that point ``REDIS_URL`` elsewhere)."""
    with _redis_lock:
        for client in _redis_clients.values():
            try:
                client.connection_pool.disconnect()
            except Exception:
                logger.debug("closing a Redis probe client failed", exc_info=True)
        _redis_clients.clear()


def redis_state() -> str:
    """``up`` when Redis answers ``PING``, ``down`` when it does not (within about a second), ``unused`` without
    ``REDIS_URL``."""
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return "unused"
    try:
        _redis_client(url).ping()
    except Exception as exc:
        if is_redis_unavailable(exc):
            redis_outage.failed(exc, source="health")
        else:
            logger.warning("health check: Redis refused PING: %s", exc)
        return "down"
    redis_outage.succeeded()
    return "up"


# --- the endpoints' bodies -------------------------------------------------------------------------------

READY_STATES = frozenset({"up", "unused", "stalled"})


def readiness() -> tuple[bool, dict[str, str]]:
    """(ready, body): ready when every dependency is ``up`` (or ``unused``; a ``stalled`` queue is reported, not
    routed around). The body has a key per dependency plus ``status``."""
    database, tasks = database_and_queue_state()
    checks = {"database": database, "redis": redis_state(), "tasks": tasks}
    ready = all(state in READY_STATES for state in checks.values())
    return ready, {"status": "ready" if ready else "unavailable", **checks}

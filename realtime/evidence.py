"""Raw evidence of how an exam was taken, recorded off the answer path and handed to registered sinks.

What is recorded (docs/anti-cheat.md): every answer the writer stored, with the batch's server time; every
socket connect (address, user agent, the device cookie, whether it replaced a live connection); the client's
evidence messages (protocol v1.1: page hidden, blur, fullscreen left, copy, paste, reload). Nothing here
decides anything: the ``anticheat`` app (above this one) registers a sink that stores the records and
evaluates them in batches, later.

Why a buffer and not a write in the answer transaction: the acknowledgement of an answer waits for its
batch's commit; an extra statement there would add to every ack, and the hot path must stay within 5 % of
its rate. The writer thread appends ONE tuple per batch to a deque (what it already has: the batch's ``now``,
the items and their results), consumers append one small tuple per connect or client event; a daemon thread
per process drains the deque every ``REALTIME_EVIDENCE_FLUSH_SECONDS`` (0.5 s) and calls each sink with the
records, in its own transaction on its own database connection. The cost of building rows is paid there,
outside the event loop's critical path.

What it costs when something fails: evidence is not acknowledged data. A process that dies loses at most
the records of its last flush interval; a sink that fails logs and drops that flush (a lost database counts in
``contest_engine.outages.database_outage``'s state lines, not a traceback per flush) (the buffer is bounded
by ``REALTIME_EVIDENCE_MAX_PENDING``; over it, new records are counted as dropped). No sink registered
(anticheat not installed, or ``ANTICHEAT_IN_EXAM=0``) → the record calls return at once and keep nothing.
"""

from __future__ import annotations

import collections
import datetime as dt
import ipaddress
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import close_old_connections

from contest_engine.dbpools import use_exam_pool
from contest_engine.outages import database_outage, is_database_unavailable

logger = logging.getLogger(__name__)

# Kinds of client evidence messages (protocol v1.1). Anything else is ignored.
CLIENT_EVENT_KINDS = frozenset({"hidden", "blur", "fullscreen_exit", "copy", "paste", "reload"})
DEVICE_COOKIE = "ce_device"


@dataclass(frozen=True, slots=True)
class ConnectionRecord:
    attempt_id: int
    user_id: int
    at: dt.datetime
    address: str
    user_agent: str
    device: str  # the device cookie ("" when the client has none)
    replaced: bool  # this connect took the attempt from another live connection


@dataclass(frozen=True, slots=True)
class ClientEventRecord:
    attempt_id: int
    kind: str
    at_ms: int
    position: int | None


@dataclass(frozen=True, slots=True)
class AnswerBatchRecord:
    """One writer batch as the writer had it: ``items`` (contests AnswerItem) and their ``results``."""

    now: dt.datetime
    items: Sequence[Any]
    results: Sequence[Any]


Record = ConnectionRecord | ClientEventRecord | AnswerBatchRecord
Sink = Callable[[list[Record]], None]

_sinks: dict[str, Sink] = {}
_buffer: collections.deque[Record] = collections.deque()
_lock = threading.Lock()
_thread: threading.Thread | None = None
_wake = threading.Event()
stats = {"recorded": 0, "dropped": 0, "flushes": 0, "failed_flushes": 0}


def register_sink(name: str, sink: Sink) -> None:
    """Receive every flushed list of records (in the flusher thread, inside a transaction)."""
    _sinks[name] = sink


def unregister_sink(name: str) -> None:
    _sinks.pop(name, None)


def enabled() -> bool:
    return bool(_sinks)


def _max_pending() -> int:
    return int(getattr(settings, "REALTIME_EVIDENCE_MAX_PENDING", 200_000))


def _append(record: Record) -> None:
    if not _sinks:
        return
    if len(_buffer) >= _max_pending():
        stats["dropped"] += 1
        return
    _buffer.append(record)  # deque.append is atomic: callers never take a lock
    stats["recorded"] += 1
    if _thread is None:
        _start()


# --- what the exam socket records ------------------------------------------------------------------
def answers_recorded(*, now: dt.datetime, items: Sequence[Any], results: Sequence[Any]) -> None:
    """Called by the writer after a batch committed: one append, whatever the batch size."""
    if _sinks and items:
        _append(AnswerBatchRecord(now=now, items=items, results=results))


def connection_opened(*, attempt_id: int, user_id: int, scope: dict[str, Any], replaced: bool,
                      at: dt.datetime) -> None:
    if not _sinks:
        return
    headers = dict(scope.get("headers") or [])
    _append(ConnectionRecord(
        attempt_id=attempt_id, user_id=user_id, at=at, address=scope_address(scope, headers),
        user_agent=headers.get(b"user-agent", b"").decode("latin-1")[:300],
        device=_device_cookie(scope), replaced=replaced))


def client_event(*, attempt_id: int, kind: str, position: int | None) -> None:
    if _sinks:
        _append(ClientEventRecord(attempt_id=attempt_id, kind=kind, at_ms=time.time_ns() // 1_000_000,
                                  position=position))


def _device_cookie(scope: dict[str, Any]) -> str:
    value = str((scope.get("cookies") or {}).get(DEVICE_COOKIE, ""))
    return value[:64] if value.replace("-", "").isalnum() else ""


def scope_address(scope: dict[str, Any], headers: dict[bytes, bytes] | None = None) -> str:
    """The client's address as ``accounts.ratelimit.client_address`` reads it for HTTP: the rightmost entry
    of ``settings.CLIENT_IP_HEADER`` behind a trusted proxy, else the socket's peer."""
    headers = headers if headers is not None else dict(scope.get("headers") or [])
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    raw = ""
    if header:
        name = header.lower().removeprefix("http_").replace("_", "-").encode()
        raw = headers.get(name, b"").decode("latin-1").split(",")[-1].strip()
    if not raw:
        client = scope.get("client") or ("",)
        raw = str(client[0] or "")
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return ""


# --- the flusher -----------------------------------------------------------------------------------
def _start() -> None:
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_run, name="realtime-evidence", daemon=True)
            _thread.start()


def _run() -> None:
    use_exam_pool()  # its connections come from the exam pool (contest_engine/dbpools.py)
    interval = float(getattr(settings, "REALTIME_EVIDENCE_FLUSH_SECONDS", 0.5))
    while True:
        _wake.wait(interval)
        _wake.clear()
        try:
            flush()
        except Exception:  # never let the thread die: the next interval tries again
            logger.exception("evidence flush failed")
        finally:
            close_old_connections()


def flush() -> int:
    """Hand everything buffered so far to the sinks; return the number of records. Safe from any thread
    (tests call it directly); concurrent flushes take disjoint records."""
    records: list[Record] = []
    while True:
        try:
            records.append(_buffer.popleft())
        except IndexError:
            break
    if not records:
        return 0
    stats["flushes"] += 1
    for name, sink in list(_sinks.items()):
        try:
            sink(records)
        except Exception as exc:
            stats["failed_flushes"] += 1
            if is_database_unavailable(exc):  # an outage: its state lines (down once, reminders, up), no traceback
                database_outage.failed(exc, source=f"evidence {name}", items=len(records))
            else:
                logger.exception("evidence sink %s failed on %d records", name, len(records))
        else:
            database_outage.succeeded()
    return len(records)


def pending() -> int:
    return len(_buffer)


def discard() -> int:
    """Drop everything buffered (tests start from a clean buffer)."""
    dropped = len(_buffer)
    _buffer.clear()
    return dropped

"""The one module that names channel-layer groups and builds pushed events.

Every message the server pushes to a client is a small JSON dict with a dotted ``type`` and a ``v``
(event version: milliseconds since the epoch at which the event was built, monotonic per process) so a
client can tell it missed something and ask for a fresh snapshot. Channel-layer events carry the client
message under ``"event"``; the consumer handler for ``attempt.push`` forwards it unchanged.

Broadcasts that report a database change are only sent after the transaction commits
(``*_on_commit``); the helpers that send immediately say so in their name (``*_now_unsafe``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from asgiref.sync import async_to_sync
from django.db import transaction

logger = logging.getLogger(__name__)

# Event type names (client-facing, dotted). Keep in sync with docs/protocol.md.
ATTEMPT_SNAPSHOT = "attempt.snapshot"
ATTEMPT_SUBMITTED = "attempt.submitted"
ATTEMPT_EXPIRED = "attempt.expired"
ATTEMPT_CHANGED = "attempt.changed"
SESSION_REPLACED = "session.replaced"
QUESTION_RELEASED = "question.released"
SESSION_REPLACED_AUDIT_ACTION = "attempt.session_replaced"

# Channel-layer handler names (consumer methods are these with "." → "_").
PUSH = "attempt.push"  # forward ``event`` to the client as is
REPLACED = "attempt.replaced"  # sent to one channel: a newer connection for the same attempt took over

_last_version = 0


def next_version() -> int:
    """A version number that only grows within a process: wall-clock milliseconds, bumped on ties."""
    global _last_version
    now_ms = time.time_ns() // 1_000_000
    _last_version = max(now_ms, _last_version + 1)
    return _last_version


def attempt_group(attempt_id: int) -> str:
    """Channel-layer group for everything about one attempt (its open connections, normally one)."""
    return f"attempt.{int(attempt_id)}"


def event(type_: str, **fields: Any) -> dict[str, Any]:
    """A client-facing event: ``{"type": type_, "v": <version>, **fields}``."""
    return {"type": type_, "v": next_version(), **fields}


def attempt_submitted_event(attempt: Any) -> dict[str, Any]:
    """What a client is told when its attempt has been submitted (by itself, another tab or the sweeper).

    Contains no answer key: the result page decides what may be shown, when.
    """
    finished_at = getattr(attempt, "finished_at", None) or getattr(attempt, "submitted_at", None)
    fields: dict[str, Any] = {
        "attempt_id": attempt.pk,
        "status": str(getattr(attempt, "status", "submitted")),
        "finished_at": finished_at.isoformat() if finished_at else None,
        "result_url": attempt_result_url(attempt),
    }
    kind = getattr(attempt, "submit_kind", None) or getattr(attempt, "finish_kind", None)
    if kind:
        fields["kind"] = str(kind)
    return event(ATTEMPT_SUBMITTED, **fields)


def attempt_result_url(attempt: Any) -> str:
    """URL of the attempt's result page ('' if the contests app has no such route)."""
    from django.urls import NoReverseMatch, reverse

    for name in ("contests:attempt_result", "contests:attempt-result", "contests:result"):
        try:
            return reverse(name, kwargs={"attempt_id": attempt.pk})
        except NoReverseMatch:
            continue
    get_url = getattr(attempt, "get_result_url", None) or getattr(attempt, "get_absolute_url", None)
    return get_url() if callable(get_url) else ""


def group_push_now_unsafe(group: str, payload: dict[str, Any]) -> None:
    """Send ``payload`` to every connection in ``group`` right now (sync callers).

    Unsafe inside a transaction: the receiver may act on data that is then rolled back. Use the
    ``*_on_commit`` helpers from services.
    """
    from channels.layers import get_channel_layer

    from realtime.db import server_loop

    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": PUSH, "event": payload}
    try:
        loop = server_loop()
        if loop is not None and loop.is_running():
            # Called from realtime.db's pool on behalf of a consumer: use the server's loop (and its
            # channel-layer connection) rather than a new loop and connection for one message.
            asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop).result(timeout=5)
        else:
            async_to_sync(layer.group_send)(group, message)
    except Exception:  # a broadcast failure must never undo or fail the committed change
        logger.exception("group_send to %s failed", group)


def attempt_submitted_on_commit(attempt: Any) -> None:
    """Tell the attempt's open connections it was submitted, once the current transaction commits.

    Called by ``contests.services.attempts.attempt_submit`` (and therefore by the deadline sweeper).
    Safe outside a transaction too (``on_commit`` then runs immediately).
    """
    group = attempt_group(attempt.pk)

    def send() -> None:
        group_push_now_unsafe(group, attempt_submitted_event(attempt))

    transaction.on_commit(send, robust=True)
    transaction.on_commit(lambda: attempt_submitted.send_robust(sender=type(attempt), attempt=attempt), robust=True)


def attempt_changed_on_commit(attempt: Any, *, reason: str = "") -> None:
    """Ask the attempt's open connections to refresh their snapshot (e.g. an organiser gave extra time)."""
    group = attempt_group(attempt.pk)

    def send() -> None:
        group_push_now_unsafe(group, event(ATTEMPT_CHANGED, attempt_id=attempt.pk, reason=reason))

    transaction.on_commit(send, robust=True)


# --- Leaderboards (issue 5; built by leaderboards.services.live, pushed with group_push_now_unsafe) ---------
# Sent after the commit of every submitted attempt (client, other tab, sweeper); the leaderboards app listens.
# kwargs: attempt.
from django.dispatch import Signal  # noqa: E402

attempt_submitted = Signal()

LEADERBOARD_SNAPSHOT = "leaderboard.snapshot"
LEADERBOARD_UPDATE = "leaderboard.update"
LEADERBOARD_HIDDEN = "leaderboard.hidden"
LEADERBOARD_RANK = "leaderboard.rank"


def leaderboard_group(round_id: int, *, staff: bool = False) -> str:
    """Group of a round's leaderboard sockets: the public view, or the live view of judges/organisers
    (different while the public board is frozen)."""
    return f"leaderboard.{int(round_id)}.{'staff' if staff else 'public'}"


def leaderboard_event(type_: str, *, round_id: int, version: int, view: str, rows: list[dict[str, Any]],
                      total: int, **fields: Any) -> dict[str, Any]:
    """A board snapshot/update: ``version`` is the board's own counter (shared by every server process), so a
    client ignores an older one and resyncs on a gap it cares about."""
    return event(type_, round_id=int(round_id), version=int(version), view=view, rows=rows, total=int(total),
                 **fields)


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
import functools
import logging
import time
from collections.abc import Sequence
from typing import Any

from asgiref.sync import async_to_sync
from django.db import transaction
from django.urls import get_script_prefix, reverse

from realtime.db import server_loop

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
    fields: dict[str, Any] = {
        "attempt_id": attempt.pk,
        "status": str(attempt.status),
        "finished_at": attempt.submitted_at.isoformat() if attempt.submitted_at else None,
        "result_url": _result_url(attempt.pk),
    }
    if attempt.submit_kind:
        fields["kind"] = str(attempt.submit_kind)
    return event(ATTEMPT_SUBMITTED, **fields)


_RESULT_URL_MARK = 918273645


@functools.lru_cache(maxsize=8)
def _result_url_parts(prefix: str) -> tuple[str, str]:
    url = reverse("contests:result", kwargs={"attempt_id": _RESULT_URL_MARK})
    head, _, tail = url.partition(str(_RESULT_URL_MARK))
    return head, tail


def _result_url(attempt_id: int) -> str:
    """``Attempt.get_absolute_url()`` without a ``reverse()`` per attempt (a batch of 500 submits spent more
    time resolving URLs than scoring): the pattern is resolved once per script prefix."""
    head, tail = _result_url_parts(get_script_prefix())
    return f"{head}{int(attempt_id)}{tail}"


def group_push_now_unsafe(group: str, payload: dict[str, Any]) -> None:
    """Send ``payload`` to every connection in ``group`` right now (sync callers).

    Unsafe inside a transaction: the receiver may act on data that is then rolled back. Use the
    ``*_on_commit`` helpers from services.
    """
    group_push_many_now_unsafe([(group, payload)])


def group_push_many_now_unsafe(messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """``group_push_now_unsafe`` for many (group, payload) pairs: the sends run together on one event loop
    and the caller waits once (a batch of 100 submits is one hop to the server's loop, not 100)."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None or not messages:
        return

    async def send_all() -> None:
        many = getattr(layer, "group_send_many", None)
        if many is not None and len(messages) > 1:  # realtime.layers: one pipelined round trip per shard
            try:
                await many([(group, {"type": PUSH, "event": payload}) for group, payload in messages])
            except Exception:
                logger.exception("group_send of %d messages failed", len(messages))
            return
        results = await asyncio.gather(
            *(layer.group_send(group, {"type": PUSH, "event": payload}) for group, payload in messages),
            return_exceptions=True)
        for (group, _), result in zip(messages, results, strict=True):
            if isinstance(result, BaseException):
                logger.error("group_send to %s failed", group, exc_info=result)

    try:
        loop = server_loop()
        if loop is not None and loop.is_running():
            # Called from realtime.db's pool or a batch writer on behalf of consumers: use the server's
            # loop (and its channel-layer connections) rather than a new loop and connection.
            asyncio.run_coroutine_threadsafe(send_all(), loop).result(timeout=10)
        else:
            async_to_sync(send_all)()
    except Exception:  # a broadcast failure must never undo or fail the committed change
        logger.exception("group_send of %d messages failed", len(messages))


def attempts_submitted_on_commit(attempts: Sequence[Any]) -> None:
    """Tell the attempts' open connections they were submitted, once the current transaction commits, then
    send ``attempts_submitted`` (the leaderboards listen). One callback for the whole batch.

    Called for ``contests.signals.attempts_finalised`` (``realtime.receivers``), which
    ``contests.services.attempts.finish._finalise`` sends for client submits, the socket's batched submits and the
    deadline sweeper. Safe outside a transaction too (``on_commit`` then runs immediately).
    """
    attempts = list(attempts)
    if not attempts:
        return

    def send() -> None:
        group_push_many_now_unsafe([(attempt_group(a.pk), attempt_submitted_event(a)) for a in attempts])

    transaction.on_commit(send, robust=True)
    transaction.on_commit(lambda: attempts_submitted.send_robust(sender=type(attempts[0]), attempts=attempts),
                          robust=True)


def attempt_changed_on_commit(attempt: Any, *, reason: str = "") -> None:
    """Ask the attempt's open connections to refresh their snapshot (e.g. an organiser gave extra time)."""
    group = attempt_group(attempt.pk)

    def send() -> None:
        group_push_now_unsafe(group, event(ATTEMPT_CHANGED, attempt_id=attempt.pk, reason=reason))

    transaction.on_commit(send, robust=True)


# --- Leaderboards (issue 5; built by leaderboards.services.live, pushed with group_push_now_unsafe) ---------
# Sent after the commit of every batch of submitted attempts (client, other tab, sweeper); the leaderboards
# app listens. kwargs: attempts (a list, one transaction's worth).
from django.dispatch import Signal  # noqa: E402

attempts_submitted = Signal()

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


# --- The units dashboard (issue 25; built by leaderboards.services.unit_push) ---------------------------------
# Registered, in progress, entrants, attempts, rate and winners per unit of one round's or the whole contest's
# dashboard, pushed coalesced (at most about one computation per contest per LEADERBOARD_PUSH_INTERVAL) to the
# contest's staff only.
UNITS_SNAPSHOT = "units.snapshot"
UNITS_UPDATE = "units.update"


def units_group(*, contest_id: int, round_id: int | None = None) -> str:
    """Group of the units dashboard's sockets: one round's page, or the whole contest's."""
    if round_id is not None:
        return f"units.round.{int(round_id)}"
    return f"units.contest.{int(contest_id)}"


# --- Live games (issue 11; built by live.services, fanned out by live.hub) -----------------------------------
# One channel-layer group per game; its only members are the per-process hubs (live.hub), one per server
# process with players of that game, which fan each event out to their own sockets. So one broadcast is ONE
# group_send whatever the number of players (docs/live.md, "10,000 players"). Live events carry ``v``: the
# game's own counter (``LiveSession.seq``, shared by every process), not a per-process clock.
LIVE_SNAPSHOT = "live.snapshot"
LIVE_QUESTION = "live.question"
LIVE_REVEAL = "live.reveal"
LIVE_PAUSED = "live.paused"
LIVE_RESUMED = "live.resumed"
LIVE_RESCUED = "live.rescued"
LIVE_FINISHED = "live.finished"
LIVE_ACK = "live.ack"
LIVE_STATS = "live.stats"
LIVE_DONE = "live.done"
# Hub to hub (never sent to a client): a newer connection of this player opened on some process.
LIVE_REPLACED = "live.replaced"


def live_group(session_id: int) -> str:
    """Channel-layer group of one live game (members: the hubs of the processes serving it)."""
    return f"live.{int(session_id)}"


def live_event(type_: str, *, session_id: int, seq: int, **fields: Any) -> dict[str, Any]:
    """A live-game event: ``{"type", "v": <the game's seq>, "session_id", **fields}``. A ``you`` field (a list of
    ``[player id, {...}]`` pairs) is taken out by the hubs and sent to each player as their own ``you``."""
    return {"type": type_, "v": int(seq), "session_id": int(session_id), **fields}


def live_push_on_commit(session_id: int, payload: dict[str, Any]) -> None:
    """Send ``payload`` to every socket of the game once the current transaction commits."""
    group = live_group(session_id)
    transaction.on_commit(lambda: group_push_many_now_unsafe([(group, payload)]), robust=True)

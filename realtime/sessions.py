"""The live exam connections of this process, and the keeper of "the newer connection wins" across processes.

On connect a consumer claims its attempt (``realtime.presence``) and tells the connection it replaced to step
aside, through the channel layer. Both can be lost: a Redis restart empties every claim and breaks every
subscription; a notice published while the older connection's process was not subscribed never arrives. Two
live connections on one attempt, both acknowledged, no ``session.replaced`` — what a Redis restart between
two server processes produced (issue 20).

So each process keeps its live, claimed connections here and, every ``REALTIME_PRESENCE_CHECK_SECONDS``
(default 5), checks them against Redis in a few MGETs (``presence.connection_check_many``): a claim that is
missing is made again — the newest connection wins, by its stamp —, and a connection that finds a newer
claim steps aside by itself (``session.replaced``, close 4001, audit), notice or no notice. After a Redis
restart the rule is back within one check.

Notices to a connection of this same process are delivered directly, without Redis; a notice that cannot
be sent is logged (as part of the Redis outage) and never breaks the connection that sends it.

The keeper is one task per event loop, started with the first connection and ended with the last.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import translation

from contest_engine.outages import is_redis_unavailable, redis_outage
from realtime import events, presence

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Session:
    attempt_id: int
    token: str  # the consumer's channel name
    stamp: int  # presence.claim_stamp() of its connect
    consumer: Any  # the ExamConsumer: attempt_replaced() makes it step aside


class LiveSessions:
    """This event loop's claimed exam connections, by channel name."""

    def __init__(self) -> None:
        self.by_token: dict[str, Session] = {}
        self._keeper: asyncio.Task[None] | None = None

    def add(self, session: Session) -> None:
        self.by_token[session.token] = session
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.get_running_loop().create_task(self._keep(), name="presence-keeper")

    def remove(self, token: str) -> None:
        self.by_token.pop(token, None)

    async def check(self) -> int:
        """One check of every live connection against Redis; returns how many were told to step aside."""
        sessions = list(self.by_token.values())
        if not sessions:
            return 0
        claims = [(s.attempt_id, s.token, s.stamp) for s in sessions]
        try:
            results = await asyncio.get_running_loop().run_in_executor(None, presence.connection_check_many, claims)
        except Exception as exc:
            if not is_redis_unavailable(exc):
                raise
            redis_outage.failed(exc, source="presence check", items=len(claims))
            return 0
        redis_outage.succeeded()
        stepped = 0
        for session, result in zip(sessions, results, strict=True):
            if result.newer and self.by_token.get(session.token) is session:
                stepped += 1
                await step_aside(session.consumer, by=result.newer)
            elif result.previous:
                await tell_replaced(session.consumer.channel_layer, result.previous, by=session.token)
        return stepped

    async def _keep(self) -> None:
        while self.by_token:
            await asyncio.sleep(float(getattr(settings, "REALTIME_PRESENCE_CHECK_SECONDS", 5.0)))
            try:
                await self.check()
            except Exception:
                logger.exception("presence check failed")


_live: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LiveSessions] = weakref.WeakKeyDictionary()


def live_sessions() -> LiveSessions:
    """The running event loop's live sessions (one per server process in production)."""
    loop = asyncio.get_running_loop()
    sessions = _live.get(loop)
    if sessions is None:
        sessions = _live[loop] = LiveSessions()
    return sessions


async def step_aside(consumer: Any, *, by: str) -> None:
    """Tell ``consumer`` (of this process) that a newer connection holds its attempt — in the language of
    its own connection (this may run in the newer connection's task, or the keeper's).

    Never raises (it runs as a bare task, or inside the keeper's check of every connection): a socket that is
    gone already has nobody left to tell."""
    with translation.override(getattr(consumer, "language", "") or settings.LANGUAGE_CODE):
        try:
            await consumer.attempt_replaced({"type": events.REPLACED, "by": by})
        except OSError:  # uvicorn's ClientDisconnected and the like: the older socket died before the notice
            logger.debug("the connection told to step aside for %s was already gone", by)
        except Exception:
            logger.exception("telling a connection to step aside for %s failed", by)


async def tell_replaced(channel_layer: Any, previous: str, *, by: str) -> None:
    """Tell the connection ``previous`` (a channel name, in any process) to step aside for ``by``. Never
    raises: a notice that cannot be sent now is left to the periodic check of ``previous``'s process."""
    local = live_sessions().by_token.get(previous)
    if local is not None:
        # Same process: no round trip through Redis, and no dependence on it. Run apart, so the connect that
        # replaced it does not wait for the older connection's close and audit record.
        asyncio.get_running_loop().create_task(step_aside(local.consumer, by=by))
        return
    if channel_layer is None:
        return
    try:
        await channel_layer.send(previous, {"type": events.REPLACED, "by": by})
    except Exception as exc:
        if is_redis_unavailable(exc):
            redis_outage.failed(exc, source="replacement notice")
        else:
            logger.exception("could not tell %s that it was replaced", previous)


async def group_join(channel_layer: Any, group: str, channel: str) -> None:
    """``group_add`` that never breaks the connect: while Redis is away the layer records the subscription
    and makes it when Redis is back (``realtime.layers``); any other failure is logged."""
    if channel_layer is None:
        return
    try:
        await channel_layer.group_add(group, channel)
    except Exception as exc:
        if is_redis_unavailable(exc):
            redis_outage.failed(exc, source="group join")
        else:
            logger.exception("could not join %s to %s", channel, group)


async def group_leave(channel_layer: Any, group: str, channel: str) -> None:
    if channel_layer is None:
        return
    try:
        await channel_layer.group_discard(group, channel)
    except Exception as exc:
        if not is_redis_unavailable(exc):
            logger.exception("could not remove %s from %s", channel, group)

"""Per-process fan-out of live games: one channel-layer member per process and game, whatever the players.

Why not one channel-layer group member per socket (as the exam socket does): with channels-redis every socket
would subscribe its own Redis channel and every group message would be decoded once per socket; a
question for 10,000 players would be 10,000 msgpack decodes of the same bytes, and the personal part of a
reveal (each player's rank and score) could not travel in one message at all (PERFORMANCE.md measures
group_send at ~73 ms for 5,000 members before any per-socket work). Here each server process has ONE
``Hub`` (per event loop) with ONE channel; the hub joins a game's group when its first socket of that game
connects. A broadcast is one ``group_send``; each hub decodes it once, encodes the common JSON once, adds
each local player's own ``you`` part (already JSON, encoded by the service that built the event) by string
concatenation, and hands the text to the sockets' outboxes.

The hub also arms, for every open question of its games, a timer at the deadline (+ a settle time for the
answer batches in flight) that asks the database to close the question; all hubs of a game do, and the
database lets one of them do it (``live.services.game.question_close``). Presence ("the newer connection of
a player wins") is a Redis ``SET … GET`` of ``<hub channel>|<connection id>``; the older connection's hub is
told directly on its channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import time
import weakref
from collections import deque
from typing import Any, Protocol

from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from live.services.game import question_close
from realtime import events
from realtime.db import db_call

logger = logging.getLogger(__name__)
encode = DjangoJSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

CONTROL = "live.control"  # channel-layer message type for hub-to-hub messages (handled by the hub only)
UNSUBSCRIBE_AFTER_SECONDS = 30.0  # keep a game's subscription a while after its last local socket left
PRESENCE_TTL_SECONDS = 24 * 3600


def settle_seconds() -> float:
    """How long after a deadline the close waits for answer batches received in time but still committing."""
    return float(getattr(settings, "LIVE_CLOSE_SETTLE_SECONDS", 0.25))


class Connection(Protocol):
    session_id: int
    player_id: int  # 0 for host and presenter screens
    conn_id: str

    def push(self, message: dict[str, Any]) -> None: ...

    def replaced(self) -> None: ...


class _Game:
    __slots__ = ("players", "ready", "screens", "unsubscribe")

    def __init__(self) -> None:
        self.players: dict[int, Connection] = {}
        self.screens: set[Connection] = set()
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.unsubscribe: asyncio.TimerHandle | None = None

    def empty(self) -> bool:
        return not self.players and not self.screens


class Hub:
    """One per event loop (``get_hub``). Call from the loop only."""

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.channel = ""
        self.games: dict[int, _Game] = {}
        self.timers: dict[int, asyncio.TimerHandle] = {}
        self._task: asyncio.Task[None] | None = None
        self._started: asyncio.Future[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()  # close attempts in flight (awaited by aclose)
        self._ids = itertools.count(1)
        self.stats = {"broadcasts": 0, "frames": 0}

    def new_conn_id(self) -> str:
        return f"{self.channel}|{next(self._ids)}"

    # -- membership ---------------------------------------------------------------------------------
    async def start(self) -> None:
        """Create the hub's channel and its receive loop, once (concurrent first connects share one start)."""
        if self._started is None:
            self._started = asyncio.get_running_loop().create_future()
            try:
                if self.layer is not None:
                    self.channel = await self.layer.new_channel(prefix="live-hub.")
                    self._task = asyncio.get_running_loop().create_task(self._receive_loop(), name="live-hub")
                else:
                    self.channel = f"local-hub-{id(self)}"
            except BaseException as exc:
                self._started.set_exception(exc)
                self._started.exception()
                self._started = None
                raise
            self._started.set_result(None)
        else:
            await asyncio.shield(self._started)

    async def attach(self, conn: Connection) -> None:
        """Register ``conn``; returns once this process hears the game's broadcasts (so a snapshot loaded after
        this call misses nothing)."""
        await self.start()
        game = self.games.get(conn.session_id)
        if game is None:
            game = self.games[conn.session_id] = _Game()
            try:
                if self.layer is not None:
                    await self.layer.group_add(events.live_group(conn.session_id), self.channel)
            except BaseException as exc:
                del self.games[conn.session_id]
                game.ready.set_exception(exc)
                game.ready.exception()  # retrieved: the waiters below get it themselves
                raise
            game.ready.set_result(None)
        else:
            await asyncio.shield(game.ready)
        if game.unsubscribe is not None:
            game.unsubscribe.cancel()
            game.unsubscribe = None
        if conn.player_id:
            old = game.players.get(conn.player_id)
            game.players[conn.player_id] = conn
            if old is not None and old is not conn:
                old.replaced()
        else:
            game.screens.add(conn)

    def detach(self, conn: Connection) -> None:
        game = self.games.get(conn.session_id)
        if game is None:
            return
        if conn.player_id:
            if game.players.get(conn.player_id) is conn:
                del game.players[conn.player_id]
        else:
            game.screens.discard(conn)
        if game.empty() and game.unsubscribe is None:
            game.unsubscribe = asyncio.get_running_loop().call_later(
                UNSUBSCRIBE_AFTER_SECONDS, lambda: asyncio.ensure_future(self._drop(conn.session_id)))

    async def _drop(self, session_id: int) -> None:
        game = self.games.get(session_id)
        if game is None or not game.empty():
            return
        del self.games[session_id]
        self._disarm(session_id)
        if self.layer is not None:
            with contextlib.suppress(Exception):
                await self.layer.group_discard(events.live_group(session_id), self.channel)

    async def aclose(self) -> None:
        if self._closing:
            await asyncio.wait(list(self._closing), timeout=10)
        for session_id in list(self.games):
            game = self.games[session_id]
            game.players.clear()
            game.screens.clear()
            if game.unsubscribe is not None:
                game.unsubscribe.cancel()
            await self._drop(session_id)
        for handle in self.timers.values():
            handle.cancel()
        self.timers.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None

    # -- presence -----------------------------------------------------------------------------------
    async def replace_previous(self, conn: Connection, previous: str) -> None:
        """``previous`` (from the presence claim) held the player before ``conn``: tell it to go, wherever it is."""
        if not previous or previous == conn.conn_id:
            return
        hub_channel = previous.rsplit("|", 1)[0]
        if hub_channel == self.channel:
            self._replace_local(conn.session_id, conn.player_id, previous)
        elif self.layer is not None:
            with contextlib.suppress(Exception):
                await self.layer.send(hub_channel, {"type": CONTROL, "event": {
                    "type": events.LIVE_REPLACED, "session_id": conn.session_id, "player_id": conn.player_id,
                    "conn_id": previous}})

    def _replace_local(self, session_id: int, player_id: int, conn_id: str) -> None:
        game = self.games.get(session_id)
        conn = game.players.get(player_id) if game else None
        if conn is not None and conn.conn_id == conn_id:
            del game.players[player_id]  # type: ignore[union-attr]
            conn.replaced()

    # -- broadcasts ---------------------------------------------------------------------------------
    async def _receive_loop(self) -> None:
        assert self.layer is not None
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("live hub: receive failed")
                await asyncio.sleep(0.5)
                continue
            try:
                self.deliver(message.get("event") or {})
            except Exception:
                logger.exception("live hub: delivery failed")

    def deliver(self, event: dict[str, Any]) -> None:
        """Fan one game event out to this process's sockets of that game (and arm/disarm its deadline timer)."""
        session_id = event.get("session_id")
        game = self.games.get(session_id) if isinstance(session_id, int) else None
        if game is None:
            return
        kind = event.get("type")
        if kind == events.LIVE_REPLACED:
            self._replace_local(session_id, event.get("player_id", 0), event.get("conn_id", ""))
            return
        self.stats["broadcasts"] += 1
        you = event.pop("you", None)
        text = encode(event)
        common = {"type": "websocket.send", "text": text}  # one message object for every socket
        if you is None:
            for conn in itertools.chain(game.players.values(), game.screens):
                conn.push(common)
        else:
            players = game.players
            head = text[:-1] + ',"you":'
            personal = {pid: row for pid, row in you if pid in players}
            for pid, conn in players.items():
                row = personal.get(pid)
                conn.push({"type": "websocket.send", "text": head + row + "}"} if row is not None else common)
            for conn in game.screens:
                conn.push(common)
        self.stats["frames"] += len(game.players) + len(game.screens)
        if kind in (events.LIVE_QUESTION, events.LIVE_RESUMED):
            self._arm(session_id, event["position"], event["deadline_ms"])
        elif kind in (events.LIVE_REVEAL, events.LIVE_PAUSED, events.LIVE_FINISHED):
            self._disarm(session_id)

    # -- deadline timers ----------------------------------------------------------------------------
    def _arm(self, session_id: int, position: int, deadline_ms: int) -> None:
        self._disarm(session_id)
        delay = max(0.0, deadline_ms / 1000 - time.time()) + settle_seconds()
        self.timers[session_id] = asyncio.get_running_loop().call_later(
            delay, lambda: self.close_soon(session_id, position))

    def _disarm(self, session_id: int) -> None:
        handle = self.timers.pop(session_id, None)
        if handle is not None:
            handle.cancel()

    def close_soon(self, session_id: int, position: int, *, force: bool = False) -> None:
        """Ask the database to close the question (in the background; the outcome is its broadcast)."""
        task = asyncio.get_running_loop().create_task(self.close_question(session_id, position, force=force))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close_question(self, session_id: int, position: int, *, force: bool = False) -> None:
        self.timers.pop(session_id, None)
        try:
            await db_call(question_close, session_id=session_id, position=position, now=timezone.now(), force=force)
        except Exception:
            logger.exception("live hub: closing question %s of game %s failed", position, session_id)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def get_hub() -> Hub:
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub()
    return hub


async def close_hub() -> None:
    """Stop the running loop's hub (tests, shutdown)."""
    hub = _hubs.pop(asyncio.get_running_loop(), None)
    if hub is not None:
        await hub.aclose()


# --------------------------------------------------------------------------------------------------
# Presence (Redis when configured; a process-local dict in the embedded default)
# --------------------------------------------------------------------------------------------------
_local_presence: dict[tuple[int, int], str] = {}
_presence_lock = threading.Lock()


def redis_client():
    client = getattr(cache, "_cache", None)
    if client is None or not hasattr(client, "get_client"):
        return None
    return client.get_client(write=True)


def presence_claim(session_id: int, player_id: int, token: str) -> str:
    """Make ``token`` the player's active connection; return the previous one ('' if none)."""
    client = redis_client()
    if client is None:
        with _presence_lock:
            previous = _local_presence.get((session_id, player_id), "")
            _local_presence[(session_id, player_id)] = token
        return previous
    key = f"{getattr(settings, 'REDIS_PREFIX', 'ce')}:live-conn:{int(session_id)}:{int(player_id)}"
    previous = client.set(key, token, ex=PRESENCE_TTL_SECONDS, get=True)
    return previous.decode() if isinstance(previous, bytes) else (previous or "")


class Outbox:
    """A socket's frames from the hub, sent in order by one short task at a time (a slow phone's full TCP
    buffer holds up only its own frames, never the fan-out loop). Frames go straight to the ASGI ``send`` (the
    consumer's ``send`` adds two coroutine layers per frame, times 10,000 sockets per broadcast)."""

    __slots__ = ("_frames", "_send", "_task")

    def __init__(self, send: Any) -> None:
        self._frames: deque[dict[str, Any]] = deque()
        self._send = send  # the ASGI send callable of the socket
        self._task: asyncio.Task[None] | None = None

    def push(self, message: dict[str, Any]) -> None:
        """Queue an ASGI ``websocket.send`` message (may be shared by many sockets: nothing mutates it)."""
        self._frames.append(message)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self._frames:
                await self._send(self._frames.popleft())
        except Exception:  # the socket went away: drop what is left
            self._frames.clear()
        finally:
            self._task = None

    def cancel(self) -> None:
        self._frames.clear()
        if self._task is not None:
            self._task.cancel()
            self._task = None

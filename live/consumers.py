"""The live-game sockets (protocol in docs/protocol.md, "Live games"):

- ``ws/live/<session id>/play/`` — a player (the signed player cookie set when joining; in a game for
  registered contestants also their login session);
- ``ws/live/<session id>/host/`` — the host's controls (an organiser or judge of the game's organisation);
- ``ws/live/<session id>/screen/`` — the presenter (projector) screen: the same frames, no controls.

Thin by design: parse (``live.protocol``), call a service (answers through the per-process batcher, the rest
through ``realtime.db``'s pool), send the result. Broadcasts reach a socket through its process's hub
(``live.hub``) — the sockets have no channel-layer channel of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contest_engine.middleware import chosen_language
from live import errors, protocol
from live.hub import Outbox, encode, get_hub
from live.opening import OpenRequest, players_open_batch
from live.selectors import host_stats
from live.services.answers import AnswerItem, answers_store_batch
from live.services.host import host_control, host_open
from live.services.players import cookie_name, player_from_token
from realtime import events
from realtime.batching import Batcher, BatchFailed, loop_batcher
from realtime.db import db_call
from realtime.protocol import TokenBucket, error_event, error_messages, protocol_error, server_time_ms

logger = logging.getLogger(__name__)
STATS_INTERVAL_SECONDS = 1.0
MAX_VIOLATIONS = 20

def answer_writer() -> Batcher:
    """The running loop's group-commit batcher of live answers (``live.services.answers``)."""
    return loop_batcher("live-answers", lambda: Batcher(
        store_batch=answers_store_batch, name="live-answers",
        max_batch=getattr(settings, "REALTIME_WRITER_MAX_BATCH", 500),
        concurrency=getattr(settings, "REALTIME_WRITER_CONCURRENCY", 1)))


def opener() -> Batcher:
    """The running loop's batcher of player connects (``live.opening``)."""
    return loop_batcher("live-connects", lambda: Batcher(store_batch=players_open_batch, name="live-connects",
                                                         max_batch=200))


def localised(error: errors.LiveError) -> str:
    """The error's text in the active language: errors built in batcher threads carry their standard text in
    the default language; a text of its own (with details) is kept as it is."""
    with translation.override(settings.LANGUAGE_CODE):
        standard = str(type(error).default_message)
    return str(type(error).default_message) if error.message == standard else error.message


class _LiveSocket(AsyncWebsocketConsumer):
    """What the three sockets share: no channel of their own, an outbox fed by the hub, rate limiting."""

    session_id: int = 0
    player_id: int = 0
    conn_id: str = ""
    closing: bool = False
    attached: bool = False
    violations: int = 0
    bucket: TokenBucket | None = None
    outbox: Outbox | None = None
    replacing: asyncio.Future[None] | None = None
    language: str = ""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Channels' ``AsyncConsumer.__call__`` without creating a channel-layer channel for the socket: its
        broadcasts come from the hub (one channel per process), so 10,000 sockets are not 10,000 Redis
        subscriptions."""
        self.scope = scope
        self.channel_layer = None
        self.channel_name = ""
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            await await_many_dispatch([receive], self.dispatch)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' dispatch minus its per-message hop to the sync thread (this socket's database work runs
        # in realtime.db's pool and the batchers), as realtime.consumers.ExamConsumer does.
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        await self.disconnect(message["code"])
        raise StopConsumer()

    # -- hub side (Connection protocol) ---------------------------------------------------------------
    def push(self, message: dict[str, Any]) -> None:
        if not self.closing and self.outbox is not None:
            self.outbox.push(message)

    def replaced(self) -> None:
        if not self.closing and self.replacing is None:
            self.replacing = asyncio.ensure_future(self._replaced())

    async def _replaced(self) -> None:
        # Runs in a task the hub started: the person's language is not active there by itself.
        with translation.override(self.language or settings.LANGUAGE_CODE):
            message = _("Trò chơi đã được mở ở một cửa sổ hoặc thiết bị khác. Cửa sổ này đã ngừng kết nối.")
        await self.send_event(events.live_event(events.SESSION_REPLACED, session_id=self.session_id, seq=0,
                                                message=message))
        await self._close(protocol.CLOSE_REPLACED)

    # -- helpers --------------------------------------------------------------------------------------
    async def send_event(self, payload: dict[str, Any]) -> None:
        if not self.closing:
            await self.send(text_data=encode(payload))

    async def _error(self, code: str, message: str, **extra: Any) -> None:
        await self.send_event(error_event(code, message, **extra))

    async def _refuse(self, code: str, close_code: int, message: Any = None) -> None:
        """A typed error, then a 44xx close: the client can tell the person why."""
        await self._error(code, str(message) if message is not None else error_messages()[code])
        await self._close(close_code)

    async def _close(self, code: int) -> None:
        if self.closing:
            return
        self.closing = True
        if self.outbox is not None:
            self.outbox.cancel()
        await self.close(code=code)

    async def _violation(self, error: protocol.ProtocolError) -> None:
        self.violations += 1
        await self._error(error.code, error.message)
        if self.violations >= MAX_VIOLATIONS:
            await self._close(protocol.CLOSE_POLICY_VIOLATION)

    async def _parsed(self, text_data: str | None, bytes_data: bytes | None) -> Any:
        assert self.bucket is not None
        if not self.bucket.take():
            await self._violation(protocol_error("rate_limited"))
            return None
        try:
            return protocol.parse(text_data, bytes_data)
        except protocol.ProtocolError as error:
            await self._violation(error)
            return None

    async def _attach(self) -> None:
        hub = get_hub()
        await hub.start()
        self.conn_id = hub.new_conn_id()
        self.outbox = Outbox(self.base_send)
        await hub.attach(self)
        self.attached = True

    async def disconnect(self, code: int) -> None:
        self.closing = True
        if self.outbox is not None:
            self.outbox.cancel()
        if self.attached:
            get_hub().detach(self)
            self.attached = False


class PlayerConsumer(_LiveSocket):
    async def _not_a_player(self) -> None:
        await self._refuse(errors.PlayerNotFound.code, protocol.CLOSE_FORBIDDEN, errors.PlayerNotFound.default_message)

    async def connect(self) -> None:
        self.language = chosen_language(self.scope.get("cookies") or {})
        translation.activate(self.language)
        await self.accept()
        self.session_id = int(self.scope["url_route"]["kwargs"]["session_id"])
        cookies = self.scope.get("cookies") or {}
        player_id = player_from_token(cookies.get(cookie_name(self.session_id)), session_id=self.session_id)
        if player_id is None:
            await self._not_a_player()
            return
        self.player_id = player_id
        self.bucket = TokenBucket()
        user = self.scope.get("user")
        # Subscribe before loading the snapshot: a broadcast in between is then heard, not missed.
        await self._attach()
        try:
            opened = await opener().store(OpenRequest(
                session_id=self.session_id, player_id=player_id, conn_id=self.conn_id,
                user_id=user.pk if getattr(user, "is_authenticated", False) else 0))
        except BatchFailed:
            await self._refuse("server_error", protocol.CLOSE_SERVER_ERROR)
            return
        if opened.snapshot is None:
            await self._not_a_player()
            return
        await get_hub().replace_previous(self, opened.previous)
        await self.send_event(opened.snapshot)
        if opened.finished:
            await self._close(protocol.CLOSE_FINISHED)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing or not self.player_id:
            return
        received_at = timezone.now()  # the server's clock decides whether an answer was in time
        message = await self._parsed(text_data, bytes_data)
        if message is None:
            return
        if isinstance(message, protocol.Answer):
            await self._answer(message, received_at)
        elif isinstance(message, protocol.Ping):
            await self.send_event({"type": "pong", "t": message.t, "server_time_ms": server_time_ms()})
        elif isinstance(message, protocol.Resync):
            await self._resync()
        else:  # a host control on a player's socket
            await self._error(errors.NotHost.code, str(errors.NotHost.default_message), action=message.action)

    async def _answer(self, message: protocol.Answer, received_at: Any) -> None:
        item = AnswerItem(session_id=self.session_id, player_id=self.player_id, position=message.position,
                          options=message.options, received_at=received_at)
        try:
            result = await answer_writer().store(item)
        except BatchFailed:
            await self._error("storage_unavailable", error_messages()["storage_unavailable"],
                              position=message.position)
            return
        if result.error is not None:
            await self._error(result.error.code, localised(result.error), position=message.position)
            return
        await self.send_event({"type": events.LIVE_ACK, "position": message.position, "status": result.status,
                               "saved_at": server_time_ms()})
        if result.everyone_answered:
            get_hub().close_soon(self.session_id, message.position, force=True)

    async def _resync(self) -> None:
        user = self.scope.get("user")
        try:
            opened = await opener().store(OpenRequest(
                session_id=self.session_id, player_id=self.player_id, conn_id=self.conn_id,
                user_id=user.pk if getattr(user, "is_authenticated", False) else 0))
        except BatchFailed:
            await self._error("server_error", error_messages()["server_error"])
            return
        if opened.snapshot is None:
            await self._not_a_player()
            return
        await self.send_event(opened.snapshot)


class HostConsumer(_LiveSocket):
    """The host's socket (``role = "host"``) and the presenter screen's (``role = "screen"``)."""

    role = "host"
    stats_task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self.language = chosen_language(self.scope.get("cookies") or {})
        translation.activate(self.language)
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._refuse("not_authenticated", protocol.CLOSE_NOT_AUTHENTICATED)
            return
        self.session_id = int(self.scope["url_route"]["kwargs"]["session_id"])
        self.bucket = TokenBucket()
        await self._attach()
        snapshot = await db_call(host_open, session_id=self.session_id, user=user, role=self.role,
                                 now=timezone.now())
        if snapshot is None:  # no such game, or another organisation's: indistinguishable
            await self._refuse(errors.SessionNotFound.code, protocol.CLOSE_FORBIDDEN,
                               errors.SessionNotFound.default_message)
            return
        await self.send_event(snapshot)
        self.stats_task = asyncio.ensure_future(self._stats_loop())

    async def disconnect(self, code: int) -> None:
        if self.stats_task is not None:
            self.stats_task.cancel()
        await super().disconnect(code)

    async def _stats_loop(self) -> None:
        last: dict[str, Any] | None = None
        while not self.closing:
            try:
                stats = await db_call(host_stats, session_id=self.session_id)
            except Exception:
                logger.exception("live stats of game %s failed", self.session_id)
                stats = last
            if stats and stats != last:
                await self.send_event({"type": events.LIVE_STATS, "session_id": self.session_id, **stats})
                last = stats
            await asyncio.sleep(STATS_INTERVAL_SECONDS)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing or not self.session_id:
            return
        message = await self._parsed(text_data, bytes_data)
        if message is None:
            return
        if isinstance(message, protocol.Ping):
            await self.send_event({"type": "pong", "t": message.t, "server_time_ms": server_time_ms()})
        elif isinstance(message, protocol.Resync):
            snapshot = await db_call(host_open, session_id=self.session_id, user=self.scope["user"], role=self.role,
                                     now=timezone.now())
            if snapshot is not None:
                await self.send_event(snapshot)
        elif isinstance(message, protocol.Control) and self.role == "host":
            await self._control(message)
        else:
            code = "read_only" if isinstance(message, protocol.Control) else "unknown_type"
            text = _("Màn hình trình chiếu chỉ để xem, không điều khiển được trò chơi.") if code == "read_only" \
                else error_messages()["unknown_type"]
            await self._error(code, text)

    async def _control(self, message: protocol.Control) -> None:
        try:
            payload = await db_call(host_control, session_id=self.session_id, user=self.scope["user"],
                                    control=message, now=timezone.now())
        except errors.LiveError as error:
            await self._error(error.code, localised(error), action=message.action)
            return
        await self.send_event({"type": events.LIVE_DONE, "action": message.action, "v": payload.get("v")})


class ScreenConsumer(HostConsumer):
    role = "screen"

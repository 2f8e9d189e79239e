"""The exam socket: ws/attempts/<attempt_id>/ (protocol in docs/protocol.md).

Thin by design: parse (``realtime.protocol``), call a contests service (through ``realtime.bridge``), send
the result. Answers go through the per-process group-commit writer (``realtime.writer``) and are
acknowledged only after their batch committed; other database calls run in ``realtime.db``'s pool, never on
the event loop. Per-connection state is a handful of ints so 10,000 sockets fit in one process.

Only the attempt's owner may connect (others get the same "not found" as for a missing attempt). One
connection per attempt is active: on connect the consumer claims the attempt (``realtime.presence``: an
atomic compare-by-stamp in Redis returns the previous holder's channel name) and sends ``attempt.replaced``
straight to that channel; the older connection tells its client ``session.replaced``, closes with
``CLOSE_SESSION_REPLACED`` and records the event in the audit log. ``realtime.sessions`` keeps that rule
through Redis restarts and lost notices (each process re-checks its live claims).

Messages of one connection are handled one at a time (Channels awaits each handler), so a connection has
at most one answer in the writer and its answers cannot overtake each other.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contest_engine import logs
from contest_engine.middleware import chosen_language
from realtime import bridge, events, evidence, presence, protocol
from realtime.batching import BatchFailed
from realtime.db import db_call
from realtime.sessions import Session, group_join, group_leave, live_sessions, step_aside, tell_replaced
from realtime.snapshots import OpenRequest, get_opener
from realtime.submits import SubmitRequest, get_submitter
from realtime.writer import get_writer

logger = logging.getLogger(__name__)

_encode = DjangoJSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class ExamConsumer(AsyncWebsocketConsumer):
    # Everything a connection keeps between messages (class defaults; set per instance in connect()).
    attempt_id: int = 0
    user_id: int = 0
    group: str = ""
    finished: bool = False
    closing: bool = False
    violations: int = 0
    language: str = ""
    bucket: protocol.TokenBucket | None = None
    evidence_bucket: protocol.TokenBucket | None = None
    evidence_count: int = 0
    deadline_handle: asyncio.TimerHandle | None = None
    expire_task: asyncio.Task[None] | None = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch minus its per-message ``aclose_old_connections()``: that is a hop to the shared
        sync thread for every frame, to tidy a database connection this consumer never uses (its database
        work runs in realtime.db's pool and in the batch writers, which look after their own connections)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        """Channels' version minus its ``aclose_old_connections()`` (a hop to the shared sync thread per
        disconnect, for the same reason as in ``dispatch``: at the end of a timed round thousands of sockets
        close within seconds). This consumer joins its group itself, so ``self.groups`` is empty."""
        await self.disconnect(message["code"])
        raise StopConsumer()

    # -- connection lifecycle ---------------------------------------------------------------------
    async def connect(self) -> None:
        # Messages speak the language the person chose on the site. Each connection runs in its own task,
        # and Django's active language is task-local there, so this holds for everything built in this
        # consumer. Replies built in the writer and db_call threads use the default language;
        # send_event re-renders their standard error texts (bridge.error_localised).
        self.language = chosen_language(self.scope.get("cookies") or {})
        translation.activate(self.language)
        # Accept first so that a refusal can say why (a typed error, then a 44xx close code); a handshake
        # refused with HTTP 403 would leave the client guessing. Origin was already checked by the router.
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._refuse("not_authenticated", protocol.CLOSE_NOT_AUTHENTICATED)
            return
        attempt_id = int(self.scope["url_route"]["kwargs"]["attempt_id"])
        # Every line this connection's task logs names the attempt (contest_engine/logs.py); the task is the
        # connection's own, so the context ends with it.
        logs.bind(attempt_id=attempt_id, user_id=user.pk, connection_id=self.channel_name[-12:])
        logs.bind_sensitive(lambda: [user.full_name, user.username, user.phone, user.email])
        stamp = presence.claim_stamp()
        try:
            opened = await get_opener().store(
                OpenRequest(attempt_id=attempt_id, user_id=user.pk, token=self.channel_name, stamp=stamp))
        except BatchFailed:
            await self._refuse("server_error", protocol.CLOSE_SERVER_ERROR)
            return
        if opened.state is None:
            await self._refuse("attempt_not_found", protocol.CLOSE_FORBIDDEN)
            return
        attempt, state, previous = opened.attempt, opened.state, opened.previous
        self.attempt_id = attempt_id
        self.user_id = user.pk
        self.bucket = protocol.TokenBucket()
        self.group = events.attempt_group(attempt_id)
        # Neither of these may break the connect (a Redis restart): realtime.sessions says how it recovers.
        await group_join(self.channel_layer, self.group, self.channel_name)
        if opened.claimed:
            live_sessions().add(Session(attempt_id, self.channel_name, stamp, self))
        if previous:
            await tell_replaced(self.channel_layer, previous, by=self.channel_name)
        await self.send_event(bridge.snapshot_event(state))
        if bridge.state_is_finished(state):
            await self._finish(events.attempt_submitted_event(attempt))
            return
        if opened.newer:  # a newer connection of this attempt claimed it first
            self._record_connection(replaced=bool(previous))
            await step_aside(self, by=opened.newer)
            return
        self._arm_deadline(state)
        self._record_connection(replaced=bool(previous))

    def _record_connection(self, *, replaced: bool) -> None:
        """Evidence (realtime.evidence): who connected from where, and whether a live connection was replaced."""
        evidence.connection_opened(attempt_id=self.attempt_id, user_id=self.user_id, scope=self.scope,
                                   replaced=replaced, at=timezone.now())

    async def disconnect(self, code: int) -> None:
        self._disarm_deadline()
        live_sessions().remove(self.channel_name)
        if self.group:
            await group_leave(self.channel_layer, self.group, self.channel_name)
        # The presence claim is left in place: a later connection replaces it anyway (telling a dead
        # channel to step aside is harmless), and a Redis call per disconnect would only add load to a
        # reconnect storm.

    async def _refuse(self, code: str, close_code: int) -> None:
        self.closing = True
        await self.send(text_data=_encode(protocol.error_event(code, protocol.error_messages()[code])))
        await self.close(code=close_code)

    # -- client → server --------------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing or not self.attempt_id:
            return
        assert self.bucket is not None
        if text_data is not None and text_data.startswith('{"type":"evidence"'):
            self._evidence(text_data)  # v1.1, own budget: evidence never uses up the answers' rate limit
            return
        if not self.bucket.take():
            await self._violation(protocol.protocol_error("rate_limited"))
            return
        try:
            message = protocol.parse(text_data, bytes_data)
        except protocol.ProtocolError as error:
            await self._violation(error)
            return
        if isinstance(message, protocol.Answer):
            await self._answer(message)
        elif isinstance(message, protocol.Ping):
            await self.send_event({"type": "pong", "t": message.t, "server_time_ms": protocol.server_time_ms()})
        elif isinstance(message, protocol.Prediction):
            await self.send_event(await db_call(
                bridge.prediction_store, attempt_id=self.attempt_id, user_id=self.user_id, message=message,
                now=timezone.now()))
        elif isinstance(message, protocol.Submit):
            await self._submit(message)
        elif isinstance(message, protocol.Next):
            await self.send_event(await db_call(
                bridge.question_next, attempt_id=self.attempt_id, user_id=self.user_id, now=timezone.now()))
        elif isinstance(message, protocol.Resync):
            await self._resync()
        elif isinstance(message, protocol.Evidence):  # sent with ``type`` not first: the shared budget applies
            self._evidence_accept(message)

    def _evidence(self, text_data: str) -> None:
        """A client evidence message: never answered, never a violation; over its budget it is dropped."""
        if self.evidence_bucket is None:
            self.evidence_bucket = protocol.TokenBucket(protocol.EVIDENCE_BURST, protocol.EVIDENCE_PER_SECOND)
        if self.evidence_count >= protocol.EVIDENCE_PER_CONNECTION or not self.evidence_bucket.take():
            return
        try:
            message = protocol.parse(text_data)
        except protocol.ProtocolError:
            return
        if isinstance(message, protocol.Evidence):
            self._evidence_accept(message)

    def _evidence_accept(self, message: protocol.Evidence) -> None:
        if message.kind and self.evidence_count < protocol.EVIDENCE_PER_CONNECTION:
            self.evidence_count += 1
            evidence.client_event(attempt_id=self.attempt_id, kind=message.kind, position=message.position)

    async def _violation(self, error: protocol.ProtocolError) -> None:
        self.violations += 1
        await self.send_event(protocol.error_event(error.code, error.message, seq=error.seq))
        if self.violations >= protocol.MAX_VIOLATIONS:
            self.closing = True
            await self.close(code=protocol.CLOSE_POLICY_VIOLATION)

    async def _answer(self, message: protocol.Answer) -> None:
        item = bridge.answer_item(attempt_id=self.attempt_id, user_id=self.user_id, message=message)
        try:
            result = await get_writer().store(item)
        except BatchFailed:
            code = "storage_unavailable"
            await self.send_event(protocol.error_event(code, protocol.error_messages()[code], seq=message.seq,
                                                       position=message.position))
            return
        await self.send_event(bridge.store_reply(result, seq=message.seq))

    async def _submit(self, message: protocol.Submit) -> None:
        try:
            reply = await get_submitter().store(
                SubmitRequest(attempt_id=self.attempt_id, user_id=self.user_id, seq=message.seq))
        except BatchFailed:  # nothing of the batch was written: the client sends its submit again
            code = "submit_failed"
            await self.send_event(protocol.error_event(code, protocol.error_messages()[code], seq=message.seq))
            return
        if reply.get("type") == events.ATTEMPT_SUBMITTED:
            await self._finish(reply)
        else:
            await self.send_event(reply)

    async def _resync(self) -> None:
        try:
            attempt, state = await db_call(bridge.attempt_reload, attempt_id=self.attempt_id,
                                           user_id=self.user_id, now=timezone.now())
        except bridge.AttemptNotFound:
            await self._refuse("attempt_not_found", protocol.CLOSE_FORBIDDEN)
            return
        await self.send_event(bridge.snapshot_event(state))
        if bridge.state_is_finished(state):
            await self._finish(events.attempt_submitted_event(attempt))
        else:
            self._arm_deadline(state)

    # -- server → client --------------------------------------------------------------------------
    async def send_event(self, payload: dict[str, Any]) -> None:
        if self.closing:
            return
        if payload.get("type") == "error" and self.language and self.language != settings.LANGUAGE_CODE:
            payload = bridge.error_localised(payload)  # built in a writer thread, in the default language
        await self.send(text_data=_encode(payload))

    async def _finish(self, submitted: dict[str, Any]) -> None:
        """Send ``attempt.submitted`` once and close: the client goes to the result page."""
        if self.finished:
            return
        self.finished = True
        self._disarm_deadline()
        await self.send_event(submitted)
        self.closing = True
        await self.close(code=protocol.CLOSE_ATTEMPT_FINISHED)

    # -- deadline ---------------------------------------------------------------------------------
    def _arm_deadline(self, state: dict[str, Any]) -> None:
        self._disarm_deadline()
        deadline = bridge.state_deadline(state)
        if deadline is None:
            return
        delay = (deadline - timezone.now()).total_seconds() + float(state.get("grace_seconds") or 0)
        # A TimerHandle costs ~100 bytes; a sleeping task per connection would cost kilobytes.
        self.deadline_handle = asyncio.get_running_loop().call_later(max(0.0, delay), self._deadline_passed)

    def _disarm_deadline(self) -> None:
        if self.deadline_handle is not None:
            self.deadline_handle.cancel()
            self.deadline_handle = None

    def _deadline_passed(self) -> None:
        self.deadline_handle = None
        if not self.finished and not self.closing:
            self.expire_task = asyncio.ensure_future(self._expire())

    async def _expire(self) -> None:
        """Deadline + grace passed: tell the client. The sweeper (contests.jobs, every 2 s) submits with the
        deadline as finish time and its after-commit broadcast reaches us as ``attempt.submitted``; the
        client may also send ``submit`` (idempotent). Consumers do not all submit at this instant, so
        10,000 attempts ending at a round's close do not stampede the database from every process."""
        await self.send_event(events.event(events.ATTEMPT_EXPIRED, attempt_id=self.attempt_id,
                                           server_time_ms=protocol.server_time_ms()))

    # -- channel-layer events ---------------------------------------------------------------------
    async def attempt_push(self, message: dict[str, Any]) -> None:
        payload = message["event"]
        kind = payload.get("type")
        if kind == events.ATTEMPT_SUBMITTED:
            await self._finish(payload)
        elif kind == events.ATTEMPT_CHANGED:
            if not self.closing:
                await self._resync()
        else:
            await self.send_event(payload)

    async def attempt_replaced(self, message: dict[str, Any]) -> None:
        """A newer connection claimed this attempt: step aside, say why, record it."""
        if self.closing:
            return
        self._disarm_deadline()
        try:
            await self.send_event(events.event(
                events.SESSION_REPLACED, attempt_id=self.attempt_id,
                message=_("Bài thi đã được mở ở một cửa sổ hoặc thiết bị khác. Cửa sổ này đã ngừng kết nối."),
            ))
            self.closing = True
            await self.close(code=protocol.CLOSE_SESSION_REPLACED)
        except OSError:  # the client's socket is gone already (a reconnect storm): nobody to tell; still recorded
            self.closing = True
            logger.debug("attempt %s: the replaced connection's socket was already gone", self.attempt_id)
        try:
            await db_call(bridge.session_replaced_record, attempt_id=self.attempt_id, user_id=self.user_id,
                          data={"old_channel": self.channel_name, "new_channel": message.get("by", "")})
        except Exception:
            logger.exception("could not record the session replacement of attempt %s", self.attempt_id)

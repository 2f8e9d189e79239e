"""The live leaderboard socket: ws/leaderboards/<round_id>/.

On connect: a ``leaderboard.snapshot`` (top N of the board this viewer may see) and ``leaderboard.rank`` (the
viewer's own rank), or ``leaderboard.hidden``. Then the throttled ``leaderboard.update`` pushes of the round's
group (public, or staff while the public board is frozen), forwarded unchanged. Client messages:
``{"type": "snapshot.get"}`` (after a gap in ``version``, or to retry a hidden board) and
``{"type": "rank.get"}``; both rate-limited. Anonymous viewers are welcome on public boards.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from leaderboards.services import live, unit_push
from realtime.db import db_call

logger = logging.getLogger(__name__)
_encode = DjangoJSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
CLOSE_NOT_FOUND = 4404
MIN_REQUEST_INTERVAL = 1.0  # seconds between two client requests that hit Redis/the database


def _client_request(consumer: Any, text_data: str | None) -> str | None:
    """The ``type`` of a client's request frame, or None when it is to be ignored: empty, over 200 characters,
    not a JSON object, or sooner than ``MIN_REQUEST_INTERVAL`` after the consumer's previous request (which
    counts even when it was malformed: a client cannot make the server parse faster than that)."""
    if not text_data or len(text_data) > 200:
        return None
    now = time.monotonic()
    if now - consumer.last_request < MIN_REQUEST_INTERVAL:
        return None
    consumer.last_request = now
    try:
        kind = json.loads(text_data).get("type")
    except (ValueError, AttributeError):
        return None
    return kind if isinstance(kind, str) else None


class LeaderboardConsumer(AsyncWebsocketConsumer):
    view: live.SocketView | None = None
    group: str | None = None
    last_request: float = 0.0

    async def connect(self) -> None:
        await self.accept()
        await self._open()

    async def _open(self) -> None:
        round_id = int(self.scope["url_route"]["kwargs"]["round_id"])
        try:
            view, frames = await db_call(live.socket_open, round_id=round_id, user=self.scope.get("user"),
                                         now=timezone.now())
        except live.RoundNotVisible:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        if view.group != self.group and self.channel_layer is not None:
            if self.group:
                await self.channel_layer.group_discard(self.group, self.channel_name)
            if view.group:
                await self.channel_layer.group_add(view.group, self.channel_name)
        self.view, self.group = view, view.group
        for frame in frames:
            await self.send(text_data=_encode(frame))

    async def disconnect(self, code: int) -> None:
        if self.group and self.channel_layer is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.view is None:
            return
        kind = _client_request(self, text_data)
        if kind == "snapshot.get":
            await self._open()
        elif kind == "rank.get":
            user = self.scope.get("user")
            if getattr(user, "is_authenticated", False) and self.view.view is not None:
                frame = await db_call(live.my_rank_frame, view=self.view, user_id=user.pk)
                await self.send(text_data=_encode(frame))

    async def attempt_push(self, message: dict[str, Any]) -> None:
        """Channel-layer events built by realtime.events (``group_push_now_unsafe``): forward as is."""
        await self.send(text_data=_encode(message["event"]))


class UnitDashboardConsumer(AsyncWebsocketConsumer):
    """ws/leaderboards/units/rounds/<round_id>/ and ws/leaderboards/units/contests/<contest_id>/: the units
    dashboard's numbers. On connect a ``units.snapshot`` (staff of the contest's organisation only; anyone else
    is closed with 4404, as the page is a 404 to them), then the coalesced ``units.update`` pushes of the
    group (``leaderboards.services.unit_push``). The client sends nothing but ``{"type": "snapshot.get"}``
    (rate-limited), to resync."""

    group: str | None = None
    last_request: float = 0.0
    watching: asyncio.Future | None = None

    async def connect(self) -> None:
        await self.accept()
        await self._open()

    async def _open(self) -> None:
        kwargs = self.scope["url_route"]["kwargs"]
        try:
            socket, frame = await db_call(unit_push.socket_open, user=self.scope.get("user"),
                                          round_id=kwargs.get("round_id"), contest_id=kwargs.get("contest_id"),
                                          now=timezone.now())
        except unit_push.DashboardNotVisible:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        if self.group is None:
            if self.channel_layer is not None:
                await self.channel_layer.group_add(socket.group, self.channel_name)
            self.watching = asyncio.ensure_future(self._watch(socket.contest_id))
        self.group = socket.group
        await self.send(text_data=_encode(frame))

    async def _watch(self, contest_id: int) -> None:
        """Keep the contest marked as watched while this socket is open (pushes are computed only then)."""
        while True:  # the first mark was set by socket_open, before its snapshot
            await asyncio.sleep(unit_push.WATCH_RENEW_SECONDS)
            try:
                await sync_to_async(unit_push.unit_dashboard_watched, thread_sensitive=False)(contest_id=contest_id)
            except Exception:  # Redis away for a moment: the next renewal tries again
                logger.warning("units dashboard watch mark of contest %s failed", contest_id, exc_info=True)

    async def disconnect(self, code: int) -> None:
        if self.watching is not None:
            self.watching.cancel()
        if self.group and self.channel_layer is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.group is not None and _client_request(self, text_data) == "snapshot.get":
            await self._open()

    async def attempt_push(self, message: dict[str, Any]) -> None:
        """Channel-layer events built by realtime.events (``group_push_many_now_unsafe``): forward as is."""
        await self.send(text_data=_encode(message["event"]))

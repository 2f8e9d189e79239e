"""Fixtures for live games: a bank of choice questions, a game, players with their cookies, socket clients."""

from __future__ import annotations

import contextlib
import json
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections

from live.models import LiveQuestion
from live.services.players import cookie_name, player_join, player_token
from live.services.sessions import session_create
from tests.realtime.conftest import ORIGIN, neutral_bank, session_cookie

ALL_RANDOM = [{"topic_id": None, "difficulty": None, "count": 3, "points": None}]


def make_game(organisation, host, *, count: int = 3, bank_size: int = 6, **settings_kwargs: Any):
    neutral_bank(organisation, bank_size)
    blueprint = [{"topic_id": None, "difficulty": None, "count": count, "points": None}]
    return session_create(actor=host, organisation=organisation, title="Rung chuông vàng pháp luật",
                          blueprint=blueprint, seed=7, **settings_kwargs)


def join(session, nickname: str = "", user=None) -> SimpleNamespace:
    player, _created = player_join(session=session, nickname=nickname, user=user)
    return SimpleNamespace(player=player, cookie=f"{cookie_name(session.pk)}="
                           f"{player_token(session_id=session.pk, player_id=player.pk)}")


def right_and_wrong(session, position: int) -> tuple[list[int], list[int]]:
    """(the correct options, one wrong option) of a question of the game."""
    question = LiveQuestion.objects.get(session=session, position=position)
    wrong = next(o["id"] for o in question.snapshot["options"] if o["id"] not in question.correct_ids)
    return list(question.correct_ids), [wrong]


@pytest.fixture
def host(organiser_a):
    return organiser_a


@pytest.fixture
def game(org_a, host):
    return make_game(org_a, host)


class LiveClient:
    """A WebsocketCommunicator keeping every frame the server sent (for the key-leak scan)."""

    def __init__(self, path: str, cookie: str = "", origin: bytes = ORIGIN, log: list | None = None) -> None:
        from contest_engine.asgi import application

        headers = [(b"origin", origin), (b"host", b"127.0.0.1")]
        if cookie:
            headers.append((b"cookie", cookie.encode()))
        self.comm = WebsocketCommunicator(application, path, headers=headers)
        self.frames: list[dict] = log if log is not None else []
        self.raw: list[str] = []
        self.close_code: int | None = None

    async def connect(self) -> bool:
        connected, _ = await self.comm.connect(timeout=10)
        return connected

    async def recv(self, wait: float = 5) -> dict:
        message = await self.comm.receive_output(wait)
        if message["type"] == "websocket.close":
            self.close_code = message.get("code")
            return {"type": "<closed>", "code": self.close_code}
        assert message["type"] == "websocket.send", message
        self.raw.append(message["text"])
        frame = json.loads(message["text"])
        self.frames.append(frame)
        return frame

    async def recv_type(self, *types: str, wait: float = 5) -> dict:
        while True:
            frame = await self.recv(wait)
            if frame["type"] in types:
                return frame
            if frame["type"] == "<closed>":
                raise AssertionError(f"closed ({frame['code']}) while waiting for {types}")

    async def recv_where(self, kind: str, wait: float = 5, **fields) -> dict:
        """The next frame of type ``kind`` whose ``fields`` have these values (older frames are skipped)."""
        while True:
            frame = await self.recv_type(kind, wait=wait)
            if all(frame.get(k) == v for k, v in fields.items()):
                return frame

    async def send(self, payload: dict) -> None:
        await self.comm.send_to(text_data=json.dumps(payload))

    async def closed_code(self, wait: float = 5) -> int | None:
        while self.close_code is None:
            await self.recv(wait)
        return self.close_code

    async def nothing(self, wait: float = 0.3) -> bool:
        return await self.comm.receive_nothing(wait)

    async def close(self) -> None:
        await self.comm.disconnect()


def staff_cookie(user) -> str:
    return f"{settings.SESSION_COOKIE_NAME}={session_cookie(user)}"


@pytest_asyncio.fixture
async def live_client():
    """Factory: ``await live_client(path, cookie)`` → connected LiveClient; cleans up the hub, the batchers and
    the database pool afterwards."""
    from live.hub import close_hub
    from realtime import db
    from realtime.batching import batchers_close

    clients: list[LiveClient] = []

    async def opener(path: str, cookie: str = "", *, log: list | None = None, origin: bytes = ORIGIN) -> LiveClient:
        client = LiveClient(path, cookie, origin=origin, log=log)
        clients.append(client)
        assert await client.connect()
        return client

    yield opener
    for client in clients:
        with contextlib.suppress(Exception):
            await client.close()
    await close_hub()
    await batchers_close()  # the live answers and connects, and the socket session checks (realtime.auth)
    db.shutdown()
    await sync_to_async(connections.close_all)()

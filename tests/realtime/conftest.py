"""Fixtures for the exam socket: a started attempt, session cookies, and a recording client."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from contests.services.attempts.start import attempt_start
from questionbank.models import QuestionOption
from tests.contests.factories import ContestFactory, QuestionFactory, RoundFactory, register
from tests.factories import CitizenProfileFactory

ORIGIN = b"http://127.0.0.1"


def neutral_bank(organisation, n: int = 8) -> list:
    """Questions whose option texts say nothing about correctness, the correct one at a random position
    (so that the key-leak test can only pass if the protocol itself hides the key)."""
    rng = random.Random(4)
    questions = []
    for _ in range(n):
        q = QuestionFactory(organisation=organisation, options=[])
        right = rng.randrange(4)
        for pos in range(4):
            QuestionOption.objects.create(question=q, position=pos, text=f"Phương án {'ABCD'[pos]}",
                                          fraction=Decimal(1 if pos == right else 0))
        questions.append(q)
    return questions


def make_exam(org, user, *, presentation: str | None = None, **contest_kwargs: Any) -> SimpleNamespace:
    neutral_bank(org)
    contest = ContestFactory(organisation=org, **contest_kwargs)
    if presentation:
        contest.presentation = presentation
        contest.save(update_fields=["presentation"])
    now = timezone.now()
    round_ = RoundFactory(contest=contest, opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(days=1))
    register(user, contest)
    attempt = attempt_start(user=user, round=round_)
    return SimpleNamespace(attempt=attempt, round=round_, contest=contest, user=user,
                           cookie=session_cookie(user))


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def exam(org_a, citizen):
    return make_exam(org_a, citizen)


@pytest.fixture
def other_citizen(org_a):
    return CitizenProfileFactory(unit=org_a).user


class ExamClient:
    """A WebsocketCommunicator that keeps every frame the server sent (for the key-leak scan)."""

    def __init__(self, path: str, cookie: str | None, origin: bytes = ORIGIN, log: list | None = None) -> None:
        from contest_engine.asgi import application

        headers = [(b"origin", origin), (b"host", b"127.0.0.1")]
        if cookie:
            headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
        self.comm = WebsocketCommunicator(application, path, headers=headers)
        self.frames: list[dict] = log if log is not None else []
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
        frame = json.loads(message["text"])
        self.frames.append(frame)
        return frame

    async def recv_type(self, *types: str, wait: float = 5) -> dict:
        while True:
            frame = await self.recv(wait)
            if frame["type"] in types:
                return frame

    async def send(self, payload: dict) -> None:
        await self.comm.send_to(text_data=json.dumps(payload))

    async def send_raw(self, text: str | None = None, data: bytes | None = None) -> None:
        await self.comm.send_to(text_data=text, bytes_data=data)

    async def closed_code(self, wait: float = 5) -> int | None:
        while self.close_code is None:
            await self.recv(wait)
        return self.close_code

    async def nothing(self, wait: float = 0.3) -> bool:
        return await self.comm.receive_nothing(wait)

    async def close(self) -> None:
        await self.comm.disconnect()


@pytest_asyncio.fixture
async def open_client():
    """Factory: ``await open_client(attempt_id, cookie)`` → connected ExamClient. Cleans up the per-loop
    writer and the database pool (their threads hold connections to the test database)."""
    from realtime import db
    from realtime.batching import batchers_close

    clients: list[ExamClient] = []

    async def opener(attempt_id: int, cookie: str | None, *, origin: bytes = ORIGIN, log: list | None = None,
                     expect_connected: bool = True) -> ExamClient:
        client = ExamClient(f"/ws/attempts/{attempt_id}/", cookie, origin=origin, log=log)
        clients.append(client)
        connected = await client.connect()
        assert connected is expect_connected
        return client

    yield opener
    for client in clients:
        with contextlib.suppress(Exception):  # already closed by the server
            await client.close()
    await batchers_close()
    db.shutdown()
    # sync_to_async (thread-sensitive) calls of the test and of Channels' auth ran in one shared thread.
    await sync_to_async(connections.close_all)()


@pytest.fixture(scope="session", autouse=True)
def _close_asgiref_thread_connection(django_db_setup, django_db_blocker):
    """``sync_to_async`` calls (tests and Channels' auth) share asgiref's one sync thread, whose database
    connection would otherwise stay open and block dropping the test database."""
    yield
    from asgiref.sync import SyncToAsync

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)

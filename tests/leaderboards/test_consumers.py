"""The leaderboard socket end to end: WebsocketCommunicator → Origin check → session auth →
LeaderboardConsumer; pushes through the Redis channel layer; visibility rules."""

from __future__ import annotations

import contextlib
import datetime as dt
import json

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.utils import timezone

from contests.models import Attempt
from leaderboards.services import live
from tests.factories import make_staff
from tests.leaderboards.conftest import People
from tests.realtime.conftest import session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


class Client:
    def __init__(self, round_id: int, cookie: str | None) -> None:
        from contest_engine.asgi import application

        headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
        if cookie:
            headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
        self.comm = WebsocketCommunicator(application, f"/ws/leaderboards/{round_id}/", headers=headers)
        self.raw: list[str] = []

    async def recv(self, wait: float = 5) -> dict:
        message = await self.comm.receive_output(wait)
        if message["type"] == "websocket.close":
            return {"type": "<closed>", "code": message.get("code")}
        self.raw.append(message["text"])
        return json.loads(message["text"])


@pytest_asyncio.fixture
async def connect():
    from realtime import db

    clients: list[Client] = []

    async def opener(round_id: int, user=None) -> Client:
        cookie = await sync_to_async(session_cookie)(user) if user is not None else None
        client = Client(round_id, cookie)
        clients.append(client)
        connected, _ = await client.comm.connect(timeout=10)
        assert connected
        return client

    yield opener
    for client in clients:
        with contextlib.suppress(Exception):
            await client.comm.disconnect()
    db.shutdown()
    await sync_to_async(connections.close_all)()


def open_round(lb_round, **contest_values):
    now = timezone.now()
    for name, value in contest_values.items():
        setattr(lb_round.contest, name, value)
    lb_round.contest.save()
    lb_round.opens_at, lb_round.closes_at = now - dt.timedelta(days=1), now + dt.timedelta(hours=2)
    lb_round.save()
    lb_round.refresh_settings()
    return lb_round


@sync_to_async
def setup_board(lb_round, **contest_values):
    round = open_round(lb_round, **contest_values)
    people = People(round)
    now = timezone.now()
    old = people.attempt(1, score="5", submitted=(now - dt.timedelta(hours=3) - people_t0()).total_seconds())
    new = people.attempt(2, score="9", submitted=(now - dt.timedelta(minutes=5) - people_t0()).total_seconds())
    live.leaderboard_rebuild(round=round)
    return round, people, old, new


def people_t0():
    from tests.leaderboards.conftest import T0

    return T0


async def test_public_snapshot_is_masked_and_updates_are_pushed(redis_lb, lb_round, connect, settings):
    settings.LEADERBOARD_PUSH_INTERVAL = 0.2
    round, people, old, new = await setup_board(lb_round)
    client = await connect(round.pk)
    snapshot = await client.recv()
    assert snapshot["type"] == "leaderboard.snapshot"
    assert snapshot["view"] == "live"
    assert [r["user_id"] for r in snapshot["rows"]] == [new.user_id, old.user_id]
    assert snapshot["rows"][0]["name"] == "Nguyễn V. T. S. 2."
    user = await sync_to_async(lambda: people.regs[1].user)()
    assert user.phone not in "".join(client.raw)

    third = await sync_to_async(lambda: people.attempt(3, score="7"))()
    await sync_to_async(live.leaderboard_record_attempt)(
        attempt=await sync_to_async(Attempt.objects.select_related("round__contest").get)(pk=third.pk))
    update = await client.recv(wait=5)
    while update.get("total") != 3:  # the rebuild's own push may still arrive first
        assert update["type"] == "leaderboard.update"
        update = await client.recv(wait=5)
    assert update["type"] == "leaderboard.update"
    assert update["version"] > snapshot["version"]
    assert [r["rank"] for r in update["rows"]] == [1, 2, 3]
    assert update["total"] == 3


async def test_unknown_round_is_refused(redis_lb, connect):
    client = await connect(987654)
    assert (await client.recv())["code"] == 4404


async def test_hidden_until_close(redis_lb, lb_round, connect, org_a):
    round, _people, _old, _new = await setup_board(lb_round, scoreboard_visibility="hidden_until_close")
    anonymous = await connect(round.pk)
    assert (await anonymous.recv())["type"] == "leaderboard.hidden"
    judge = await sync_to_async(make_staff)(org_a, "judge")
    staff = await connect(round.pk, judge)
    snapshot = await staff.recv()
    assert snapshot["type"] == "leaderboard.snapshot"
    assert snapshot["rows"][0]["name"] == "Nguyễn Văn Thí Sinh 2"  # staff see full names


async def test_hidden_until_own_attempt_ends(redis_lb, lb_round, connect):
    round, people, _old, _new = await setup_board(lb_round, scoreboard_visibility="hidden_until_own_attempt_ends")
    outsider = await sync_to_async(lambda: People(round).registration(9).user)()
    hidden = await connect(round.pk, outsider)
    assert (await hidden.recv())["type"] == "leaderboard.hidden"
    finished = await sync_to_async(lambda: people.regs[1].user)()
    client = await connect(round.pk, finished)
    assert (await client.recv())["type"] == "leaderboard.snapshot"
    rank = await client.recv()
    assert rank["type"] == "leaderboard.rank"
    assert rank["me"]["rank"] == 2


async def test_frozen_public_board_while_staff_see_live(redis_lb, lb_round, connect, org_a):
    round, people, old, _new = await setup_board(lb_round, scoreboard_visibility="frozen", freeze_minutes=60)
    # closes in 2 h, frozen from 1 h before the close: "new" (5 minutes ago) is still before the freeze
    late = await sync_to_async(lambda: people.attempt(3, score="10", submitted=(
        timezone.now() + dt.timedelta(minutes=90) - people_t0()).total_seconds()))()
    await sync_to_async(lambda: Attempt.objects.filter(pk=late.pk).update(
        submitted_at=timezone.now() + dt.timedelta(minutes=70)))()
    await sync_to_async(lambda: live.leaderboard_rebuild(round=round))()
    await sync_to_async(lambda: type(round).objects.filter(pk=round.pk).update(
        closes_at=timezone.now() + dt.timedelta(minutes=30)))()
    await sync_to_async(lambda: live.leaderboard_rebuild(round=type(round).objects.select_related("contest")
                                                         .get(pk=round.pk)))()
    # now freeze_at = close − 60 min = 30 min ago: "late" (70 min ahead) is only on the live board
    public = await connect(round.pk)
    snapshot = await public.recv()
    assert snapshot["view"] == "frozen"
    assert [r["user_id"] for r in snapshot["rows"]] == [old.user_id]
    organiser = await sync_to_async(make_staff)(org_a, "organiser")
    staff = await connect(round.pk, organiser)
    live_snapshot = await staff.recv()
    assert live_snapshot["view"] == "live"
    assert live_snapshot["rows"][0]["user_id"] == late.user_id

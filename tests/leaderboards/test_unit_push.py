"""The units dashboard's pushed numbers (issue 25, point 4): the socket end to end (session auth, the contest's
staff only), a registration and a real submit moving the pushed numbers, coalescing, and the one-shot
computation agreeing with the page's selector."""

from __future__ import annotations

import asyncio
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

from accounts.models import Role
from contests.models import Attempt, AttemptStatus
from contests.services.attempts.finish import attempt_submit
from contests.services.attempts.start import attempt_start
from leaderboards import selectors
from leaderboards.services import unit_push
from tests.contests.factories import ContestFactory, RoundFactory, register
from tests.factories import CitizenProfileFactory, OrganisationFactory, make_staff
from tests.leaderboards.conftest import People
from tests.realtime.conftest import neutral_bank, session_cookie


def city_contest():
    city = OrganisationFactory(name="Sở Tư pháp (thử)", is_unit=False)
    ward = OrganisationFactory(name="Phường Ninh Kiều", registered_population=20)
    other = OrganisationFactory(name="Phường Cái Răng")
    neutral_bank(city, 8)
    contest = ContestFactory(organisation=city, title="Tìm hiểu Luật Đất đai 2024", max_attempts=None,
                             time_limit_seconds=600)
    contest.allowed_units.set([ward, other])
    now = timezone.now()
    round = RoundFactory(contest=contest, name="Tuần 1", opens_at=now - dt.timedelta(days=1),
                         closes_at=now + dt.timedelta(days=6))
    return city, ward, other, contest, round


def numbers(frame: dict, unit_id: int) -> dict:
    return next(u for u in frame["units"] if u["unit_id"] == unit_id)


@pytest.mark.django_db
def test_the_pushed_computation_agrees_with_the_pages_selector():
    _city, ward, other, contest, round = city_contest()
    second = RoundFactory(contest=contest, name="Tuần 2", opens_at=round.opens_at, closes_at=round.closes_at)
    people = People(round)
    people.units = [ward, other]
    people.attempt(0, unit=0)
    people.attempt(0, unit=0)
    people.attempt(0, unit=0, round=second)
    people.attempt(1, unit=1, round=second)
    people.attempt(2, unit=0, status=AttemptStatus.IN_PROGRESS)
    people.attempt(3, unit=1, status=AttemptStatus.IN_PROGRESS, round=second)
    people.registration(4, unit=0)
    every = selectors.unit_stats_all(contest=contest)
    assert set(every) == {None, round.pk, second.pk}
    assert every[None] == selectors.unit_stats(contest=contest)
    assert every[round.pk] == selectors.unit_stats(contest=contest, round=round)
    assert every[second.pk] == selectors.unit_stats(contest=contest, round=second)
    ward_all = next(s for s in every[None] if s.unit_id == ward.pk)
    assert (ward_all.registered, ward_all.in_progress, ward_all.entrants, ward_all.attempts) == (3, 1, 1, 3)


class Socket:
    def __init__(self, path: str, cookie: str | None) -> None:
        from contest_engine.asgi import application

        headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
        if cookie:
            headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
        self.comm = WebsocketCommunicator(application, path, headers=headers)

    async def recv(self, wait: float = 5) -> dict:
        message = await self.comm.receive_output(wait)
        if message["type"] == "websocket.close":
            return {"type": "<closed>", "code": message.get("code")}
        return json.loads(message["text"])

    async def until(self, predicate, wait: float = 8) -> dict:
        """The first frame for which ``predicate`` holds (earlier pushes may carry earlier numbers)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            frame = await self.recv(max(0.1, deadline - loop.time()))
            if predicate(frame):
                return frame


@pytest_asyncio.fixture
async def connect():
    from realtime import db

    sockets: list[Socket] = []

    async def opener(path: str, user=None) -> Socket:
        cookie = await sync_to_async(session_cookie)(user) if user is not None else None
        socket = Socket(path, cookie)
        sockets.append(socket)
        connected, _ = await socket.comm.connect(timeout=10)
        assert connected
        return socket

    yield opener
    for socket in sockets:
        with contextlib.suppress(Exception, asyncio.CancelledError):  # a timed-out receive cancelled it
            await socket.comm.disconnect()
    db.shutdown()
    await sync_to_async(connections.close_all)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_registration_and_a_submit_move_the_pushed_numbers(redis_lb, connect, settings):
    settings.LEADERBOARD_PUSH_INTERVAL = 0.2
    city, ward, _other, contest, round = await sync_to_async(city_contest)()
    organiser = await sync_to_async(make_staff)(city, Role.ORGANISER)
    page = await connect(f"/ws/leaderboards/units/rounds/{round.pk}/", organiser)
    whole = await connect(f"/ws/leaderboards/units/contests/{contest.pk}/", organiser)
    snapshot = await page.recv()
    assert snapshot["type"] == "units.snapshot"
    assert numbers(snapshot, ward.pk)["registered"] == 0
    assert (await whole.recv())["type"] == "units.snapshot"

    citizen = await sync_to_async(lambda: CitizenProfileFactory(unit=ward).user)()
    await sync_to_async(register)(citizen, contest)
    update = await page.until(lambda f: numbers(f, ward.pk)["registered"] == 1)
    assert update["type"] == "units.update"
    assert numbers(update, ward.pk)["text"]["registered"] == "1"

    attempt = await sync_to_async(attempt_start)(user=citizen, round=round)
    update = await page.until(lambda f: numbers(f, ward.pk)["in_progress"] == 1)
    assert numbers(update, ward.pk)["entrants"] == 0

    await sync_to_async(attempt_submit)(attempt=attempt)
    update = await page.until(lambda f: numbers(f, ward.pk)["entrants"] == 1)
    ward_numbers = numbers(update, ward.pk)
    assert (ward_numbers["in_progress"], ward_numbers["attempts"]) == (0, 1)
    assert ward_numbers["text"]["rate"] == "5%"  # 1 of 20
    assert update["orders"]["entrants"][0] == ward.pk
    contest_wide = await whole.until(lambda f: numbers(f, ward.pk)["entrants"] == 1)
    assert contest_wide["round_id"] is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_many_changes_in_a_window_are_one_computation(redis_lb, connect, settings):
    settings.LEADERBOARD_PUSH_INTERVAL = 0.5
    city, ward, other, contest, round = await sync_to_async(city_contest)()
    judge = await sync_to_async(make_staff)(city, Role.JUDGE)
    page = await connect(f"/ws/leaderboards/units/rounds/{round.pk}/", judge)
    assert (await page.recv())["type"] == "units.snapshot"

    def forty_finished_attempts() -> None:
        people = People(round)
        people.units = [ward, other]
        for person in range(40):
            attempt = people.attempt(person, unit=person % 2)
            unit_push.unit_dashboard_changed(contest_id=contest.pk)  # as the submit hook does, per batch
            assert Attempt.objects.filter(pk=attempt.pk).exists()

    await sync_to_async(forty_finished_attempts)()
    frames = []
    with contextlib.suppress(asyncio.TimeoutError):
        while True:
            frames.append(await page.recv(wait=1.5))
    assert 1 <= len(frames) <= 3  # not 40 (nor 80: each creation marked the dashboard too)
    assert numbers(frames[-1], ward.pk)["entrants"] == 20
    assert numbers(frames[-1], other.pk)["entrants"] == 20


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_only_the_contests_own_staff_may_subscribe(redis_lb, connect):
    city, ward, _other, contest, round = await sync_to_async(city_contest)()
    foreign = await sync_to_async(lambda: make_staff(OrganisationFactory(name="Sở Tư pháp khác"),
                                                     Role.ORGANISER))()
    ward_organiser = await sync_to_async(make_staff)(ward, Role.ORGANISER)  # has their own unit's page instead
    citizen = await sync_to_async(lambda: CitizenProfileFactory(unit=ward).user)()
    for user in (foreign, ward_organiser, citizen, None):
        for path in (f"/ws/leaderboards/units/rounds/{round.pk}/",
                     f"/ws/leaderboards/units/contests/{contest.pk}/"):
            socket = await connect(path, user)
            assert (await socket.recv()) == {"type": "<closed>", "code": 4404}, (user, path)
    judge = await sync_to_async(make_staff)(city, Role.JUDGE)
    socket = await connect(f"/ws/leaderboards/units/contests/{contest.pk}/", judge)
    assert (await socket.recv())["type"] == "units.snapshot"


@pytest.mark.django_db
def test_a_contest_nobody_watches_costs_no_computation(any_lb, django_assert_num_queries):
    _city, _ward, _other, contest, _round = city_contest()
    with django_assert_num_queries(0):
        assert unit_push.unit_dashboard_flush(contest_id=contest.pk) == 0
    unit_push.unit_dashboard_watched(contest_id=contest.pk)  # an open dashboard socket
    assert unit_push.unit_dashboard_flush(contest_id=contest.pk) == 2  # the contest's page and its round's

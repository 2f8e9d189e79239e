"""Scale-out: two real Daphne processes on one Redis and one PostgreSQL database. A leaderboard client is
connected to process A; a contestant submits through the exam socket of process B; A's client receives the
update (board in Redis, throttle key in Redis, push through the Redis channel layer)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest
import websockets
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from contests.services.attempts.start import attempt_start
from tests.browser.conftest import ROOT, _free_port, _wait_for_server_sessions_to_end
from tests.contests.factories import ContestFactory, RoundFactory, bank, register
from tests.factories import CitizenProfileFactory
from tests.leaderboards.conftest import clear_redis

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def start_server(port: int, **extra_env: str) -> subprocess.Popen:
    db = connection.settings_dict
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    url = f"postgres://{db.get('USER') or 'postgres'}@{host}/{db['NAME']}"
    env = os.environ.copy()
    env.update({"DJANGO_SETTINGS_MODULE": "contest_engine.settings_test", "DATABASE_URL": url,
                "REDIS_URL": settings.REDIS_URL, "REDIS_PREFIX": settings.REDIS_PREFIX,
                "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING", **extra_env})
    return subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                             "contest_engine.asgi:application"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_ready(proc: subprocess.Popen, port: int) -> None:
    deadline = time.time() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"daphne did not start on {port}:\n{output[-3000:]}")
        time.sleep(0.2)


@pytest.fixture
def two_servers(transactional_db):
    from leaderboards.services.boards import get_board, set_board

    set_board(None)
    board = get_board()
    clear_redis(board)
    ports = [_free_port(), _free_port()]
    procs = [start_server(port) for port in ports]
    try:
        for proc, port in zip(procs, ports, strict=True):
            wait_ready(proc, port)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        _wait_for_server_sessions_to_end()
        clear_redis(board)
        set_board(None)


async def recv_type(ws, kind: str, within: float) -> dict:
    deadline = time.monotonic() + within
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
        if frame["type"] == kind:
            return frame


def test_update_caused_on_process_b_reaches_a_client_on_process_a(two_servers, org_a):
    port_a, port_b = two_servers
    bank(org_a, 6)
    now = timezone.now()
    contest = ContestFactory(organisation=org_a)
    round = RoundFactory(contest=contest, opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(days=1))
    user = CitizenProfileFactory(unit=org_a).user
    register(user, contest)
    attempt = attempt_start(user=user, round=round)
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    async def scenario() -> dict:
        async with websockets.connect(f"ws://127.0.0.1:{port_a}/ws/leaderboards/{round.pk}/",
                                      origin="http://127.0.0.1") as board:
            snapshot = await recv_type(board, "leaderboard.snapshot", 10)
            assert snapshot["total"] == 0
            async with websockets.connect(f"ws://127.0.0.1:{port_b}/ws/attempts/{attempt.pk}/",
                                          origin="http://127.0.0.1", additional_headers={"Cookie": cookie}) as exam:
                await recv_type(exam, "attempt.snapshot", 10)
                await exam.send(json.dumps({"type": "submit", "seq": 1}))
                await recv_type(exam, "attempt.submitted", 10)
            return await recv_type(board, "leaderboard.update", 10)

    update = asyncio.run(scenario())
    assert update["total"] == 1
    assert update["rows"][0]["user_id"] == user.pk
    assert update["version"] >= 1

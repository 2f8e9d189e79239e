""""The newer connection wins" across two server processes while Redis restarts (issue 20, point 2).

Two uvicorn processes share PostgreSQL and a Redis of the test's own (tests/services.py), which is restarted
(every claim and subscription lost) while a citizen's older connection is open on process A. The same
citizen then opens the attempt on process B — right after the restart, or once A has recovered:

- the new connection is never dropped (it used to be closed with 1006 when its notice hit a stale Redis
  connection): it gets its snapshot and its answers are acknowledged;
- the older connection is told ``session.replaced`` and closed with 4001, and the replacement is audited
  (after the restart both used to stay live and acknowledged, with no notice and no audit event).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import pytest
import websockets
from django.conf import settings
from django.db import connection

from accounts.models import AuditEvent
from realtime import events, protocol
from tests.browser.conftest import ROOT, _wait_for_server_sessions_to_end
from tests.outage_data import child_env
from tests.realtime.conftest import make_exam
from tests.services import LoggedProcess, ThrowawayRedis, free_port, wait_http

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def database_url() -> str:
    db = connection.settings_dict
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{db.get('USER') or 'postgres'}@{host}/{db['NAME']}"


@pytest.fixture
def redis():
    with ThrowawayRedis() as server:
        yield server


@pytest.fixture
def two_servers(redis):
    ports = [free_port(), free_port()]
    env = child_env(database_url(), REDIS_URL=redis.url, REDIS_PREFIX=f"ce-test-restart-{ports[0]}",
                    REALTIME_PRESENCE_CHECK_SECONDS="1", LOG_LEVEL="WARNING")
    procs = [LoggedProcess([sys.executable, "-m", "uvicorn", "contest_engine.asgi:application", "--host",
                            "127.0.0.1", "--port", str(port), "--ws", "websockets-sansio", "--no-access-log"],
                           cwd=ROOT, env=env) for port in ports]
    try:
        for proc, port in zip(procs, ports, strict=True):
            wait_http(f"http://127.0.0.1:{port}/healthz", process=proc)
        yield list(zip(procs, ports, strict=True))
    finally:
        for proc in procs:
            proc.stop()
        _wait_for_server_sessions_to_end()


async def recv_type(ws, kind: str, within: float = 15) -> dict:
    deadline = time.monotonic() + within
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
        if frame["type"] == kind:
            return frame


async def close_code(ws, within: float) -> int | None:
    try:
        while True:
            await asyncio.wait_for(ws.recv(), within)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        return None


@pytest.mark.parametrize("settle", [0.0, 3.0], ids=["right-after-the-restart", "after-recovery"])
def test_the_newer_connection_wins_across_processes_through_a_redis_restart(two_servers, redis, org_a, citizen,
                                                                             settle):
    (proc_a, port_a), (proc_b, port_b) = two_servers
    exam = make_exam(org_a, citizen)
    cookie = f"{settings.SESSION_COOKIE_NAME}={exam.cookie}"
    url = f"/ws/attempts/{exam.attempt.pk}/"

    async def scenario() -> dict:
        async with websockets.connect(f"ws://127.0.0.1:{port_a}{url}", origin="http://127.0.0.1",
                                      additional_headers={"Cookie": cookie}) as older:
            snapshot = await recv_type(older, "attempt.snapshot")
            question = snapshot["questions"][0]
            await older.send(json.dumps({"type": "answer", "seq": 1, "position": question["position"],
                                         "response": {"options": [question["options"][0]["id"]]}}))
            assert (await recv_type(older, "ack"))["status"] == "stored"

            await asyncio.to_thread(redis.restart)
            await asyncio.sleep(settle)
            async with websockets.connect(f"ws://127.0.0.1:{port_b}{url}", origin="http://127.0.0.1",
                                          additional_headers={"Cookie": cookie}) as newer:
                await recv_type(newer, "attempt.snapshot")
                told = await recv_type(older, events.SESSION_REPLACED, within=10)
                older_code = await close_code(older, within=10)
                await newer.send(json.dumps({"type": "answer", "seq": 2, "position": question["position"],
                                             "response": {"options": [question["options"][1]["id"]]}}))
                ack = await recv_type(newer, "ack")
                newer_still_open = await close_code(newer, within=2) is None
        return {"told": told, "older_code": older_code, "ack": ack, "newer_open": newer_still_open}

    out = asyncio.run(scenario())
    assert out["told"]["attempt_id"] == exam.attempt.pk
    assert out["older_code"] == protocol.CLOSE_SESSION_REPLACED
    assert out["ack"]["status"] == "stored"
    assert out["newer_open"]
    deadline = time.monotonic() + 10
    while not AuditEvent.objects.filter(action=events.SESSION_REPLACED_AUDIT_ACTION,
                                        target_id=str(exam.attempt.pk)).exists():
        assert time.monotonic() < deadline, "the replacement was not audited"
        time.sleep(0.2)
    for proc in (proc_a, proc_b):
        assert "Traceback" not in proc.output, proc.output[-5000:]

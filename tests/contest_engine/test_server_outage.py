"""A server process while PostgreSQL is away (issue 20, points 3 and 4), against a real PostgreSQL of the test's
own (tests/services.py) stopped under a running uvicorn:

- ``/healthz`` (liveness) answers 200 JSON saying ``"database": "down"``, ``/readyz`` (readiness) 503 JSON —
  never an HTML 500 with a traceback; a page that needs the database answers 503;
- answers sent during the outage are refused (``storage_unavailable``: not acknowledged, the client keeps and
  resends them) and stored once PostgreSQL is back;
- the log tells the outage in state changes — down once, up once — not one traceback per failed batch.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import urllib.error
import urllib.request

import pytest
import websockets

from tests import outage_data
from tests.outage_data import ROOT, child_env
from tests.services import LoggedProcess, free_port, wait_http

pytestmark = pytest.mark.slow


def get(url: str) -> tuple[int, str, str]:
    """(status, content type, body) — an error status is an answer too."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode()


async def recv_type(ws, kind: str, within: float = 15) -> dict:
    deadline = time.monotonic() + within
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
        if frame["type"] == kind:
            return frame


@pytest.fixture
def server(outage_database):
    port = free_port()
    proc = LoggedProcess(
        [sys.executable, "-m", "uvicorn", "contest_engine.asgi:application", "--host", "127.0.0.1", "--port",
         str(port), "--ws", "websockets-sansio", "--no-access-log"],
        cwd=ROOT, env=child_env(outage_database.url, REDIS_PREFIX=f"ce-test-outage-{port}"))
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", process=proc)
        yield proc, port
    finally:
        proc.stop()


def test_health_pages_and_answers_while_postgresql_is_down(outage_database, server):
    db = outage_database
    proc, port = server
    base = f"http://127.0.0.1:{port}"
    exam = outage_data.run("exam", database_url=db.url)

    assert get(f"{base}/healthz")[0] == 200
    status, kind, body = get(f"{base}/readyz")
    assert (status, kind, json.loads(body)) == (200, "application/json", {"status": "ready", "database": "up",
                                                                   "redis": "up", "tasks": "up"})

    async def scenario() -> dict:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/attempts/{exam['attempt_id']}/",
                                      origin="http://127.0.0.1", additional_headers={"Cookie": exam["cookie"]}) as ws:
            snapshot = await recv_type(ws, "attempt.snapshot")
            questions = snapshot["questions"]

            async def answer(seq: int) -> dict:
                question = questions[seq % len(questions)]
                await ws.send(json.dumps({"type": "answer", "seq": seq, "position": question["position"],
                                          "response": {"options": [question["options"][0]["id"]]}}))
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 15))
                    if frame.get("seq") == seq:
                        return frame

            assert (await answer(1))["type"] == "ack"
            await asyncio.to_thread(db.pg.stop, mode="fast")
            refused = [await answer(seq) for seq in range(2, 42)]
            health = await asyncio.to_thread(get, f"{base}/healthz")
            ready = await asyncio.to_thread(get, f"{base}/readyz")
            page = await asyncio.to_thread(get, f"{base}/")
            await asyncio.to_thread(db.pg.start)
            # The writer reconnects by itself: the client's resend of its last answer is stored.
            deadline = time.monotonic() + 30
            while (stored := await answer(42))["type"] != "ack":
                assert time.monotonic() < deadline, stored
                await asyncio.sleep(0.5)
            return {"refused": refused, "health": health, "ready": ready, "page": page, "stored": stored}

    out = asyncio.run(scenario())
    assert {frame["type"] for frame in out["refused"]} == {"error"}
    assert {frame["code"] for frame in out["refused"]} == {"storage_unavailable"}

    status, kind, body = out["health"]
    assert (status, kind) == (200, "application/json")
    assert json.loads(body) == {"status": "ok", "database": "down"}
    status, kind, body = out["ready"]
    assert (status, kind) == (503, "application/json")
    # The task queue is a table of the same database: down with it; Redis is not.
    assert json.loads(body) == {"status": "unavailable", "database": "down", "redis": "up", "tasks": "down"}
    status, kind, body = out["page"]
    assert status == 503
    assert "Traceback" not in body
    assert "Hệ thống tạm gián đoạn" in body
    assert out["stored"]["status"] == "stored"

    status, _, body = get(f"{base}/readyz")
    assert (status, json.loads(body)["database"]) == (200, "up")
    assert outage_data.run("status", str(exam["attempt_id"]), database_url=db.url)["answers"] >= 2

    time.sleep(0.5)
    log = proc.output
    assert "Traceback" not in log, log[-6000:]
    assert proc.count("database unavailable") == 1, log[-6000:]
    assert proc.count("database available again") == 1, log[-6000:]

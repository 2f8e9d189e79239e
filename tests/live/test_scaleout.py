"""A whole live game across two real server processes on one Redis and one PostgreSQL database: the host and
half the players on process A, the presenter screen and the other half on process B. Every player hears every
question and their own reveal wherever they are connected; a deadline closes a question with nobody pressing
anything; a player who moves to the other process keeps their score and the older connection is told to go;
every answer is counted exactly once."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets
from django.conf import settings

from live.models import LiveAnswer, LivePlayer
from live.services.game import session_replay
from tests.browser.conftest import _free_port, _wait_for_server_sessions_to_end
from tests.leaderboards.test_scaleout import start_server, wait_ready
from tests.live.conftest import join, make_game, right_and_wrong
from tests.realtime.conftest import session_cookie

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ORIGIN = "http://127.0.0.1"


@pytest.fixture
def two_servers(transactional_db):
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
            proc.wait(timeout=10)
        _wait_for_server_sessions_to_end()


class Socket:
    def __init__(self, ws):
        self.ws, self.frames = ws, []

    async def recv(self, kind: str, within: float = 10, **fields) -> dict:
        deadline = time.monotonic() + within
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), max(0.1, deadline - time.monotonic())))
            self.frames.append(frame)
            if frame["type"] == kind and all(frame.get(k) == v for k, v in fields.items()):
                return frame

    async def send(self, payload: dict) -> None:
        await self.ws.send(json.dumps(payload))


async def open_socket(port: int, path: str, cookie: str) -> Socket:
    ws = await websockets.connect(f"ws://127.0.0.1:{port}{path}", origin=ORIGIN,
                                  additional_headers={"Cookie": cookie})
    return Socket(ws)


def test_a_whole_game_across_two_server_processes(two_servers, org_a, host):
    port_a, port_b = two_servers
    session = make_game(org_a, host, count=3, bank_size=6, seconds_per_question=5)
    players = [join(session, name) for name in ("An", "Bình", "Chi", "Dũng")]
    staff = f"{settings.SESSION_COOKIE_NAME}={session_cookie(host)}"
    keys = {q: right_and_wrong(session, q) for q in (1, 2, 3)}
    base = f"/ws/live/{session.pk}"

    async def scenario() -> dict:
        host_ws = await open_socket(port_a, f"{base}/host/", staff)
        screen = await open_socket(port_b, f"{base}/screen/", staff)
        socks = [await open_socket(port_a if i % 2 == 0 else port_b, f"{base}/play/", p.cookie)
                 for i, p in enumerate(players)]
        for s in (host_ws, screen, *socks):
            await s.recv("live.snapshot")
        told = {}
        for position in (1, 2, 3):
            await host_ws.send({"type": "start" if position == 1 else "next"})
            for s in (screen, *socks):
                question = await s.recv("live.question", position=position)
                assert "correct" not in question
            right, wrong = keys[position]
            answering = socks if position != 2 else socks[:3]  # question 2: Dũng never answers
            for i, s in enumerate(answering):
                await s.send({"type": "answer", "position": position, "options": right if i != 1 else wrong})
                ack = await s.recv("live.ack", position=position)
                assert ack["status"] == "stored"
            # Questions 1 and 3: everybody answered, the game moves on at once. Question 2: the deadline does it
            # (5 s), on whichever process gets there first.
            reveals = [await s.recv("live.reveal", within=15, position=position) for s in socks]
            await screen.recv("live.reveal", position=position)
            assert {r["v"] for r in reveals} == {reveals[0]["v"]}
            for i, reveal in enumerate(reveals):
                expected = None if (position == 2 and i == 3) else (i != 1)
                assert reveal["you"]["ok"] is expected, (position, i, reveal["you"])
            told[position] = [r["you"] for r in reveals]
            if position == 2:
                # Chi moves from process A to process B: same player, same score; process A's socket must go.
                moved = await open_socket(port_b, f"{base}/play/", players[2].cookie)
                snapshot = await moved.recv("live.snapshot")
                assert snapshot["you"]["score"] == told[2][2]["score"] == "2.000"
                replaced = await socks[2].recv("session.replaced")
                assert replaced["message"]
                await asyncio.wait_for(socks[2].ws.wait_closed(), 5)
                assert socks[2].ws.close_code == 4001
                socks[2] = moved
        await host_ws.send({"type": "end"})
        finals = [await s.recv("live.finished") for s in socks]
        for s in (host_ws, screen, *socks):
            await s.ws.close()
        return {"finals": [f["you"] for f in finals], "top": finals[0]["top"]}

    outcome = asyncio.run(scenario())
    # An: 3 right; Bình: 0; Chi: 3 right; Dũng: 2 right (no answer to question 2).
    assert [you["score"] for you in outcome["finals"]] == ["3.000", "0.000", "3.000", "2.000"]
    assert {row["name"] for row in outcome["top"][:2]} == {"An", "Chi"}
    assert LiveAnswer.objects.filter(session=session).count() == 11  # 4 + 3 + 4, each exactly once
    replay = session_replay(session_id=session.pk)
    for player in LivePlayer.objects.filter(session=session):
        assert (replay[player.pk].score, replay[player.pk].time_ms) == (player.score, player.time_ms)

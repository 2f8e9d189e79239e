"""Frame size limits against real ASGI servers (Daphne: the embedded default; uvicorn: production):
a frame over the protocol's 8 KB but within the server's limit gets the typed ``frame_too_large`` and the
connection stays usable; a frame over the server's limit (``SERVER_MAX_MESSAGE_BYTES``) is refused by the
server before the application sees it — uvicorn closes with 1009, Daphne drops the connection (docs/protocol.md,
*Limits*)."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync

from realtime import protocol
from tests.browser.conftest import asgi_server  # noqa: F401
from tests.realtime.conftest import make_exam

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("asgi_server", ["daphne", "uvicorn"], indirect=True)
def test_oversized_frames_over_a_real_server(asgi_server, org_a, citizen):  # noqa: F811
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    exam = make_exam(org_a, citizen)
    url = asgi_server.replace("http://", "ws://") + f"/ws/attempts/{exam.attempt.pk}/"
    headers = {"Cookie": f"sessionid={exam.cookie}", "Origin": asgi_server}

    async def run() -> tuple[dict, dict, int | None]:
        async with connect(url, additional_headers=headers, max_size=None) as ws:
            assert json.loads(await ws.recv())["type"] == "attempt.snapshot"
            await ws.send(json.dumps({"type": "answer", "text": "x" * (protocol.MAX_FRAME_BYTES + 10)}))
            typed = json.loads(await asyncio.wait_for(ws.recv(), 10))
            await ws.send(json.dumps({"type": "ping", "t": 1}))
            still_open = json.loads(await asyncio.wait_for(ws.recv(), 10))
            await ws.send("x" * (protocol.SERVER_MAX_MESSAGE_BYTES + 1))
            try:
                await asyncio.wait_for(ws.recv(), 10)
            except ConnectionClosed as closed:
                return typed, still_open, closed.rcvd.code if closed.rcvd else 1006
            return typed, still_open, None

    typed, still_open, code = async_to_sync(run)()
    assert typed["code"] == "frame_too_large"
    assert still_open["type"] == "pong"
    # uvicorn closes with 1009 "message too big"; Daphne (autobahn) drops the connection, which the client sees
    # as 1006 — either way the server refuses it, so clients must never send more than 8 KB (exam.js checks).
    assert code == (1009 if asgi_server.server == "uvicorn" else 1006)

"""The exam socket's log lines name the attempt, and never the citizen (contest_engine/logs.py, issue 12): a
line logged on the connection's task — here from inside its evidence hook, as the consumer's own warnings are —
carries ``attempt_id``, ``user_id`` and a connection id, with the citizen's name and phone scrubbed."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest

import contest_engine.asgi  # noqa: F401 — its django.setup() re-applies LOGGING: before the test adds a handler
from contest_engine import logs
from realtime import consumers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_socket_lines_carry_the_attempt_and_no_personal_data(exam, open_client, monkeypatch):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    user = exam.user
    original = consumers.evidence.connection_opened

    def spying(**kwargs):
        logging.getLogger("realtime.consumers").warning("connected: %s, %s", user.full_name, user.phone)
        return original(**kwargs)

    monkeypatch.setattr(consumers.evidence, "connection_opened", spying)
    try:
        client = await open_client(exam.attempt.pk, exam.cookie)
        await client.recv_type("attempt.snapshot")
        for _ in range(50):  # the evidence is recorded just after the snapshot is sent
            if "connected:" in stream.getvalue():
                break
            await asyncio.sleep(0.05)
    finally:
        root.removeHandler(handler)
    [line] = [json.loads(raw) for raw in stream.getvalue().splitlines() if "connected:" in raw]
    assert line["attempt_id"] == exam.attempt.pk
    assert line["user_id"] == user.pk
    assert line["connection_id"]
    assert line["message"] == "connected: [redacted], [redacted]"
    assert user.full_name not in stream.getvalue()
    assert logs.current() == {}  # the test's own task never had the connection's context

"""Before the round closes, nothing the server sends says which option is correct.

Every frame of a busy attempt (snapshot, acks, errors, pong, resync, prediction, session replacement, the
submit and a reconnect to the finished attempt) is scanned for key fields and key values; the exam page's
HTML is scanned too. The questions' option texts are neutral and the correct option sits at a random
position, so only the protocol can give it away.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from contests.models import AttemptQuestion
from realtime import events
from tests.realtime.conftest import make_exam

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

FORBIDDEN_KEYS = {"key", "fraction", "fractions", "is_correct", "correct", "accepted", "explanation",
                  "citation", "feedback", "points_awarded", "tolerance", "answer_key", "right"}


def keys_in(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            found.add(str(k).lower())
            found |= keys_in(v)
    elif isinstance(value, list):
        for v in value:
            found |= keys_in(v)
    return found


@sync_to_async
def secrets_of(attempt_id: int) -> tuple[set[str], dict[int, int]]:
    """Strings that only the key holds (explanations, citations, fraction values) and the correct option
    id per position."""
    strings: set[str] = set()
    correct: dict[int, int] = {}
    for aq in AttemptQuestion.objects.filter(attempt_id=attempt_id):
        for option_id, fraction in aq.key["options"].items():
            strings.add(f'"{fraction}"')
            if float(fraction) > 0:
                correct[aq.position] = int(option_id)
        for name in ("explanation", "citation"):
            if aq.key.get(name):
                strings.add(aq.key[name])
    return strings, correct


async def test_no_frame_before_close_reveals_the_key(org_a, citizen, open_client):
    exam = await sync_to_async(make_exam)(org_a, citizen, prediction_enabled=True)
    frames: list[dict] = []
    client = await open_client(exam.attempt.pk, exam.cookie, log=frames)
    snapshot = await client.recv()
    for question in snapshot["questions"]:
        for option in question["options"]:
            assert set(option) == {"id", "text"}
    secret_strings, correct = await secrets_of(exam.attempt.pk)
    # Correct options are not in a give-away position of the list (the fixture randomises them).
    positions_of_correct = {[o["id"] for o in q["options"]].index(correct[q["position"]])
                            for q in snapshot["questions"]}
    assert len(positions_of_correct) > 1

    seq = 0
    for question in snapshot["questions"]:
        for option in question["options"]:  # try every option: acks must look the same for right and wrong
            seq += 1
            await client.send({"type": "answer", "seq": seq, "position": question["position"],
                               "response": {"options": [option["id"]]}})
            ack = await client.recv()
            assert ack["type"] == "ack"
            assert set(ack) == {"type", "seq", "status", "saved_at", "position"}
    await client.send({"type": "answer", "seq": seq + 1, "position": 1, "response": {"options": [10**9]}})
    assert (await client.recv())["type"] == "error"
    await client.send({"type": "prediction", "seq": seq + 2, "value": 17})
    await client.recv()
    await client.send({"type": "resync"})
    await client.recv_type(events.ATTEMPT_SNAPSHOT)
    await client.send({"type": "ping", "t": 1})
    await client.recv()

    newer = await open_client(exam.attempt.pk, exam.cookie, log=frames)
    await newer.recv()
    await client.closed_code()
    await newer.send({"type": "submit", "seq": seq + 3})
    await newer.recv_type(events.ATTEMPT_SUBMITTED)
    await newer.closed_code()
    after = await open_client(exam.attempt.pk, exam.cookie, log=frames)  # the round is still open
    await after.recv()
    await after.closed_code()

    assert len(frames) >= seq + 8  # every answer was acked, plus snapshots, errors, pong, replacement, submit
    for frame in frames:
        leaked = keys_in(frame) & FORBIDDEN_KEYS
        assert not leaked, (leaked, frame)
        text = json.dumps(frame, ensure_ascii=False)
        for secret in secret_strings:
            assert secret not in text, (secret, frame)


async def test_exam_page_source_has_no_key(org_a, citizen):
    exam = await sync_to_async(make_exam)(org_a, citizen)
    secret_strings, _ = await secrets_of(exam.attempt.pk)

    @sync_to_async
    def page() -> str:
        client = Client()
        client.force_login(citizen)
        response = client.get(f"/contests/attempts/{exam.attempt.pk}/")
        assert response.status_code == 200
        return response.content.decode()

    html = await page()
    assert 'id="exam"' in html
    assert f'data-ws-url="/ws/attempts/{exam.attempt.pk}/"' in html
    for secret in secret_strings:
        assert secret not in html
    for word in ("fraction", "is_correct"):
        assert word not in html

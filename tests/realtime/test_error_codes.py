"""Every error code docs/protocol.md documents is one the exam socket really sends, in the situation the table
names — and the table lists every code the tests reach (code and documentation agree)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from contests.models import Attempt, AttemptStatus
from realtime import protocol
from tests.realtime.conftest import make_exam

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def documented_codes() -> set[str]:
    """The codes of the `error` table of docs/protocol.md (rows "| `code` | when | client should |")."""
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index("| code | when | client should |"):]
    table = table[:table.index("\n\n")]
    return set(re.findall(r"^\| `([a-z_]+)` \|", table, re.MULTILINE))


async def _exam(org, user, **kwargs):
    return await sync_to_async(make_exam)(org, user, **kwargs)


async def _open(open_client, exam):
    client = await open_client(exam.attempt.pk, exam.cookie)
    await client.recv_type("attempt.snapshot")
    return client


async def _first_option(attempt_id: int, position: int) -> int:
    from contests.models import AttemptQuestion

    aq = await sync_to_async(AttemptQuestion.objects.get)(attempt_id=attempt_id, position=position)
    return aq.snapshot["options"][0]["id"]


async def malformed(ctx):
    client = await _open(ctx.open_client, await _exam(ctx.org, ctx.user))
    await client.send_raw("{not json")
    return client


async def not_an_object(ctx):
    client = await _open(ctx.open_client, await _exam(ctx.org, ctx.user))
    await client.send_raw("[1, 2]")
    return client


async def frame_too_large(ctx):
    client = await _open(ctx.open_client, await _exam(ctx.org, ctx.user))
    await client.send_raw('{"type": "answer", "text": "' + "x" * protocol.MAX_FRAME_BYTES + '"}')
    return client


async def binary_not_supported(ctx):
    client = await _open(ctx.open_client, await _exam(ctx.org, ctx.user))
    await client.send_raw(data=b"\x00\x01")
    return client


async def unknown_type(ctx):
    client = await _open(ctx.open_client, await _exam(ctx.org, ctx.user))
    await client.send({"type": "dance", "seq": 3})
    return client


async def invalid_field(ctx):
    client = await _open(ctx.open_client, await _exam(ctx.org, ctx.user))
    await client.send({"type": "answer", "seq": 1, "response": {"options": []}})  # no position
    return client


async def rate_limited(ctx):
    client = await _open(ctx.open_client, await _exam(ctx.org, ctx.user))
    for _ in range(protocol.RATE_BURST + 5):
        await client.send({"type": "ping", "t": 1})
    return client


async def storage_unavailable(ctx):
    # The database is outside the process: its failure is simulated at the writer's only door to it.
    from django.db import OperationalError

    def down(**_kwargs):
        raise OperationalError("the database is unavailable")

    ctx.monkeypatch.setattr("realtime.writer.answers_store", down)
    exam = await _exam(ctx.org, ctx.user)
    client = await _open(ctx.open_client, exam)
    await client.send({"type": "answer", "seq": 1, "position": 1,
                       "response": {"options": [await _first_option(exam.attempt.pk, 1)]}})
    return client


async def submit_failed(ctx):
    # A real failure of one attempt's finalisation: its answered question's key is corrupt (not a number).
    from contests.models import AttemptQuestion

    exam = await _exam(ctx.org, ctx.user)
    client = await _open(ctx.open_client, exam)
    await client.send({"type": "answer", "seq": 1, "position": 1,
                       "response": {"options": [await _first_option(exam.attempt.pk, 1)]}})
    assert (await client.recv_type("ack"))["seq"] == 1
    aq = await sync_to_async(AttemptQuestion.objects.get)(attempt_id=exam.attempt.pk, position=1)
    await sync_to_async(AttemptQuestion.objects.filter(pk=aq.pk).update)(
        key={"options": dict.fromkeys(aq.key["options"], "?")})
    await client.send({"type": "submit", "seq": 2})
    return client


async def not_authenticated(ctx):
    exam = await _exam(ctx.org, ctx.user)
    return await ctx.open_client(exam.attempt.pk, None)


async def attempt_not_found(ctx):
    await _exam(ctx.org, ctx.user)
    from tests.realtime.conftest import session_cookie

    return await ctx.open_client(999_999_999, await sync_to_async(session_cookie)(ctx.user))


async def attempt_closed(ctx):
    exam = await _exam(ctx.org, ctx.user)
    client = await _open(ctx.open_client, exam)
    # Finished elsewhere (another tab's submit) while this socket stays open.
    await sync_to_async(Attempt.objects.filter(pk=exam.attempt.pk).update)(
        status=AttemptStatus.SUBMITTED, submitted_at=timezone.now())
    await client.send({"type": "answer", "seq": 1, "position": 1,
                       "response": {"options": [await _first_option(exam.attempt.pk, 1)]}})
    return client


async def deadline_passed(ctx):
    exam = await _exam(ctx.org, ctx.user)
    client = await _open(ctx.open_client, exam)
    await sync_to_async(Attempt.objects.filter(pk=exam.attempt.pk).update)(
        deadline=timezone.now() - dt.timedelta(minutes=5))
    await client.send({"type": "answer", "seq": 1, "position": 1,
                       "response": {"options": [await _first_option(exam.attempt.pk, 1)]}})
    return client


async def question_not_in_attempt(ctx):
    client = await _open(ctx.open_client, await _exam(ctx.org, ctx.user))
    await client.send({"type": "answer", "seq": 1, "position": 99, "response": {"options": []}})
    return client


async def question_not_released(ctx):
    client = await _open(ctx.open_client, await _exam(ctx.org, ctx.user, presentation="one_at_a_time"))
    await client.send({"type": "answer", "seq": 1, "position": 2, "response": {"options": []}})
    return client


async def invalid_response(ctx):
    client = await _open(ctx.open_client, await _exam(ctx.org, ctx.user))
    await client.send({"type": "answer", "seq": 1, "position": 1, "response": {"options": [123456789]}})
    return client


async def invalid_seq(ctx):
    client = await _open(ctx.open_client, await _exam(ctx.org, ctx.user))
    await client.send({"type": "answer", "seq": 0, "position": 1, "response": {"options": []}})
    return client


async def answer_locked(ctx):
    exam = await _exam(ctx.org, ctx.user, allow_answer_change=False)
    client = await _open(ctx.open_client, exam)
    option = await _first_option(exam.attempt.pk, 1)
    await client.send({"type": "answer", "seq": 1, "position": 1, "response": {"options": [option]}})
    await client.recv_type("ack")
    await client.send({"type": "answer", "seq": 2, "position": 1, "response": {"options": []}})
    return client


async def prediction_disabled(ctx):
    client = await _open(ctx.open_client, await _exam(ctx.org, ctx.user, prediction_enabled=False))
    await client.send({"type": "prediction", "seq": 1, "value": 12})
    return client


async def invalid_prediction(ctx):
    client = await _open(ctx.open_client, await _exam(ctx.org, ctx.user, prediction_enabled=True))
    await client.send({"type": "prediction", "seq": 1, "value": -3})  # was answered invalid_field
    return client


SCENARIOS = {f.__name__: f for f in (
    malformed, not_an_object, frame_too_large, binary_not_supported, unknown_type, invalid_field, rate_limited,
    storage_unavailable, submit_failed, not_authenticated, attempt_not_found, attempt_closed, deadline_passed,
    question_not_in_attempt, question_not_released, invalid_response, invalid_seq, answer_locked,
    prediction_disabled, invalid_prediction)}


def test_the_documentation_lists_exactly_the_codes_tested_here():
    assert documented_codes() == set(SCENARIOS)


class Ctx:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


@pytest.mark.parametrize("code", sorted(SCENARIOS))
async def test_every_documented_error_code_is_reachable(code, org_a, citizen, open_client, monkeypatch):
    client = await SCENARIOS[code](Ctx(org=org_a, user=citizen, open_client=open_client, monkeypatch=monkeypatch))
    while True:
        frame = await client.recv(wait=10)
        assert frame["type"] != "<closed>", f"closed before any {code} error"
        if frame["type"] == "error":
            assert frame["code"] == code, frame
            assert frame["message"]
            break

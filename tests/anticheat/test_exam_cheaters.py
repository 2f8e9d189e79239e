"""Scripted cheaters on the real exam socket (WebsocketCommunicator → ExamConsumer → group-commit writer →
PostgreSQL; channel layer and presence in Redis), each flagged with the right kind: instant answers, a bot with
regular intervals, two devices on one attempt, tab switching. The evidence never costs an answer."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.utils import timezone

from anticheat.models import AnswerEvent, ClientEvent, ConnectionEvidence, Flag, FlagKind, RoundCheckSettings, Severity
from anticheat.services import attempts_check, round_checks_run
from contests.models import Attempt
from realtime import evidence, protocol

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

PHONE = "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"
LAPTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


class Device:
    """An exam socket from one browser: its device cookie, user agent and address."""

    def __init__(self, attempt_id: int, cookie: str, *, device: str, agent: str, address: str) -> None:
        from contest_engine.asgi import application

        headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"user-agent", agent.encode()),
                   (b"x-forwarded-for", address.encode()),
                   (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={cookie}; ce_device={device}".encode())]
        self.comm = WebsocketCommunicator(application, f"/ws/attempts/{attempt_id}/", headers=headers)

    async def open(self) -> dict:
        connected, _ = await self.comm.connect(timeout=10)
        assert connected
        return await self.recv()

    async def recv(self, wait: float = 5) -> dict:
        message = await self.comm.receive_output(wait)
        if message["type"] == "websocket.close":
            return {"type": "<closed>", "code": message.get("code")}
        return json.loads(message["text"])

    async def send(self, payload: dict) -> None:
        await self.comm.send_to(text_data=json.dumps(payload, separators=(",", ":")))

    async def answer(self, seq: int, question: dict) -> dict:
        await self.send({"type": "answer", "seq": seq, "position": question["position"],
                         "response": {"options": [question["options"][0]["id"]]}})
        while True:
            frame = await self.recv()
            if frame["type"] in ("ack", "error"):
                return frame


@pytest.fixture(autouse=True)
def _proxy_header(settings):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    evidence.discard()
    yield
    evidence.discard()


@pytest.fixture
async def closing():
    from realtime import db
    from realtime.batching import batchers_close

    opened: list[Device] = []
    yield opened
    for device in opened:
        with contextlib.suppress(Exception):  # already closed by the server
            await device.comm.disconnect()
    await batchers_close()
    db.shutdown()


async def device(exam, closing, *, name: str = "dev-a", agent: str = PHONE, address: str = "203.0.113.5") -> Device:
    d = Device(exam.attempt.pk, exam.cookie, device=name, agent=agent, address=address)
    closing.append(d)
    return d


@sync_to_async
def overrides(exam, **values) -> None:
    RoundCheckSettings.objects.update_or_create(round=exam.round, defaults={"overrides": values})


@sync_to_async
def check(exam) -> dict[str, Flag]:
    evidence.flush()
    attempts_check(round=exam.round, attempt_ids=[exam.attempt.pk])
    return {f.kind: f for f in Flag.objects.filter(attempt=exam.attempt)}


async def submit(client: Device) -> None:
    await client.send({"type": "submit"})
    while (await client.recv())["type"] not in ("attempt.submitted", "<closed>"):
        pass


async def test_instant_answers_are_flagged_too_fast(exam, closing):
    client = await device(exam, closing)
    snapshot = await client.open()
    for seq, question in enumerate(snapshot["questions"], start=1):
        assert (await client.answer(seq, question))["status"] == "stored"
    await submit(client)
    flags = await check(exam)
    assert flags[FlagKind.FAST_ANSWERS].severity == Severity.HIGH
    assert flags[FlagKind.FAST_ANSWERS].evidence["too_fast"] == len(snapshot["questions"])
    assert flags[FlagKind.FAST_ATTEMPT].severity == Severity.HIGH
    assert flags[FlagKind.FAST_ANSWERS].settings_used["fast_answer_fraction"] == 0.35
    # The raw evidence the checks read: one answer event per answer, one connection with its address.
    events = await sync_to_async(lambda: list(AnswerEvent.objects.filter(attempt=exam.attempt).order_by("seq")
                                                  .values_list("seq", "position", "status")))()
    assert events == [(q["position"], q["position"], "stored") for q in snapshot["questions"]]
    conn = await sync_to_async(ConnectionEvidence.objects.get)(attempt=exam.attempt)
    assert (conn.address, conn.network, conn.device, conn.user_agent) == ("203.0.113.5", "203.0.113.0/24", "dev-a",
                                                                          PHONE)


async def test_a_bot_with_regular_intervals_is_flagged(exam, closing):
    await overrides(exam, regular_min_intervals=4)
    client = await device(exam, closing)
    snapshot = await client.open()
    for seq, question in enumerate(snapshot["questions"], start=1):
        assert (await client.answer(seq, question))["status"] == "stored"
        await asyncio.sleep(1.5)
    flags = await check(exam)
    regular = flags[FlagKind.REGULAR_INTERVALS]
    assert regular.severity == Severity.HIGH, regular.evidence
    assert regular.evidence["intervals"] == 4
    assert regular.evidence["cv"] < 0.08
    assert regular.settings_used["regular_min_intervals"] == 4


async def test_two_devices_on_one_attempt_are_flagged(exam, closing):
    phone = await device(exam, closing, name="dev-phone", agent=PHONE, address="203.0.113.5")
    snapshot = await phone.open()
    assert (await phone.answer(1, snapshot["questions"][0]))["status"] == "stored"
    laptop = await device(exam, closing, name="dev-laptop", agent=LAPTOP, address="198.51.100.77")
    second = await laptop.open()
    assert second["type"] == "attempt.snapshot"
    assert (await phone.recv())["type"] == "session.replaced"
    assert (await laptop.answer(2, second["questions"][1]))["status"] == "stored"
    flags = await check(exam)
    flag = flags[FlagKind.MULTIPLE_DEVICES]
    assert flag.severity == Severity.HIGH
    assert (flag.evidence["devices"], flag.evidence["networks"], flag.evidence["replaced_by_other_device"]) == (2, 2, 1)


async def test_tab_switching_is_flagged_and_never_costs_an_answer(exam, closing):
    await overrides(exam, focus_loss_high=8)
    client = await device(exam, closing)
    snapshot = await client.open()
    questions = snapshot["questions"]
    # 15 at once: the evidence budget (burst 10) keeps 10, drops the rest silently, and the answers'
    # own budget is untouched — every answer is acknowledged and nothing else is sent back.
    for i in range(15):
        await client.send({"type": "evidence", "kind": "hidden" if i % 2 else "blur", "position": 1})
    await client.send({"type": "evidence", "kind": "no-such-kind"})
    for seq, question in enumerate(questions, start=1):
        ack = await client.answer(seq, question)
        assert (ack["type"], ack["status"]) == ("ack", "stored"), ack
    assert await client.comm.receive_nothing(0.3)
    flags = await check(exam)
    flag = flags[FlagKind.FOCUS_LOSS]
    assert flag.severity == Severity.HIGH
    assert flag.evidence["total"] == protocol.EVIDENCE_BURST
    rows = await sync_to_async(lambda: {c.kind: (c.count, len(c.times)) for c in
                                        ClientEvent.objects.filter(attempt=exam.attempt)})()
    assert rows == {"blur": (5, 5), "hidden": (5, 5)}


async def test_the_incremental_run_checks_finished_attempts_once_settled(exam, closing):
    client = await device(exam, closing)
    snapshot = await client.open()
    for seq, question in enumerate(snapshot["questions"], start=1):
        await client.answer(seq, question)
    await submit(client)
    await sync_to_async(evidence.flush)()
    attempt = await sync_to_async(Attempt.objects.select_related("round__contest").get)(pk=exam.attempt.pk)
    early = await sync_to_async(round_checks_run)(round=attempt.round, now=timezone.now())
    assert early["attempts"] == 0  # finished less than a minute ago: left to the next run
    later = await sync_to_async(round_checks_run)(round=attempt.round, now=timezone.now() + dt.timedelta(minutes=2))
    assert later["attempts"] == 1
    assert await sync_to_async(Flag.objects.filter(attempt=attempt, kind=FlagKind.FAST_ANSWERS).exists)()
    again = await sync_to_async(round_checks_run)(round=attempt.round, now=timezone.now() + dt.timedelta(minutes=3))
    assert again["attempts"] == 0

"""The group-commit writer: fewer transactions than answers, acks only after commit (the batching itself:
test_batching.py)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from contests.models import Answer
from realtime.writer import get_writer
from tests.factories import CitizenProfileFactory
from tests.realtime.conftest import make_exam, session_cookie

pytestmark = pytest.mark.asyncio


@pytest.mark.django_db(transaction=True)
async def test_many_connections_fewer_transactions_and_ack_means_committed(org_a, open_client):
    """20 citizens answer at once through real sockets: fewer transactions than answers, and when an ack
    arrives the row is already committed (read from another connection)."""
    @sync_to_async
    def setup() -> list:
        exams = []
        for _ in range(20):
            user = CitizenProfileFactory(unit=org_a).user
            exams.append(make_exam(org_a, user))
        return exams

    exams = await setup()
    clients = []
    for exam in exams:
        client = await open_client(exam.attempt.pk, exam.cookie)
        snapshot = await client.recv()
        clients.append((exam, client, snapshot))
    writer = get_writer()
    before = writer.stats.batches

    @sync_to_async
    def committed(attempt_id: int, seq: int) -> bool:
        return Answer.objects.filter(attempt_id=attempt_id, client_seq=seq).exists()

    for round_no in range(1, 4):
        for _exam, client, snapshot in clients:
            question = snapshot["questions"][round_no - 1]
            await client.send({"type": "answer", "seq": round_no, "position": question["position"],
                               "response": {"options": [question["options"][0]["id"]]}})
        for exam, client, _ in clients:
            ack = await client.recv()
            assert ack["type"] == "ack"
            assert ack["seq"] == round_no
            assert await committed(exam.attempt.pk, round_no)
    transactions = writer.stats.batches - before
    assert writer.stats.items >= 60
    assert transactions < 60, transactions
    assert await sync_to_async(Answer.objects.count)() == 60


@pytest.mark.django_db(transaction=True)
async def test_session_cookie_helper_is_a_real_session(citizen):
    assert len(await sync_to_async(session_cookie)(citizen)) == 32

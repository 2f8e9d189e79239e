"""The group-commit writer: batching, per-item results, acks only after commit, failure isolation."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async

from contests.models import Answer
from realtime.writer import BatchFailed, BatchWriter
from tests.factories import CitizenProfileFactory
from tests.realtime.conftest import make_exam, session_cookie

pytestmark = pytest.mark.asyncio


async def test_batches_queued_items_and_keeps_order_of_results():
    calls: list[list[int]] = []
    gate = threading.Event()

    def store_batch(*, items, now):
        calls.append(list(items))
        gate.wait(2)  # the first batch "commits" slowly; meanwhile the others queue up
        return [item * 10 for item in items]

    writer = BatchWriter(store_batch=store_batch, max_batch=100)
    first = asyncio.ensure_future(writer.store(0))
    await asyncio.sleep(0.05)
    rest = [asyncio.ensure_future(writer.store(i)) for i in range(1, 51)]
    await asyncio.sleep(0.05)
    gate.set()
    results = await asyncio.gather(first, *rest)
    assert results == [i * 10 for i in range(51)]
    assert calls == [[0], list(range(1, 51))]  # 51 items, 2 transactions
    assert writer.stats.batches == 2
    assert writer.stats.max_batch_seen == 50
    await writer.aclose()


async def test_max_batch_splits():
    sizes: list[int] = []

    def store_batch(*, items, now):
        sizes.append(len(items))
        return list(items)

    writer = BatchWriter(store_batch=store_batch, max_batch=8)
    await asyncio.gather(*(writer.store(i) for i in range(20)))
    assert max(sizes) <= 8
    assert sum(sizes) == 20
    await writer.aclose()


async def test_failed_batch_fails_only_its_items_and_the_writer_goes_on():
    def store_batch(*, items, now):
        if "boom" in items:
            raise RuntimeError("database down")
        return [f"ok:{item}" for item in items]

    writer = BatchWriter(store_batch=store_batch)
    with pytest.raises(BatchFailed):
        await writer.store("boom")
    assert await writer.store("next") == "ok:next"
    assert writer.stats.failed_batches == 1
    await writer.aclose()


async def test_result_count_mismatch_acknowledges_nothing():
    writer = BatchWriter(store_batch=lambda *, items, now: [])
    with pytest.raises(BatchFailed):
        await writer.store("x")
    await writer.aclose()


@pytest.mark.django_db(transaction=True)
async def test_many_connections_fewer_transactions_and_ack_means_committed(org_a, open_client):
    """20 citizens answer at once through real sockets: fewer transactions than answers, and when an ack
    arrives the row is already committed (read from another connection)."""
    from realtime.writer import get_writer

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

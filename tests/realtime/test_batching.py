"""The batcher every per-process queue of the exam socket is built from: batching, per-item results,
failure isolation."""

from __future__ import annotations

import asyncio
import threading

import pytest

from realtime.batching import Batcher, BatchFailed

pytestmark = pytest.mark.asyncio


async def test_batches_queued_items_and_keeps_order_of_results():
    calls: list[list[int]] = []
    gate = threading.Event()

    def store_batch(*, items, now):
        calls.append(list(items))
        gate.wait(2)  # the first batch "commits" slowly; meanwhile the others queue up
        return [item * 10 for item in items]

    writer = Batcher(store_batch=store_batch, max_batch=100)
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

    writer = Batcher(store_batch=store_batch, max_batch=8)
    await asyncio.gather(*(writer.store(i) for i in range(20)))
    assert max(sizes) <= 8
    assert sum(sizes) == 20
    await writer.aclose()


async def test_failed_batch_fails_only_its_items_and_the_writer_goes_on():
    def store_batch(*, items, now):
        if "boom" in items:
            raise RuntimeError("database down")
        return [f"ok:{item}" for item in items]

    writer = Batcher(store_batch=store_batch)
    with pytest.raises(BatchFailed):
        await writer.store("boom")
    assert await writer.store("next") == "ok:next"
    assert writer.stats.failed_batches == 1
    await writer.aclose()


async def test_result_count_mismatch_acknowledges_nothing():
    writer = Batcher(store_batch=lambda *, items, now: [])
    with pytest.raises(BatchFailed):
        await writer.store("x")
    await writer.aclose()

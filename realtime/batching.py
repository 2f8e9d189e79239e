"""A batcher: items queued by many connections of one event loop, handled together in a dedicated thread.

Why: one ORM call per item through ``database_sync_to_async`` serialises every database call of the process
on one thread and costs a round trip (for writes, an fsync) per item (see /work/shared/PERFORMANCE.md). A
``Batcher`` runs a single drain task per event loop that takes everything queued so far (up to
``max_batch``), hands it to its ``store_batch(items=…, now=…)`` in a thread of its own (its own database
connection), and then resolves each item's future with that item's own result. While one batch runs, the
next one accumulates, so the batch size grows with the load and the number of round trips per second stays
bounded.

Used for answers (``realtime.writer``: group commit), connect-time snapshots (``realtime.snapshots``),
client submits (``realtime.submits``) and socket session checks (``realtime.auth``); each of those modules
owns its batcher (``loop_batcher``) and the function its batches run.

Contract:
- ``await batcher.store(item)`` returns the item's result only after its batch returned (for writes: after
  the batch transaction committed); a per-item domain error comes back as that item's result (the batch
  function decides), never as an exception for the other items;
- if the whole batch fails (database down, bug), every item of that batch raises ``BatchFailed`` and
  nothing of that batch was acknowledged: the client still has its message and resends it. A lost database
  is logged as an outage (``contest_engine.outages.database_outage``: down, still down with counts, up),
  any other failure with its traceback;
- items of one connection are never reordered: a consumer awaits each item before reading its next
  message, and batches run one at a time unless ``concurrency`` > 1 (then only different connections'
  items can be in flight together).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections
from django.utils import timezone

from contest_engine.dbpools import use_exam_pool
from contest_engine.outages import database_outage, is_database_unavailable
from realtime.db import bound_to, close_connections_in_threads

logger = logging.getLogger(__name__)

StoreBatch = Callable[..., Sequence[Any]]


class BatchFailed(Exception):
    """The transaction of the batch holding this item failed; nothing in it was stored."""


@dataclass
class BatcherStats:
    batches: int = 0
    items: int = 0
    failed_batches: int = 0
    max_batch_seen: int = 0
    busy_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "batches": self.batches,
            "items": self.items,
            "failed_batches": self.failed_batches,
            "max_batch_seen": self.max_batch_seen,
            "mean_batch": round(self.items / self.batches, 2) if self.batches else 0,
            "busy_seconds": round(self.busy_seconds, 3),
        }


class Batcher:
    """One per event loop and kind of work (see ``loop_batcher``). Not thread-safe: call ``store`` from the loop
    only."""

    def __init__(
        self,
        *,
        store_batch: StoreBatch,
        name: str = "batcher",
        max_batch: int = 500,
        linger_seconds: float = 0.0,
        concurrency: int = 1,
    ) -> None:
        self._store_batch = store_batch
        self.name = name
        self.max_batch = max_batch
        self.linger_seconds = linger_seconds
        self.concurrency = max(1, concurrency)
        self._queue: asyncio.Queue[tuple[Any, asyncio.Future[Any]]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._executor: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inflight = 0
        self.stats = BatcherStats()

    # -- public -----------------------------------------------------------------------------------
    async def store(self, item: Any) -> Any:
        """Queue ``item`` and wait until its batch committed; return the item's result."""
        self._ensure_started()
        assert self._queue is not None
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        return await future

    async def aclose(self) -> None:
        """Finish what is queued, stop the drain tasks and close the writer threads' DB connections."""
        if self._queue is not None:
            # A short poll, at shutdown only.
            while (self._queue.qsize() or self._inflight) and not all(t.done() for t in self._tasks):  # noqa: ASYNC110
                await asyncio.sleep(0.005)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._executor is not None:
            executor, self._executor = self._executor, None
            await asyncio.get_running_loop().run_in_executor(
                None, close_connections_in_threads, executor, self.concurrency)
            executor.shutdown(wait=True)
        self._queue = None

    @property
    def pending(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    # -- internals --------------------------------------------------------------------------------
    def _ensure_started(self) -> None:
        if self._tasks and self._queue is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix=self.name,
                                            initializer=use_exam_pool)
        self._tasks = [self._loop.create_task(self._drain(), name=f"{self.name}-{i}")
                       for i in range(self.concurrency)]

    async def _drain(self) -> None:
        assert self._queue is not None
        queue = self._queue
        loop = asyncio.get_running_loop()
        while True:
            batch = [await queue.get()]
            if self.linger_seconds and queue.qsize() < self.max_batch:
                await asyncio.sleep(self.linger_seconds)
            while len(batch) < self.max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            items = [item for item, _ in batch]
            started = time.perf_counter()
            self._inflight += len(batch)
            try:
                results = await loop.run_in_executor(self._executor, self._run_batch, items)
            except asyncio.CancelledError:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(BatchFailed("writer stopped"))
                raise
            except Exception as exc:
                if is_database_unavailable(exc):
                    # An outage, not a bug: logged when it starts, while it lasts (with counts) and when it
                    # ends — a traceback per batch was thousands of lines a second (contest_engine.outages).
                    database_outage.failed(exc, source=self.name, items=len(batch))
                else:
                    logger.exception("%s batch of %d failed", self.name, len(batch))
                self.stats.failed_batches += 1
                for _, future in batch:
                    if not future.done():
                        future.set_exception(BatchFailed(str(exc)))
                continue
            finally:
                self._inflight -= len(batch)
                self.stats.busy_seconds += time.perf_counter() - started
            database_outage.succeeded()
            self.stats.batches += 1
            self.stats.items += len(batch)
            self.stats.max_batch_seen = max(self.stats.max_batch_seen, len(batch))
            if len(results) != len(batch):  # a broken service contract: acknowledge nothing
                logger.error("store_batch returned %d results for %d items", len(results), len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(BatchFailed("result count mismatch"))
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():  # the connection may have gone meanwhile
                    future.set_result(result)

    def _run_batch(self, items: list[Any]) -> Sequence[Any]:
        """Runs in a batcher thread. A writing service commits before returning; after-commit broadcasts made
        by it go out through the server's loop (``realtime.db.server_loop``). The thread's connection comes from
        the exam pool and goes back to it after the batch (an idle batcher holds none)."""
        close_old_connections()
        try:
            with bound_to(self._loop):
                return self._store_batch(items=items, now=timezone.now())
        finally:
            close_old_connections()


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Batcher]] = weakref.WeakKeyDictionary()


def loop_batcher(name: str, build: Callable[[], Batcher]) -> Batcher:
    """The running event loop's batcher called ``name`` (one per server process in production), made by
    ``build`` the first time it is asked for."""
    loop = asyncio.get_running_loop()
    mine = _batchers.setdefault(loop, {})
    batcher = mine.get(name)
    if batcher is None:
        batcher = mine[name] = build()
    return batcher


async def batchers_close() -> None:
    """Stop the running loop's batchers (tests, shutdown)."""
    for batcher in _batchers.pop(asyncio.get_running_loop(), {}).values():
        await batcher.aclose()

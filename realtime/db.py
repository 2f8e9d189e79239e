"""A small thread pool for the exam socket's occasional database calls (connect, prediction, submit).

Channels' ``database_sync_to_async`` runs every call of the process on ONE shared thread; during a join
storm the connect-time queries of thousands of sockets would queue behind each other there. This pool has
``REALTIME_DB_THREADS`` threads, each with its own database connection (Django connections are
per thread), taken from the exam pool for the length of a call (contest_engine/dbpools.py); answers do not come
here — they go through the group-commit writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.db import close_old_connections, connections

from contest_engine.dbpools import use_exam_pool

T = TypeVar("T")
_executor: ThreadPoolExecutor | None = None
_local = threading.local()


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop that handed the current thread its work (None outside ``db_call``): after-commit
    broadcasts made in this thread are scheduled on it instead of spinning up a new loop per message."""
    return getattr(_local, "loop", None)


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=getattr(settings, "REALTIME_DB_THREADS", 4),
                                       thread_name_prefix="realtime-db", initializer=use_exam_pool)
    return _executor


@contextlib.contextmanager
def bound_to(loop: asyncio.AbstractEventLoop | None):
    """Within the block, ``server_loop()`` in this thread is ``loop`` (see ``server_loop``)."""
    previous = getattr(_local, "loop", None)
    _local.loop = loop
    try:
        yield
    finally:
        _local.loop = previous


def _call(loop: asyncio.AbstractEventLoop, func: Callable[..., T], kwargs: dict[str, Any]) -> T:
    _local.loop = loop
    close_old_connections()
    try:
        return func(**kwargs)
    finally:
        close_old_connections()
        _local.loop = None


async def db_call(func: Callable[..., T], /, **kwargs: Any) -> T:
    """Run ``func(**kwargs)`` in the pool and await its result."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool(), functools.partial(_call, loop, func, kwargs))


def close_connections_in_threads(executor: ThreadPoolExecutor, threads: int) -> None:
    """Close the database connection of every thread of ``executor`` (blocking).

    Connections are per thread, so the close must run in each thread: ``threads`` tasks meet at a barrier,
    which forces the executor to run them on ``threads`` different threads.
    """
    barrier = threading.Barrier(threads)

    def close() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)
        connections.close_all()

    for future in [executor.submit(close) for _ in range(threads)]:
        future.result()


def shutdown() -> None:
    """Close the pool's connections and stop it (tests; the process exiting does it otherwise)."""
    global _executor
    if _executor is None:
        return
    executor, _executor = _executor, None
    close_connections_in_threads(executor, executor._max_workers)
    executor.shutdown(wait=True)

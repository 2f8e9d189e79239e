"""Group-commit writer: many connections' answers stored in one transaction, acknowledged after commit.

Why: one ORM call per answer through ``database_sync_to_async`` serialises every write of the process on
one thread and costs one fsync per answer (~12% of the echo ceiling on the reference machine, see
/work/shared/PERFORMANCE.md). The writer is a ``realtime.batching.Batcher`` (one per event loop) whose
batches go to ``answers_store`` — ``contests.services.attempts.answers.attempt_answers_store_batch`` or its
set-based twin ``realtime.store.answers_store_batch`` — in a dedicated thread (its own database
connection); each item's future is resolved with that item's own result. While one batch commits, the
next one accumulates, so the batch size grows with the load and the number of commits per second stays
bounded. The contract (acks after commit, ``BatchFailed`` for a failed batch, no reordering within a
connection) is the batcher's: see ``realtime.batching``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection

from contests.services.attempts.answers import attempt_answers_store_batch
from realtime import evidence
from realtime.batching import Batcher, loop_batcher
from realtime.store import answers_store_batch


def answers_store(*, items: Sequence[Any], now: dt.datetime) -> Sequence[Any]:
    """Store one batch of answers with the store named by ``REALTIME_ANSWER_STORE`` (read per batch):
    "sql" (realtime.store, set-based, same contract and results; PostgreSQL) or "contests" (the ORM
    reference implementation, also what the embedded default on SQLite uses).

    After the batch committed, the batch as it is goes to ``realtime.evidence`` (one append; the evidence is
    built off this path)."""
    if getattr(settings, "REALTIME_ANSWER_STORE", "sql") == "contests" or connection.vendor != "postgresql":
        results = attempt_answers_store_batch(items=items, now=now)
    else:
        results = answers_store_batch(items=items, now=now)
    evidence.answers_recorded(now=now, items=items, results=results)
    return results


def get_writer() -> Batcher:
    """The answer writer of the running event loop (one per server process in production)."""
    return loop_batcher("answer-writer", lambda: Batcher(
        store_batch=answers_store,
        name="answer-writer",
        max_batch=getattr(settings, "REALTIME_WRITER_MAX_BATCH", 500),
        linger_seconds=getattr(settings, "REALTIME_WRITER_LINGER_SECONDS", 0.0),
        concurrency=getattr(settings, "REALTIME_WRITER_CONCURRENCY", 1),
    ))

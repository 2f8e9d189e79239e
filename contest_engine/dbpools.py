"""Which of a server process's two database connection pools a thread takes its connections from.

Pages run each request in a thread of its own (Django's ASGI handler); their connections come from the *page
pool* and go back to it when the request ends. The exam socket's work runs in a few threads of its own (the
batchers' and ``realtime.db``'s, the evidence flusher): those threads call ``use_exam_pool()`` once and take
their connections from the *exam pool*, so that a thousand page requests queueing for a connection never sit
in front of an answer batch (see contest_engine/postgresql/base.py and docs/operations.md, "Connection
budget").

This module imports no app.
"""

from __future__ import annotations

import threading

_local = threading.local()


def use_exam_pool() -> None:
    """From now on, this thread's database connections come from the exam pool (a thread initializer)."""
    _local.exam = True


def uses_exam_pool() -> bool:
    return getattr(_local, "exam", False)

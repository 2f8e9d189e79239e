"""Client submits of many sockets finished together: the contests' group-commit finalisation.

A submit costs ~20 ms of CPU through ``attempt_submit`` one at a time (lock, score, two bulk updates, the
after-commit hooks); when many citizens submit within seconds (the end of a timed round) the server's
threads queued them for tens of seconds. Here the queued submits go to
``contests.services.attempts.finish.attempts_submit_batch`` — the same path as the deadline sweeper: one
transaction, one statement for the scores, one ``attempts_finalised`` signal for the batch — so scoring and
the after-commit broadcasts (``attempt.submitted``, the leaderboards' signal) are exactly the service's.
Rules kept from ``attempt_submit``: idempotent (a finished attempt is returned unchanged), and a client
submit after deadline + grace is recorded as an automatic one at the deadline. The reply (``attempt.submitted``)
is sent only after the batch committed; an attempt whose finalisation failed gets ``submit_failed`` (it is
still in progress, the client sends its submit again) while the others of its batch are finished.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from contests.services.attempts import finish
from realtime import events, protocol
from realtime.batching import Batcher, loop_batcher


@dataclass(frozen=True, slots=True)
class SubmitRequest:
    attempt_id: int
    user_id: int
    seq: int | None


def attempts_submit_batch(*, items: list[SubmitRequest], now: dt.datetime) -> list[dict[str, Any]]:
    """Reply for each request: ``attempt.submitted`` (with the request's seq) or a typed error."""
    outcomes = finish.attempts_submit_batch(
        requests=[finish.SubmitRequest(attempt_id=r.attempt_id, user_id=r.user_id) for r in items], now=now)
    replies: list[dict[str, Any]] = []
    for request, outcome in zip(items, outcomes, strict=True):
        if outcome.attempt is None or outcome.failed:
            code = "attempt_not_found" if outcome.attempt is None else "submit_failed"
            replies.append(protocol.error_event(code, protocol.error_messages()[code], seq=request.seq))
            continue
        reply = events.attempt_submitted_event(outcome.attempt)
        if request.seq is not None:
            reply["seq"] = request.seq
        replies.append(reply)
    return replies


def get_submitter() -> Batcher:
    """The running loop's batcher of client submits (``attempts_submit_batch``)."""
    return loop_batcher("submitter", lambda: Batcher(
        store_batch=attempts_submit_batch, name="submitter",
        max_batch=getattr(settings, "REALTIME_SUBMIT_MAX_BATCH", 500)))

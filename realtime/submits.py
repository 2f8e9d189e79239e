"""Client submits of many sockets finished together: one transaction, the contests' own finalisation.

A submit costs ~20 ms of CPU through ``attempt_submit`` one at a time (lock, score, two bulk updates, the
after-commit hooks); when many citizens submit within seconds (the end of a timed round) the server's
threads queued them for tens of seconds. Here the queued submits are locked together (ascending id, FOR
UPDATE, as ``attempt_submit`` does) and finished by ``contests.services.attempts.finish._finalise`` — the same
function ``attempt_submit`` and the deadline sweeper use — so scoring and the after-commit broadcasts
(``attempt.submitted``, the leaderboards' signal) are exactly the service's. Rules kept from
``attempt_submit``: idempotent (a finished attempt is returned unchanged), and a client submit after
deadline + grace is recorded as an automatic one at the deadline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from contests.limits import is_past_grace
from contests.models import Attempt, AttemptStatus, SubmitKind
from contests.services.attempts.finish import _finalise
from realtime import events, protocol
from realtime.batching import Batcher, loop_batcher


@dataclass(frozen=True, slots=True)
class SubmitRequest:
    attempt_id: int
    user_id: int
    seq: int | None


def attempts_submit_batch(*, items: list[SubmitRequest], now: dt.datetime) -> list[dict[str, Any]]:
    """Reply for each request: ``attempt.submitted`` (with the request's seq) or a typed error."""
    with transaction.atomic():
        locked = {a.pk: a for a in Attempt.objects.select_for_update(of=("self",)).select_related("round__contest")
                  .filter(pk__in={r.attempt_id for r in items}).order_by("pk")}
        by_kind: dict[str, list[Attempt]] = {SubmitKind.CLIENT: [], SubmitKind.AUTO: []}
        owned = {r.attempt_id for r in items if r.attempt_id in locked and locked[r.attempt_id].user_id == r.user_id}
        for attempt_id in sorted(owned):
            attempt = locked[attempt_id]
            if attempt.status == AttemptStatus.IN_PROGRESS:
                by_kind[SubmitKind.AUTO if is_past_grace(attempt, now) else SubmitKind.CLIENT].append(attempt)
        for kind, attempts in by_kind.items():
            if attempts:
                _finalise(attempts, now=now, kind=kind)
    replies: list[dict[str, Any]] = []
    for request in items:
        if request.attempt_id not in owned:
            message = protocol.error_messages()["attempt_not_found"]
            replies.append(protocol.error_event("attempt_not_found", message, seq=request.seq))
            continue
        reply = events.attempt_submitted_event(locked[request.attempt_id])
        if request.seq is not None:
            reply["seq"] = request.seq
        replies.append(reply)
    return replies


def get_submitter() -> Batcher:
    """The running loop's batcher of client submits (``attempts_submit_batch``)."""
    return loop_batcher("submitter", lambda: Batcher(store_batch=attempts_submit_batch, name="submitter",
                                                     max_batch=100))

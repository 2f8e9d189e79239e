"""The consumer's calls into contests services, and how their results become protocol messages.

Everything here is synchronous and runs off the event loop: answers in the group-commit writer's thread
(``realtime.writer``), the rest in the small database pool of ``realtime.db``. No business rule lives here —
only loading the attempt for its owner and translating results to the wire format of docs/protocol.md.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import translation

from accounts.models import User
from accounts.services import audit_record
from contests import errors
from contests.errors import ContestError
from contests.models import Attempt
from contests.services.attempts.answers import AnswerItem, attempt_next_question, attempt_set_prediction
from contests.services.attempts.state import attempt_state
from realtime import events, protocol


class AttemptNotFound(Exception):
    """No attempt with this id belongs to this user (the two cases are indistinguishable on purpose)."""


def attempt_reload(*, attempt_id: int, user_id: int, now: dt.datetime) -> tuple[Any, dict[str, Any]]:
    attempt = Attempt.objects.select_related("round__contest").filter(pk=attempt_id, user_id=user_id).first()
    if attempt is None:
        raise AttemptNotFound
    return attempt, attempt_state(attempt=attempt, now=now)


def state_is_finished(state: dict[str, Any]) -> bool:
    return state.get("status") != "in_progress"


def state_deadline(state: dict[str, Any]) -> dt.datetime | None:
    value = state.get("deadline")
    return dt.datetime.fromisoformat(value) if value else None


def snapshot_event(state: dict[str, Any]) -> dict[str, Any]:
    """``attempt.snapshot``: the service's state plus the protocol envelope and a fresh server clock."""
    payload = dict(state)
    payload.update(events.event(events.ATTEMPT_SNAPSHOT, protocol=protocol.PROTOCOL_VERSION,
                                protocol_minor=protocol.PROTOCOL_MINOR, server_time_ms=protocol.server_time_ms()))
    return payload


# --- answers (writer thread) ----------------------------------------------------------------------
def answer_item(*, attempt_id: int, user_id: int, message: protocol.Answer) -> Any:
    return AnswerItem(attempt_id=attempt_id, user_id=user_id, position=message.position,
                      response=message.response, client_seq=message.seq)


def store_reply(result: Any, *, seq: int, kind: str = "answer") -> dict[str, Any]:
    """``ack`` for stored/duplicate/stale results, a typed ``error`` otherwise."""
    if result.error is not None:
        extra = {"position": result.position} if kind == "answer" else {"kind": kind}
        return protocol.error_event(result.error.code, result.error.message, seq=seq, **extra)
    reply: dict[str, Any] = {"type": "ack", "seq": seq, "status": result.status,
                             "saved_at": protocol.server_time_ms()}
    if kind == "answer":
        reply["position"] = result.position
    else:
        reply["kind"] = kind
    return reply


@functools.cache
def _standard_messages() -> dict[tuple[str, str], Callable[[], str]]:
    """(code, its message in the default language) → how to render that message in the active language, for
    every contests domain error and every protocol error."""
    classes, pending = [], [ContestError]
    while pending:
        cls = pending.pop()
        classes.append(cls)
        pending.extend(cls.__subclasses__())
    with translation.override(settings.LANGUAGE_CODE):
        known: dict[tuple[str, str], Callable[[], str]] = {
            (cls.code, str(cls.default_message)): functools.partial(str, cls.default_message) for cls in classes}
        for code, text in protocol.error_messages().items():
            known[(code, text)] = lambda code=code: protocol.error_messages()[code]
    return known


def error_localised(payload: dict[str, Any]) -> dict[str, Any]:
    """An ``error`` frame whose message is a standard text (a domain or protocol error), rendered in the
    active language.

    Answers, submits and predictions are handled in other threads, which render messages in the default
    language; the consumer calls this with the person's language active. A message with details of its own
    is left as it is."""
    render = _standard_messages().get((payload.get("code", ""), payload.get("message", "")))
    if render is None:
        return payload
    return {**payload, "message": render()}


# --- other calls (database pool) -----------------------------------------------------------------
def prediction_store(*, attempt_id: int, user_id: int, message: protocol.Prediction,
                     now: dt.datetime) -> dict[str, Any]:
    result = attempt_set_prediction(attempt_id=attempt_id, user_id=user_id, prediction=message.value,
                                    client_seq=message.seq, now=now)
    return store_reply(result, seq=message.seq, kind="prediction")


def question_next(*, attempt_id: int, user_id: int, now: dt.datetime) -> dict[str, Any]:
    """One question at a time: release the next question (``question.released``; ``question`` is null when
    every question has been shown)."""
    try:
        payload = attempt_next_question(attempt_id=attempt_id, user_id=user_id, now=now)
    except errors.ContestError as exc:
        return protocol.error_event(exc.code, exc.message)
    return events.event(events.QUESTION_RELEASED, question=payload)


def session_replaced_record(*, attempt_id: int, user_id: int, data: dict[str, Any]) -> None:
    """Audit: an older connection of this attempt was closed because a newer one opened."""
    audit_record(actor=User(pk=user_id), action=events.SESSION_REPLACED_AUDIT_ACTION,
                 target=Attempt(pk=attempt_id), data=data)

"""Hooks into contests, connected in RealtimeConfig.ready(): what contests announces inside its
transactions (``contests.signals``) becomes pushes to the attempts' open connections after the commit."""

from __future__ import annotations

from typing import Any

from contests import signals
from realtime import events


def on_attempts_finalised(sender: Any, attempts: list[Any], **kwargs: Any) -> None:
    events.attempts_submitted_on_commit(attempts)


def on_attempt_changed(sender: Any, attempt: Any, reason: str = "", **kwargs: Any) -> None:
    events.attempt_changed_on_commit(attempt, reason=reason)


def connect() -> None:
    signals.attempts_finalised.connect(on_attempts_finalised, dispatch_uid="realtime.on_attempts_finalised")
    signals.attempt_changed.connect(on_attempt_changed, dispatch_uid="realtime.on_attempt_changed")

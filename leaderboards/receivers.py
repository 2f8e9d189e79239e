"""Hooks into other apps, connected in LeaderboardsConfig.ready()."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def on_attempt_submitted(sender: Any, attempt: Any, **kwargs: Any) -> None:
    """After the commit of a submit (client, other tab, sweeper): update the live boards."""
    from leaderboards.services.live import leaderboard_record_attempt

    try:
        leaderboard_record_attempt(attempt=attempt)
    except Exception:  # the board is a rebuildable view; never fail the submit path
        logger.exception("live leaderboard update for attempt %s failed", getattr(attempt, "pk", None))


def on_question_corrected(sender: Any, question: Any, audit_event: Any = None, **kwargs: Any) -> None:
    from leaderboards.services.rescore import attempts_rescore_for_question

    attempts_rescore_for_question(question=question, actor=getattr(audit_event, "actor", None))


def connect() -> None:
    from realtime.events import attempt_submitted

    attempt_submitted.connect(on_attempt_submitted, dispatch_uid="leaderboards.on_attempt_submitted")
    try:
        from questionbank.services import question_corrected
    except ImportError:  # pragma: no cover
        return
    question_corrected.connect(on_question_corrected, dispatch_uid="leaderboards.on_question_corrected")

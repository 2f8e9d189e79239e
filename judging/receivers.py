"""Hooks into lower apps, connected in JudgingConfig.ready()."""

from __future__ import annotations

import logging
from typing import Any

from contests.blind_grading import register_blind_rounds
from contests.scoring import register_essay_marks
from judging.selectors import rounds_with_open_grading
from judging.services.essays import essay_assignments_for_attempts, essay_final_marks
from realtime.events import attempts_submitted

logger = logging.getLogger(__name__)


def on_attempts_submitted(sender: Any, attempts: list[Any], **kwargs: Any) -> None:
    """After the commit of a batch of submits: their essays enter the grading queue at once (the round may be
    open or closed). A failure is logged and caught up by ``essay_assignments_create`` (grading pages and the
    proposal run it), so the submit path never fails here."""
    try:
        essay_assignments_for_attempts(attempt_ids=[a.pk for a in attempts])
    except Exception:
        logger.exception("essay assignments for attempts %s failed", [getattr(a, "pk", None) for a in attempts])


def connect() -> None:
    register_essay_marks(essay_final_marks)
    register_blind_rounds(rounds_with_open_grading)
    attempts_submitted.connect(on_attempts_submitted, dispatch_uid="judging.on_attempts_submitted")

"""Periodic jobs of live games (run by ``manage.py run_worker``; see contest_engine.periodic)."""

from __future__ import annotations

from contest_engine.periodic import periodic
from live.services.game import questions_close_due


@periodic(every_seconds=2)
def close_due_live_questions() -> int:
    """Close questions past their deadline that no server process closed (all of them restarted, say)."""
    return questions_close_due()

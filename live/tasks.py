"""Background tasks of live games (django-tasks, queue "default"). Thin: the work is in live.services."""

from __future__ import annotations

from django_tasks import task

from contest_engine.tasks import registered_as
from live.services.results import SESSION_RESULTS_SAVE_TASK, session_results_save


@registered_as(SESSION_RESULTS_SAVE_TASK)
@task()
def session_results_save_task(session_id: int) -> None:
    """Save a finished game's results as a contest result. Idempotent, so at-least-once delivery is safe."""
    session_results_save(session_id=session_id)

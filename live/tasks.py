"""Background tasks of live games (django-tasks, queue "default"). Thin: the work is in live.services."""

from __future__ import annotations

from django_tasks import task


@task()
def session_results_save_task(session_id: int) -> None:
    """Save a finished game's results as a contest result. Idempotent, so at-least-once delivery is safe."""
    from live.services.results import session_results_save

    session_results_save(session_id=session_id)

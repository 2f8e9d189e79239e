"""Background tasks of exports (django-tasks, queue "exports"). Thin: the work is in exports.services."""

from __future__ import annotations

from django_tasks import task

EXPORTS_QUEUE = "exports"


@task(queue_name=EXPORTS_QUEUE)
def export_job_task(job_id: int) -> None:
    """Run one export job. Idempotent (a finished job is left alone), so at-least-once delivery is safe."""
    from exports.services import export_job_run

    export_job_run(job_id=job_id)

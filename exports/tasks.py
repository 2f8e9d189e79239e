"""Background tasks of exports (django-tasks, queue "exports"). Thin: the work is in exports.services."""

from __future__ import annotations

from django_tasks import task

from contest_engine.tasks import registered_as
from exports.services import EXPORT_JOB_TASK, export_job_run

EXPORTS_QUEUE = "exports"


@registered_as(EXPORT_JOB_TASK)
@task(queue_name=EXPORTS_QUEUE)
def export_job_task(job_id: int) -> None:
    """Run one export job. Idempotent (a finished job is left alone), so at-least-once delivery is safe."""
    export_job_run(job_id=job_id)

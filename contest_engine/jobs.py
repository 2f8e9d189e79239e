"""Project-wide periodic jobs."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from contest_engine.periodic import periodic


@periodic(every_seconds=60)
def requeue_stale_tasks() -> int:
    """At-least-once delivery: a task left RUNNING by a worker that died is put back in the queue.

    django-tasks-db marks a task RUNNING when a worker claims it; if that worker is killed the row would
    stay RUNNING for ever. Tasks in this project are idempotent, so running one twice is safe.
    """
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - dt.timedelta(seconds=settings.TASK_STALE_AFTER_SECONDS)
    return DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff).update(
        status=TaskResultStatus.READY, started_at=None
    )

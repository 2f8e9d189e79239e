"""A task for the worker outage test (tests/contest_engine/test_worker_outage.py), queued by tests.outage_data."""

from __future__ import annotations

import time

from django_tasks import task

from accounts.models import Organisation


@task()
def slow_task(seconds: float) -> int:
    """Still running when the test stops the database: it sleeps, then needs the database."""
    time.sleep(seconds)
    return Organisation.objects.count()

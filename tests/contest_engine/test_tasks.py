"""The task registry: a service enqueues its task by name without importing the tasks module back."""

from __future__ import annotations

import pytest
from django_tasks import task

from contest_engine import tasks
from exports import services as export_services
from exports.tasks import export_job_task


def test_a_service_finds_its_task_by_the_name_it_defines():
    assert tasks.task_named(export_services.EXPORT_JOB_TASK) is export_job_task
    # The worker still finds the queued task by its module path, as before the registry.
    assert export_job_task.module_path == "exports.tasks.export_job_task"


def test_an_unknown_name_is_a_lookup_error():
    with pytest.raises(LookupError, match=r"no task is registered as 'nobody\.nothing'"):
        tasks.task_named("nobody.nothing")


@task()
def another_task(job_id: int) -> None:  # pragma: no cover - never run
    pass


def test_two_tasks_may_not_share_a_name():
    with pytest.raises(ValueError, match="two tasks registered"):
        tasks.registered_as(export_services.EXPORT_JOB_TASK)(another_task)
    assert tasks.task_named(export_services.EXPORT_JOB_TASK) is export_job_task

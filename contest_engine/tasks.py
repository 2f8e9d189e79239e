"""Background tasks by name, so that a service can enqueue the task that runs it.

An app's ``tasks.py`` holds thin django-tasks entries that call its services; a service that must enqueue
one of them (``exports.services.export_job_request``) asks for it here by a name the service itself
defines, instead of importing the tasks module — which imports the service: the two would import each
other. Apps register their tasks in a module named ``tasks``, imported the first time a task is asked
for, as ``contest_engine.periodic`` finds each app's ``jobs``. The worker finds a queued task by its
module path, as django-tasks always does; these names only serve the enqueuing side.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.utils.module_loading import module_has_submodule
from django_tasks.base import Task, TaskResult

_tasks: dict[str, Task] = {}
_discovered = False


def registered_as(name: str) -> Callable[[Task], Task]:
    """Register a django-tasks ``Task`` under ``name`` (apply above ``@task``); the task is returned as is."""

    def register(task: Task) -> Task:
        if _tasks.get(name, task) is not task:
            raise ValueError(f"two tasks registered as {name!r}")
        _tasks[name] = task
        return task

    return register


def task_named(name: str) -> Task:
    """The task registered as ``name``; ``LookupError`` if no app's ``tasks`` module registers it."""
    global _discovered
    if name not in _tasks and not _discovered:
        for config in apps.get_app_configs():
            if module_has_submodule(config.module, "tasks"):
                importlib.import_module(f"{config.name}.tasks")
        _discovered = True
    try:
        return _tasks[name]
    except KeyError:
        raise LookupError(f"no task is registered as {name!r}") from None


def task_enqueue(name: str, /, **kwargs: Any) -> TaskResult:
    """Enqueue the task registered as ``name`` with ``kwargs``."""
    return task_named(name).enqueue(**kwargs)

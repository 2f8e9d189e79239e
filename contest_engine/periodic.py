"""Periodic jobs run by every task worker (``manage.py run_worker``).

Jobs must be idempotent and safe to run concurrently in several workers (they lock rows with
``select_for_update(skip_locked=True)`` or work on disjoint rows): production runs more than one worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: float
    func: Callable[[], object]


_jobs: dict[str, PeriodicJob] = {}


JobFunc = Callable[[], object]


def periodic(*, every_seconds: float, name: str | None = None) -> Callable[[JobFunc], JobFunc]:
    """Register ``func`` to run every ``every_seconds`` in each worker."""

    def register(func: JobFunc) -> JobFunc:
        job_name = name or f"{func.__module__}.{func.__qualname__}"
        _jobs[job_name] = PeriodicJob(job_name, every_seconds, func)
        return func

    return register


def periodic_jobs() -> list[PeriodicJob]:
    # Apps register their jobs in a module named ``jobs``, imported here.
    import importlib

    from django.apps import apps
    from django.utils.module_loading import module_has_submodule

    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "jobs"):
            importlib.import_module(f"{config.name}.jobs")
    return list(_jobs.values())

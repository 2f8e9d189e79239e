"""Run a background worker: the django-tasks database queue plus the periodic jobs (expiry sweeps…).

Production runs one or more of these next to the ASGI server processes (see docs/operations.md).

The worker rides out database outages instead of exiting (issue 20): without it, nothing finalises the
attempts of citizens who went offline, closes rounds, ranks or exports. When PostgreSQL goes away —
stopped, restarted, failed over — both loops (the queue's and the periodic jobs') report to
``contest_engine.outages.database_outage`` (one log line when it goes down, reminders with counts, one when
it is back; no traceback per try), wait with a jittered exponential backoff and carry on when it answers
again. A task that was running when the connection was lost is not marked failed (the database error was
not the task's fault, and the row could not be written anyway): it is queued again by this worker as soon
as the database is back, and runs again (tasks are idempotent; at-least-once, as for a killed worker).
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection, connections
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks.base import TaskResultStatus
from django_tasks_db.compat import DEFAULT_TASK_BACKEND_ALIAS, TaskContext, task_finished, task_started
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from contest_engine.outages import Backoff, database_outage, is_database_unavailable, is_redis_unavailable, redis_outage
from contest_engine.periodic import periodic_jobs

logger = logging.getLogger(__name__)


class DatabaseLost(Exception):
    """The database connection was lost while a task ran; the task is queued again once it is back."""


def _close_all_connections() -> None:
    for alias in connections:
        try:
            connections[alias].close()
        except Exception:  # a connection to a server that is gone may fail to close cleanly
            logger.debug("closing connection %s failed", alias, exc_info=True)


def database_wait(*, stop: threading.Event | None = None, backoff: Backoff | None = None,
                  source: str = "worker") -> bool:
    """Block until the database answers ``SELECT 1`` (backing off between tries, each failure counted in
    ``database_outage``); True when it does, False if ``stop`` was set meanwhile."""
    backoff = backoff or Backoff()
    while stop is None or not stop.is_set():
        _close_all_connections()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as exc:
            if not is_database_unavailable(exc):
                raise
            database_outage.failed(exc, source=source)
            wait = backoff.next()
            if stop is not None:
                stop.wait(wait)
            else:
                time.sleep(wait)
            continue
        database_outage.succeeded()
        return True
    return False


def run_periodic_forever(stop: threading.Event) -> None:
    jobs = periodic_jobs()
    next_run = dict.fromkeys((job.name for job in jobs), 0.0)
    backoff = Backoff()
    redis_failing: set[str] = set()  # jobs whose last run met Redis away (live boards, pushes)
    while not stop.is_set():
        now = time.monotonic()
        for job in jobs:
            if now >= next_run[job.name]:
                next_run[job.name] = now + job.every_seconds
                try:
                    close_old_connections()
                    job.func()
                except Exception as exc:
                    if not is_database_unavailable(exc) and is_redis_unavailable(exc):
                        # Redis holds rebuildable views only: the job runs again at its next time, the others
                        # go on. One state line per outage, not a traceback per run.
                        redis_failing.add(job.name)
                        redis_outage.failed(exc, source=f"periodic {job.name}")
                        continue
                    if not is_database_unavailable(exc):
                        logger.exception("periodic job %s failed", job.name)
                        continue
                    # The database is away: every job would fail the same way. Wait until it is back, then
                    # run every job at once (the sweeps finish what fell due during the outage).
                    database_outage.failed(exc, source="periodic")
                    if not database_wait(stop=stop, backoff=backoff, source="periodic"):
                        return
                    backoff.reset()
                    next_run = dict.fromkeys(next_run, 0.0)
                    break
                else:
                    database_outage.succeeded()
                    if job.name in redis_failing:
                        redis_failing.discard(job.name)
                        if not redis_failing:
                            redis_outage.succeeded()
        stop.wait(0.5)


class ResilientWorker(Worker):
    """django-tasks-db's worker whose task runs tell a lost database from a failing task."""

    def run_task(self, db_task_result: DBTaskResult) -> None:
        # django-tasks-db's run_task, except that a lost database connection leaves the task claimed (it is
        # queued again after the outage, see requeue_interrupted) instead of recording it as failed.
        try:
            self.running_task = True
            task = db_task_result.task
            task_result = db_task_result.task_result
            backend_type = task.get_backend()
            task_started.send(sender=backend_type, task_result=task_result)
            if task.takes_context:
                return_value = task.call(TaskContext(task_result=task_result), *task_result.args,
                                         **task_result.kwargs)
            else:
                return_value = task.call(*task_result.args, **task_result.kwargs)
            db_task_result.set_successful(return_value)
            task_finished.send(sender=backend_type, task_result=db_task_result.task_result)
        except BaseException as exc:
            if isinstance(exc, Exception) and is_database_unavailable(exc):
                raise DatabaseLost(str(exc)) from exc
            try:
                db_task_result.set_failed(exc)
            except Exception as failure:
                if is_database_unavailable(failure):
                    raise DatabaseLost(str(failure)) from failure
                raise
            try:
                task_finished.send(sender=type(db_task_result.task.get_backend()),
                                   task_result=db_task_result.task_result)
            except Exception:
                logger.exception("Task id=%s failed unexpectedly", db_task_result.id)
        finally:
            self.running_task = False
            self._run_tasks += 1

    def requeue_interrupted(self) -> int:
        """Queue again the tasks this worker had claimed and could not finish (the database went away)."""
        mine = [pk for pk, workers in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
                .values_list("pk", "worker_ids") if workers and workers[-1] == self.worker_id]
        if not mine:
            return 0
        requeued = DBTaskResult.objects.filter(pk__in=mine, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.READY, started_at=None)
        logger.warning("queued again %d task(s) interrupted by the database outage", requeued)
        return requeued


class Command(BaseCommand):
    help = "Run the task queue worker and the periodic jobs (deadline sweeps, stale-task recovery)."

    def add_arguments(self, parser):
        parser.add_argument("--no-queue", action="store_true", help="Run only the periodic jobs.")
        parser.add_argument("--interval", type=float, default=1.0, help="Queue polling interval (s).")

    def handle(self, *args, **options):
        stop = threading.Event()
        ticker = threading.Thread(target=run_periodic_forever, args=(stop,), name="periodic", daemon=True)
        ticker.start()
        try:
            if options["no_queue"]:
                while True:
                    time.sleep(3600)
            else:
                self.run_queue(interval=options["interval"])
        finally:
            stop.set()

    def run_queue(self, *, interval: float) -> None:
        worker = ResilientWorker(queue_names=["*"], interval=interval, batch=False,
                                 backend_name=DEFAULT_TASK_BACKEND_ALIAS, startup_delay=True, max_tasks=None,
                                 worker_id=get_random_string(32), excluded_queue_names=[])
        worker.configure_signals()  # SIGTERM: finish the running task, then exit (django-tasks-db's rule)
        backoff = Backoff()
        while worker.running:
            try:
                worker.run()
                return
            except Exception as exc:
                if not (isinstance(exc, DatabaseLost) or is_database_unavailable(exc)):
                    raise
                database_outage.failed(exc, source="queue")
            worker.startup_delay = False
            database_wait(backoff=backoff, source="queue")
            backoff.reset()
            worker.requeue_interrupted()
            logger.debug("queue worker resumed at %s", timezone.now().isoformat())

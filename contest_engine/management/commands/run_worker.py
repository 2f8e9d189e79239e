"""Run a background worker: the django-tasks database queue plus the periodic jobs (expiry sweeps…).

Production runs one or more of these next to the ASGI server processes (see docs/operations.md).
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from contest_engine.periodic import periodic_jobs

logger = logging.getLogger(__name__)


def run_periodic_forever(stop: threading.Event) -> None:
    jobs = periodic_jobs()
    next_run = dict.fromkeys((job.name for job in jobs), 0.0)
    while not stop.is_set():
        now = time.monotonic()
        for job in jobs:
            if now >= next_run[job.name]:
                next_run[job.name] = now + job.every_seconds
                try:
                    close_old_connections()
                    job.func()
                except Exception:
                    logger.exception("periodic job %s failed", job.name)
        stop.wait(0.5)


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
                call_command("db_worker", queue_name="*", interval=options["interval"],
                             verbosity=options["verbosity"])
        finally:
            stop.set()

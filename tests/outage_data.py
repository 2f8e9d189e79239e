"""Data for the outage tests, written into a throwaway database (tests/services.py) by a child process.

The outage tests run the engine (a task worker, server processes) against a PostgreSQL cluster of their own
that they stop and start; the test process's own database connection is pytest-django's, on the shared
server. So the data those processes work on is made here, in a child process whose ``DATABASE_URL`` is the
throwaway database, with the project's factories::

    python -m tests.outage_data exam            → {"attempt_id": …, "cookie": …, "round_id": …, "contest_slug": …}
    python -m tests.outage_data exams N         → a list of N of those (N contests, one attempt each)
    python -m tests.outage_data expired [S]     → an attempt whose deadline + grace has passed (or passes in S s)
    python -m tests.outage_data slow-task S     → queue tests.outage_tasks.slow_task (sleeps S s, then a query)
    python -m tests.outage_data status ID       → {"status": …}

``run(command, *args, database_url=…)`` does that from a test and returns the printed JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


_database_suffixes: dict[str, str] = {}


def child_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a child process on ``database_url``. Its Redis prefix (pytest's, or ``REDIS_PREFIX``
    given) ends with a suffix drawn once per database: a throwaway database reuses round ids, and a prefix
    seen before (pytest's, or one made of a port that comes round again) would hand the child another
    database's cached draw candidates. Children on one database given the same prefix still share it."""
    env = os.environ.copy()
    base = extra.pop("REDIS_PREFIX", env.get("REDIS_PREFIX", "ce-test"))
    suffix = _database_suffixes.setdefault(database_url, uuid.uuid4().hex[:8])
    env.update({"DJANGO_SETTINGS_MODULE": "contest_engine.settings_test", "DATABASE_URL": database_url,
                "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "INFO", "REDIS_PREFIX": f"{base}-{suffix}", **extra})
    return env


def run(command: str, *args: str, database_url: str, **extra_env: str) -> Any:
    result = subprocess.run([sys.executable, "-m", "tests.outage_data", command, *args], cwd=ROOT,
                            env=child_env(database_url, **extra_env), capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"tests.outage_data {command} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _exam(expired: bool = False, due_in: float = 0.0) -> dict[str, Any]:
    import datetime as dt

    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from contests.models import Attempt
    from contests.services.attempts.start import attempt_start
    from tests.contests.factories import ContestFactory, RoundFactory, bank, register
    from tests.factories import CitizenProfileFactory, OrganisationFactory

    org = OrganisationFactory()
    bank(org, 6)
    now = timezone.now()
    contest = ContestFactory(organisation=org)
    round_ = RoundFactory(contest=contest, opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(days=1))
    user = CitizenProfileFactory(unit=org).user
    register(user, contest)
    attempt = attempt_start(user=user, round=round_)
    if expired:
        # Nobody will submit it (the phone went offline): its deadline + grace has passed, or passes in due_in s.
        grace = round_.settings.grace
        Attempt.objects.filter(pk=attempt.pk).update(started_at=now - dt.timedelta(minutes=10),
                                                     deadline=now + dt.timedelta(seconds=due_in) - grace)
    client = Client()
    client.force_login(user)
    return {"attempt_id": attempt.pk, "round_id": round_.pk, "user_id": user.pk, "contest_slug": contest.slug,
            "cookie": f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"}


def _status(attempt_id: str) -> dict[str, Any]:
    from contests.models import Answer, Attempt

    attempt = Attempt.objects.get(pk=int(attempt_id))
    return {"status": attempt.status, "answers": Answer.objects.filter(attempt=attempt).count(),
            "submitted_at": attempt.submitted_at.isoformat() if attempt.submitted_at else None}


def main(argv: list[str]) -> None:
    import django

    django.setup()
    command, *args = argv
    if command == "exam":
        out = _exam()
    elif command == "exams":
        out = [_exam() for _ in range(int(args[0]))]
    elif command == "expired":
        out = _exam(expired=True, due_in=float(args[0]) if args else 0.0)
    elif command == "slow-task":
        from tests.outage_tasks import slow_task

        out = {"task_id": str(slow_task.enqueue(seconds=float(args[0])).id)}
    elif command == "status":
        out = _status(*args)
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(out))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main(sys.argv[1:])

"""End-of-round benchmark: N attempts whose time is up, finished by the deadline sweeper (``manage.py
run_worker``'s ``contests.jobs.sweep_expired_attempts``), with five stored answers each.

Prints one JSON document: attempts finished, seconds, attempts/s, and the check that every attempt is
finished with the deadline as its finish time and scored. This is the peak at the close of a timed round,
when the citizens' clients are gone and the server submits for them.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ce_bench REDIS_URL=redis://127.0.0.1:6379/6 \\
      .venv/bin/python bench/sweep.py --attempts 10000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

import exam_load  # noqa: E402  (the same database set-up as the exam benchmark)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=10_000)
    parser.add_argument("--answers", type=int, default=5, help="stored answers per attempt")
    parser.add_argument("--fresh-db", action="store_true", help="drop and re-create the benchmark database first")
    parser.add_argument("--cold", action="store_true",
                        help="no warm-up: the measured sweep is the process's first (imports, URL patterns, the "
                             "live board's rebuild inside the figure)")
    args = parser.parse_args()
    db_url = os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ce_bench")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/6")
    os.environ.setdefault("REDIS_PREFIX", "ce-bench")
    exam_load.ensure_database(db_url, fresh=args.fresh_db)
    if args.fresh_db:
        exam_load.clear_redis_keys(os.environ["REDIS_URL"], os.environ["REDIS_PREFIX"])
    exam_load.migrate()
    exam_load.django_setup()

    from django.db.models import F
    from django.utils import timezone

    from contests.jobs import sweep_expired_attempts
    from contests.models import Answer, Attempt, AttemptQuestion, AttemptStatus, SubmitKind

    specs = exam_load.make_attempts(args.attempts + (0 if args.cold else 1), tag="w")
    ids = [spec["attempt_id"] for spec in specs]
    questions = AttemptQuestion.objects.filter(attempt_id__in=ids, position__lte=args.answers)
    now = timezone.now()
    Answer.objects.bulk_create([
        Answer(attempt_id=q.attempt_id, attempt_question_id=q.pk, client_seq=q.position, received_at=now,
               response={"options": [q.snapshot["options"][0]["id"]]})
        for q in questions.only("id", "attempt_id", "position", "snapshot").iterator(chunk_size=5000)
    ], batch_size=5000)
    deadline = now - dt.timedelta(minutes=5)  # past every round's grace
    Attempt.objects.filter(pk__in=ids).update(deadline=deadline)
    exam_load.settle_database()
    warmup = None
    if not args.cold:
        # A worker that has run before: modules imported, URL patterns resolved, the round's live board built.
        # One attempt of the same round, swept on its own first and not counted.
        first, ids = ids[0], ids[1:]
        Attempt.objects.filter(pk__in=ids).update(deadline=now + dt.timedelta(hours=1))
        started = time.perf_counter()
        assert sweep_expired_attempts() == 1
        warmup = round(time.perf_counter() - started, 2)
        assert Attempt.objects.get(pk=first).status == AttemptStatus.EXPIRED
        Attempt.objects.filter(pk__in=ids).update(deadline=deadline)

    started = time.perf_counter()
    swept = sweep_expired_attempts()
    seconds = time.perf_counter() - started
    finished = Attempt.objects.filter(pk__in=ids, status=AttemptStatus.EXPIRED, submit_kind=SubmitKind.AUTO,
                                      submitted_at=F("deadline"), score__isnull=False).count()
    scores = exam_load.verify_scores(set(ids)) if hasattr(exam_load, "verify_scores") else {}
    print(json.dumps({
        "attempts": args.attempts, "answers_per_attempt": args.answers, "swept": swept,
        "seconds": round(seconds, 2), "warmup_seconds": warmup,
        "attempts_per_second": round(swept / seconds, 1) if seconds else None,
        "finished_at_deadline_and_scored": finished, "all_finished": finished == args.attempts,
        "score_check": scores,  # every attempt re-scored by the Python reference: score_mismatch must be 0
    }, indent=2))


if __name__ == "__main__":
    main()

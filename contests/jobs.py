"""Periodic jobs of contests (run by ``manage.py run_worker``; see contest_engine.periodic)."""

from __future__ import annotations

from django.utils import timezone

from contest_engine.periodic import periodic
from contests.services.attempts.finish import attempts_sweep_expired

# Attempts finished per transaction: one statement scores them all (contests.services.attempts.finish), so a
# batch of 1,000 holds its row locks for a fraction of a second — and only rows past their grace.
SWEEP_BATCH = 1000


@periodic(every_seconds=2)
def sweep_expired_attempts() -> int:
    """Submit attempts whose deadline + grace has passed, even when their client is gone."""
    total = 0
    while True:  # drain a backlog (e.g. after the worker was down) in batches, each its own transaction
        done = attempts_sweep_expired(now=timezone.now(), batch=SWEEP_BATCH)
        total += done
        if done < SWEEP_BATCH:
            return total

"""Periodic jobs of contests (run by ``manage.py run_worker``; see contest_engine.periodic)."""

from __future__ import annotations

from django.utils import timezone

from contest_engine.periodic import periodic
from contests.services.attempts.finish import attempts_sweep_expired


@periodic(every_seconds=2)
def sweep_expired_attempts() -> int:
    """Submit attempts whose deadline + grace has passed, even when their client is gone."""
    total = 0
    while True:  # drain a backlog (e.g. after the worker was down) in batches, each its own transaction
        done = attempts_sweep_expired(now=timezone.now(), batch=500)
        total += done
        if done < 500:
            return total

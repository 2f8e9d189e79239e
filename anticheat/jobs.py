"""Periodic jobs of anticheat (``manage.py run_worker``; see contest_engine.periodic). Idempotent and safe
in several workers: a round's incremental run locks its settings row (skip_locked); the analysis after the
close replaces flags wholesale and stamps ``analysed_at``, one worker at a time per round (a PostgreSQL
advisory lock: two workers analysing one round together collided on the flags' unique constraint — found by
bench/faults --run worker-ranking, where two workers pick up a closed round at once)."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterator

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from anticheat.models import RoundCheckSettings
from anticheat.services import evidence_purge, round_analyse, round_checks_run
from contest_engine.periodic import periodic
from contests.models import Round

logger = logging.getLogger(__name__)


@periodic(every_seconds=60)
def check_open_rounds() -> int:
    """The in-exam checks of attempts finished in open rounds (and in the hour after their close)."""
    now = timezone.now()
    rounds = Round.objects.filter(opens_at__lte=now, closed_at__isnull=True).filter(
        Q(closes_at__gte=now - dt.timedelta(hours=1)) | Q(extended_until__gte=now - dt.timedelta(hours=1)))
    done = 0
    for round in rounds.select_related("contest")[:50]:
        try:
            round_checks_run(round=round, now=now)
            done += 1
        except Exception:
            logger.exception("anti-cheat checks of round %s failed", round.pk)
    return done


@periodic(every_seconds=60)
def analyse_closed_rounds() -> int:
    """Every check on the rounds officially closed since their last analysis (one round per run: a big round
    takes tens of seconds)."""
    analysed = RoundCheckSettings.objects.filter(analysed_at__gte=F("round__closed_at")).values("round_id")
    due = Round.objects.filter(closed_at__isnull=False, closed_at__gte=timezone.now() - dt.timedelta(days=30)) \
        .exclude(pk__in=analysed).order_by("closed_at")
    for round in due.select_related("contest")[:1]:
        with _analysis_lock(round.pk) as mine:
            if not mine or RoundCheckSettings.objects.filter(round=round, analysed_at__gte=round.closed_at).exists():
                return 0  # another worker is analysing it, or just did
            try:
                round_analyse(round=round)
                return 1
            except Exception:
                logger.exception("anti-cheat analysis of round %s failed", round.pk)
    return 0


ANALYSIS_LOCK = 1_201  # first key of the advisory lock "anti-cheat analysis of round <id>"


@contextlib.contextmanager
def _analysis_lock(round_id: int) -> Iterator[bool]:
    """Try the session-level advisory lock of this round's analysis; yields whether this worker holds it. The
    server releases it if the worker dies. Other databases (the embedded default's SQLite) run one worker."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ANALYSIS_LOCK, round_id])
        mine = bool(cursor.fetchone()[0])
    try:
        yield mine
    finally:
        if mine:
            with contextlib.suppress(Exception), connection.cursor() as cursor:  # a lost connection freed it
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ANALYSIS_LOCK, round_id])


@periodic(every_seconds=3600)
def purge_old_evidence() -> int:
    """Network and device evidence past its round's retention (docs/privacy.md)."""
    return evidence_purge()

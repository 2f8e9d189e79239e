"""Periodic jobs of anticheat (``manage.py run_worker``; see contest_engine.periodic). Idempotent and safe
in several workers: a round's incremental run locks its settings row (skip_locked); the analysis after the
close replaces flags wholesale and stamps ``analysed_at``."""

from __future__ import annotations

import datetime as dt
import logging

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
        try:
            round_analyse(round=round)
            return 1
        except Exception:
            logger.exception("anti-cheat analysis of round %s failed", round.pk)
    return 0


@periodic(every_seconds=3600)
def purge_old_evidence() -> int:
    """Network and device evidence past its round's retention (docs/privacy.md)."""
    return evidence_purge()

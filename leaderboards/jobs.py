"""Periodic jobs of leaderboards (run by ``manage.py run_worker``; see contest_engine.periodic).

Both are idempotent and safe in several workers at once: the close locks the round row and returns the
existing ranking; a rebuild takes a per-round lock key.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from contest_engine.outages import is_database_unavailable
from contest_engine.periodic import periodic
from contests.models import Round
from leaderboards.errors import RoundNotClosed
from leaderboards.models import RoundRanking
from leaderboards.services.boards import get_board
from leaderboards.services.live import leaderboard_rebuild
from leaderboards.services.ranking import round_close

logger = logging.getLogger(__name__)

# Wait this long after a round's (extended) close before closing it officially: every attempt's deadline
# is ≤ the close, so after the grace period nothing can still be submitted (a round whose grace is longer
# than this is refused by round_close until its grace has passed, and closed on a later run).
CLOSE_MARGIN = dt.timedelta(minutes=2)


@periodic(every_seconds=30)
def close_due_rounds() -> int:
    """Officially close rounds whose close has passed: prediction target, then the stored official ranking.
    Also ranks rounds that are closed without a ranking: the close commits before the ranking is computed,
    so a worker killed in between (or during the computation) leaves such a round, ranked here once."""
    cutoff = timezone.now() - CLOSE_MARGIN
    due = Round.objects.filter(
        Q(closed_at__isnull=True)
        & (Q(extended_until__isnull=True, closes_at__lt=cutoff)
           | Q(extended_until__isnull=False, extended_until__lt=cutoff, closes_at__lt=cutoff))
        | Q(closed_at__isnull=False) & ~Exists(RoundRanking.objects.filter(round_id=OuterRef("pk"))))
    done = 0
    for round in due.select_related("contest").order_by("pk")[:20]:
        try:
            round_close(round=round, actor=None, now=timezone.now())
            done += 1
        except RoundNotClosed:
            continue  # a grace longer than the margin: still accepting, closed on a later run
        except Exception as exc:
            if is_database_unavailable(exc):
                raise  # the worker waits for the database, then closes every due round
            logger.exception("official close of round %s failed", round.pk)
    return done


@periodic(every_seconds=15)
def rebuild_lost_boards() -> int:
    """Rebuild the live boards of open rounds that Redis lost (restart, eviction, flush)."""
    now = timezone.now()
    board = get_board()
    rebuilt = 0
    for round in Round.objects.filter(opens_at__lte=now, closed_at__isnull=True).select_related("contest")[:200]:
        if not board.is_ready(round.pk):
            leaderboard_rebuild(round=round)
            rebuilt += 1
    return rebuilt

"""Hooks into other apps, connected in LeaderboardsConfig.ready()."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Q

from contests.errors import RoundResultsPublished
from contests.services.overrides import register_reopen_guard
from leaderboards.models import RankingStatus, RoundRanking
from leaderboards.services.live import leaderboard_record_attempts
from leaderboards.tasks import rescore_question_task
from questionbank.services.review import question_corrected
from realtime.events import attempts_submitted

logger = logging.getLogger(__name__)


def on_attempts_submitted(sender: Any, attempts: list[Any], **kwargs: Any) -> None:
    """After the commit of a batch of submits (client, other tab, sweeper): update the live boards."""
    try:
        leaderboard_record_attempts(attempts=attempts)
    except Exception:  # the board is a rebuildable view; never fail the submit path
        logger.exception("live leaderboard update for attempts %s failed", [getattr(a, "pk", None) for a in attempts])


def on_question_corrected(sender: Any, question: Any, audit_event: Any = None, **kwargs: Any) -> None:
    """A reviewer corrected a drawn question (sent after commit): rescore its attempts on the task queue."""
    rescore_question_task.enqueue(question_id=question.pk, actor_id=getattr(audit_event, "actor_id", None))


def refuse_reopen_once_published(round: Any) -> None:
    """A round whose official results were ever published is history: it may not be reopened or extended
    (contests.services.overrides asks every registered guard). A withdrawn or superseded version had been
    published too."""
    once_published = Q(published_at__isnull=False) | Q(status__in=[
        RankingStatus.PUBLISHED, RankingStatus.SUPERSEDED, RankingStatus.WITHDRAWN])
    if RoundRanking.objects.filter(once_published, round_id=round.pk).exists():
        raise RoundResultsPublished()


def connect() -> None:
    register_reopen_guard(refuse_reopen_once_published)
    attempts_submitted.connect(on_attempts_submitted, dispatch_uid="leaderboards.on_attempts_submitted")
    question_corrected.connect(on_question_corrected, dispatch_uid="leaderboards.on_question_corrected")

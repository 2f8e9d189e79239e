"""Hooks into other apps, connected in LeaderboardsConfig.ready()."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save

from contests.errors import RoundResultsPublished
from contests.models import Attempt, Registration
from contests.services.overrides import register_reopen_guard
from leaderboards.models import RankingStatus, RoundRanking, UnitPopulation
from leaderboards.services import unit_push
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
    try:  # the units dashboard: one mark per contest of the batch (already after the commit)
        for contest_id in unit_push.contest_ids_of_rounds({a.round_id for a in attempts}):
            unit_push.unit_dashboard_changed(contest_id=contest_id)
    except Exception:
        logger.exception("units dashboard mark for attempts %s failed", [getattr(a, "pk", None) for a in attempts])


def _units_changed_on_commit(contest_id: int | None = None, round_id: int | None = None) -> None:
    """Mark the contest's units dashboard once the current transaction commits (never fails the writer)."""

    def mark() -> None:
        try:
            ids = {contest_id} if contest_id is not None else unit_push.contest_ids_of_rounds([round_id])
            for cid in ids:
                unit_push.unit_dashboard_changed(contest_id=cid)
        except Exception:
            logger.exception("units dashboard mark (contest %s, round %s) failed", contest_id, round_id)

    transaction.on_commit(mark, robust=True)


def on_registration_saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if created:  # "registered" per unit
        _units_changed_on_commit(contest_id=instance.contest_id)


def on_attempt_created(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if created:  # "in progress" per unit (finishing comes through attempts_submitted)
        _units_changed_on_commit(round_id=instance.round_id)


def on_ranking_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    _units_changed_on_commit(round_id=instance.round_id)  # winners per unit


def on_population_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    _units_changed_on_commit(contest_id=instance.contest_id)  # participation rates


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
    post_save.connect(on_registration_saved, sender=Registration, dispatch_uid="leaderboards.units_registration")
    post_save.connect(on_attempt_created, sender=Attempt, dispatch_uid="leaderboards.units_attempt")
    post_save.connect(on_ranking_saved, sender=RoundRanking, dispatch_uid="leaderboards.units_ranking")
    post_save.connect(on_population_changed, sender=UnitPopulation, dispatch_uid="leaderboards.units_population")
    post_delete.connect(on_population_changed, sender=UnitPopulation,
                        dispatch_uid="leaderboards.units_population_deleted")

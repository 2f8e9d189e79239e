"""Periodic jobs: rounds past their close are closed and ranked once; lost boards of open rounds rebuilt."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from leaderboards.jobs import close_due_rounds, rebuild_lost_boards
from leaderboards.models import RoundRanking

pytestmark = pytest.mark.django_db


def test_close_due_rounds_is_idempotent(memory_lb, people, lb_round):
    people.attempt(1, score="5")
    assert close_due_rounds() == 1
    assert close_due_rounds() == 0
    assert RoundRanking.objects.filter(round=lb_round).count() == 1


def test_a_round_still_within_its_close_margin_waits(memory_lb, people, lb_round):
    lb_round.closes_at = timezone.now() - dt.timedelta(seconds=30)
    lb_round.save()
    assert close_due_rounds() == 0


def test_lost_boards_of_open_rounds_are_rebuilt(redis_lb, people, lb_round):
    lb_round.closes_at = timezone.now() + dt.timedelta(days=1)
    lb_round.save()
    people.attempt(1, score="5")
    assert rebuild_lost_boards() == 1
    assert redis_lb.count(lb_round.pk, "live") == 1
    assert rebuild_lost_boards() == 0


def test_a_closed_round_left_without_a_ranking_is_ranked_once(memory_lb, people, lb_round):
    from contests.services.contests import round_close as contests_round_close

    people.attempt(1, score="5")
    contests_round_close(round=lb_round)  # the close committed; the worker died before ranking
    assert close_due_rounds() == 1
    assert close_due_rounds() == 0
    assert RoundRanking.objects.filter(round=lb_round).count() == 1


def test_a_round_whose_grace_outlasts_the_margin_is_closed_after_it(memory_lb, people, lb_round, caplog):
    people.attempt(1, score="5")
    lb_round.grace_seconds = 600  # ten minutes of grace: still accepting three minutes after the close
    lb_round.closes_at = timezone.now() - dt.timedelta(minutes=3)
    lb_round.save()
    assert close_due_rounds() == 0
    assert not RoundRanking.objects.filter(round=lb_round).exists()
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    lb_round.closes_at = timezone.now() - dt.timedelta(minutes=11)
    lb_round.save()
    assert close_due_rounds() == 1

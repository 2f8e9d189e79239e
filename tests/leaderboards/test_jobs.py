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

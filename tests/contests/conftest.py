from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.contests.factories import ContestFactory, RoundFactory, bank, register


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def questions(org_a):
    return bank(org_a, 12)


@pytest.fixture
def contest(org_a, questions):
    return ContestFactory(organisation=org_a)


@pytest.fixture
def round_(contest, now):
    return RoundFactory(contest=contest, opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(days=1))


@pytest.fixture
def registration(citizen, contest):
    return register(citizen, contest)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Blueprint candidates are cached; each test starts from an empty cache (this helper's Redis db)."""
    from django.core.cache import cache

    cache.clear()


"""A small world for the read API: organisation A's closed round with a published official ranking, a flag, a
draft contest; organisation B's contest with an unpublished ranking; tokens made by the service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from api.services import api_token_create
from tests.contests.factories import ContestFactory, RoundFactory
from tests.exports.factories import ResultsData, results_round


@dataclass
class ApiWorld:
    results: ResultsData
    ranking: Any
    draft: Any
    draft_round: Any
    flag: Any
    results_b: ResultsData
    ranking_b: Any

    @property
    def round(self) -> Any:
        return self.results.round

    @property
    def contest(self) -> Any:
        return self.results.round.contest


def publish(ranking: Any) -> Any:
    from leaderboards.models import RankingStatus, RoundRanking

    RoundRanking.objects.filter(pk=ranking.pk).update(status=RankingStatus.PUBLISHED, published_at=timezone.now())
    ranking.refresh_from_db()
    return ranking


@pytest.fixture
def api_world(org_a, org_b) -> ApiWorld:
    from anticheat.models import Flag
    from leaderboards.services.ranking import ranking_compute

    results = results_round(org_a, people=4)
    ranking = publish(ranking_compute(round=results.round, prize_places=2))
    draft = ContestFactory(organisation=org_a, visibility="draft", title="Cuộc thi nháp của A")
    draft_round = RoundFactory(contest=draft)
    now = timezone.now()
    flag = Flag.objects.create(round=results.round, attempt=results.attempts[0], unit=results.attempts[0].unit,
                               kind="fast_answers", severity="high", severity_rank=3, score=0.9,
                               evidence={"share": 0.9, "network": "203.0.113.0/24"}, created_at=now, updated_at=now)
    results_b = results_round(org_b, people=2)
    ranking_b = ranking_compute(round=results_b.round, prize_places=1)  # B's ranking: computed, not published
    return ApiWorld(results=results, ranking=ranking, draft=draft, draft_round=draft_round, flag=flag,
                    results_b=results_b, ranking_b=ranking_b)


@pytest.fixture
def make_token(db):
    def make(organisation: Any, *scopes: str, **kwargs: Any) -> str:
        return api_token_create(organisation=organisation, name="Cổng liên thông (thử)", scopes=scopes, actor=None,
                                **kwargs)[1]
    return make


@pytest.fixture(autouse=True)
def _own_rate_limit_counters(settings, monkeypatch):
    """Rate-limit counters live in the cache (Redis). Each test gets a cache key prefix of its own, so that no
    other test — in this process or another xdist worker sharing the prefix, clearing ``rl:*`` keys or
    counting from the same client address — moves its counters; and the fixed windows' clock stands still
    one second into the current hour (no window edge mid-test)."""
    import copy
    import time
    import uuid

    from accounts import ratelimit

    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"{caches['default'].get('KEY_PREFIX', '')}:api-test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches
    start = time.time()
    monkeypatch.setattr(ratelimit, "clock", lambda: start - start % 3600 + 1)


class ApiClient:
    """The test client speaking to /api/v1/ with an optional bearer token."""

    def __init__(self, token: str | None = None) -> None:
        self.client = Client()
        self.token = token

    def get(self, path: str, **extra: Any) -> Any:
        headers = dict(extra.pop("headers", {}))
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.get(f"/api/v1{path}", headers=headers, **extra)


@pytest.fixture
def anon() -> ApiClient:
    return ApiClient()


@pytest.fixture
def bearer():
    return ApiClient

from __future__ import annotations

import pytest

from tests.exports.factories import results_round
from tests.factories import make_staff


@pytest.fixture
def judge_a(org_a):
    return make_staff(org_a, "judge")


@pytest.fixture
def judge_a2(org_a):
    return make_staff(org_a, "judge")


@pytest.fixture
def judge_a3(org_a):
    return make_staff(org_a, "judge")


@pytest.fixture
def results(org_a):
    return results_round(org_a)


@pytest.fixture
def ranking(results):
    from leaderboards.services.ranking import ranking_compute

    return ranking_compute(round=results.round, prize_places=2)

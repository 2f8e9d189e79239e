from __future__ import annotations

import pytest

from tests.exports.factories import results_round
from tests.factories import make_staff


@pytest.fixture
def judge_a(org_a):
    return make_staff(org_a, "judge")


@pytest.fixture
def writer_a(org_a):
    return make_staff(org_a, "writer")


@pytest.fixture
def results(org_a):
    return results_round(org_a)


@pytest.fixture
def export_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT

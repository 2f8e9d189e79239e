from __future__ import annotations

from pathlib import Path

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
    """Export files go to the private storage (a scratch folder under the test settings), never to public
    media; public media points at another scratch folder so a misplaced file would show there."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.STORAGES["private"]["OPTIONS"]["location"])

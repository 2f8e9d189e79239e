from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded question media and pending import files go to a temporary directory, not the project."""
    settings.MEDIA_ROOT = tmp_path / "media"

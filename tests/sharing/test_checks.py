"""The system checks of PUBLIC_BASE_URL."""

from __future__ import annotations

import pytest

from sharing.checks import check_public_base_url, check_public_base_url_set


@pytest.mark.parametrize("value", ["https://thi.cantho.gov.vn", "http://127.0.0.1:8000", ""])
def test_a_scheme_and_host_is_accepted(settings, value):
    settings.PUBLIC_BASE_URL = value
    assert check_public_base_url() == []


@pytest.mark.parametrize("value", ["thi.cantho.gov.vn", "https://thi.cantho.gov.vn/contests", "ftp://x.vn",
                                   "https://x.vn?a=1", "https://"])
def test_anything_else_is_an_error(settings, value):
    settings.PUBLIC_BASE_URL = value
    assert [e.id for e in check_public_base_url()] == ["sharing.E001"]


def test_check_deploy_warns_when_it_is_unset(settings):
    settings.PUBLIC_BASE_URL = ""
    assert [w.id for w in check_public_base_url_set()] == ["sharing.W001"]
    settings.PUBLIC_BASE_URL = "https://thi.cantho.gov.vn"
    assert check_public_base_url_set() == []

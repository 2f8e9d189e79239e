"""An organiser's forms in the admin, in Chromium (vi-VN, phone and desktop): the new-contest form saves with
its defaults and a title, the slug is transliterated from the Vietnamese title, every message is Vietnamese."""

from __future__ import annotations

import pytest

from contests.models import Contest
from tests.browser.conftest import english_left, login
from tests.contests.factories import bank
from tests.factories import OrganisationFactory, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TITLE = "Tìm hiểu Luật Giao thông đường bộ 2026"


def test_a_new_contest_saves_with_its_defaults_and_a_transliterated_slug(asgi_server, any_page):
    page = any_page
    org = OrganisationFactory(name="Sở Tư pháp (thử)")
    bank(org, 6)
    organiser = make_staff(org, "organiser")
    login(page, asgi_server, organiser.username)

    # Saved without a title: the error banner and the field error are Vietnamese.
    page.goto(f"{asgi_server}/admin/contests/contest/add/")
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    assert page.locator(".errornote").inner_text().strip() == "Vui lòng sửa các lỗi dưới đây."
    assert english_left(page, "#content") == []

    page.goto(f"{asgi_server}/admin/contests/contest/add/")
    assert english_left(page, "#content") == []
    page.fill("#id_title", TITLE)
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    assert page.locator(".errornote").count() == 0, page.locator("#content").inner_text()[:2000]
    contest = Contest.objects.get()
    assert contest.slug == "tim-hieu-luat-giao-thong-duong-bo-2026"
    assert contest.organisation == org
    assert contest.scoring_rule == "weighted"
    assert contest.visibility == "draft"
    assert english_left(page, "#content") == []

    # A second contest with the same title gets the next free address.
    page.goto(f"{asgi_server}/admin/contests/contest/add/")
    page.fill("#id_title", TITLE)
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    assert sorted(Contest.objects.values_list("slug", flat=True)) == [
        "tim-hieu-luat-giao-thong-duong-bo-2026", "tim-hieu-luat-giao-thong-duong-bo-2026-2"]


def test_a_password_too_short_is_explained_in_vietnamese(asgi_server, phone_page):
    """Django's Vietnamese catalogue lacks the plural of its own password message (citizens saw English)."""
    page = phone_page
    page.goto(f"{asgi_server}/accounts/signup/")
    page.fill("#id_password1", "abc")
    page.fill("#id_password2", "abc")
    page.get_by_role("button", name="Đăng ký", exact=True).click()
    page.wait_for_load_state()
    assert "Mật khẩu này quá ngắn. Mật khẩu phải có ít nhất 8 ký tự." in page.locator("main").inner_text()
    assert english_left(page, "main") == []

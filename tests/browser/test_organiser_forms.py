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


def test_the_blueprint_is_a_form_with_topics_by_name_counts_minutes_and_checks(asgi_server, any_page):
    from contests.models import Contest
    from questionbank.models import Topic
    from tests.contests.factories import ContestFactory

    page = any_page
    org = OrganisationFactory(name="Sở Tư pháp (thử)")
    traffic = Topic.objects.create(name="Luật Giao thông")
    fines = Topic.objects.create(name="Xử phạt", parent=traffic)
    family = Topic.objects.create(name="Hôn nhân và gia đình")
    bank(org, 4, topic=fines, difficulty="medium")
    bank(org, 3, topic=family, difficulty="easy")
    contest = ContestFactory(organisation=org, title="Cuộc thi thử", blueprint=[
        {"topic_id": None, "difficulty": None, "count": 5, "points": None}], time_limit_seconds=900)
    organiser = make_staff(org, "organiser")
    login(page, asgi_server, organiser.username)
    page.goto(f"{asgi_server}/admin/contests/contest/{contest.pk}/change/")
    assert page.input_value("#id_time_limit_seconds") == "15"  # minutes, not seconds
    # Topics by name, with what the bank holds beside each.
    options = page.locator("#blueprint-0-topic option").all_inner_texts()
    assert "— Luật Giao thông / Xử phạt — 4 câu (dễ 0 · TB 4 · khó 0)" in options
    assert any(o.startswith("mọi chủ đề — 7 câu") for o in options)
    # Two overlapping rows (a topic and its parent) that cannot both be filled: shown before saving.
    page.select_option("#blueprint-0-topic", str(fines.pk))
    page.fill("#blueprint-0-count", "3")
    page.select_option("#blueprint-1-topic", str(traffic.pk))
    page.fill("#blueprint-1-count", "3")
    page.fill("#id_time_limit_seconds", "20")
    page.get_by_role("button", name="Kiểm tra cấu trúc đề (chưa lưu)").click()
    page.wait_for_load_state()
    assert "chưa lưu gì" in page.locator(".errorlist.nonfield").inner_text()
    overlaps = page.locator(".blueprint-overlaps").inner_text()
    assert "dòng 1, dòng 2" in overlaps
    assert "cần 6, có chung 4 câu (không đủ: thiếu 2 câu)" in overlaps
    assert Contest.objects.get(pk=contest.pk).blueprint[0]["count"] == 5  # nothing saved
    assert page.input_value("#id_time_limit_seconds") == "20"
    # Fewer questions in the parent topic: the rows overlap but can be filled; saved.
    page.fill("#blueprint-1-count", "1")
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    assert page.locator(".errornote").count() == 0, page.locator("#content").inner_text()[:1500]
    contest.refresh_from_db()
    assert contest.blueprint == [
        {"topic_id": fines.pk, "difficulty": None, "count": 3, "points": None},
        {"topic_id": traffic.pk, "difficulty": None, "count": 1, "points": None}]
    assert contest.time_limit_seconds == 1200
    assert english_left(page, "#content") == []

"""The blueprint check before any draw, in Chromium (issue 16): two rows the bank can fill together, but in an
order where "every topic", drawn first, may take the fines questions the second row needs. The form names the
rows and how many questions may be short, refuses to save, and saves once the narrower row is moved up."""

from __future__ import annotations

import pytest

from tests.browser.conftest import any_page, chromium, english_left, login, page_fits  # noqa: F401
from tests.contests.factories import bank
from tests.factories import OrganisationFactory, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_an_order_that_can_leave_a_row_short_is_reported_before_the_draw(asgi_server, any_page):  # noqa: F811
    from contests.models import Contest
    from questionbank.models import Topic
    from tests.contests.factories import ContestFactory

    page = any_page
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
    org = OrganisationFactory(name="Sở Tư pháp (thử)")
    traffic = Topic.objects.create(name="Luật Giao thông")
    fines = Topic.objects.create(name="Xử phạt", parent=traffic)
    bank(org, 3, topic=fines)
    bank(org, 3)
    contest = ContestFactory(organisation=org, title="Cuộc thi thử", blueprint=[
        {"topic_id": None, "difficulty": None, "count": 5, "points": None}], time_limit_seconds=900)
    organiser = make_staff(org, "organiser")
    login(page, asgi_server, organiser.username)
    page.goto(f"{asgi_server}/admin/contests/contest/{contest.pk}/change/")
    page.fill("#blueprint-0-count", "4")
    page.select_option("#blueprint-1-topic", str(fines.pk))
    page.fill("#blueprint-1-count", "2")
    page.get_by_role("button", name="Kiểm tra cấu trúc đề (chưa lưu)").click()
    page.wait_for_load_state()
    order = page.locator(".blueprint-competition").inner_text()
    assert "dòng 2 (Luật Giao thông / Xử phạt × mọi độ khó) có thể thiếu 2 câu" in order
    assert "dòng 1" in order
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    assert "Ô #2 («Luật Giao thông / Xử phạt × mọi độ khó») có thể thiếu 2 câu khi rút đề" in (
        page.locator("#content").inner_text())
    assert Contest.objects.get(pk=contest.pk).blueprint[0]["count"] == 5  # nothing saved
    # The narrower row first: saved.
    page.select_option("#blueprint-0-topic", str(fines.pk))
    page.fill("#blueprint-0-count", "2")
    page.select_option("#blueprint-1-topic", "")
    page.fill("#blueprint-1-count", "4")
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    assert page.locator(".errornote").count() == 0, page.locator("#content").inner_text()[:1500]
    assert Contest.objects.get(pk=contest.pk).blueprint == [
        {"topic_id": fines.pk, "difficulty": None, "count": 2, "points": None},
        {"topic_id": None, "difficulty": None, "count": 4, "points": None}]
    assert english_left(page, "#content") == []
    assert not [e for e in console if "Content Security Policy" in e or "Refused" in e]

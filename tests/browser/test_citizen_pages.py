"""The citizen's pages on a 360-px phone and a desktop (Chromium, vi-VN): the schedule fits the screen, no dead
"Câu sau" when every question is on one page, a multiple-answer question says so to sighted and screen-reader
users, no request 404s (the favicon), and the JavaScript catalogue comes compressed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from contests.services.attempts.start import attempt_start
from questionbank.models import QuestionOption
from tests.browser.conftest import login, page_fits, wait_for_js
from tests.contests.factories import ContestFactory, QuestionFactory, RoundFactory, register
from tests.factories import CitizenProfileFactory, OrganisationFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_citizen_pages(asgi_server, any_page):
    page = any_page
    failed, catalogue = [], {}
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.on("response", lambda r: catalogue.update(r.headers) if "/jsi18n/" in r.url else None)
    unit = OrganisationFactory(name="Phường Ninh Kiều (thử)")
    for _ in range(3):
        QuestionFactory(organisation=unit, type="single")
    multiple = QuestionFactory(organisation=unit, type="multiple", options=[])
    for pos, (text, fraction) in enumerate([("Giấy phép lái xe", "0.5"), ("Đăng ký xe", "0.5"), ("Sổ hộ khẩu", "-1")]):
        QuestionOption.objects.create(question=multiple, position=pos, text=text, fraction=fraction)
    contest = ContestFactory(organisation=unit, title="Tìm hiểu Luật Trật tự, an toàn giao thông đường bộ năm 2024",
                             slug="thi-giao-thong", blueprint=[{"topic_id": None, "difficulty": None, "count": 4,
                                                               "points": None}])
    now = timezone.now()
    round = RoundFactory(contest=contest, name="Tuần thứ nhất (thi thử trực tuyến)",
                         opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(days=7))
    RoundFactory(contest=contest, name="Tuần thứ hai (thi chính thức)", opens_at=now + dt.timedelta(days=7),
                 closes_at=now + dt.timedelta(days=14))
    citizen = CitizenProfileFactory(unit=unit).user
    register(citizen, contest)
    attempt = attempt_start(user=citizen, round=round)

    page.goto(f"{asgi_server}/contests/{contest.slug}/")
    assert page_fits(page)  # the schedule: one card per round on a phone, a table on a desktop
    assert "Tuần thứ hai (thi chính thức)" in page.locator("table.schedule").inner_text()
    login(page, asgi_server, citizen.phone)
    page.goto(f"{asgi_server}/contests/attempts/{attempt.pk}/")
    page.wait_for_selector("#q-4")
    # Every question on one page: no pager, no "Câu sau".
    assert not page.get_by_role("button", name="Câu sau").is_visible()
    assert not page.locator("#exam-pager").is_visible()
    # The multiple-answer question says it takes several answers, on screen and as the group's description.
    position = next(q.position for q in attempt.questions.all() if q.question_id == multiple.pk)
    group = page.get_by_role("group", name=f"Câu {position}/4")
    hint = page.locator(f"#q-{position} .question-hint")
    assert hint.is_visible()
    assert hint.inner_text() == "Chọn một hoặc nhiều đáp án"
    assert group.get_attribute("aria-describedby") == hint.get_attribute("id")
    assert page.locator(".question-hint").count() == 1  # single-answer questions have none
    assert page_fits(page)
    assert catalogue.get("content-encoding") == "gzip"
    assert "max-age=3600" in catalogue.get("cache-control", "")
    assert failed == []  # the favicon included
    favicon = page.request.get(f"{asgi_server}/favicon.ico")
    assert favicon.status == 200
    assert favicon.headers["content-type"] == "image/x-icon" or favicon.headers["content-type"].startswith("image/")


def test_an_answer_too_long_for_a_frame_is_not_sent(asgi_server, phone_page):
    """A frame over the ASGI server's limit makes Daphne drop the connection; the page never sends one (it says
    the answer is too long), so the socket stays connected and nothing loops on reconnect."""
    page = phone_page
    unit = OrganisationFactory(name="Phường Ninh Kiều (thử)")
    QuestionFactory(organisation=unit, type="short")  # the only question of the bank
    contest = ContestFactory(organisation=unit, blueprint=[{"topic_id": None, "difficulty": None, "count": 1,
                                                           "points": None}])
    now = timezone.now()
    round = RoundFactory(contest=contest, opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(days=1))
    citizen = CitizenProfileFactory(unit=unit).user
    register(citizen, contest)
    attempt = attempt_start(user=citizen, round=round)
    login(page, asgi_server, citizen.phone)
    page.goto(f"{asgi_server}/contests/attempts/{attempt.pk}/")
    page.wait_for_selector("#in-1")
    page.fill("#in-1", "a" * 70_000)
    wait_for_js(page, "document.getElementById('st-1').textContent.indexOf('quá dài') >= 0", timeout=5000)
    assert page.locator("#st-1").inner_text() == "Câu trả lời quá dài, chưa gửi được — hãy rút gọn."
    page.wait_for_timeout(1500)
    assert page.locator("#exam-conn").inner_text() == "Đã kết nối"
    assert page.evaluate(f"JSON.parse(localStorage.getItem('ce.exam.{attempt.pk}') || '{{}}').pending || {{}}") == {}

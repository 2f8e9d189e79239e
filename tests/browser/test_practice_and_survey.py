"""On a 360-px phone in Debian's Chromium against a real Daphne server: a citizen practises (answer → feedback
with the explanation and citation → next question → summary), and a survey is answered by a citizen, then its
results chart is seen by the organiser."""

from __future__ import annotations

import re

import pytest
from django.db import connections

from practice.models import PracticeItem, PracticeSession
from questionbank.models import Topic
from surveys.models import SurveyResponse
from tests.browser.conftest import wait_for_js
from tests.contests.factories import QuestionFactory
from tests.factories import CitizenProfileFactory, OrganisationFactory, make_staff
from tests.surveys.factories import make_survey

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def log_in(page, server, user) -> None:
    page.goto(f"{server}/accounts/login/")
    page.fill("#id_username", user.phone)
    page.fill("#id_password", "mat-khau-an-toan-1")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def test_practice_session_with_feedback(asgi_server, phone_page):
    page = phone_page
    owner = OrganisationFactory(name="Sở Tư pháp (thử)")
    topic = Topic.objects.create(name="Hôn nhân và gia đình")
    for n in range(3):
        QuestionFactory(organisation=owner, topic=topic, stem=f"<p>Độ tuổi kết hôn câu {n}?</p>",
                        options=[("Nam 20, nữ 18", "1"), ("Nam 18, nữ 18", "0"), ("Nam 21, nữ 19", "0")],
                        explanation="<p>Nam từ đủ 20 tuổi, nữ từ đủ 18 tuổi.</p>", citation_document="52/2014/QH13",
                        citation_article="8", citation_clause="1")
    citizen = CitizenProfileFactory(unit=owner).user
    log_in(page, asgi_server, citizen)
    page.goto(f"{asgi_server}/practice/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.select_option("#p-count", "5")
    page.select_option("#p-topic", label="Hôn nhân và gia đình (3 câu)")
    page.get_by_role("button", name="Luyện tập chủ đề này").click()
    page.wait_for_url(re.compile(r".*/practice/sessions/\d+/$"))
    assert page.locator("legend").inner_text() == "Câu 1/3"
    assert page.locator(".explanation").count() == 0
    page.get_by_label("Nam 18, nữ 18").check()
    page.get_by_role("button", name="Trả lời").click()
    assert page.get_by_role("heading", name="Chưa đúng").is_visible()
    assert "Nam từ đủ 20 tuổi" in page.locator(".explanation").inner_text()
    assert page.locator(".citation").inner_text() == "Căn cứ: Khoản 1, Điều 8, 52/2014/QH13"
    assert "đáp án đúng" in page.locator(".review-options li.correct").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("link", name="Câu tiếp theo").click()
    assert page.locator("legend").inner_text() == "Câu 2/3"
    page.get_by_label("Nam 20, nữ 18").check()
    page.get_by_role("button", name="Trả lời").click()
    assert page.get_by_role("heading", name="Chính xác!").is_visible()
    page.get_by_role("link", name="Câu tiếp theo").click()
    page.get_by_label("Nam 20, nữ 18").check()
    page.get_by_role("button", name="Trả lời").click()
    page.get_by_role("link", name="Xem kết quả").click()
    assert page.locator("#practice-score").inner_text().startswith("2/3")
    session = PracticeSession.objects.get(user=citizen)
    assert session.finished_at is not None
    assert PracticeItem.objects.filter(session=session, is_correct=True).count() == 2
    page.goto(f"{asgi_server}/practice/")
    assert page.locator("#stat-answered").inner_text() == "3"
    assert page.locator("#stat-rate").inner_text() == "66,7%"
    assert page.locator("#stat-streak").inner_text() == "1"


def test_survey_answered_then_chart_seen_by_the_organiser(asgi_server, chromium):
    owner = OrganisationFactory(name="Sở Tư pháp (thử)")
    survey = make_survey(owner, anonymous=True, title="Nhu cầu tìm hiểu pháp luật 2026")
    citizen = CitizenProfileFactory(unit=owner).user
    organiser = make_staff(owner, "organiser")
    context = chromium.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", is_mobile=True,
                                   has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        log_in(page, asgi_server, citizen)
        page.goto(f"{asgi_server}/surveys/")
        page.get_by_role("link", name="Nhu cầu tìm hiểu pháp luật 2026").click()
        wide = page.evaluate("Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect()"
                             ".right > 360).map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, wide
        page.get_by_label("Truyền hình").check()
        page.get_by_label("Đất đai").check()
        page.get_by_label("Giao thông").check()
        scale = survey.questions.get(kind="scale")
        page.locator(f"input[name='q{scale.pk}'][value='4']").check()
        page.locator("textarea").fill("Cần thêm buổi tuyên truyền ở khu phố")
        page.get_by_role("button", name="Gửi phiếu trả lời").click()
        assert "đã được ghi nhận" in page.locator("#survey-thanks").inner_text()
        assert SurveyResponse.objects.filter(survey=survey).count() == 1
        assert SurveyResponse.objects.get().user_id is None
        page.context.clear_cookies()

        log_in(page, asgi_server, organiser)
        page.goto(f"{asgi_server}/surveys/{survey.pk}/results/")
        assert page.locator("#survey-total").inner_text().startswith("1 phiếu trả lời")
        first = page.locator("canvas.survey-chart").first
        first.wait_for()
        wait_for_js(page, "document.querySelectorAll('canvas[data-chart-ready]').length === 3")
        # The chart was drawn from the table: one vote in the first question, and Chart.js owns the canvas.
        assert first.get_attribute("data-chart-ready") == "1"
        assert page.evaluate("!!window.Chart.getChart(document.querySelector('canvas.survey-chart'))")
        bars = page.evaluate("window.Chart.getChart(document.querySelector('canvas.survey-chart'))"
                             ".data.datasets[0].data")
        assert bars == [0, 1, 0, 0]
        box = first.bounding_box()
        assert box is not None
        assert box["width"] > 200
        assert box["height"] > 50
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert "Cần thêm buổi tuyên truyền ở khu phố" in page.locator(".free-texts").inner_text()
    finally:
        context.close()
        connections.close_all()  # as phone_page does: the test's own connections, before the database is dropped

"""Issue 25 by clicking only, on a 360-px phone and a desktop: a writer searches the bank as officials type and
is warned before editing a question a round uses; a reviewer approves and returns questions from their own
pages, moving along the queue; an organiser moves a round to the new version; a ward organiser follows their
ward's participation in the city's contest."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.utils import timezone

from accounts.models import Role
from contests.models import RoundFixedVersion
from contests.services.attempts.start import attempt_start
from questionbank.importers.base import ParsedOption
from questionbank.models import Question, QuestionStatus
from questionbank.services.questions import question_update
from questionbank.services.review import question_approve
from tests.browser.conftest import english_left, login, page_fits, wait_for_js
from tests.contests.factories import ContestFactory, RoundFactory, register
from tests.factories import CitizenProfileFactory, OrganisationFactory, make_staff
from tests.leaderboards.conftest import People
from tests.questionbank.factories import make_question
from tests.realtime.conftest import neutral_bank

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LAND = ["Theo Luật Đất đai 2024, người sử dụng đất có quyền gì?",
        "LUẬT ĐẤT ĐAI quy định thời hạn giao đất nông nghiệp là bao lâu?",
        "Cơ quan nào lập quy hoạch sử dụng đất theo Luật Đất đai?"]


def open_menu(page):
    menu = page.locator("nav.staff-menu").first
    if not menu.locator("details").get_attribute("open"):
        menu.locator("summary").click()
    return menu


def test_a_writer_finds_questions_as_typed_and_is_warned_before_editing(asgi_server, any_page):
    page = any_page
    org = OrganisationFactory(name="Sở Tư pháp (thử)")
    land = [make_question(org, stem=f"<p>{stem}</p>") for stem in LAND]
    make_question(org, stem="<p>Người điều khiển xe mô tô phải đội mũ bảo hiểm khi nào?</p>")
    contest = ContestFactory(organisation=org, title="Tìm hiểu Luật Đất đai",
                             blueprint=[{"question_ids": [land[0].pk], "points": None}])
    RoundFactory(contest=contest, name="Tuần 1")
    writer = make_staff(org, Role.WRITER)
    login(page, asgi_server, writer.username)
    page.goto(f"{asgi_server}/")
    page.locator("#bank-home a").click()
    page.wait_for_load_state()
    page.fill("#searchbar", "luat dat dai")
    page.press("#searchbar", "Enter")
    page.wait_for_load_state()
    assert page.locator("#result_list tbody tr").count() == 3
    page.fill("#searchbar", "LUẬT ĐẤT ĐAI")
    page.press("#searchbar", "Enter")
    page.wait_for_load_state()
    assert page.locator("#result_list tbody tr").count() == 3
    page.locator("#result_list tbody tr a", has_text="người sử dụng đất có quyền gì").first.click()
    page.wait_for_load_state()
    warning = page.locator(".messagelist .warning").first
    assert "câu hỏi cố định của 1 đợt thi chưa kết thúc" in warning.inner_text()
    assert "Tuần 1" in warning.inner_text()
    # The options are lettered A, B, C, D and the correct one is ticked, not typed.
    letters = page.locator("#options-group tr.has_original td.field-letter p").all_inner_texts()
    assert letters == ["A", "B", "C", "D"]
    assert page.locator("#options-group input[name$='-correct']").first.is_checked()


def test_a_reviewer_approves_and_returns_from_the_question_pages(asgi_server, any_page):
    page = any_page
    org = OrganisationFactory(name="Sở Tư pháp (thử)")
    writer = make_staff(org, Role.WRITER)
    first = make_question(org, status=QuestionStatus.IN_REVIEW, author=writer)
    second = make_question(org, status=QuestionStatus.IN_REVIEW, author=writer)
    reviewer = make_staff(org, Role.REVIEWER)
    login(page, asgi_server, reviewer.username)
    page.goto(f"{asgi_server}/")
    page.locator("#bank-home a").click()
    page.wait_for_load_state()
    page.locator("#result_list tbody tr a").last.click()  # the oldest: the list is newest first
    page.wait_for_load_state()
    panel = page.locator("#review-panel")
    assert "câu 1 / 2 trong hàng chờ" in panel.inner_text()
    assert english_left(page, "#review-panel") == []
    assert page_fits(page) or page.viewport_kind == "phone"  # the admin's own tables may scroll on a phone
    panel.get_by_role("button", name="Duyệt câu hỏi").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/admin/questionbank/question/{second.pk}/change/")
    page.locator("#review-panel textarea").fill("Căn cứ chưa đúng điều khoản")
    page.locator("#review-panel").get_by_role("button", name="Trả lại để sửa").click()
    page.wait_for_load_state()
    assert "Đã hết câu hỏi chờ thẩm định" in page.locator(".messagelist").inner_text()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.reviewer_id) == (QuestionStatus.APPROVED, reviewer.pk)
    assert (second.status, second.review_note) == (QuestionStatus.DRAFT, "Căn cứ chưa đúng điều khoản")


def test_an_organiser_moves_a_round_to_the_new_version(asgi_server, any_page):
    page = any_page
    org = OrganisationFactory(name="Sở Tư pháp (thử)")
    v1 = make_question(org)
    contest = ContestFactory(organisation=org, blueprint=[{"question_ids": [v1.pk], "points": None}])
    now = timezone.now()
    round = RoundFactory(contest=contest, name="Tuần 1", opens_at=now - dt.timedelta(days=1),
                         closes_at=now + dt.timedelta(days=6))
    user = CitizenProfileFactory(unit=org).user
    register(user, contest)
    attempt_start(user=user, round=round)
    writer, reviewer = make_staff(org, Role.WRITER), make_staff(org, Role.REVIEWER)
    v2 = question_update(question=v1, actor=writer, stem="<p>Nội dung theo văn bản mới?</p>",
                         options=[ParsedOption(text="Đúng", fraction=1), ParsedOption(text="Sai", fraction=0)])
    question_approve(question=v2, actor=reviewer)
    organiser = make_staff(org, Role.ORGANISER)
    login(page, asgi_server, organiser.username)
    page.goto(f"{asgi_server}/")
    open_menu(page).get_by_role("link", name="Đợt thi", exact=True).click()
    page.wait_for_load_state()
    page.locator("#result_list tbody tr a", has_text="Tuần 1").first.click()
    page.wait_for_load_state()
    assert f"đã có phiên bản 2 (#{v2.pk}) được duyệt" in page.locator(".field-fixed_versions").inner_text()
    page.go_back()
    page.wait_for_load_state()
    page.locator("#result_list tbody tr input.action-select").first.check()
    page.select_option("select[name=action]", "accept_fixed_versions")
    page.locator("button[name=index]").click()
    page.wait_for_load_state()
    page.fill("textarea[name=reason]", "Văn bản mới có hiệu lực")
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_load_state()
    assert "1 câu hỏi cố định chuyển sang phiên bản mới" in page.locator(".messagelist").inner_text()
    assert RoundFixedVersion.objects.get(round=round).question_id == v2.pk
    assert Question.objects.get(pk=v2.pk).is_current


def test_a_ward_organiser_follows_their_ward_in_the_city_contest(asgi_server, any_page):
    page = any_page
    city = OrganisationFactory(name="Sở Tư pháp (thử)", is_unit=False)
    ward = OrganisationFactory(name="Phường Ninh Kiều", registered_population=40)
    other = OrganisationFactory(name="Phường Cái Răng")
    contest = ContestFactory(organisation=city, title="Tìm hiểu Luật Đất đai 2024")
    contest.allowed_units.set([ward, other])
    now = timezone.now()
    round = RoundFactory(contest=contest, name="Tuần 1", opens_at=now - dt.timedelta(days=1),
                         closes_at=now + dt.timedelta(days=6))
    people = People(round)
    people.units = [ward, other]
    people.attempt(0, unit=0)
    people.attempt(2, unit=0)
    people.attempt(1, unit=1)
    organiser = make_staff(ward, Role.ORGANISER)
    login(page, asgi_server, organiser.username)
    page.goto(f"{asgi_server}/")
    open_menu(page).get_by_role("link", name="Tham gia theo đơn vị", exact=True).click()
    page.wait_for_load_state()
    assert "Bạn chưa phụ trách đợt thi nào" not in page.locator("main").inner_text()
    page.get_by_role("link", name="Tham gia của Phường Ninh Kiều").click()
    page.wait_for_load_state()
    main = page.locator("main")
    assert page.locator("[data-figure=entrants]").inner_text() == "2"
    assert page.locator("[data-figure=rate]").inner_text() == "5%"
    assert "Nguyễn V. T. S. 0." in main.inner_text()
    assert "Nguyễn V. T. S. 1." not in main.inner_text()
    assert english_left(page, "main") == []
    assert page_fits(page)


def test_the_contest_day_units_dashboard_on_a_phone_and_a_desktop(asgi_server, any_page):
    page = any_page
    city = OrganisationFactory(name="Sở Tư pháp (thử)", is_unit=False)
    ward = OrganisationFactory(name="Phường Ninh Kiều")
    other = OrganisationFactory(name="Phường Cái Răng")
    contest = ContestFactory(organisation=city, title="Tìm hiểu Luật Đất đai 2024")
    contest.allowed_units.set([ward, other])
    now = timezone.now()
    round = RoundFactory(contest=contest, name="Tuần 1", opens_at=now - dt.timedelta(days=1),
                         closes_at=now + dt.timedelta(days=6))
    people = People(round)
    people.units = [ward, other]
    people.attempt(0, unit=0)
    people.registration(2, unit=0)
    organiser = make_staff(city, Role.ORGANISER)
    login(page, asgi_server, organiser.username)
    page.goto(f"{asgi_server}/")
    open_menu(page).get_by_role("link", name="Tham gia theo đơn vị", exact=True).click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Đơn vị (toàn cuộc thi)").click()
    page.wait_for_load_state()
    page.locator("#set-population").click()
    page.wait_for_load_state()
    page.fill("#id_pasted", "Đơn vị\tSố người\nphuong ninh kieu\t20\nPhường Cái Răng\t10")
    page.get_by_role("button", name="Lưu số người").click()
    page.wait_for_load_state()
    row = page.locator(f"#unit-table tr[data-unit='{ward.pk}']")
    assert "5%" in row.inner_text()  # 1 of 20
    assert page_fits(page)
    assert english_left(page, "main") == []
    # Live: a second person of the ward submits an attempt on their own phone; the organiser's page follows
    # through its socket within a few seconds, without a reload (the periodic fetch is set to 5 minutes, and
    # a marker on the page's node shows the node was never replaced by a fetch).
    page.goto(page.url.split("?")[0] + "?refresh=300")
    wait_for_js(page, "!document.querySelector('#unit-live').hidden")
    page.evaluate("document.getElementById('unit-dashboard').dataset.marker = 'same-node'")
    neutral_bank(city, 8)
    citizen = CitizenProfileFactory(unit=ward).user
    register(citizen, contest)
    attempt = attempt_start(user=citizen, round=round)  # (made here: its marks go to this process)
    exam = page.context.browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                            viewport={"width": 360, "height": 740})
    try:
        phone = exam.new_page()
        login(phone, asgi_server, citizen.username)
        phone.goto(f"{asgi_server}/contests/attempts/{attempt.pk}/")
        phone.wait_for_selector("#q-1")
        phone.locator("#q-1 input[type=radio]").first.check()
        wait_for_js(phone, "document.querySelector('#st-1').textContent === 'Đã lưu'")
        phone.get_by_role("button", name="Nộp bài").first.click()
        phone.locator("#exam-confirm").get_by_role("button", name="Nộp bài").click()
        phone.wait_for_url(re.compile(r".*/result/$"))
        submitted = time.monotonic()
        wait_for_js(page,
            f"document.querySelector(\"#unit-table tr[data-unit='{ward.pk}']\").innerText.includes('10%')",
            timeout=5_000)
        assert time.monotonic() - submitted < 5
    finally:
        exam.close()
    row = page.locator(f"#unit-table tr[data-unit='{ward.pk}']")
    assert row.locator("[data-f=entrants]").inner_text() == "2"
    assert row.locator("[data-f=in_progress]").inner_text() == "0"
    assert page.evaluate("document.getElementById('unit-dashboard').dataset.marker") == "same-node"
    assert "(10%)" in page.locator(f".bar-row[data-unit='{ward.pk}']").inner_text()
    # Without a socket (a proxy that drops WebSockets) the page falls back to fetching itself every ?refresh= s.
    fallback = page.context.new_page()
    fallback.add_init_script("delete window.WebSocket;")  # DevTools-injected, not an inline script (CSP)
    fallback.goto(page.url.split("?")[0] + "?refresh=5")
    assert not fallback.locator("#unit-polling").is_hidden()
    people.attempt(3, unit=0)
    wait_for_js(fallback,
        f"document.querySelector(\"#unit-table tr[data-unit='{ward.pk}'] [data-f=entrants]\").textContent === '3'",
        timeout=15_000)
    fallback.close()


def test_an_organiser_clones_a_contest_for_next_year(asgi_server, any_page):
    page = any_page
    org = OrganisationFactory(name="Sở Tư pháp (thử)")
    contest = ContestFactory(organisation=org, title="Tìm hiểu pháp luật năm 2025")
    RoundFactory(contest=contest, name="Tuần 1")
    RoundFactory(contest=contest, name="Tuần 2")
    organiser = make_staff(org, Role.ORGANISER)
    login(page, asgi_server, organiser.username)
    page.goto(f"{asgi_server}/")
    open_menu(page).get_by_role("link", name="Cuộc thi", exact=True).click()
    page.wait_for_load_state()
    page.locator("#result_list tbody tr input.action-select").first.check()
    page.select_option("select[name=action]", "clone_contests")
    page.locator("button[name=index]").click()
    page.wait_for_load_state()
    assert page.locator("#id_title").input_value() == "Tìm hiểu pháp luật năm 2026"
    page.get_by_label("Tuần 2").uncheck()
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_load_state()
    copy = contest.__class__.objects.get(title="Tìm hiểu pháp luật năm 2026")
    assert copy.slug == "tim-hieu-phap-luat-nam-2026"
    assert list(copy.rounds.values_list("name", flat=True)) == ["Tuần 1"]
    assert f"/admin/contests/contest/{copy.pk}/change/" in page.url

"""The whole end of a round in Chromium against a real Daphne server: the round closes (the close job stores
version 1 with the essays at 0), two judges grade blind from their home page, a judge recomputes and proposes,
the organiser reviews and approves, then publishes; a complaint re-grades an essay, the corrected version replaces
the published one at once; the certificates and the publication export come from the published version — and
the published scores are the graded ones."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Organisation, OrganisationKind
from contest_engine.numbers import format_score
from contests.models import Answer, Attempt, AttemptQuestion, Registration
from judging.models import EssayAssignment
from leaderboards.models import RankingStatus, RoundRanking
from tests.browser.conftest import wait_for_js
from tests.contests.factories import ContestFactory, QuestionFactory, RoundFactory
from tests.exports.factories import make_attempt
from tests.factories import CitizenProfileFactory, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "mat-khau-an-toan-1"
NAMES = ["Nguyễn Thị Mai", "Trần Văn Hùng", "Lê Thị Thu Hà"]
ESSAYS = ["Nam đủ 20 tuổi, nữ đủ 18 tuổi, tự nguyện.", "Phải đủ tuổi.", "Tự nguyện, đủ tuổi, không bị cấm."]
# The marks both judges give (equal, so the final mark is that mark); the complaint re-grade of the third.
MARKS = ["4,5", "1", "2"]
REGRADE = "3,5"


def log_in(page, server, user) -> None:
    page.goto(f"{server}/accounts/login/")
    page.fill("#id_username", user.phone)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def grade_queue(page, server, round_, marks: dict[str, str]) -> None:
    """From the judge's home page to the queue, then every essay in turn: type the mark, Enter."""
    page.goto(f"{server}/")
    page.get_by_role("link", name=re.compile("Trang làm việc của giám khảo")).click()
    page.get_by_role("link", name=re.compile(round_.name)).first.click()
    page.get_by_role("link", name="Chấm bài", exact=True).click()
    page.locator("ul.cards a").first.click()
    for _ in range(len(marks)):
        code = re.search(r"TL-[A-Z0-9]+", page.locator("h1").inner_text()).group(0)
        # The mark field has the focus (autofocus): the judge types at once.
        wait_for_js(page, "document.activeElement && document.activeElement.id === 'mark'", timeout=5000)
        page.keyboard.type(marks[code])
        with page.expect_navigation():
            page.keyboard.press("Enter")


def essay_marks_by_code(round_) -> dict[str, str]:
    by_name = dict(zip(NAMES, MARKS, strict=True))
    return {a.code: by_name[a.attempt.registration.full_name]
            for a in EssayAssignment.objects.filter(round=round_).select_related("attempt__registration")}


def public_scores(page, server, round_) -> dict[str, str]:
    page.goto(f"{server}/judging/results/{round_.pk}/")
    rows = page.locator("#published-list tbody tr")
    return {rows.nth(i).locator("td").nth(1).inner_text(): rows.nth(i).locator("td").nth(6).inner_text()
            for i in range(rows.count())}


def confirm(page, button: str, confirmation: str) -> None:
    page.get_by_role("button", name=re.compile(button)).click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().endswith("?")  # the confirmation page, nothing decided yet
    page.get_by_role("button", name=confirmation).click()
    page.wait_for_load_state()


def test_the_end_of_a_round_from_close_to_certificates(asgi_server, chromium):
    server = asgi_server
    org = Organisation.objects.create(name="Sở Tư pháp (thử)", slug="stp-thu", kind=OrganisationKind.DEPARTMENT)
    unit = Organisation.objects.create(name="Phường An Hòa (thử)", slug="an-hoa-thu", kind=OrganisationKind.WARD)
    organiser = make_staff(org, "organiser", full_name="Trần Thị Tổ Chức")
    judges = [make_staff(org, "judge", full_name=f"Giám khảo {n}") for n in (1, 2)]
    contest = ContestFactory(organisation=org, title="Hội thi pháp luật (thử)", prediction_enabled=False)
    now = timezone.now().replace(microsecond=0)
    round_ = RoundFactory(contest=contest, name="Chung kết", opens_at=now - dt.timedelta(days=2),
                          closes_at=now - dt.timedelta(hours=1))
    choices = [QuestionFactory(organisation=org), QuestionFactory(organisation=org)]
    essay = QuestionFactory(organisation=org, type="essay", stem="<p>Nêu các điều kiện kết hôn.</p>")
    for i, name in enumerate(NAMES):
        profile = CitizenProfileFactory(unit=unit)
        registration = Registration.objects.create(user=profile.user, contest=contest, unit=unit, full_name=name,
                                                   date_of_birth=dt.date(1990 + i, 1, 1))
        attempt = make_attempt(round=round_, registration=registration, questions=choices, correct=[True, i != 1],
                               started_at=round_.opens_at + dt.timedelta(hours=i), seconds=300 + i)
        aq = AttemptQuestion.objects.create(attempt=attempt, position=3, question=essay, points=Decimal(5),
                                            snapshot={"type": "essay", "stem": essay.stem}, key={},
                                            shown_at=attempt.started_at)
        Answer.objects.create(attempt=attempt, attempt_question=aq, response={"text": ESSAYS[i]}, client_seq=3,
                              received_at=attempt.started_at, points_awarded=Decimal(0))

    # Close: the periodic job stores version 1, every essay still at 0.
    from leaderboards.jobs import close_due_rounds

    assert close_due_rounds() == 1
    v1 = RoundRanking.objects.get(round=round_)
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        # The organiser sets the prizes on the results page, with the reason, before anything is locked.
        log_in(page, server, organiser)
        page.goto(f"{server}/judging/rounds/{round_.pk}/")
        page.fill("#id_first", "1")
        page.fill("#id_second", "1")
        page.fill("#id_reason", "Điều 8 Thể lệ: 1 giải Nhất, 1 giải Nhì")
        page.get_by_role("button", name="Lưu số giải").click()
        page.wait_for_load_state()
        assert page.locator("#prizes-text").inner_text() == "1 Giải Nhất, 1 Giải Nhì"
        assert "Điều 8 Thể lệ" in page.locator("#decisions").inner_text()
        page.get_by_role("button", name="Đăng xuất").click()

        # Two judges grade blind, from their home page; one refused mark keeps what was typed.
        marks = essay_marks_by_code(round_)
        for number, judge in enumerate(judges):
            log_in(page, server, judge)
            if number == 0:
                page.goto(f"{server}/judging/rounds/{round_.pk}/")
                assert NAMES[0] not in page.content()  # blind: no names while grading is open
                assert page.locator("#blind-note").is_visible()
                first = EssayAssignment.objects.filter(round=round_).order_by("code").first()
                page.goto(f"{server}/judging/essays/{first.pk}/")
                page.fill("#mark", "2.555")
                with page.expect_navigation():
                    page.press("#mark", "Enter")
                assert "tối đa 2 chữ số thập phân" in page.locator("#mark-error").inner_text()
                assert page.input_value("#mark") == "2.555"
                assert "Đã chấm 0 / 3 bài" in page.locator("#my-progress").inner_text()
            grade_queue(page, server, round_, marks)
            assert "Không còn bài nào bạn cần chấm" in page.content()
            if number == 0:
                page.get_by_role("button", name="Đăng xuất").click()

        # The judge's round page: version 1 is out of date and cannot be proposed, and says why.
        page.goto(f"{server}/judging/rounds/{round_.pk}/")
        assert page.locator("#btn-propose").is_disabled()
        assert "cần tính lại kết quả" in page.locator("#ranking-blockers").inner_text()
        page.get_by_role("button", name="Tính lại kết quả từ điểm cuối cùng").click()
        page.wait_for_load_state()
        page.get_by_role("button", name="Đề xuất kết quả phiên bản 2").click()
        page.wait_for_load_state()
        assert "Đã đề xuất" in page.locator("#ranking-status").inner_text()
        page.get_by_role("button", name="Đăng xuất").click()

        # The organiser reviews what they approve (names, prizes, the changes in words) and confirms.
        log_in(page, server, organiser)
        page.goto(f"{server}/judging/rounds/{round_.pk}/")
        preview = page.locator("#preview").inner_text()
        assert NAMES[0] in preview
        assert "Giải Nhất" in preview
        assert f"So với phiên bản {v1.version}" in page.locator("#changes").inner_text()
        confirm(page, "Xem lại và phê duyệt", "Xác nhận phê duyệt")
        confirm(page, "Xem lại và công bố", "Xác nhận công bố")
        assert RoundRanking.objects.get(round=round_, version=2).status == RankingStatus.PUBLISHED

        def graded() -> dict[str, str]:
            return {a.registration.full_name: format_score(a.score)
                    for a in Attempt.objects.filter(round=round_).select_related("registration")}

        assert graded() == {NAMES[0]: "6,5", NAMES[1]: "2", NAMES[2]: "4"}
        assert public_scores(page, server, round_) == graded()
        meta = page.locator("#publication").inner_text()
        assert organiser.get_full_name() in meta

        # A complaint: recorded, the essay re-graded blind, a corrected version replaces the published one.
        page.goto(f"{server}/judging/rounds/{round_.pk}/complaints/")
        third = Registration.objects.get(contest=contest, full_name=NAMES[2])
        page.fill("#id_contestant", third.user.phone)
        page.fill("#id_channel", "Đơn giấy")
        page.fill("#id_content", "Đề nghị phúc khảo bài tự luận.")
        page.get_by_role("button", name="Ghi nhận khiếu nại").click()
        page.wait_for_load_state()
        page.locator("input[name=reason]").fill("Chấm lại theo đơn phúc khảo")
        page.get_by_role("button", name="Cho chấm lại bài này").click()
        page.wait_for_load_state()
        complaint_url = page.url
        page.get_by_role("button", name="Đăng xuất").click()
        regrade = {EssayAssignment.objects.get(round=round_, attempt__registration=third).code: REGRADE}
        for judge in judges:
            log_in(page, server, judge)
            grade_queue(page, server, round_, regrade)
            page.get_by_role("button", name="Đăng xuất").click()
        log_in(page, server, organiser)
        page.goto(f"{server}/judging/rounds/{round_.pk}/")
        page.fill("#note-revise", "Phúc khảo bài tự luận của Lê Thị Thu Hà")
        page.get_by_role("button", name="Tính lại thành phiên bản mới").click()
        page.wait_for_load_state()
        page.get_by_role("button", name="Đăng xuất").click()
        log_in(page, server, judges[1])
        page.goto(f"{server}/judging/rounds/{round_.pk}/")
        page.get_by_role("button", name="Đề xuất kết quả phiên bản 3").click()
        page.wait_for_load_state()
        page.get_by_role("button", name="Đăng xuất").click()
        log_in(page, server, organiser)
        page.goto(f"{server}/judging/rounds/{round_.pk}/")
        assert "Lê Thị Thu Hà: điểm 4 → 5,5." in page.locator("#changes").inner_text()
        confirm(page, "Xem lại và phê duyệt", "Xác nhận phê duyệt")
        confirm(page, "Xem lại và công bố", "Xác nhận công bố")
        assert RoundRanking.objects.get(round=round_, version=2).status == RankingStatus.SUPERSEDED
        assert graded()[NAMES[2]] == "5,5"
        assert public_scores(page, server, round_) == graded()
        assert "Phiên bản 2, công bố ngày" in page.locator("#publication-history").inner_text()
        page.goto(complaint_url)
        page.check("input[name=outcome][value=upheld]")
        page.fill("#id_decision", "Chấp nhận: điểm tự luận 3,5")
        page.get_by_role("button", name="Ghi kết luận").click()
        page.wait_for_load_state()
        assert "Phiên bản 3" in page.locator("#complaint-record").inner_text()

        # Certificates of the published version, all in one PDF.
        page.goto(f"{server}/judging/rounds/{round_.pk}/")
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile("Tải tất cả 2 giấy chứng nhận")).click()
        body = download.value.path().read_bytes()
        assert body.startswith(b"%PDF-")
        assert body.count(b"/Type /Page\n") + body.count(b"/Type /Page ") == 2

        # The publication export holds the published version.
        page.goto(f"{server}/exports/round/{round_.pk}/")
        assert "Phiên bản 3 — Đã công bố" in page.locator("#export-versions").inner_text()
        page.check("input[name=published]")
        page.get_by_role("button", name="Xuất dữ liệu").click()
        page.wait_for_url(re.compile(r".*/exports/jobs/\d+/$"))
        from django.core.management import call_command

        call_command("db_worker", queue_name="exports", batch=True, startup_delay=False, reload=False, interval=0,
                     verbosity=0)
        page.reload()
        with page.expect_download() as download:
            page.locator("#export-download-link").click()
        from tests.exports.xlsx_read import read_book, sheet_rows, values

        book = read_book(download.value.path().read_bytes())
        assert "Bài làm" not in book.sheetnames
        header = [c.value for c in sheet_rows(book, "Xếp hạng")[0]]
        exported = {row[header.index("Họ và tên")]: format_score(row[header.index("Điểm")])
                    for row in values(sheet_rows(book, "Xếp hạng"))[1:]}
        assert exported == graded()

        # Printing the public list: A4 landscape, the header row repeated on every page.
        page.goto(f"{server}/judging/results/{round_.pk}/")
        page.emulate_media(media="print")
        assert page.evaluate("getComputedStyle(document.querySelector('#published-list thead')).display") == (
            "table-header-group")
        assert not page.locator(".site-header").is_visible()
        pdf = page.pdf(prefer_css_page_size=True)
        box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert box is not None
        width, height = float(box.group(1)), float(box.group(2))
        assert width > height  # landscape
        assert abs(width - 841.9) < 2  # A4
    finally:
        context.close()
        from django.db import connections

        connections.close_all()

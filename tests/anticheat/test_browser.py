"""In Debian's Chromium against a real Daphne server: a judge opens the review queue, reads a flagged
attempt's timeline, disqualifies it with a reason — the official ranking and the results workbook reflect it —
then reverses it. And the reference exam page reports evidence (page hidden, copy) that the checks read."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from anticheat.checks.inexam import FlagSpec
from anticheat.models import AnswerEvent, ClientEvent, FlagKind, Severity
from anticheat.services import flags_store
from anticheat.workbook import SHEET_FLAGS
from exports.selectors import export_target
from exports.workbook import results_workbook_write
from leaderboards.services.ranking import ranking_compute
from tests.browser.test_exam_flow import open_exam
from tests.exports.factories import results_round
from tests.exports.xlsx_read import read_book, sheet_rows, values
from tests.factories import make_staff
from tests.realtime.conftest import make_exam

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def log_in(page, server, user) -> None:
    page.goto(f"{server}/accounts/login/")
    page.fill("#id_username", user.phone)
    page.fill("#id_password", "mat-khau-an-toan-1")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def workbook(round):
    buffer = io.BytesIO()
    results_workbook_write(target=export_target(round_id=round.pk), out=buffer, generated_by="Giám khảo",
                           full_personal_data=True)
    book = read_book(buffer.getvalue())
    return values(sheet_rows(book, "Xếp hạng"))[1:], values(sheet_rows(book, SHEET_FLAGS))[1:]


def test_judge_reviews_disqualifies_and_reverses(asgi_server, chromium, org_a):
    data = results_round(org_a)
    ranking_compute(round=data.round)
    cheat = data.attempts[0]
    for position in range(1, 4):
        AnswerEvent.objects.create(attempt=cheat, position=position, seq=position, status="stored",
                                   at=cheat.started_at + dt.timedelta(milliseconds=300 * position))
    flags_store(round=data.round, kinds=[FlagKind.FAST_ANSWERS], attempt_ids=None,
                settings={"fast_answer_fraction": 0.35},
                now=timezone.now(), specs=[
                    FlagSpec(cheat.pk, FlagKind.FAST_ANSWERS, Severity.HIGH, 1.0, {"too_fast": 3, "answered": 3}),
                    FlagSpec(data.attempts[1].pk, FlagKind.FAST_ANSWERS, Severity.WARN, 0.4, {"too_fast": 1})])
    judge = make_staff(org_a, "judge")
    name = cheat.registration.full_name
    assert name in [row[2] for row in workbook(data.round)[0]]

    page = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN").new_page()
    page.set_default_timeout(15_000)
    log_in(page, asgi_server, judge)
    page.goto(f"{asgi_server}/anticheat/rounds/{data.round.pk}/")
    rows = page.locator("#review-queue tbody tr")
    assert rows.count() == 2
    assert rows.first.get_attribute("data-attempt") == str(cheat.pk)  # the high flag first
    assert page.locator("#unreviewed-high").inner_text() == "1"
    rows.first.get_by_role("link").click()

    page.wait_for_selector("#timeline")
    assert "Trả lời nhanh hơn thời gian đọc" in page.locator("#flags").inner_text()
    assert page.locator("#timeline tr.ev-answer").count() == 3
    page.get_by_label("Loại lượt thi").check()
    page.get_by_role("button", name="Ghi quyết định").click()  # no reason: the browser refuses (required)
    assert page.locator("#review-status").inner_text() == "Chưa xem xét"
    page.fill("#reason", "Ba câu trả lời trong chưa đầy một giây")
    page.get_by_role("button", name="Ghi quyết định").click()
    page.wait_for_selector("#revert-form")
    assert page.locator("#review-status").inner_text() == "Đã loại"
    assert page.locator("#attempt-status").inner_text() == "Bị loại"

    page.goto(f"{asgi_server}/leaderboards/rounds/{data.round.pk}/official/")
    assert name not in page.locator("main").inner_text()
    ranking_rows, flag_rows = workbook(data.round)
    assert name not in [row[2] for row in ranking_rows]
    assert [r[9] for r in flag_rows if r[1] == cheat.pk] == ["Đã loại"]
    page.goto(f"{asgi_server}/anticheat/rounds/{data.round.pk}/")
    assert page.locator("#unreviewed-high").inner_text() == "0"

    page.goto(f"{asgi_server}/anticheat/attempts/{cheat.pk}/")
    page.fill("#revert-reason", "Thí sinh đã chứng minh làm bài trung thực")
    page.get_by_role("button", name="Huỷ quyết định").click()
    page.wait_for_selector("#decide-form")
    assert page.locator("#attempt-status").inner_text() == "Đã nộp bài"
    page.goto(f"{asgi_server}/leaderboards/rounds/{data.round.pk}/official/")
    assert name in page.locator("main").inner_text()
    ranking_rows, flag_rows = workbook(data.round)
    assert name in [row[2] for row in ranking_rows]
    assert [r[9] for r in flag_rows if r[1] == cheat.pk] == ["Chưa xem xét"]
    page.context.close()


@pytest.fixture
def evidence_flushed(monkeypatch):
    monkeypatch.setenv("REALTIME_EVIDENCE_FLUSH_SECONDS", "0.2")  # the server flushes its evidence quickly


def test_the_exam_page_reports_evidence(evidence_flushed, asgi_server, phone_page, org_a, citizen):
    exam = make_exam(org_a, citizen)
    page = phone_page
    open_exam(page, asgi_server, citizen, exam)
    page.wait_for_timeout(1000)  # the socket is open
    page.locator("#q-1 input").first.click()
    page.evaluate("document.dispatchEvent(new Event('copy'))")
    page.evaluate("""Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
                     document.dispatchEvent(new Event('visibilitychange'));""")
    deadline = timezone.now() + dt.timedelta(seconds=10)
    counts = {}
    while timezone.now() < deadline and set(counts) != {"copy", "hidden"}:
        page.wait_for_timeout(300)
        counts = dict(ClientEvent.objects.filter(attempt=exam.attempt).values_list("kind", "count"))
    assert counts == {"copy": 1, "hidden": 1}
    assert ClientEvent.objects.get(attempt=exam.attempt, kind="copy").positions == [1]
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert len(cookies.get("ce_device", "")) == 32

"""A citizen registers, starts an exam, answers, reloads mid-exam (answers still there, the timer goes
on), submits and sees the result — in Debian's Chromium against a real Daphne server."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from accounts.models import Organisation, OrganisationKind
from contests.models import Answer, Attempt, AttemptStatus
from tests.browser.conftest import wait_for_js
from tests.contests.factories import ContestFactory, RoundFactory
from tests.realtime.conftest import neutral_bank

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def timer_seconds(page) -> int:
    text = page.locator("#exam-timer").inner_text()
    minutes, seconds = text.split(":")
    return int(minutes) * 60 + int(seconds)


def open_exam(page, server, citizen, exam) -> None:
    """Log in as ``citizen`` and open the exam page of ``exam``'s attempt (questions rendered)."""
    page.goto(f"{server}/accounts/login/")
    page.fill("#id_username", citizen.phone)
    page.fill("#id_password", "mat-khau-an-toan-1")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    page.goto(f"{server}/contests/attempts/{exam.attempt.pk}/")
    page.wait_for_selector("#q-1")


def test_citizen_registers_answers_reloads_submits(asgi_server, phone_page):
    page = phone_page
    unit = Organisation.objects.create(name="Phường Tân An (thử)", slug="tan-an-test", kind=OrganisationKind.WARD)
    neutral_bank(unit, 8)
    contest = ContestFactory(organisation=unit, title="Tìm hiểu Luật Giao thông", slug="thi-giao-thong",
                             time_limit_seconds=600, max_attempts=1)
    now = timezone.now()
    RoundFactory(contest=contest, name="Tuần 1", opens_at=now - dt.timedelta(hours=1),
                 closes_at=now + dt.timedelta(days=1))

    # Register an account (the sign-up page), then come back to the contest.
    page.goto(f"{asgi_server}/accounts/signup/?next=/contests/{contest.slug}/")
    page.fill("#id_full_name", "Trần Thị Bình")
    page.fill("#id_date_of_birth", "1988-03-14")
    page.select_option("#id_unit", label=unit.name)
    page.fill("#id_phone", "0912345678")
    page.fill("#id_password1", "Hoc-luat-vui-2026")
    page.fill("#id_password2", "Hoc-luat-vui-2026")
    page.check("#id_privacy_consent")
    page.get_by_role("button", name="Đăng ký", exact=True).click()
    page.wait_for_url(re.compile(rf".*/contests/{contest.slug}/$"))

    page.get_by_role("button", name="Đăng ký dự thi").click()
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    page.wait_for_url(re.compile(r".*/contests/attempts/\d+/$"))
    attempt = Attempt.objects.get(user__phone="0912345678")

    # The questions arrive over the socket; the connection indicator says so.
    page.wait_for_selector("#q-1")
    assert page.locator("#exam-conn").inner_text() == "Đã kết nối"
    assert page.locator("fieldset.question").count() == 5
    assert page.locator("#q-1 legend").count() == 1
    # Phone friendly: nothing wider than the 360-px screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.locator("#q-1 input[type=radio]").nth(1).check()
    page.locator("#q-2 input[type=radio]").nth(3).check()
    wait_for_js(page, "document.querySelector('#st-2').textContent === 'Đã lưu'")
    assert page.locator("#st-1").inner_text() == "Đã lưu"
    assert Answer.objects.filter(attempt=attempt).count() == 2
    chosen_1 = page.locator("#q-1 input[type=radio]").nth(1).get_attribute("value")
    before = timer_seconds(page)
    assert 500 < before <= 600

    # Keyboard: answer question 3 with the arrow keys.
    page.locator("#q-3 input[type=radio]").first.focus()
    page.keyboard.press("ArrowDown")
    wait_for_js(page, "document.querySelector('#st-3').textContent === 'Đã lưu'")

    page.wait_for_timeout(1200)
    page.reload()
    page.wait_for_selector("#q-1")
    wait_for_js(page, "document.querySelector('#exam-conn').textContent === 'Đã kết nối'")
    assert page.locator("#q-1 input[type=radio]").nth(1).is_checked()
    assert page.locator("#q-1 input[type=radio]").nth(1).get_attribute("value") == chosen_1
    assert page.locator("#q-2 input[type=radio]").nth(3).is_checked()
    assert page.locator("#q-3 input[type=radio]").nth(1).is_checked()
    assert page.locator("#exam-progress").inner_text() == "3/5"
    after = timer_seconds(page)
    assert after < before  # the countdown continued across the reload (server deadline), not restarted

    page.locator("#q-4 input[type=radio]").nth(0).check()
    wait_for_js(page, "document.querySelector('#st-4').textContent === 'Đã lưu'")
    page.get_by_role("button", name="Nộp bài").first.click()
    dialog = page.locator("#exam-confirm")
    assert dialog.is_visible()
    assert "Còn 1 câu chưa trả lời" in dialog.inner_text()
    dialog.get_by_role("button", name="Nộp bài").click()
    page.wait_for_url(re.compile(r".*/contests/attempts/\d+/result/$"))
    assert page.locator("h1").inner_text() == "Kết quả bài thi"
    assert "/5" in page.locator(".result-summary").inner_text()

    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED
    assert Answer.objects.filter(attempt=attempt).count() == 4
    # Nothing of this attempt is left in the browser's storage.
    assert page.evaluate(f"localStorage.getItem('ce.exam.{attempt.pk}')") is None


def test_one_question_at_a_time(asgi_server, phone_page, org_a, citizen):
    """The server releases questions one by one: only the current one is shown; "Câu sau" asks for the next."""
    from tests.realtime.conftest import make_exam

    page = phone_page
    exam = make_exam(org_a, citizen, presentation="one_at_a_time")
    open_exam(page, asgi_server, citizen, exam)
    assert page.locator("#q-1").is_visible()
    assert page.locator("#exam-pager-pos").inner_text() == "Câu 1/5"
    page.locator("#q-1 input[type=radio]").nth(2).check()
    wait_for_js(page, "document.querySelector('#st-1').textContent === 'Đã lưu'")
    page.get_by_role("button", name="Câu sau").click()
    page.wait_for_selector("#q-2", state="visible")
    assert not page.locator("#q-1").is_visible()
    assert page.locator("#exam-pager-pos").inner_text() == "Câu 2/5"
    page.locator("#q-2 input[type=radio]").nth(0).check()
    wait_for_js(page, "document.querySelector('#st-2').textContent === 'Đã lưu'")
    assert Answer.objects.filter(attempt=exam.attempt).count() == 2


def test_offline_answers_are_kept_and_resent(asgi_server, phone_page, org_a, citizen):
    """The server goes away: the page says so, keeps the new answer as not yet saved (in localStorage), and
    when the server is back it reconnects by itself and the answer is stored and shown as saved."""
    from tests.realtime.conftest import make_exam

    page = phone_page
    exam = make_exam(org_a, citizen)
    open_exam(page, asgi_server, citizen, exam)
    wait_for_js(page, "document.querySelector('#exam-conn').textContent === 'Đã kết nối'")

    asgi_server.stop()
    wait_for_js(page, "document.querySelector('#exam-conn').classList.contains('conn-offline')")
    page.locator("#q-2 input[type=radio]").nth(1).check()
    assert page.locator("#st-2").inner_text() == "Chưa lưu"
    stored = page.evaluate(f"JSON.parse(localStorage.getItem('ce.exam.{exam.attempt.pk}')).pending['2'].seq")
    assert stored >= 1
    assert not Answer.objects.filter(attempt=exam.attempt).exists()

    asgi_server.start()
    wait_for_js(page, "document.querySelector('#st-2').textContent === 'Đã lưu'", timeout=30_000)
    assert page.locator("#exam-conn").inner_text() == "Đã kết nối"
    row = Answer.objects.get(attempt=exam.attempt)
    assert row.attempt_question.position == 2
    assert row.client_seq == stored


def test_a_submit_made_offline_is_sent_after_the_reconnect(asgi_server, phone_page, org_a, citizen):
    """The citizen presses "Nộp bài" while the connection is down: the page says it is submitting, keeps the
    button disabled across the reconnect, sends the submit once the server is back and opens the result."""
    from tests.realtime.conftest import make_exam

    page = phone_page
    exam = make_exam(org_a, citizen)
    open_exam(page, asgi_server, citizen, exam)
    page.locator("#q-1 input[type=radio]").nth(0).check()
    wait_for_js(page, "document.querySelector('#st-1').textContent === 'Đã lưu'")

    asgi_server.stop()
    wait_for_js(page, "document.querySelector('#exam-conn').classList.contains('conn-offline')")
    page.get_by_role("button", name="Nộp bài").first.click()
    page.locator("#exam-confirm").get_by_role("button", name="Nộp bài").click()
    assert page.locator("#exam-alert").inner_text() == "Đang nộp bài…"
    assert Attempt.objects.get(pk=exam.attempt.pk).status == AttemptStatus.IN_PROGRESS

    asgi_server.start()
    page.wait_for_url(re.compile(r".*/contests/attempts/\d+/result/$"), timeout=30_000)
    attempt = Attempt.objects.get(pk=exam.attempt.pk)
    assert (attempt.status, attempt.submit_kind) == (AttemptStatus.SUBMITTED, "client")


def test_a_waiting_submit_goes_out_when_its_last_answer_is_rejected(asgi_server, phone_page, org_a, citizen):
    """Answers may not be changed in this contest. Offline, the citizen changes an answer and presses
    "Nộp bài": after the reconnect the change is refused for good (answer_locked) and the submit, which was
    waiting for it, still goes out — the page reaches the result instead of waiting for the deadline."""
    from tests.realtime.conftest import make_exam

    page = phone_page
    exam = make_exam(org_a, citizen, allow_answer_change=False)
    open_exam(page, asgi_server, citizen, exam)
    page.locator("#q-1 input[type=radio]").nth(0).check()
    wait_for_js(page, "document.querySelector('#st-1').textContent === 'Đã lưu'")
    assert page.locator("#q-1 input[type=radio]").nth(1).is_disabled()  # a saved answer is final here
    assert page.locator("#q-2 input[type=radio]").nth(1).is_enabled()

    asgi_server.stop()
    wait_for_js(page, "document.querySelector('#exam-conn').classList.contains('conn-offline')")
    # A page of an older release (or a hand-edited one) lets the citizen change it anyway.
    page.evaluate("document.querySelectorAll('#q-1 input[type=radio]').forEach(function (r) { r.disabled = false; })")
    page.locator("#q-1 input[type=radio]").nth(1).check()
    page.get_by_role("button", name="Nộp bài").first.click()
    page.locator("#exam-confirm").get_by_role("button", name="Nộp bài").click()
    page.wait_for_timeout(9_000)  # longer than the page's own 8-s "submit anyway" fallback, spent offline

    asgi_server.start()
    page.wait_for_url(re.compile(r".*/contests/attempts/\d+/result/$"), timeout=20_000)
    attempt = Attempt.objects.get(pk=exam.attempt.pk)
    assert (attempt.status, attempt.submit_kind) == (AttemptStatus.SUBMITTED, "client")
    answer = Answer.objects.get(attempt=attempt)
    assert answer.client_seq == 1  # the refused change was not stored


def test_a_failed_submit_is_shown_and_sent_again(asgi_server, phone_page, org_a, citizen):
    """The server could not finish the attempt (its finalisation failed: here a corrupt key, repaired a moment
    later). The page says so, keeps the attempt as "submitting" — never silently back to answering — and sends
    the submit again by itself until it is finished; then it goes to the result."""
    from contests.models import AttemptQuestion
    from tests.realtime.conftest import make_exam

    page = phone_page
    exam = make_exam(org_a, citizen)
    open_exam(page, asgi_server, citizen, exam)
    page.locator("#q-1 input[type=radio]").nth(0).check()
    wait_for_js(page, "document.querySelector('#st-1').textContent === 'Đã lưu'")
    aq = AttemptQuestion.objects.get(attempt=exam.attempt, position=1)
    good_key = aq.key
    AttemptQuestion.objects.filter(pk=aq.pk).update(key={"options": dict.fromkeys(good_key["options"], "?")})

    page.get_by_role("button", name="Nộp bài").first.click()
    page.locator("#exam-confirm").get_by_role("button", name="Nộp bài").click()
    wait_for_js(page,
        "document.querySelector('#exam-alert').textContent.indexOf('chưa nộp được bài thi') >= 0")
    assert "/result/" not in page.url
    assert page.locator("#exam-submit").is_disabled()
    assert Attempt.objects.get(pk=exam.attempt.pk).status == AttemptStatus.IN_PROGRESS

    AttemptQuestion.objects.filter(pk=aq.pk).update(key=good_key)  # the fault is gone: the next try succeeds
    page.wait_for_url(re.compile(r".*/contests/attempts/\d+/result/$"), timeout=20_000)
    attempt = Attempt.objects.get(pk=exam.attempt.pk)
    assert (attempt.status, attempt.submit_kind) == (AttemptStatus.SUBMITTED, "client")
    assert Answer.objects.get(attempt=attempt).points_awarded is not None

"""A live game in Debian's Chromium against a real Daphne server: the host's control page, the presenter screen
and two players on 360-px phones, through a game of 3 questions (answers, automatic and manual reveals, the
end), all in Vietnamese."""

from __future__ import annotations

import re

import pytest

from live.models import LiveAnswer, LivePlayer, LiveQuestion, LiveSession
from tests.browser.conftest import wait_for_js
from tests.factories import OrganisationFactory, make_staff
from tests.live.conftest import make_game

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def log_in(page, server, user) -> None:
    page.goto(f"{server}/accounts/login/")
    page.fill("#id_username", user.phone)
    page.fill("#id_password", "mat-khau-an-toan-1")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def phone(chromium):
    context = chromium.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", device_scale_factor=2,
                                   is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def option_button(page, session, position, *, right: bool):
    question = LiveQuestion.objects.get(session=session, position=position)
    ids = [o["id"] for o in question.snapshot["options"]]
    chosen = next(i for i in ids if (i in question.correct_ids) == right)
    return page.locator(f'#lv-options button[data-id="{chosen}"]')


def test_host_presenter_and_two_players_play_three_questions(asgi_server, chromium):
    org = OrganisationFactory(name="Phường An Hòa (thử)")
    host = make_staff(org, "organiser")
    session = make_game(org, host, count=3, bank_size=6, seconds_per_question=60)
    contexts = []
    try:
        host_ctx = chromium.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
        screen_ctx = chromium.new_context(locale="vi-VN", viewport={"width": 1600, "height": 900})
        contexts += [host_ctx, screen_ctx]
        host_page, screen = host_ctx.new_page(), screen_ctx.new_page()
        for page in (host_page, screen):
            page.set_default_timeout(15_000)
        log_in(host_page, asgi_server, host)
        host_page.goto(f"{asgi_server}/live/{session.pk}/host/")
        log_in(screen, asgi_server, host)
        screen.goto(f"{asgi_server}/live/{session.pk}/screen/")
        screen.wait_for_selector("#lv-lobby:not([hidden])")
        assert screen.locator(".live-pin").inner_text() == session.pin
        assert screen.locator("img.live-qr").evaluate("img => img.complete && img.naturalWidth > 0")
        wait_for_js(host_page, "document.querySelector('#lv-conn').textContent === 'Đã kết nối'")
        assert host_page.locator("#lv-phase").inner_text() == "Phòng chờ"

        players = []
        for name in ("Hạnh", "Tuấn"):
            ctx, page = phone(chromium)
            contexts.append(ctx)
            page.goto(f"{asgi_server}/live/join/?pin={session.pin}")
            page.fill("#id_nickname", name)
            page.get_by_role("button", name="Vào trò chơi").click()
            page.wait_for_url(re.compile(rf".*/live/{session.pk}/play/$"))
            page.wait_for_selector("#lv-lobby:not([hidden])")
            assert page.locator("#lv-name").inner_text() == name
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            players.append(page)
        hanh, tuan = players
        # The presenter's lobby counts them as they arrive.
        wait_for_js(screen, "document.querySelector('#lv-players').textContent === '2'")
        assert set(screen.locator("#lv-names li").all_inner_texts()) == {"Hạnh", "Tuấn"}

        host_page.get_by_role("button", name="Bắt đầu").click()
        for position in (1, 2, 3):
            if position > 1:
                host_page.get_by_role("button", name="Câu tiếp theo").click()
            for page in (hanh, tuan, screen):
                page.wait_for_selector("#lv-question:not([hidden])")
                wait_for_js(page, f"document.querySelector('#lv-pos').textContent === '{position}'")
            assert screen.locator("#lv-options li").count() == 4
            assert int(screen.locator("#lv-timer").inner_text()) > 50
            option_button(hanh, session, position, right=True).click()
            wait_for_js(hanh, "document.querySelector('#lv-status').textContent === "
                                   "'Đã ghi nhận câu trả lời của bạn.'")
            assert option_button(hanh, session, position, right=False).first.is_disabled()
            if position < 3:
                option_button(tuan, session, position, right=position == 2).first.click()
                # Both answered: the reveal comes by itself.
            else:
                host_page.get_by_role("button", name="Công bố đáp án ngay").click()
            for page in (hanh, tuan):
                page.wait_for_selector("#lv-reveal:not([hidden])")
            assert hanh.locator("#lv-verdict").inner_text().startswith("Chính xác!")
            expected = {1: "Chưa đúng.", 2: "Chính xác!", 3: "Bạn chưa trả lời câu này."}[position]
            assert tuan.locator("#lv-verdict").inner_text().startswith(expected)
            assert hanh.locator("#lv-correct").inner_text().startswith("Đáp án đúng:")
            assert hanh.locator("#lv-citation").inner_text()
            screen.wait_for_selector("#lv-reveal:not([hidden])")
            assert screen.locator("#lv-reveal-options li.is-correct").count() == 1
            assert screen.locator("#lv-top li").first.locator(".name").inner_text() == "Hạnh"
            assert hanh.locator("#lv-rank").inner_text() == "1"
            assert hanh.evaluate("document.documentElement.scrollWidth") <= 360

        host_page.once("dialog", lambda dialog: dialog.accept())
        host_page.get_by_role("button", name="Kết thúc trò chơi").click()
        for page in (hanh, tuan, screen):
            page.wait_for_selector("#lv-final:not([hidden])")
        assert hanh.locator("#lv-final-rank").inner_text() == "Hạng của bạn: 1"
        assert tuan.locator("#lv-final-rank").inner_text() == "Hạng của bạn: 2"
        assert hanh.locator("#lv-score").inner_text() == "3"
        assert tuan.locator("#lv-score").inner_text() == "1"
        assert screen.locator("#lv-final-top li .name").all_inner_texts() == ["Hạnh", "Tuấn"]
        host_page.wait_for_selector("#lh-results:not([hidden])")
        host_page.locator("#lh-results").click()
        host_page.wait_for_url(re.compile(r".*/results/$"))
        assert "Hạnh" in host_page.locator("table").inner_text()
    finally:
        for ctx in contexts:
            ctx.close()
    assert LiveSession.objects.get(pk=session.pk).phase == "finished"
    assert LiveAnswer.objects.filter(session=session).count() == 5
    assert list(LivePlayer.objects.filter(session=session).order_by("rank").values_list("display_name", "rank")) == [
        ("Hạnh", 1), ("Tuấn", 2)]

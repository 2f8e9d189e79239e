"""The public leaderboard page in Chromium: the server-rendered first page, then the live update pushed over
ws/leaderboards/<id>/ redraws the table (static/js/leaderboard.js)."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from django.utils import timezone

from contests.models import Attempt
from leaderboards.services import live
from leaderboards.services.boards import get_board, set_board
from tests.browser.conftest import (  # noqa: F401
    _free_port,
    _wait_for_server_sessions_to_end,
    any_page,
    chromium,
    phone_page,
    wait_for_js,
)
from tests.leaderboards.conftest import People, clear_redis
from tests.leaderboards.test_scaleout import start_server, wait_ready

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(transactional_db):
    # The test process pushes through the Redis channel layer from a timer thread's own event loop: a layer
    # object left over from an earlier test is bound to a loop that is gone, so each test gets a fresh one.
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    set_board(None)
    board = get_board()
    clear_redis(board)
    port = _free_port()
    proc = start_server(port, DEBUG="1")
    try:
        wait_ready(proc, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        _wait_for_server_sessions_to_end()
        clear_redis(board)
        set_board(None)


def test_page_shows_the_board_and_applies_pushed_updates(server, phone_page, lb_round):  # noqa: F811
    now = timezone.now()
    lb_round.opens_at, lb_round.closes_at = now - dt.timedelta(days=1), now + dt.timedelta(hours=2)
    lb_round.save()
    people = People(lb_round)
    people.attempt(1, score="5")
    people.attempt(2, score="6")
    phone_page.goto(f"{server}/leaderboards/rounds/{lb_round.pk}/")
    rows = phone_page.locator("#board-rows tr")
    assert rows.count() == 2
    assert "Nguyễn V. T. S. 2." in rows.first.inner_text()
    phone_page.wait_for_timeout(1500)  # the socket is open and has its snapshot
    third = people.attempt(3, score="9")
    live.leaderboard_record_attempt(attempt=Attempt.objects.select_related("round__contest").get(pk=third.pk))
    phone_page.wait_for_selector("#board-rows tr:first-child >> text=Nguyễn V. T. S. 3.", timeout=10_000)
    assert phone_page.locator("#board-rows tr").count() == 3
    live.cancel_pending_pushes()


def test_scores_and_durations_follow_one_rule_on_every_page(server, any_page, lb_round):  # noqa: F811
    """A score of 10 is "10" (the board showed "1E+1"), 9.5 is "9,5", and one attempt's duration reads the same
    (truncated, 00:47) on the live board — server-rendered and pushed —, the result page and the official list."""
    from decimal import Decimal

    from leaderboards.services.ranking import round_close
    from tests.browser.conftest import login

    page = any_page
    now = timezone.now()
    lb_round.opens_at, lb_round.closes_at = now - dt.timedelta(days=1), now + dt.timedelta(hours=2)
    lb_round.save()
    people = People(lb_round)
    ten = people.attempt(1, score=Decimal("10.000"), duration_ms=47_787)
    live.leaderboard_rebuild(round=lb_round)
    login(page, server, ten.user.phone)
    page.goto(f"{server}/leaderboards/rounds/{lb_round.pk}/")
    first = page.locator("#board-rows tr").first
    assert first.locator("td").nth(2).inner_text() == "10"
    assert first.locator("td").nth(3).inner_text() == "00:47"
    wait_for_js(page, "document.getElementById('my-rank').textContent.indexOf('(10)') > 0")
    assert "1E" not in page.locator("#live-board").inner_text()
    page.wait_for_timeout(1500)  # the socket has its snapshot
    half = people.attempt(2, score="10.5", duration_ms=3_723_400)
    live.leaderboard_record_attempt(attempt=Attempt.objects.select_related("round__contest").get(pk=half.pk))
    page.wait_for_selector("#board-rows tr:first-child >> text=10,5", timeout=10_000)
    pushed = page.locator("#board-rows tr").first.locator("td")
    assert pushed.nth(3).inner_text() == "1:02:03"
    second = page.locator("#board-rows tr").nth(1).locator("td")
    assert [second.nth(2).inner_text(), second.nth(3).inner_text()] == ["10", "00:47"]
    live.cancel_pending_pushes()

    page.goto(f"{server}/contests/attempts/{ten.pk}/result/")
    assert page.locator("#result-duration").inner_text() == "00:47"
    lb_round.closes_at = now - dt.timedelta(minutes=5)
    lb_round.save()
    round_close(round=lb_round, now=now)
    from tests.factories import make_staff

    organiser = make_staff(lb_round.contest.organisation, "organiser")
    page.context.clear_cookies()
    login(page, server, organiser.username)
    page.goto(f"{server}/leaderboards/rounds/{lb_round.pk}/official/")
    table = page.locator("table.leaderboard").last.inner_text()
    assert "00:47" in table
    assert "47787" not in table
    assert "47.787" not in table
    assert "10,5" in table


def test_the_contest_board_counts_published_rounds_and_explains_the_rest(server, any_page, lb_round):  # noqa: F811
    from leaderboards.models import RankingStatus
    from leaderboards.services.ranking import round_close
    from tests.browser.conftest import page_fits
    from tests.contests.factories import RoundFactory

    page = any_page
    people = People(lb_round)
    people.attempt(1, score="9")
    url = f"{server}/leaderboards/contests/{lb_round.contest.slug}/"
    ranking = round_close(round=lb_round)
    page.goto(url)
    assert "Chưa có đợt thi nào được công bố kết quả chính thức" in page.locator("#contest-empty").inner_text()
    assert page.locator("#contest-rounds li").first.get_attribute("data-state") == "awaiting"
    now = timezone.now()
    RoundFactory(contest=lb_round.contest, name="Tuần đang mở", opens_at=now - dt.timedelta(hours=1),
                 closes_at=now + dt.timedelta(days=1))
    ranking.status = RankingStatus.PUBLISHED
    ranking.save(update_fields=["status"])
    page.goto(url)
    assert "Nguyễn V. T. S. 1." in page.locator("table.leaderboard").inner_text()
    states = [li.get_attribute("data-state") for li in page.locator("#contest-rounds li").all()]
    assert states == ["counted", "open"]
    page.get_by_role("link", name="Tuần đang mở").click()
    page.wait_for_url("**/leaderboards/rounds/*/")
    assert page_fits(page)

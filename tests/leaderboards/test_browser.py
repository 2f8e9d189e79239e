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
from tests.browser.conftest import _free_port, _wait_for_server_sessions_to_end, chromium, phone_page  # noqa: F401
from tests.leaderboards.conftest import People, clear_redis
from tests.leaderboards.test_scaleout import start_server, wait_ready

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(transactional_db):
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

"""A prize line inside a tie, in Chromium (issue 16): the organiser opens the round's results page, is told that
three people tied at rank 2 compete for one second prize, chooses to extend it to all of them with the rule
book's article, and the page then says how the line was settled; the judge can propose again."""

from __future__ import annotations

import pytest

from leaderboards.models import RoundRanking
from leaderboards.services.ranking import ranking_prizes_set, round_close
from tests.browser.conftest import any_page, chromium, english_left, login, page_fits  # noqa: F401
from tests.factories import make_staff
from tests.leaderboards.conftest import People, lb_round  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_organiser_decides_a_tie_at_a_prize_line(asgi_server, any_page, lb_round, org_a):  # noqa: F811
    page = any_page
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    lb_round.contest.prediction_enabled = False
    lb_round.contest.save()
    lb_round.refresh_settings()
    people = People(lb_round)
    for person, score in ((1, "9"), (2, "8"), (3, "8"), (4, "8")):
        people.attempt(person, score=score, duration_ms=5000)
    ranking = ranking_prizes_set(ranking=round_close(round=lb_round), prizes={"first": 1, "second": 1})
    organiser = make_staff(org_a, "organiser", full_name="Trần Thị Tổ Chức")

    login(page, asgi_server, organiser.phone)
    page.goto(f"{asgi_server}/judging/rounds/{lb_round.pk}/")
    notice = page.locator("#prize-ties li.undecided")
    assert notice.inner_text() == ("Giải Nhì: 3 thí sinh đồng hạng 2 nhưng chỉ còn 1 suất; các tiêu chí xếp hạng "
                                   "phụ không phân định được. Ban tổ chức cần chọn: trao giải cho cả 3 người, hoặc "
                                   "xét thêm một tiêu chí.")
    assert "đồng hạng ở ranh giới giải" in page.locator("#ranking-blockers").inner_text()
    page.get_by_label("Trao giải cho tất cả người đồng hạng").check()
    page.fill("#id_tie-reason", "Điều 9 Thể lệ: đồng giải")
    page.get_by_role("button", name="Lưu quyết định").click()
    page.wait_for_load_state()
    assert "Đã quyết định cách xử lý đồng hạng cho phiên bản 1." in page.locator("body").inner_text()
    assert page.locator("#prize-ties li.undecided").count() == 0
    assert page.locator("#prize-ties li").inner_text() == (
        "Giải Nhì: trao cho cả 3 thí sinh đồng hạng 2 (thêm 2 giải so với cơ cấu giải).")
    assert page.locator("#preview tr.winner").count() == 4
    assert "Điều 9 Thể lệ: đồng giải" in page.locator("#decisions").inner_text()
    assert page.locator("#ranking-blockers").count() == 0
    assert RoundRanking.objects.get(pk=ranking.pk).prize_tie_rule == "extend"
    assert page_fits(page)
    assert english_left(page, "main") == []
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e]

"""The exam page while the server refuses answers (the database is away: ``storage_unavailable``), in Debian's
Chromium against a real server whose socket Playwright sits in front of.

Found by the fault runs (bench/faults, PostgreSQL stopped for 10 s): the page resent *all* its pending answers
1.5 s after *each* refusal. With k answers pending, one round of refusals gave k resends of all k — k² frames,
then k³… — until the server's rate limit answered ``rate_limited`` (which the page also answered with a full
resend) and, after 20 of those, closed the socket with 4408, after which the page never reconnects: the
citizen's exam stopped for good over a database outage of a few seconds."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import wait_for_js
from tests.browser.test_exam_flow import open_exam
from tests.realtime.conftest import make_exam

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_refused_answers_are_resent_once_per_pause_not_once_per_refusal(asgi_server, phone_page, org_a, citizen):
    page = phone_page
    exam = make_exam(org_a, citizen)
    sent: list[int] = []
    refusing = {"on": False}

    def route(ws) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if refusing["on"] and frame.get("type") == "answer":
                sent.append(frame["seq"])
                ws.send(json.dumps({"type": "error", "code": "storage_unavailable", "seq": frame["seq"],
                                    "position": frame["position"],
                                    "message": "Chưa lưu được câu trả lời, hệ thống sẽ gửi lại."}))
            else:
                server.send(message)

        ws.on_message(from_page)

    page.route_web_socket(re.compile(r".*/ws/attempts/\d+/$"), route)
    open_exam(page, asgi_server, citizen, exam)
    wait_for_js(page, "document.querySelector('#exam-conn').textContent === 'Đã kết nối'")

    refusing["on"] = True
    for position in (1, 2, 3):
        page.locator(f"#q-{position} input[type=radio]").nth(1).check()
    page.wait_for_timeout(8_000)
    # Three answers refused, then resent every 1.5 s: 3 + 3 × 5 = 18 frames in 8 s (a little slack for timers).
    # A resend per refusal sends 3, 9, 27, 81… — thousands by now.
    assert 3 < len(sent) <= 3 + 3 * 6, len(sent)
    assert set(sent) == {1, 2, 3}
    assert page.locator("#st-1").inner_text() == "Chưa lưu"
    assert page.locator("#exam-conn").inner_text() == "Đã kết nối"  # not closed by the server's rate limit

    refusing["on"] = False  # the database is back: the next resend is stored
    wait_for_js(page, "document.querySelector('#st-3').textContent === 'Đã lưu'", timeout=10_000)
    assert page.locator("#exam-progress").inner_text() == "3/5"

"""The Content-Security-Policy in a real browser: inline script, a style attribute and a socket to another
origin are refused, and the ``chromium`` fixture (tests/browser/conftest.py) reports each violation — the
check every browser test runs under cannot be blind."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_browser_refuses_inline_code_and_the_fixture_reports_it(asgi_server, chromium):
    page = chromium.new_page()
    response = page.goto(f"{asgi_server}/")
    header = response.headers["content-security-policy"]
    assert "default-src 'self'" in header
    assert "unsafe-inline" not in header
    page.wait_for_load_state("load")
    assert chromium.take_csp_violations() == []  # the home page itself is clean
    result = page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__inlineRan = true";
        document.body.appendChild(script);
        const p = document.createElement("p");
        p.setAttribute("style", "color: rgb(255, 0, 0)");
        p.textContent = "x";
        document.body.appendChild(p);
        try { new WebSocket("ws://127.0.0.1:9/elsewhere"); } catch (e) { /* refused synchronously */ }
        return {ran: window.__inlineRan === true, color: getComputedStyle(p).color};
    }""")
    assert result["ran"] is False
    assert result["color"] != "rgb(255, 0, 0)"
    page.wait_for_timeout(500)  # violation events are dispatched asynchronously
    page.evaluate("0")
    directives = {v.get("directive") for v in chromium.take_csp_violations()}
    assert {"script-src-elem", "style-src-attr", "connect-src"} <= directives, directives


def test_a_same_origin_socket_is_allowed(asgi_server, chromium):
    page = chromium.new_page()
    page.goto(f"{asgi_server}/")
    # The leaderboard socket path of a round that does not exist: the server closes it, the policy lets it open.
    page.evaluate("""() => new Promise(resolve => {
        const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host
                                 + "/ws/leaderboards/999999/");
        ws.onclose = ws.onerror = () => resolve(true);
        setTimeout(() => resolve(true), 3000);
    })""")
    page.wait_for_timeout(200)
    assert [v for v in chromium.take_csp_violations() if v.get("directive") == "connect-src"] == []

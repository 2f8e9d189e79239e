"""static/js/rich-text.js, the exam page's way to put question HTML into the page without innerHTML: its
allow-lists are the twins of questionbank/sanitize.py, and in Chromium it keeps exactly what the server's
sanitiser keeps (and drops what a sanitiser slip would let through: handlers, scripts, javascript: URLs)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from questionbank import sanitize
from tests.browser.conftest import chromium  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
SOURCE = (ROOT / "static/js/rich-text.js").read_text()


def _js_list(name: str) -> set[str]:
    match = re.search(rf"var {name} = \[(.*?)\];", SOURCE, re.DOTALL)
    assert match, name
    return set(re.findall(r'"([^"]+)"', match.group(1)))


def test_the_allow_lists_are_the_sanitisers():
    assert _js_list("ALLOWED_TAGS") == set(sanitize.ALLOWED_TAGS)
    assert _js_list("CLEAN_CONTENT_TAGS") == set(sanitize.CLEAN_CONTENT_TAGS)
    assert _js_list("URL_SCHEMES") == set(sanitize.URL_SCHEMES)
    block = re.search(r"var ALLOWED_ATTRIBUTES = \{(.*?)\};", SOURCE, re.DOTALL).group(1)
    attributes = {tag: set(re.findall(r'"([^"]+)"', values))
                  for tag, values in re.findall(r"(\w+): \[(.*?)\]", block)}
    assert attributes == {tag: set(values) for tag, values in sanitize.ALLOWED_ATTRIBUTES.items()}


def test_no_static_script_uses_innerhtml():
    """innerHTML, outerHTML, insertAdjacentHTML and document.write are not used by our scripts (comments aside)."""
    found = {}
    for path in sorted((ROOT / "static/js").glob("*.js")):
        code = re.sub(r"/\*.*?\*/|//[^\n]*", "", path.read_text(), flags=re.DOTALL)
        hits = re.findall(r"\.(?:innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", code)
        if hits:
            found[path.name] = hits
    assert found == {}


CASES = [
    "<p>Theo <strong>Luật</strong> Giao thông, <em>người</em> điều khiển xe…</p>",
    "<ul><li>một</li><li>hai</li></ul><ol><li>ba</li></ol>",
    "<table><tbody><tr><td colspan=\"2\">ô</td></tr></tbody></table>",
    "<p>Hình: <img src=\"/media/q/1.png\" alt=\"biển báo\" width=\"40\"></p>",
    "<a href=\"https://thuvienphapluat.vn/\" title=\"văn bản\">Luật</a>",
    "x<br>y",
]
# What a sanitiser slip could let through: the browser-side copy drops it all.
HOSTILE = [
    ("<img src=\"x\" onerror=\"window.__pwned=1\">", "<img src=\"x\">"),
    ("<p onclick=\"window.__pwned=1\" style=\"color:red\" class=\"k\">a</p>", "<p>a</p>"),
    ("<script>window.__pwned=1</script>b", "b"),
    ("<a href=\"javascript:window.__pwned=1\">c</a>", "<a rel=\"noopener noreferrer nofollow\">c</a>"),
    ("<a href=\"java\tscript:window.__pwned=1\">d</a>", "<a rel=\"noopener noreferrer nofollow\">d</a>"),
    ("<svg><script>window.__pwned=1</script></svg>e", "e"),
    ("<iframe src=\"https://evil.example/\"></iframe>f", "f"),
    ("<blink>g</blink>", "g"),
    ("<!-- h -->i", "i"),
]


@pytest.mark.browser
def test_rich_text_keeps_what_the_sanitiser_keeps(chromium):  # noqa: F811 - the fixture
    page = chromium.new_page()
    try:
        # A page of an http origin (relative URLs resolve as on the site), served by Playwright itself.
        page.route("http://exam.test/**", lambda route: route.fulfill(
            status=200, content_type="text/html", body="<!doctype html><html><body></body></html>"))
        page.goto("http://exam.test/contests/attempts/1/")
        page.add_script_tag(content=SOURCE)
        serialise = """([html, reference]) => {
            const built = document.createElement("div");
            built.appendChild(window.ceRichText(html));
            const expected = document.createElement("div");
            expected.innerHTML = reference;  // the test's reference serialisation, not page code
            return [built.innerHTML, expected.innerHTML];
        }"""
        for html in CASES:
            built, expected = page.evaluate(serialise, [html, sanitize.clean_html(html)])
            assert built == expected, json.dumps({"input": html, "js": built, "nh3": expected}, ensure_ascii=False)
        for html, reference in HOSTILE:
            built, expected = page.evaluate(serialise, [html, reference])
            assert built == expected, json.dumps({"input": html, "js": built}, ensure_ascii=False)
        page.wait_for_timeout(100)
        assert page.evaluate("window.__pwned") is None
    finally:
        page.close()

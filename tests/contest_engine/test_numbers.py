"""The one number rule (contest_engine/numbers.py) and its browser twin (static/js/numbers.js) agree."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.template import Context, Template

from contest_engine.numbers import format_count, format_duration_ms, format_score
from tests.browser.conftest import ROOT, chromium  # noqa: F401

SCORES = [
    (Decimal("10"), "10"),
    (Decimal("1E+1"), "10"),  # what the live board showed as "1E+1"
    (Decimal("7.000"), "7"),
    (Decimal("7.500"), "7,5"),
    (Decimal("8.333"), "8,333"),
    (Decimal("0.0005"), "0,001"),  # half away from zero at the third decimal
    (Decimal("-2.50"), "-2,5"),
    (Decimal("-0.0001"), "0"),
    (Decimal("3000"), "3.000"),
    (Decimal("1234567.25"), "1.234.567,25"),
    (0, "0"),
    (9.5, "9,5"),
    ("4.25", "4,25"),
]
COUNTS = [(0, "0"), (7, "7"), (999, "999"), (1000, "1.000"), (12345, "12.345"), (2480000, "2.480.000")]
DURATIONS = [
    (0, "00:00"),
    (999, "00:00"),
    (47_787, "00:47"),  # truncated: the result page and the board both say 00:47
    (48_000, "00:48"),
    (59_999, "00:59"),
    (600_000, "10:00"),
    (3_599_999, "59:59"),
    (3_600_000, "1:00:00"),
    (3_723_400, "1:02:03"),
]


@pytest.mark.parametrize(("value", "expected"), SCORES)
def test_format_score(value, expected):
    assert format_score(value) == expected


@pytest.mark.parametrize(("value", "expected"), COUNTS)
def test_format_count(value, expected):
    assert format_count(value) == expected


@pytest.mark.parametrize(("value", "expected"), DURATIONS)
def test_format_duration(value, expected):
    assert format_duration_ms(value) == expected


def test_placeholders_pass_through():
    assert format_score(None) == ""
    assert format_score("—") == "—"
    assert format_duration_ms(None) == ""
    assert format_duration_ms(-5) == ""


def test_template_filters():
    html = Template("{% load vi_numbers %}{{ s|score }} {{ n|count }} {{ ms|duration }}").render(
        Context({"s": Decimal("9.500"), "n": 12345, "ms": 47_787})
    )
    assert html == "9,5 12.345 00:47"


@pytest.mark.browser
def test_browser_twin_gives_the_same_strings(chromium):  # noqa: F811
    page = chromium.new_page()
    try:
        page.set_content("<html><body></body></html>")
        page.add_script_tag(content=(ROOT / "static/js/numbers.js").read_text())
        cases = {
            "score": [[str(v) if isinstance(v, Decimal) else v, e] for v, e in SCORES],
            "count": [[v, e] for v, e in COUNTS],
            "duration": [[v, e] for v, e in DURATIONS],
        }
        got = page.evaluate(
            """cases => Object.fromEntries(Object.entries(cases).map(([kind, rows]) =>
                 [kind, rows.map(([value]) => window.ceNumbers[kind](value))]))""",
            cases,
        )
    finally:
        page.close()
    for kind, rows in cases.items():
        assert got[kind] == [expected for _, expected in rows], json.dumps({kind: got[kind]}, ensure_ascii=False)

"""Vietnamese date and time formats (contest_engine/formats): typed day first, shown dd/mm/yyyy HH:MM on the
24-hour clock, ISO still accepted; the installation's time zone is named where organisers type times."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django import forms
from django.template import Context, Template
from django.utils import timezone, translation

from contest_engine.timezones import zone_label

ROOT = Path(__file__).resolve().parents[2]


class When(forms.Form):
    day = forms.DateField()
    moment = forms.DateTimeField()


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize(("day", "moment"), [
    ("03/12/2026", "03/12/2026 14:30"),
    ("03-12-2026", "03-12-2026 14:30"),
    ("2026-12-03", "2026-12-03 14:30"),  # ISO, what <input type="date"> sends
    ("2026-12-03", "2026-12-03T14:30"),  # what <input type="datetime-local"> sends
    ("03/12/2026", "03/12/2026 14h30"),
])
def test_typed_dates_are_read_day_first(language, day, moment):
    with translation.override(language):
        form = When(data={"day": day, "moment": moment})
        assert form.is_valid(), form.errors
    assert form.cleaned_data["day"] == dt.date(2026, 12, 3)
    local = timezone.localtime(form.cleaned_data["moment"])
    assert (local.year, local.month, local.day, local.hour, local.minute) == (2026, 12, 3, 14, 30)
    assert local.utcoffset() == dt.timedelta(hours=7)  # read on the installation's clock


def test_a_month_over_12_is_refused_not_swapped():
    with translation.override("vi"):
        form = When(data={"day": "12/31/2026", "moment": "12/31/2026 10:00"})
        assert not form.is_valid()
        assert set(form.errors) == {"day", "moment"}


def test_dates_are_shown_day_first_on_the_24_hour_clock():
    moment = timezone.make_aware(dt.datetime(2026, 12, 3, 14, 5))
    with translation.override("vi"):
        out = Template('{{ m|date:"SHORT_DATETIME_FORMAT" }}|{{ m|date:"SHORT_DATE_FORMAT" }}|{{ m }}').render(
            Context({"m": moment}))
    assert out == "03/12/2026 14:05|03/12/2026|03/12/2026 14:05"
    with translation.override("vi"):
        assert 'value="03/12/2026 14:05"' in str(When(initial={"moment": moment})["moment"])


def test_templates_show_dates_day_first_only():
    """Pages print dates through the named formats (or a day-first literal), never "H:i d/m/Y" or m/d."""
    found = {}
    for path in (ROOT / "templates").rglob("*.html"):
        for fmt in re.findall(r'\|date:"([^"]*)"', path.read_text(encoding="utf-8")):
            found.setdefault(fmt, []).append(path.name)
    assert found, "the templates format dates"
    def time_only(fmt: str) -> bool:  # a time of day alone, on the 24-hour clock ("H:i", "H:i:s.u")
        return fmt.startswith("H:i") and not any(letter in fmt for letter in "dDjmMnNYy")

    bad = {fmt: files for fmt, files in found.items()
           if not (fmt.endswith("_FORMAT") or fmt.startswith("d/m/Y") or time_only(fmt))}
    assert bad == {}


def test_the_time_zone_is_named():
    with translation.override("vi"):
        assert zone_label() == "giờ Việt Nam (UTC+07:00)"
    with translation.override("en"):
        assert zone_label() == "Vietnam time (UTC+07:00)"


@pytest.mark.django_db
def test_the_round_form_names_the_time_zone(client):
    from contests.admin import ExtendRoundForm, RoundForm

    with translation.override("vi"):
        form = RoundForm()
        assert "giờ Việt Nam (UTC+07:00)" in str(form.fields["opens_at"].help_text)
        assert "giờ Việt Nam (UTC+07:00)" in str(form.fields["closes_at"].help_text)
        extend = ExtendRoundForm(data={"until": "2026-12-03T14:30", "reason": "Sự cố mạng"})
        assert extend.is_valid(), extend.errors
        # Shown back in the format the native picker reads (a refused form keeps what was typed).
        assert 'value="2026-12-03T14:30"' in str(ExtendRoundForm(initial={"until": extend.cleaned_data["until"]})
                                                 ["until"])

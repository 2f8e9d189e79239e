"""Issue 25, point 6: cloning a contest for next year through a form — new title, "+1 năm", which rounds and
settings — and a transliterated slug without "(bản sao)"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin import helpers
from django.urls import reverse
from django.utils import timezone

from contests.admin import next_edition_title
from contests.models import Contest
from contests.services.contests import shift_months
from tests.contests.factories import ContestFactory, RoundFactory

pytestmark = pytest.mark.django_db


def local(*args):
    return timezone.make_aware(dt.datetime(*args), timezone.get_current_timezone())


@pytest.fixture
def edition(org_a):
    contest = ContestFactory(organisation=org_a, title="Tìm hiểu pháp luật về đất đai năm 2025",
                             rules_text="<p>Thể lệ 2025</p>", time_limit_seconds=1200)
    contest.allowed_units.set([org_a])
    week1 = RoundFactory(contest=contest, name="Tuần 1", position=1, opens_at=local(2025, 3, 3, 8),
                         closes_at=local(2025, 3, 9, 17), time_limit_seconds=600)
    week2 = RoundFactory(contest=contest, name="Tuần 2", position=2, opens_at=local(2025, 3, 10, 8),
                         closes_at=local(2025, 3, 16, 17))
    return contest, week1, week2


def clone(client, contest, **data):
    url = reverse("admin:contests_contest_changelist")
    base = {"action": "clone_contests", helpers.ACTION_CHECKBOX_NAME: [contest.pk], "index": "0", "apply": "1"}
    return client.post(url, {**base, **data})


def test_the_form_offers_next_years_title_and_every_round(client, organiser_a, edition):
    contest, _week1, _week2 = edition
    client.force_login(organiser_a)
    page = client.post(reverse("admin:contests_contest_changelist"), {
        "action": "clone_contests", helpers.ACTION_CHECKBOX_NAME: [contest.pk], "index": "0"}).content.decode()
    for text in ("Tìm hiểu pháp luật về đất đai năm 2026", "+1 năm", "Tuần 1", "Tuần 2",
                 "Sao chép thể lệ và giới thiệu"):
        assert text in page


def test_next_year_with_chosen_rounds_and_settings(client, organiser_a, edition):
    contest, week1, _week2 = edition
    client.force_login(organiser_a)
    response = clone(client, contest, title="Tìm hiểu pháp luật về đất đai năm 2026", shift="12", days="",
                     rounds=[week1.pk], copy_units="on")
    copy = Contest.objects.exclude(pk=contest.pk).get()
    assert response["Location"] == reverse("admin:contests_contest_change", args=[copy.pk])
    assert copy.slug == "tim-hieu-phap-luat-ve-dat-dai-nam-2026"
    assert (copy.visibility, copy.rules_text, copy.time_limit_seconds) == ("draft", "", 1200)
    assert list(copy.allowed_units.all()) == list(contest.allowed_units.all())
    (round,) = copy.rounds.all()
    assert (round.name, timezone.localtime(round.opens_at), timezone.localtime(round.closes_at)) == (
        "Tuần 1", local(2026, 3, 3, 8), local(2026, 3, 9, 17))
    assert round.time_limit_seconds is None  # its own settings were not copied: it inherits


def test_a_plain_copy_keeps_dates_units_rules_and_round_settings(client, organiser_a, edition):
    contest, week1, week2 = edition
    client.force_login(organiser_a)
    clone(client, contest, title="Bản sao để thử", shift="0", days="7", rounds=[week1.pk, week2.pk],
          copy_units="on", copy_rules="on", copy_round_settings="on")
    copy = Contest.objects.get(title="Bản sao để thử")
    assert copy.slug == "ban-sao-de-thu"
    assert copy.rules_text == "<p>Thể lệ 2025</p>"
    first = copy.rounds.get(name="Tuần 1")
    assert first.time_limit_seconds == 600
    assert timezone.localtime(first.opens_at) == local(2025, 3, 10, 8)


def test_another_organisations_organiser_cannot_clone(client, organiser_b, edition):
    contest, week1, _week2 = edition
    client.force_login(organiser_b)
    clone(client, contest, title="Lấy trộm", shift="0", rounds=[week1.pk])
    assert not Contest.objects.filter(title="Lấy trộm").exists()


def test_calendar_shifts_and_titles():
    assert shift_months(local(2024, 2, 29, 8), 12) == local(2025, 2, 28, 8)
    assert shift_months(local(2025, 1, 31, 8), 1) == local(2025, 2, 28, 8)
    assert next_edition_title("Cuộc thi 2025 - Tuần 2025") == "Cuộc thi 2025 - Tuần 2026"
    assert next_edition_title("Cuộc thi tìm hiểu pháp luật") == "Cuộc thi tìm hiểu pháp luật"

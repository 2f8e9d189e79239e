"""Issue 25, point 3: every unit a contest is open to sees its own participation (counts, rate, its people
masked), whoever organises the contest; no other unit's, and nobody else's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from contests.models import AttemptStatus, ContestVisibility
from leaderboards import selectors
from tests.contests.factories import ContestFactory, RoundFactory
from tests.factories import OrganisationFactory, make_staff
from tests.leaderboards.conftest import People

pytestmark = pytest.mark.django_db


@pytest.fixture
def city_contest():
    """The city's contest (Sở Tư pháp), open to two wards; Ninh Kiều has 50 people on record."""
    city = OrganisationFactory(name="Sở Tư pháp (thử)", is_unit=False)
    ninh_kieu = OrganisationFactory(name="Phường Ninh Kiều", registered_population=50)
    cai_rang = OrganisationFactory(name="Phường Cái Răng")
    contest = ContestFactory(organisation=city, title="Tìm hiểu Luật Đất đai 2024")
    contest.allowed_units.set([ninh_kieu, cai_rang])
    now = timezone.now()
    week1 = RoundFactory(contest=contest, name="Tuần 1", opens_at=now - dt.timedelta(days=8),
                         closes_at=now - dt.timedelta(days=1))
    week2 = RoundFactory(contest=contest, name="Tuần 2", opens_at=now - dt.timedelta(days=1),
                         closes_at=now + dt.timedelta(days=6))
    people = People(week1)
    people.units = [ninh_kieu, cai_rang]
    people.attempt(0, unit=0)                       # Ninh Kiều, week 1
    people.attempt(0, unit=0, round=week2)          # the same person again in week 2
    people.attempt(2, unit=0, round=week2, status=AttemptStatus.IN_PROGRESS)
    people.registration(4, unit=0)                  # registered, no attempt yet
    people.attempt(1, unit=1)                       # Cái Răng
    return contest, ninh_kieu, cai_rang, week1, week2, people


def test_figures_count_registered_in_progress_and_finished(city_contest):
    contest, ninh_kieu, _cai_rang, week1, week2, _people = city_contest
    total, first, second = selectors.unit_participation(contest=contest, unit=ninh_kieu)
    assert (total.registered, total.in_progress, total.entrants, total.attempts) == (3, 1, 1, 2)
    assert total.rate_percent == 2.0  # 1 of 50
    assert (first.round, first.entrants, first.in_progress) == (week1, 1, 0)
    assert (second.round, second.entrants, second.in_progress) == (week2, 1, 1)


def test_the_ward_organiser_sees_their_ward_from_the_dashboard(client, city_contest):
    contest, ninh_kieu, _cai_rang, week1, _week2, _people = city_contest
    organiser = make_staff(ninh_kieu, Role.ORGANISER)
    client.force_login(organiser)
    page = client.get(reverse("leaderboards:dashboard")).content.decode()
    assert "Bạn chưa phụ trách đợt thi nào" not in page
    url = reverse("leaderboards:unit_participation", args=[contest.slug, ninh_kieu.pk])
    assert url in page
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Phường Ninh Kiều" in body
    assert "Tìm hiểu Luật Đất đai 2024" in body
    assert "Nguyễn V. T. S. 0" in body           # masked names
    assert "Nguyễn Văn Thí Sinh" not in body
    assert "Nguyễn V. T. S. 1" not in body       # Cái Răng's person is not listed
    assert "2%" in body
    # The round's unit page (all units) sends them to their own.
    redirected = client.get(reverse("leaderboards:units", args=[week1.pk]))
    assert redirected.status_code == 302
    assert redirected["Location"] == url
    redirected = client.get(reverse("leaderboards:contest_units", args=[contest.slug]))
    assert redirected["Location"] == url
    # And the staff menu's "Tham gia theo đơn vị" lists it.
    assert url in client.get(reverse("staff_rounds", args=["units"])).content.decode()


def test_another_wards_page_and_closed_contests_are_404(client, city_contest):
    contest, ninh_kieu, cai_rang, _week1, _week2, _people = city_contest
    client.force_login(make_staff(ninh_kieu, Role.ORGANISER))
    assert client.get(reverse("leaderboards:unit_participation", args=[contest.slug, cai_rang.pk])).status_code == 404
    outside = OrganisationFactory(name="Xã ngoài phạm vi")
    client.force_login(make_staff(outside, Role.ORGANISER))
    assert client.get(reverse("leaderboards:unit_participation", args=[contest.slug, outside.pk])).status_code == 404
    assert client.get(reverse("leaderboards:unit_participation",
                              args=[contest.slug, ninh_kieu.pk])).status_code == 404
    # A writer of the ward follows no participation; a draft contest is nobody's business but its organiser's.
    client.force_login(make_staff(ninh_kieu, Role.WRITER))
    assert client.get(reverse("leaderboards:unit_participation",
                              args=[contest.slug, ninh_kieu.pk])).status_code == 404
    contest.visibility = ContestVisibility.DRAFT
    contest.save()
    client.force_login(make_staff(ninh_kieu, Role.ORGANISER))
    assert client.get(reverse("leaderboards:unit_participation",
                              args=[contest.slug, ninh_kieu.pk])).status_code == 404


def test_a_contest_open_to_every_unit_is_the_wards_once_its_people_register(client):
    city = OrganisationFactory(name="Sở Tư pháp (thử)", is_unit=False)
    ward = OrganisationFactory(name="Phường An Hòa")
    contest = ContestFactory(organisation=city, title="Cuộc thi mở cho mọi đơn vị")
    round = RoundFactory(contest=contest)
    client.force_login(make_staff(ward, Role.ORGANISER))
    url = reverse("leaderboards:unit_participation", args=[contest.slug, ward.pk])
    assert client.get(url).status_code == 404  # every ward of the country is not its business yet
    assert "Cuộc thi mở cho mọi đơn vị" not in client.get(reverse("leaderboards:dashboard")).content.decode()
    people = People(round)
    people.units = [ward]
    people.registration(0, unit=0)
    assert client.get(url).status_code == 200
    assert url in client.get(reverse("leaderboards:dashboard")).content.decode()


def test_the_contests_own_staff_see_any_unit(client, city_contest):
    contest, _ninh_kieu, cai_rang, _week1, _week2, _people = city_contest
    client.force_login(make_staff(contest.organisation, Role.ORGANISER))
    assert client.get(reverse("leaderboards:unit_participation", args=[contest.slug, cai_rang.pk])).status_code == 200
    other = make_staff(OrganisationFactory(is_unit=False), Role.ORGANISER)
    client.force_login(other)
    assert client.get(reverse("leaderboards:unit_participation", args=[contest.slug, cai_rang.pk])).status_code == 404

"""Issue 25, point 4: the contest-day units dashboard counts registered, in-progress and finished people per unit,
and the contest's organisers set (or paste from a spreadsheet) each unit's population, so the rate is not "—"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Role
from contests.models import AttemptStatus
from leaderboards import errors, selectors
from leaderboards.models import UnitPopulation
from leaderboards.services.populations import populations_parse, unit_populations_set
from tests.factories import OrganisationFactory, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def units(people):
    ninh_kieu = OrganisationFactory(name="Phường Ninh Kiều", official_code="31117")
    cai_rang = OrganisationFactory(name="Phường Cái Răng")
    people.round.contest.allowed_units.set([ninh_kieu, cai_rang])
    people.units = [ninh_kieu, cai_rang]
    people.attempt(0, unit=0)
    people.attempt(2, unit=0, status=AttemptStatus.IN_PROGRESS)
    people.registration(4, unit=0)
    people.attempt(1, unit=1)
    return ninh_kieu, cai_rang


def test_each_unit_has_registered_in_progress_and_finished(people, units):
    ninh_kieu, cai_rang = units
    stats = {s.unit_id: s for s in selectors.unit_stats(contest=people.round.contest, round=people.round)}
    assert (stats[ninh_kieu.pk].registered, stats[ninh_kieu.pk].in_progress, stats[ninh_kieu.pk].entrants) == (3, 1, 1)
    assert (stats[cai_rang.pk].registered, stats[cai_rang.pk].in_progress, stats[cai_rang.pk].entrants) == (1, 0, 1)
    assert stats[ninh_kieu.pk].rate_percent is None


def test_pasted_columns_set_the_populations_and_the_rate(people, units, organiser_a):
    ninh_kieu, cai_rang = units
    contest = people.round.contest
    values = populations_parse(contest=contest, text="Đơn vị\tSố người\nphuong ninh kieu\t1.250\n"
                                                     "Phường Cái Răng;40\n")
    assert values == {ninh_kieu.pk: 1250, cai_rang.pk: 40}
    assert unit_populations_set(contest=contest, actor=organiser_a, values=values) == 2
    stats = {s.unit_id: s for s in selectors.unit_stats(contest=contest, round=people.round)}
    assert stats[cai_rang.pk].rate_percent == 2.5
    assert AuditEvent.objects.filter(action="leaderboards.unit_populations_set").count() == 1
    assert unit_populations_set(contest=contest, actor=organiser_a, values=values) == 0  # nothing new


def test_bad_lines_are_listed_and_nothing_is_saved(people, units):
    contest = people.round.contest
    with pytest.raises(errors.PopulationInvalid) as exc:
        populations_parse(contest=contest, text="Phường Ninh Kiều\t12a\nXã Không Có\t5\nPhường Cái Răng\t7\n"
                                                "Phường Cái Răng\t8")
    assert exc.value.problems == [
        "Dòng 1: số người «12a» không phải số nguyên hợp lệ.",
        "Dòng 2: không có đơn vị «Xã Không Có» trong phạm vi cuộc thi.",
        "Dòng 4: đơn vị «Phường Cái Răng» đã có ở dòng trước."]
    assert not UnitPopulation.objects.exists()


def test_only_the_contests_organisers_set_populations(people, units, organiser_b):
    ninh_kieu, _cai_rang = units
    contest = people.round.contest
    with pytest.raises(errors.PermissionDenied):
        unit_populations_set(contest=contest, actor=organiser_b, values={ninh_kieu.pk: 5})
    ward_organiser = make_staff(ninh_kieu, Role.ORGANISER)
    with pytest.raises(errors.PermissionDenied):
        unit_populations_set(contest=contest, actor=ward_organiser, values={ninh_kieu.pk: 5})
    outside = OrganisationFactory(name="Xã ngoài phạm vi")
    organiser = make_staff(contest.organisation, Role.ORGANISER)
    with pytest.raises(errors.PopulationInvalid):
        unit_populations_set(contest=contest, actor=organiser, values={outside.pk: 5})
    assert not UnitPopulation.objects.exists()


def test_the_page_saves_typed_values_and_shows_the_columns(client, people, units, organiser_a, organiser_b):
    ninh_kieu, cai_rang = units
    contest = people.round.contest
    url = reverse("leaderboards:unit_populations", args=[contest.slug])
    client.force_login(organiser_b)
    assert client.get(url).status_code == 404
    assert client.post(url, {f"pop-{ninh_kieu.pk}": "100"}).status_code == 404
    client.force_login(organiser_a)
    response = client.post(url, {f"pop-{ninh_kieu.pk}": "100", f"pop-{cai_rang.pk}": ""})
    assert response.status_code == 302
    assert selectors.unit_populations(contest=contest) == {ninh_kieu.pk: 100}
    refused = client.post(url, {"pasted": "Xã Không Có\t5"})
    assert "không có đơn vị «Xã Không Có»" in refused.content.decode()
    page = client.get(reverse("leaderboards:units", args=[people.round.pk])).content.decode()
    for label in ("Đã đăng ký", "Đang làm bài", "Người dự thi", "1%", url):
        assert label in page

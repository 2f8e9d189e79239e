"""The staff menu (contest_engine/staff_menu.py): each role sees what it can use, citizens see nothing; the hub
pages list only the user's own organisations' rounds."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contest_engine.staff_menu import menu_for
from tests.contests.factories import ContestFactory, RoundFactory
from tests.factories import CitizenProfileFactory, make_staff

pytestmark = pytest.mark.django_db

EVERY_ROUND_PAGE = ["leaderboards", "units", "judging", "exports"]  # judging: the judges' home (issue 24)
HUBS = ["leaderboards", "units", "exports"]


@pytest.mark.parametrize(("roles", "keys"), [
    (("organiser",), ["contests", "rounds", "questions", *EVERY_ROUND_PAGE, "sharing", "staff_accounts", "api_tokens",
                      "admin", "guide"]),
    (("judge",), ["contests", "rounds", "questions", *EVERY_ROUND_PAGE, "admin", "guide"]),
    (("writer",), ["questions", "imports", "admin", "guide"]),
    (("reviewer",), ["questions", "admin", "guide"]),
    (("writer", "organiser"), ["contests", "rounds", "questions", "imports", *EVERY_ROUND_PAGE, "sharing",
                               "staff_accounts", "api_tokens", "admin", "guide"]),
])
def test_each_role_sees_what_it_can_use(org_a, roles, keys):
    assert [entry.slug for entry in menu_for(make_staff(org_a, *roles))] == keys


def test_citizens_and_visitors_see_no_menu(client, org_a):
    from django.contrib.auth.models import AnonymousUser

    citizen = CitizenProfileFactory(unit=org_a).user
    assert menu_for(citizen) == []
    assert menu_for(AnonymousUser()) == []
    client.force_login(citizen)
    assert "Menu cán bộ" not in client.get("/").content.decode()
    assert client.get(reverse("staff_rounds", args=["exports"])).status_code == 403
    assert client.get(reverse("staff_home")).status_code == 403


def test_every_menu_entry_opens_for_its_roles(client, org_a):
    staff = make_staff(org_a, "organiser", "judge", "writer", "reviewer")
    client.force_login(staff)
    for entry in menu_for(staff):
        response = client.get(entry.url)
        assert response.status_code == 200, entry.slug
        assert "Menu cán bộ" in response.content.decode(), entry.slug


def test_round_hubs_list_only_own_rounds(client, org_a, org_b):
    mine = RoundFactory(contest=ContestFactory(organisation=org_a, title="Cuộc thi của A"), name="Tuần A")
    RoundFactory(contest=ContestFactory(organisation=org_b, title="Cuộc thi của B"), name="Tuần B")
    client.force_login(make_staff(org_a, "organiser"))
    for purpose in HUBS:
        page = client.get(reverse("staff_rounds", args=[purpose])).content.decode()
        assert "Cuộc thi của A" in page
        assert "Cuộc thi của B" not in page
    exports = client.get(reverse("staff_rounds", args=["exports"])).content.decode()
    assert reverse("exports:round", kwargs={"pk": mine.pk}) in exports
    judging = client.get(reverse("judging:home")).content.decode()
    assert reverse("judging:round", args=[mine.pk]) in judging
    assert client.get(reverse("staff_rounds", args=["nothing"])).status_code == 404

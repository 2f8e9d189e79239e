"""Non-negotiable 3 (tenant isolation), the admin's choice lists (issue 19, part 5).

Rows were scoped, but the lists that offer objects were not: as a ward organiser, the contest filter of the
registrations list offered a draft contest of the Department of Justice. Every registered ModelAdmin is
enumerated here as staff of organisation A (every role, in a ward) with organisation B's whole world in the
database: its relation list filters, its add and change forms' foreign-key and many-to-many choices (inlines
included) with the labels of raw-id inputs, its raw-id lookup popups, and every autocomplete endpoint of the
site. None may offer anything B owns (tests/tenancy_harness.py::owned_by). Positive controls: a superuser sees
B's objects in the same filters and endpoints, and every relation filter and endpoint is exercised.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.models import OrganisationKind, Role
from contests.models import Contest, ContestVisibility, Registration
from tests.contests.factories import ContestFactory
from tests.factories import CitizenProfileFactory, OrganisationFactory, make_staff
from tests.security.conftest import build_world
from tests.tenancy_harness import (
    admin_choice_leaks,
    autocomplete_endpoints,
    autocomplete_leaks,
    owned_by,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world_a(org_a):
    return build_world(org_a)


def _relation_filters(model_admin) -> list[str]:
    from django.contrib.admin.utils import get_fields_from_path

    names = []
    for spec in model_admin.list_filter:
        path = spec[0] if isinstance(spec, tuple) else spec
        if isinstance(path, str) and get_fields_from_path(model_admin.model, path)[-1].is_relation:
            names.append(path)
    return names


def test_every_admin_choice_list_offers_nothing_of_b(client, world_a, world_b):
    foreign = owned_by(world_b.org)
    leaks, checked = [], []
    for model, model_admin in admin.site._registry.items():
        found, looked_at = admin_choice_leaks(client, model_admin, user=world_a.staff, foreign=foreign,
                                              own=world_a.objects.get(model._meta.label))
        leaks += found
        checked += looked_at
    assert leaks == [], "\n".join(leaks)
    # Not vacuous: every relation list filter of every admin was exercised (a superuser saw B's objects in it),
    # and so were the raw-id inputs and many choice fields.
    relation_filters = {f"filter {model._meta.label}.{path}" for model, model_admin in admin.site._registry.items()
                        for path in _relation_filters(model_admin)}
    assert {"filter contests.Registration.contest", "filter exports.ParticipantExport.contest"} <= relation_filters
    assert relation_filters <= set(checked), "relation filters the world of B does not exercise"
    assert "raw-id popup leaderboards.Disqualification.attempt" in checked
    assert len([c for c in checked if " form" in c]) >= 10, checked


def test_every_autocomplete_endpoint_offers_nothing_of_b(client, world_a, world_b):
    assert len(autocomplete_endpoints()) > 20
    leaks, checked = autocomplete_leaks(client, user=world_a.staff, foreign=owned_by(world_b.org))
    assert leaks == [], "\n".join(leaks)
    assert checked >= 5, "the positive control (a superuser gets B's objects) held for too few endpoints"


def test_the_registrations_contest_filter_of_a_ward_organiser(client, world_a):
    """The report: a ward organiser's contest filter on the registrations list offered the Department of
    Justice's draft contest. It now lists the organiser's contests that have registrations, and nothing else."""
    justice = OrganisationFactory(name="Sở Tư pháp (thử)", kind=OrganisationKind.DEPARTMENT, is_unit=False)
    draft = ContestFactory(organisation=justice, title="Cuộc thi nháp của Sở Tư pháp",
                           visibility=ContestVisibility.DRAFT)
    own_without_registrations = ContestFactory(organisation=world_a.org, title="Cuộc thi chưa có ai đăng ký")
    second = ContestFactory(organisation=world_a.org, title="Cuộc thi thứ hai của phường")
    Registration.objects.create(user=CitizenProfileFactory(unit=world_a.org).user, contest=second,
                                unit=world_a.org, full_name="Lê Văn Hai")  # two choices: the filter is shown
    ward_organiser = make_staff(world_a.org, Role.ORGANISER)
    client.force_login(ward_organiser)
    response = client.get(reverse("admin:contests_registration_changelist"))
    assert response.status_code == 200
    spec = next(s for s in response.context["cl"].filter_specs if getattr(s, "field_path", "") == "contest")
    listed = {pk for pk, _label in spec.lookup_choices}
    assert listed == {world_a.contest.pk, second.pk}
    assert draft.title.encode() not in response.content
    assert own_without_registrations.pk not in listed
    # A foreign contest's id in the query string filters to nothing (rows stay scoped) and names nothing.
    response = client.get(reverse("admin:contests_registration_changelist"), {"contest__id__exact": draft.pk})
    assert response.status_code == 200
    assert draft.title.encode() not in response.content
    assert Contest.objects.filter(pk=draft.pk).exists()


def test_a_raw_id_input_names_no_foreign_object(client, world_a, world_b):
    """``…/disqualification/add/?attempt=<id>`` filled the raw-id input with another organisation's attempt and
    printed its contestant's name beside it (Django looks the id up in the whole table)."""
    foreign_attempt = world_b.objects["contests.Attempt"]
    client.force_login(world_a.staff)
    url = reverse("admin:leaderboards_disqualification_add")
    response = client.get(url, {"attempt": foreign_attempt.pk, "registration": foreign_attempt.registration_id})
    assert response.status_code == 200
    form = response.context["adminform"].form
    for name, foreign in (("attempt", foreign_attempt), ("registration", foreign_attempt.registration)):
        widget = form.fields[name].widget  # raw-id inputs are not wrapped
        assert widget.label_and_url_for_value(foreign.pk) == ("", "")
    own_attempt = world_a.objects["contests.Attempt"]
    assert form.fields["attempt"].widget.label_and_url_for_value(own_attempt.pk)[0]  # own: named

"""Non-negotiable 3 (tenant isolation), admin side — systemic.

Every ModelAdmin registered on ``admin.site`` must be one of:

- a ``TenantScopedAdmin`` (the one tenant layer, accounts/tenancy.py) — listed in ``TENANT_SCOPED``;
- tenant-scoped by its own documented rule — ``CUSTOM_SCOPED`` (with the reason);
- superuser-only: staff holding every role in an organisation get False for module/view/add/change/delete —
  ``SUPERUSER_ONLY``;
- a global, shared model that staff may read but not change — ``GLOBAL`` (with the reason).

A newly registered admin fails ``test_every_registered_admin_is_classified`` until it is put in one of the
lists, and every tenant-scoped model must have an organisation-B object in the world
(tests/security/conftest.py) so that its isolation is actually exercised.
"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import get_resolver, reverse

from accounts.tenancy import TenantScopedAdmin
from tests.factories import CitizenProfileFactory
from tests.tenancy_harness import assert_admin_closed, assert_admin_isolated

pytestmark = pytest.mark.django_db

TENANT_SCOPED = {
    "accounts.Organisation", "accounts.Membership", "accounts.AuditEvent",
    "questionbank.Question",
    "contests.Contest", "contests.Round", "contests.Registration", "contests.Attempt", "contests.OverrideGrant",
    "leaderboards.RoundRanking", "leaderboards.Disqualification", "leaderboards.ContestLeaderboardSettings",
    "exports.ExportJob", "exports.QuestionExport", "exports.ContestExport", "exports.ParticipantExport",
    "judging.EssayGradingSettings", "judging.RankingDecision", "judging.EssayAssignment",
    "surveys.Survey",
    "anticheat.RoundCheckSettings", "anticheat.Flag", "anticheat.ReviewDecision",
    "live.LiveSession", "live.LivePlayer",
    "api.ApiToken",
}
CUSTOM_SCOPED = {
    # Organisers see the staff users of their own organisations (read-only); superusers manage accounts.
    "accounts.User": "UserAdmin.get_queryset/has_view_permission filter on the organiser's memberships",
}
SUPERUSER_ONLY = {
    "accounts.CitizenProfile",  # citizens' personal data (Law 91/2025, least access)
    "auth.Group",  # Django's groups: model permissions are not how roles work here
    "django_tasks_database.DBTaskResult",  # the task queue's rows (arguments may hold ids of any tenant)
}
GLOBAL = {
    "questionbank.Topic": "the topic tree is shared by every organisation; only superusers edit it",
    "questionbank.Tag": "tags are shared labels across the bank; only superusers edit them",
}


def _label(model) -> str:
    return model._meta.label


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_every_registered_admin_is_classified():
    registered = {_label(model) for model in admin.site._registry}
    classified = TENANT_SCOPED | set(CUSTOM_SCOPED) | SUPERUSER_ONLY | set(GLOBAL)
    assert registered - classified == set(), (
        "admin registered without an isolation class — add it to TENANT_SCOPED (and the world in "
        "tests/security/conftest.py), SUPERUSER_ONLY or GLOBAL with a reason")
    assert classified - registered == set(), "stale entries: the model is no longer in the admin"


def test_tenant_scoped_list_matches_the_admin_classes():
    actual = {_label(model) for model, model_admin in admin.site._registry.items()
              if isinstance(model_admin, TenantScopedAdmin)}
    assert actual == TENANT_SCOPED


@pytest.mark.parametrize("label", sorted(SUPERUSER_ONLY))
def test_superuser_only_admins_deny_staff_with_every_role(label, staff_a):
    model_admin = next(a for m, a in admin.site._registry.items() if _label(m) == label)
    request = _request(staff_a)
    assert model_admin.has_module_permission(request) is False
    assert model_admin.has_view_permission(request) is False
    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request) is False
    assert model_admin.has_delete_permission(request) is False


@pytest.mark.parametrize("label", sorted(GLOBAL))
def test_global_admins_are_read_only_for_staff(label, staff_a):
    model_admin = next(a for m, a in admin.site._registry.items() if _label(m) == label)
    request = _request(staff_a)
    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request) is False
    assert model_admin.has_delete_permission(request) is False


@pytest.mark.parametrize("label", sorted(TENANT_SCOPED | set(CUSTOM_SCOPED)))
def test_object_of_b_is_invisible_to_staff_of_a(label, client, world_b, staff_a):
    assert label in world_b.objects, f"tests/security/conftest.py builds no {label} for the isolation check"
    assert_admin_isolated(client, world_b.objects[label], foreign_user=staff_a)


@pytest.mark.parametrize("label", sorted(TENANT_SCOPED | set(CUSTOM_SCOPED)))
def test_citizen_of_b_is_sent_to_the_admin_login(label, client, world_b):
    citizen = CitizenProfileFactory(unit=world_b.org).user
    assert_admin_closed(client, world_b.objects[label], user=citizen)


def test_admin_index_lists_no_app_of_b(client, world_b, staff_a):
    """The admin index and app pages do not reveal foreign objects' names (a cheap catch-all)."""
    client.force_login(staff_a)
    for url in ("/admin/", "/admin/contests/", "/admin/questionbank/", "/admin/leaderboards/"):
        response = client.get(url)
        assert response.status_code in {200, 404}, url
        assert world_b.contest.title.encode() not in response.content


# --- Custom admin views (get_urls) ---------------------------------------------------------------------------

STANDARD_ADMIN = re.compile(r"^admin:(index|login|logout|password_change|password_change_done|autocomplete|jsi18n|"
                            r"view_on_site|app_list|None|\w+_(changelist|add|change|delete|history))$")
CUSTOM_ADMIN = {
    # Organisations offered are only those where the user is a writer; the confirm step re-checks.
    "admin:questionbank_question_import": "questionbank.admin.QuestionAdmin.import_view",
    "admin:questionbank_question_template": "questionbank.admin.QuestionAdmin.template_view (static template)",
    # The round comes from the admin's scoped queryset (404 for another organisation's); change permission.
    "admin:contests_round_extend": "contests.admin.RoundAdmin.extend_view",
    # The question comes from the admin's scoped queryset (404 for another's private one); the services check
    # the reviewer role in the question's organisation (test_question_review_is_scoped).
    "admin:questionbank_question_review": "questionbank.admin.QuestionAdmin.review_view",
}
# URL arguments of the custom views that take some (the objects need not exist: access is checked first).
CUSTOM_ADMIN_ARGS = {"admin:contests_round_extend": [999_999], "admin:questionbank_question_review": [999_999]}


def test_every_custom_admin_view_is_classified():
    from tests.security.test_staff_views import walk

    custom = {name for name, _, _ in walk(get_resolver().url_patterns)
              if name.startswith("admin:") and not STANDARD_ADMIN.match(name)}
    assert custom == set(CUSTOM_ADMIN), "classify new custom admin views here and test their isolation"


def test_question_import_offers_only_own_organisations(client, world_b, staff_a, org_a):
    client.force_login(staff_a)
    response = client.get(reverse("admin:questionbank_question_import"))
    assert response.status_code == 200
    offered = set(response.context["form"].fields["organisation"].queryset.values_list("pk", flat=True))
    assert offered == {org_a.pk}


@pytest.mark.parametrize("name", sorted(CUSTOM_ADMIN))
def test_custom_admin_views_are_closed_to_citizens(name, client, world_b):
    client.force_login(CitizenProfileFactory(unit=world_b.org).user)
    response = client.get(reverse(name, args=CUSTOM_ADMIN_ARGS.get(name, [])))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_round_extend_page_is_scoped(client, world_b, staff_a):
    """Another organisation's round is a 404 on the extend/reopen page (GET and POST), nothing changes."""
    from contests.models import OverrideGrant, Round

    round = next(obj for obj in world_b.objects.values() if isinstance(obj, Round))
    before = OverrideGrant.objects.filter(round=round).count()
    client.force_login(staff_a)
    url = reverse("admin:contests_round_extend", args=[round.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"until": "2030-01-01T10:00", "reason": "x"}).status_code == 404
    assert OverrideGrant.objects.filter(round=round).count() == before
    round.refresh_from_db()
    assert round.extended_until is None


def test_question_review_is_scoped(client, world_b, staff_a, org_b):
    """Approving or returning from a question's page: another organisation's private question is a 404, and a
    shared one of theirs (visible) cannot be decided by a foreign reviewer; nothing changes either way."""
    from questionbank.models import Question, QuestionStatus, Visibility
    from tests.questionbank.factories import make_question

    private = world_b.private_question
    Question.objects.filter(pk=private.pk).update(status=QuestionStatus.IN_REVIEW)
    shared = make_question(org_b, status=QuestionStatus.IN_REVIEW, visibility=Visibility.SHARED)
    client.force_login(staff_a)
    url = reverse("admin:questionbank_question_review", args=[private.pk])
    assert client.post(url, {"decision": "approve"}).status_code == 404
    response = client.post(reverse("admin:questionbank_question_review", args=[shared.pk]),
                           {"decision": "approve"})
    assert response.status_code == 302
    assert Question.objects.get(pk=private.pk).status == QuestionStatus.IN_REVIEW
    assert Question.objects.get(pk=shared.pk).status == QuestionStatus.IN_REVIEW
    assert client.get(url).status_code == 404


# Tenant-scoped admins that staff cannot add through (read-only lists, or objects made by services and
# admin actions). A new admin must be put here or get its add form checked below.
NO_STAFF_ADD_FORM = {
    "accounts.AuditEvent", "accounts.Organisation", "contests.Attempt", "contests.OverrideGrant",
    "contests.Registration", "contests.Round", "exports.ContestExport", "exports.ExportJob",
    "exports.ParticipantExport", "exports.QuestionExport", "judging.EssayAssignment", "judging.RankingDecision",
    "leaderboards.RoundRanking", "anticheat.Flag", "anticheat.ReviewDecision", "live.LivePlayer",
    "live.LiveSession",
}


@pytest.mark.parametrize("label", sorted(NO_STAFF_ADD_FORM))
def test_admins_without_add_form_refuse_staff_add(label, client, staff_a):
    model_admin = next(a for m, a in admin.site._registry.items() if _label(m) == label)
    assert not model_admin.has_add_permission(_request(staff_a))
    client.force_login(staff_a)
    assert client.get(reverse(f"admin:{label.replace('.', '_').lower()}_add")).status_code in {403, 404}


@pytest.mark.parametrize("label", sorted(TENANT_SCOPED - NO_STAFF_ADD_FORM))
def test_add_forms_offer_nothing_of_b(label, world_b, staff_a):
    """The choice fields of every add form list none of B's objects, so a new object can never point at
    organisation B (change forms use the same formfield_for_foreignkey)."""
    from django import forms

    from accounts.models import Organisation

    model_admin = next(a for m, a in admin.site._registry.items() if _label(m) == label)
    request = _request(staff_a)
    assert model_admin.has_add_permission(request), f"{label}: no add form — list it in NO_STAFF_ADD_FORM"
    form = model_admin.get_form(request, None)()
    checked = 0
    for name, field in form.fields.items():
        if not isinstance(field, forms.ModelChoiceField | forms.ModelMultipleChoiceField):
            continue
        related = field.queryset.model
        if related is Organisation and name not in model_admin.owner_fields():
            continue  # units (the official ward list) are shared by every organisation
        if related is not Organisation and getattr(related, "tenant_path", None) is None:
            continue  # global models (topics, tags)
        foreign = [obj for obj in world_b.objects.values() if isinstance(obj, related)]
        assert foreign, f"{label}.{name}: the world has no {related.__name__} of B to look for"
        listed = set(field.queryset.values_list("pk", flat=True))
        assert not {obj.pk for obj in foreign} & listed, f"{label}.{name} offers an object of organisation B"
        checked += 1
    assert checked, f"{label}: no tenant-owned choice field found — update the test"

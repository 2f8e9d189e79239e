"""Acceptance: staff of organisation A cannot see or touch anything of organisation B in the admin;
citizens are sent to the admin login. Also the role rules of accounts/admin.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, CitizenProfile, Membership, Role, User
from tests.factories import CitizenProfileFactory, UserFactory, make_staff
from tests.tenancy_harness import admin_urls, assert_admin_closed, assert_admin_isolated, assert_admin_read_only

pytestmark = pytest.mark.django_db


@pytest.fixture
def judge_a(org_a):
    return make_staff(org_a, Role.JUDGE)


@pytest.fixture
def foreign_objects(org_b, organiser_b):
    """One object of each accounts model that belongs to organisation B."""
    citizen_b = CitizenProfileFactory(unit=org_b)
    return {
        "organisation": org_b,
        "membership": Membership.objects.get(user=organiser_b, organisation=org_b),
        "staff user": organiser_b,
        "citizen profile": citizen_b,
        "audit event": AuditEvent.objects.create(organisation=org_b, actor=organiser_b, action="test.done"),
    }


@pytest.mark.parametrize("kind", ["organisation", "membership", "staff user", "citizen profile", "audit event"])
def test_organiser_of_a_cannot_reach_objects_of_b(client, organiser_a, foreign_objects, kind):
    assert_admin_isolated(client, foreign_objects[kind], foreign_user=organiser_a)


@pytest.mark.parametrize("kind", ["organisation", "membership", "staff user", "citizen profile", "audit event"])
def test_judge_of_a_cannot_reach_objects_of_b(client, judge_a, foreign_objects, kind):
    assert_admin_isolated(client, foreign_objects[kind], foreign_user=judge_a)


@pytest.mark.parametrize("kind", ["organisation", "membership", "staff user", "citizen profile", "audit event"])
def test_citizen_is_sent_to_admin_login(client, citizen, foreign_objects, kind):
    assert_admin_closed(client, foreign_objects[kind], user=citizen)


def test_citizen_profiles_are_superuser_only_even_in_own_unit(client, organiser_a, citizen):
    """Staff do not browse citizens' personal data in the admin, not even their own unit's citizens."""
    assert_admin_isolated(client, citizen.profile, foreign_user=organiser_a)


def test_audit_events_without_organisation_are_superuser_only(client, organiser_a):
    event = AuditEvent.objects.create(action="system.job")
    assert_admin_isolated(client, event, foreign_user=organiser_a)


def test_staff_flag_without_membership_opens_nothing(client, org_b):
    lonely = UserFactory(is_staff=True)
    client.force_login(lonely)
    assert client.get(reverse("admin:accounts_organisation_changelist")).status_code == 403
    assert client.get(reverse("admin:accounts_organisation_change", args=[org_b.pk])).status_code in {403, 404}


@pytest.mark.parametrize("role", list(Role))
def test_every_role_sees_its_own_organisation_read_only(client, org_a, role):
    assert_admin_read_only(client, org_a, user=make_staff(org_a, role))


def test_foreign_object_is_a_404_not_a_redirect(client, organiser_a, org_b):
    client.force_login(organiser_a)
    response = client.get(reverse("admin:accounts_organisation_change", args=[org_b.pk]))
    assert response.status_code == 404


def test_staff_see_their_own_organisation_read_only(client, judge_a, org_a, org_b):
    client.force_login(judge_a)
    response = client.get(reverse("admin:accounts_organisation_changelist"))
    assert response.status_code == 200
    assert set(response.context["cl"].queryset.values_list("pk", flat=True)) == {org_a.pk}
    urls = admin_urls(org_a)
    response = client.get(urls["change"])
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    response = client.post(urls["change"], {"name": "Đổi tên", "slug": org_a.slug, "kind": org_a.kind})
    assert response.status_code == 403
    org_a.refresh_from_db()
    assert org_a.name != "Đổi tên"
    assert client.get(urls["delete"]).status_code == 403
    assert client.get(reverse("admin:accounts_organisation_add")).status_code == 403


def test_organiser_sees_staff_of_own_organisation_only(client, organiser_a, judge_a, organiser_b, citizen):
    client.force_login(organiser_a)
    response = client.get(reverse("admin:accounts_user_changelist"))
    assert response.status_code == 200
    listed = set(response.context["cl"].queryset.values_list("pk", flat=True))
    assert listed == {organiser_a.pk, judge_a.pk}
    assert citizen.pk not in listed
    assert organiser_b.pk not in listed
    response = client.get(reverse("admin:accounts_user_change", args=[judge_a.pk]))
    assert response.status_code == 200
    assert b"pbkdf2" not in response.content
    assert b"md5$" not in response.content


def test_judge_cannot_view_users_or_memberships(client, judge_a, organiser_a):
    client.force_login(judge_a)
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403
    assert client.get(reverse("admin:accounts_membership_changelist")).status_code == 403
    assert client.get(reverse("admin:accounts_auditevent_changelist")).status_code == 403


def test_organiser_cannot_make_anyone_superuser(client, organiser_a, judge_a):
    client.force_login(organiser_a)
    url = reverse("admin:accounts_user_change", args=[judge_a.pk])
    response = client.post(url, {"username": judge_a.username, "is_superuser": "on", "is_staff": "on",
                                 "is_active": "on"})
    assert response.status_code == 403
    assert client.post(reverse("admin:accounts_user_add"), {"username": "x", "password1": "Ab-123456789",
                                                            "password2": "Ab-123456789"}).status_code == 403
    judge_a.refresh_from_db()
    assert judge_a.is_superuser is False
    assert not User.objects.filter(username="x").exists()


def test_organiser_grants_a_role_in_own_organisation(client, organiser_a, org_a):
    newcomer = UserFactory(phone="0987654321")
    client.force_login(organiser_a)
    response = client.post(reverse("admin:accounts_membership_add"),
                           {"login": "0987 654 321", "organisation": org_a.pk, "role": Role.WRITER})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Membership.objects.filter(user=newcomer, organisation=org_a, role=Role.WRITER).exists()
    newcomer.refresh_from_db()
    assert newcomer.is_staff
    assert not newcomer.is_superuser
    event = AuditEvent.objects.get(action="membership.granted", target_id=str(newcomer.pk))
    assert event.actor == organiser_a
    assert event.organisation == org_a


def test_organiser_cannot_grant_a_role_in_another_organisation(client, organiser_a, org_b):
    newcomer = UserFactory(phone="0987654322")
    client.force_login(organiser_a)
    response = client.post(reverse("admin:accounts_membership_add"),
                           {"login": newcomer.phone, "organisation": org_b.pk, "role": Role.ORGANISER})
    assert response.status_code == 200  # the form comes back with an error: B is not a valid choice
    assert "organisation" in response.context["adminform"].form.errors
    assert not Membership.objects.filter(user=newcomer).exists()
    newcomer.refresh_from_db()
    assert newcomer.is_staff is False


def test_granting_to_an_unknown_login_is_a_form_error(client, organiser_a, org_a):
    client.force_login(organiser_a)
    response = client.post(reverse("admin:accounts_membership_add"),
                           {"login": "0999999999", "organisation": org_a.pk, "role": Role.JUDGE})
    assert response.status_code == 200
    assert "login" in response.context["adminform"].form.errors


def test_organiser_revokes_a_role_and_the_staff_flag_goes(client, organiser_a, judge_a, org_a):
    membership = Membership.objects.get(user=judge_a)
    client.force_login(organiser_a)
    response = client.post(reverse("admin:accounts_membership_delete", args=[membership.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    judge_a.refresh_from_db()
    assert judge_a.is_staff is False
    assert AuditEvent.objects.filter(action="membership.revoked", target_id=str(judge_a.pk),
                                     organisation=org_a).exists()


def test_memberships_are_never_edited_in_place(client, organiser_a, judge_a):
    membership = Membership.objects.get(user=judge_a)
    client.force_login(organiser_a)
    url = reverse("admin:accounts_membership_change", args=[membership.pk])
    assert client.get(url).status_code == 200  # view only
    assert client.post(url, {"role": Role.ORGANISER}).status_code == 403
    membership.refresh_from_db()
    assert membership.role == Role.JUDGE


def test_audit_log_is_read_only_even_for_superusers(client, org_a):
    root = User.objects.create_superuser(username="root", password="x-pass-123", email="root@example.vn")
    event = AuditEvent.objects.create(organisation=org_a, action="test.done")
    client.force_login(root)
    urls = admin_urls(event)
    assert client.get(urls["change"]).status_code == 200
    assert client.post(urls["delete"], {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:accounts_auditevent_add")).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_organiser_sees_own_audit_events(client, organiser_a, org_a, org_b):
    mine = AuditEvent.objects.create(organisation=org_a, action="test.mine")
    AuditEvent.objects.create(organisation=org_b, action="test.theirs")
    client.force_login(organiser_a)
    response = client.get(reverse("admin:accounts_auditevent_changelist"))
    assert response.status_code == 200
    assert set(response.context["cl"].queryset.values_list("pk", flat=True)) == {mine.pk}


def test_superuser_manages_citizen_profiles(client, citizen):
    root = User.objects.create_superuser(username="root", password="x-pass-123", email="root@example.vn")
    client.force_login(root)
    response = client.get(reverse("admin:accounts_citizenprofile_changelist"))
    assert response.status_code == 200
    assert CitizenProfile.objects.get(user=citizen).pk in set(
        response.context["cl"].queryset.values_list("pk", flat=True)
    )


def test_harness_catches_a_leaking_admin(client, organiser_a, org_b, monkeypatch):
    """The harness itself can fail: with the tenant filter removed from the queryset it must object."""
    from django.contrib import admin

    from accounts.admin import OrganisationAdmin

    monkeypatch.setattr(OrganisationAdmin, "get_queryset", admin.ModelAdmin.get_queryset)
    with pytest.raises(AssertionError, match="listed for a foreign user"):
        assert_admin_isolated(client, org_b, foreign_user=organiser_a)


def test_harness_catches_a_missing_object_check(client, organiser_a, org_b, monkeypatch):
    """An admin that scopes the list but not object permissions is caught on the change page."""
    from accounts.admin import OrganisationAdmin

    monkeypatch.setattr(OrganisationAdmin, "get_queryset",
                        lambda self, request: super(OrganisationAdmin, self).get_queryset(request).model.objects.all())
    monkeypatch.setattr(OrganisationAdmin, "get_changelist_instance",
                        lambda self, request: type(self).__mro__[1].get_changelist_instance(self, request))
    monkeypatch.setattr(OrganisationAdmin, "has_view_permission", lambda self, request, obj=None: True)
    with pytest.raises(AssertionError):
        assert_admin_isolated(client, org_b, foreign_user=organiser_a)


def test_harness_positive_control_rejects_wrong_urls(client, organiser_a, org_b, monkeypatch):
    """If the object's pages answer 404 to everyone (wrong URL, object not reachable at all), the harness
    fails instead of reporting 'isolated'."""
    from accounts.admin import OrganisationAdmin

    monkeypatch.setattr(OrganisationAdmin, "get_object", lambda self, request, object_id, from_field=None: None)
    with pytest.raises(AssertionError, match="positive control failed"):
        assert_admin_isolated(client, org_b, foreign_user=organiser_a)


def test_superuser_pages_render(client, org_a, organiser_a, citizen):
    root = User.objects.create_superuser(username="root", password="x-pass-123", email="root@example.vn")
    client.force_login(root)
    for model in ("organisation", "membership", "user", "citizenprofile"):
        assert client.get(reverse(f"admin:accounts_{model}_add")).status_code == 200, model
    assert client.get(reverse("admin:accounts_user_change", args=[organiser_a.pk])).status_code == 200
    assert client.get(reverse("admin:accounts_citizenprofile_change", args=[citizen.profile.pk])).status_code == 200
    response = client.post(reverse("admin:accounts_user_add"), {
        "username": "canbo.moi", "full_name": "Cán Bộ Mới", "phone": "0977000111", "email": "",
        "password1": "Mat-khau-dai-123", "password2": "Mat-khau-dai-123",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    created = User.objects.get(username="canbo.moi")
    assert created.phone == "0977000111"
    assert created.email is None  # blank optional unique fields are stored as NULL, not ""
    assert created.check_password("Mat-khau-dai-123")

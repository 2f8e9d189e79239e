"""Tokens in the admin: an organiser creates one for their organisation (shown once, stored hashed), sees only
their organisation's tokens, and revokes them; other roles and other organisations cannot."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Role
from api.models import ApiToken, Scope
from api.services import api_token_create, token_digest
from tests.factories import make_staff
from tests.tenancy_harness import assert_admin_isolated

pytestmark = pytest.mark.django_db


def test_organiser_creates_a_token_shown_once_and_stored_hashed(client, organiser_a, org_a):
    client.force_login(organiser_a)
    response = client.post(reverse("admin:api_apitoken_add"), {
        "organisation": org_a.pk, "name": "Cổng liên thông của Sở", "scopes": [Scope.RESULTS, Scope.CONTESTS]})
    assert response.status_code == 200, response.content[:2000]
    raw = re.search(r'<code id="api-token">(ce_[^<]+)</code>', response.content.decode()).group(1)
    token = ApiToken.objects.get()
    assert token.organisation == org_a
    assert token.created_by == organiser_a
    assert token.scopes == sorted([Scope.CONTESTS, Scope.RESULTS])
    assert token.key_digest == token_digest(raw)
    assert raw not in str(ApiToken.objects.values().get())
    # Shown once: the token's page in the admin never shows it again.
    page = client.get(reverse("admin:api_apitoken_change", args=[token.pk])).content.decode()
    assert raw not in page
    assert token.key_prefix in page
    event = AuditEvent.objects.get(action="api.token_created")
    assert raw not in str(event.data)
    assert client.get("/api/v1/org/contests", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_organiser_cannot_make_a_token_for_another_organisation(client, organiser_a, org_b):
    client.force_login(organiser_a)
    response = client.post(reverse("admin:api_apitoken_add"), {"organisation": org_b.pk, "name": "Giả mạo",
                                                                "scopes": [Scope.RESULTS]})
    assert response.status_code == 200
    assert "organisation" in response.context["adminform"].form.errors
    assert not ApiToken.objects.exists()


def test_judges_and_writers_do_not_manage_tokens(client, org_a):
    user = make_staff(org_a, Role.JUDGE, Role.WRITER, Role.REVIEWER)
    api_token_create(organisation=org_a, name="Ứng dụng", scopes=[], actor=None)
    client.force_login(user)
    assert client.get(reverse("admin:api_apitoken_changelist")).status_code == 403
    assert client.get(reverse("admin:api_apitoken_add")).status_code == 403


def test_token_admin_is_tenant_isolated(client, organiser_a, org_b):
    token, _raw = api_token_create(organisation=org_b, name="Ứng dụng của B", scopes=[Scope.FLAGS], actor=None)
    assert_admin_isolated(client, token, foreign_user=organiser_a)


def test_revoke_action_ends_the_token(client, organiser_a, org_a, org_b):
    token, raw = api_token_create(organisation=org_a, name="Ứng dụng", scopes=[Scope.CONTESTS], actor=None)
    foreign, foreign_raw = api_token_create(organisation=org_b, name="Của B", scopes=[Scope.CONTESTS], actor=None)
    client.force_login(organiser_a)
    response = client.post(reverse("admin:api_apitoken_changelist"), {
        "action": "revoke_selected", "_selected_action": [token.pk, foreign.pk]})
    assert response.status_code == 302
    token.refresh_from_db()
    foreign.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoked_by == organiser_a
    assert foreign.revoked_at is None  # not in A's queryset: the action never saw it
    assert client.get("/api/v1/org/contests", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    assert client.get("/api/v1/org/contests", headers={"Authorization": f"Bearer {foreign_raw}"}).status_code == 200
    assert AuditEvent.objects.filter(action="api.token_revoked", organisation=org_a).count() == 1


def test_tokens_are_revoked_not_deleted(client, organiser_a, org_a):
    token, _raw = api_token_create(organisation=org_a, name="Ứng dụng", scopes=[], actor=None)
    client.force_login(organiser_a)
    assert client.post(reverse("admin:api_apitoken_delete", args=[token.pk]), {"post": "yes"}).status_code == 403
    assert ApiToken.objects.filter(pk=token.pk).exists()

"""accounts.tenancy, tested directly: roles, scoping by tenant_path (own object, direct and nested
foreign keys), object lookup and the owning organisation of an instance."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import CitizenProfile, Membership, Organisation, Role, User
from accounts.tenancy import (
    get_scoped_or_404,
    has_role,
    is_staff_member,
    organisation_id_of,
    organisation_ids_for,
    require_role,
    scope_for,
    tenant_path_of,
)
from questionbank.models import Question, QuestionOption
from tests.factories import OrganisationFactory, UserFactory, make_staff

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The same account as a new object: roles are cached per user object (one request)."""
    return User.objects.get(pk=user.pk)


@pytest.fixture
def root():
    return User.objects.create_superuser(username="root", password="x-pass-123", email="root@example.vn")


@pytest.fixture
def options(org_a, org_b):
    """One question with one option in each organisation (tenant_path "question__organisation")."""
    made = {}
    for org in (org_a, org_b):
        question = Question.objects.create(organisation=org, stem=f"Câu hỏi của {org.name}")
        made[org.pk] = QuestionOption.objects.create(question=question, text="Phương án A")
    return made


class TestRoles:
    def test_roles_are_per_organisation(self, org_a, org_b):
        user = make_staff(org_a, Role.JUDGE, Role.WRITER)
        assert has_role(user, org_a.pk)
        assert has_role(user, org_a.pk, {Role.JUDGE})
        assert not has_role(user, org_a.pk, {Role.ORGANISER})
        assert not has_role(user, org_b.pk)
        assert not has_role(user, None)
        assert organisation_ids_for(user) == {org_a.pk}
        assert organisation_ids_for(user, {Role.REVIEWER}) == set()

    def test_superuser_has_every_role_everywhere(self, root, org_b):
        assert has_role(root, org_b.pk, {Role.ORGANISER})
        assert has_role(root, None)
        assert is_staff_member(root)

    def test_anonymous_and_citizens_have_no_role(self, citizen, org_a):
        assert not has_role(AnonymousUser(), org_a.pk)
        assert organisation_ids_for(AnonymousUser()) == set()
        assert not has_role(citizen, org_a.pk)
        assert not is_staff_member(citizen)

    def test_roles_in_an_inactive_organisation_do_not_count(self, org_a, organiser_a):
        Organisation.objects.filter(pk=org_a.pk).update(is_active=False)
        assert not has_role(fresh(organiser_a), org_a.pk)

    def test_roles_are_cached_for_one_user_object(self, org_a, org_b, organiser_a):
        assert not has_role(organiser_a, org_b.pk)
        Membership.objects.create(user=organiser_a, organisation=org_b, role=Role.ORGANISER)
        assert not has_role(organiser_a, org_b.pk)  # same object: the request's view of the world
        assert has_role(fresh(organiser_a), org_b.pk)

    def test_require_role(self, organiser_a, org_a, org_b):
        require_role(organiser_a, org_a.pk, {Role.ORGANISER})
        with pytest.raises(PermissionDenied):
            require_role(organiser_a, org_b.pk)
        with pytest.raises(PermissionDenied):
            require_role(organiser_a, org_a.pk, {Role.JUDGE})


class TestScopeFor:
    def test_organisations_are_their_own_tenant(self, organiser_a, org_a, org_b):
        assert tenant_path_of(Organisation) == ""
        assert list(scope_for(Organisation.objects.all(), organiser_a)) == [org_a]

    def test_direct_foreign_key(self, organiser_a, organiser_b, org_a):
        scoped = scope_for(Membership.objects.all(), organiser_a)
        assert {m.organisation_id for m in scoped} == {org_a.pk}
        assert not scoped.filter(user=organiser_b).exists()

    def test_nested_path(self, org_a, org_b, options):
        writer = make_staff(org_a, Role.WRITER)
        scoped = scope_for(QuestionOption.objects.all(), writer)
        assert list(scoped) == [options[org_a.pk]]
        assert list(scope_for(QuestionOption.objects.all(), writer, {Role.REVIEWER})) == []

    def test_roles_narrow_the_scope(self, org_a, org_b):
        user = make_staff(org_a, Role.JUDGE)
        Membership.objects.create(user=user, organisation=org_b, role=Role.ORGANISER)
        assert set(scope_for(Organisation.objects.all(), user)) == {org_a, org_b}
        assert set(scope_for(Organisation.objects.all(), user, {Role.ORGANISER})) == {org_b}

    def test_superuser_is_not_scoped(self, root, org_a, org_b, options):
        assert scope_for(QuestionOption.objects.all(), root).count() == 2

    def test_no_role_means_nothing(self, citizen, options):
        assert scope_for(QuestionOption.objects.all(), citizen).count() == 0
        assert scope_for(Organisation.objects.all(), AnonymousUser()).count() == 0

    def test_models_without_tenant_path_cannot_be_scoped(self, organiser_a):
        with pytest.raises(TypeError):
            scope_for(CitizenProfile.objects.all(), organiser_a)
        with pytest.raises(TypeError):
            tenant_path_of(User)


class TestGetScopedOr404:
    def test_own_object(self, organiser_a, org_a, options):
        option = options[org_a.pk]
        assert get_scoped_or_404(QuestionOption.objects.all(), organiser_a, pk=option.pk) == option

    def test_foreign_object_looks_missing(self, organiser_a, org_b, options):
        with pytest.raises(Http404):
            get_scoped_or_404(QuestionOption.objects.all(), organiser_a, pk=options[org_b.pk].pk)
        with pytest.raises(Http404):
            get_scoped_or_404(Organisation.objects.all(), organiser_a, pk=org_b.pk)
        with pytest.raises(Http404):
            get_scoped_or_404(Organisation.objects.all(), organiser_a, pk=10**9)

    def test_role_filter(self, org_a):
        judge = make_staff(org_a, Role.JUDGE)
        assert get_scoped_or_404(Organisation.objects.all(), judge, pk=org_a.pk) == org_a
        with pytest.raises(Http404):
            get_scoped_or_404(Organisation.objects.all(), judge, {Role.ORGANISER}, pk=org_a.pk)


class TestOrganisationIdOf:
    def test_organisation_is_its_own_owner(self, org_a):
        assert organisation_id_of(org_a) == org_a.pk

    def test_direct_and_nested_paths(self, org_a, org_b, options, organiser_b):
        assert organisation_id_of(options[org_a.pk]) == org_a.pk
        assert organisation_id_of(options[org_b.pk]) == org_b.pk
        membership = Membership.objects.get(user=organiser_b)
        assert organisation_id_of(membership) == org_b.pk

    def test_deeper_path_and_missing_link(self):
        """A three-step path such as an attempt's ``round__contest__organisation``; a missing link in
        the chain (an unsaved draft) owns nothing rather than raising."""

        class Attempt(SimpleNamespace):
            tenant_path = "round__contest__organisation"

        contest = SimpleNamespace(organisation_id=42)
        assert organisation_id_of(Attempt(round=SimpleNamespace(contest=contest))) == 42
        assert organisation_id_of(Attempt(round=None)) is None
        assert organisation_id_of(Attempt(round=SimpleNamespace(contest=None))) is None

    def test_unowned_object(self):
        from accounts.models import AuditEvent

        assert organisation_id_of(AuditEvent(action="x")) is None


def test_new_organisations_start_with_no_staff():
    org = OrganisationFactory()
    assert not has_role(UserFactory(), org.pk)

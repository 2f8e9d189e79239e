"""factory_boy factories shared by the whole suite. Apps add theirs in tests/<app>/factories.py."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from accounts.models import CitizenProfile, Membership, Organisation, OrganisationKind, Role, User


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Phường Thử {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    kind = OrganisationKind.WARD


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"Nguyễn Văn {n}")
    phone = factory.Sequence(lambda n: f"09{n:08d}")
    email = factory.Sequence(lambda n: f"user{n}@example.vn")
    password = factory.PostGenerationMethodCall("set_password", "mat-khau-an-toan-1")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CitizenProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CitizenProfile

    user = factory.SubFactory(UserFactory)
    date_of_birth = dt.date(1990, 5, 17)
    unit = factory.SubFactory(OrganisationFactory)
    privacy_consent_at = factory.LazyFunction(timezone.now)
    privacy_notice_version = "2026-01"


def make_staff(organisation: Organisation, *roles: str, **user_kwargs) -> User:
    """A staff user (admin access) holding ``roles`` in ``organisation``."""
    user = UserFactory(is_staff=True, **user_kwargs)
    for role in roles or (Role.ORGANISER,):
        Membership.objects.create(user=user, organisation=organisation, role=role)
    return user

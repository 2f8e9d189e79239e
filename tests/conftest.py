from __future__ import annotations

import pytest

from tests.factories import CitizenProfileFactory, OrganisationFactory, make_staff


@pytest.fixture
def org_a():
    return OrganisationFactory(name="Phường Ninh Kiều (thử)", slug="org-a")


@pytest.fixture
def org_b():
    return OrganisationFactory(name="Xã Phong Điền (thử)", slug="org-b")


@pytest.fixture
def organiser_a(org_a):
    return make_staff(org_a, "organiser")


@pytest.fixture
def organiser_b(org_b):
    return make_staff(org_b, "organiser")


@pytest.fixture
def citizen(org_a):
    return CitizenProfileFactory(unit=org_a).user


@pytest.fixture(autouse=True)
def _vietnamese_by_default():
    """Every test starts in the site's default language. A test-client request with the English cookie leaves
    English active in the thread (the locale middleware activates, nothing deactivates), which made later
    tests that read Vietnamese messages depend on the order they ran in."""
    from django.utils import translation

    translation.activate("vi")
    yield
    translation.deactivate()

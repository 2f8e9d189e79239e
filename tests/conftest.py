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

# --- a PostgreSQL of the tests' own, to stop under a running engine (tests/services.py) ---------------------


@pytest.fixture(scope="session")
def throwaway_postgres():
    """A PostgreSQL cluster on a free port (never the shared server) with a migrated template database; see
    ``outage_database``."""
    import subprocess
    import sys

    from tests.outage_data import ROOT, child_env
    from tests.services import ThrowawayPostgres

    pg = ThrowawayPostgres()
    try:
        pg.start()
        template = pg.createdb("ce_template")
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                       env=child_env(template), check=True, capture_output=True, timeout=300)
        yield pg
    finally:
        pg.cleanup()


@pytest.fixture
def outage_database(throwaway_postgres):
    """A fresh, migrated database in the throwaway cluster (``.url``, ``.pg``); the cluster is running again
    after the test whatever the test stopped."""
    from types import SimpleNamespace

    from tests.services import free_port

    pg = throwaway_postgres
    if not pg.is_ready():
        pg.start()
    name = f"ce_{free_port()}"
    pg.psql(f'CREATE DATABASE "{name}" TEMPLATE ce_template')
    try:
        yield SimpleNamespace(pg=pg, url=pg.url(name), name=name)
    finally:
        if not pg.is_ready():
            pg.start()
        pg.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

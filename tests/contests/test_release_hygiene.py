"""Release hygiene (issue 16): contests/0008 drops the ``connection_token`` column that contests/0003 kept for the
rolling release, and can put it back for a rollback to the previous release."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection

from contests.models import Attempt, AttemptStatus
from contests.services.attempts.start import attempt_start

pytestmark = pytest.mark.django_db

migration = importlib.import_module("contests.migrations.0008_drop_attempt_connection_token")


def columns() -> set[str]:
    with connection.cursor() as cursor:
        return {c.name for c in connection.introspection.get_table_description(cursor, Attempt._meta.db_table)}


def test_the_migrated_database_has_no_connection_token_column():
    assert "connection_token" not in columns()
    assert "status" in columns()  # the introspection does see the table


def test_the_migration_runs_both_ways_and_is_a_no_op_when_already_done(citizen, registration, round_):
    with connection.schema_editor() as editor:
        migration.drop_column(apps, editor)  # already dropped: nothing happens
    assert "connection_token" not in columns()
    with connection.schema_editor() as editor:
        migration.restore_column(apps, editor)  # backwards, for a rollback to the previous release
        migration.restore_column(apps, editor)
    assert "connection_token" in columns()
    # The restored column has its database default: this release's INSERTs (which never name it) still work.
    attempt = attempt_start(user=citizen, round=round_)
    with connection.cursor() as cursor:
        cursor.execute("SELECT connection_token FROM contests_attempt WHERE id = %s", [attempt.pk])
        assert cursor.fetchone() == ("",)
        # The test's transaction holds the attempt's deferred foreign-key checks; a real migration has none.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with connection.schema_editor() as editor:
        migration.drop_column(apps, editor)
    assert "connection_token" not in columns()
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.IN_PROGRESS

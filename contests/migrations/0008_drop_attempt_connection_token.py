# Release hygiene (issue 16): the column ``contests_attempt.connection_token`` left the model in contests/0003
# and was kept, with a database default, for processes of the release before it during that rolling restart.
# Every process now runs code without the field (contests/0003 or later), so the column goes. Processes that
# still read or write it (the release before contests/0003) must all be stopped before this migration runs
# (docs/operations.md, "Migrations and releases").
#
# The state already lost the field in 0003, so this is database-only: it drops the column when it is there
# (a database created after 0003 was squashed or edited by hand may not have it) and puts it back, with its
# default, when migrated backwards to 0007 — so the previous release can run again after a rollback.

from django.db import migrations, models

COLUMN = "connection_token"


def _field(model):
    field = models.CharField(max_length=64, blank=True, db_default="")
    field.set_attributes_from_name(COLUMN)
    field.model = model
    return field


def _has_column(schema_editor, table):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        return COLUMN in {col.name for col in connection.introspection.get_table_description(cursor, table)}


def drop_column(apps, schema_editor):
    Attempt = apps.get_model("contests", "Attempt")
    if _has_column(schema_editor, Attempt._meta.db_table):
        schema_editor.remove_field(Attempt, _field(Attempt))


def restore_column(apps, schema_editor):
    Attempt = apps.get_model("contests", "Attempt")
    if not _has_column(schema_editor, Attempt._meta.db_table):
        schema_editor.add_field(Attempt, _field(Attempt))


class Migration(migrations.Migration):

    dependencies = [
        ('contests', '0007_answer_points_awarded_exact'),
    ]

    operations = [
        migrations.RunPython(drop_column, restore_column, elidable=False),
    ]

# The unused Attempt.connection_token leaves the model in this release; its column stays one more release so
# that processes of the previous release (still running during a rolling restart, docs/operations.md) keep
# working. It gets a database default so that this release's INSERTs, which no longer name it, satisfy NOT
# NULL. Drop the column in the next release (RunSQL "ALTER TABLE contests_attempt DROP COLUMN
# connection_token").

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contests', '0002_attempt_draw_seed'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(
                    model_name='attempt',
                    name='connection_token',
                    field=models.CharField(blank=True, db_default='', max_length=64),
                ),
            ],
            state_operations=[
                migrations.RemoveField(
                    model_name='attempt',
                    name='connection_token',
                ),
            ],
        ),
    ]

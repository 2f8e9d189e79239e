import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_vietnamese_field_labels'),
        ('contests', '0009_round_fixed_version'),
        ('leaderboards', '0005_roundranking_prize_tie_rule'),
    ]

    operations = [
        migrations.CreateModel(
            name='UnitPopulation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('population', models.PositiveIntegerField(verbose_name='số người của đơn vị')),
                ('contest', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                              related_name='unit_populations', to='contests.contest',
                                              verbose_name='cuộc thi')),
                ('unit', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+',
                                           to='accounts.organisation', verbose_name='đơn vị')),
            ],
            options={
                'verbose_name': 'số người của đơn vị',
                'verbose_name_plural': 'số người của đơn vị',
                'constraints': [models.UniqueConstraint(fields=('contest', 'unit'), name='unit_population_once')],
            },
        ),
    ]

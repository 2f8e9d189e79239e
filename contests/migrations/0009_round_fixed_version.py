import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contests', '0008_drop_attempt_connection_token'),
        ('questionbank', '0003_vietnamese_field_labels'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='RoundFixedVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('family_id', models.BigIntegerField(verbose_name='mã họ câu hỏi')),
                ('pinned_at', models.DateTimeField(verbose_name='chọn lúc')),
                ('pinned_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                related_name='+', to=settings.AUTH_USER_MODEL,
                                                verbose_name='người chọn')),
                ('question', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+',
                                               to='questionbank.question', verbose_name='phiên bản đang dùng')),
                ('round', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                            related_name='fixed_versions', to='contests.round',
                                            verbose_name='đợt thi')),
            ],
            options={
                'verbose_name': 'phiên bản câu hỏi cố định của đợt thi',
                'verbose_name_plural': 'phiên bản câu hỏi cố định của đợt thi',
                'constraints': [models.UniqueConstraint(fields=('round', 'family_id'),
                                                        name='round_fixed_version_once_per_family')],
            },
        ),
    ]

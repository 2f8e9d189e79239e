
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_vietnamese_field_labels'),
    ]

    operations = [
        migrations.CreateModel(
            name='ContactChangeCode',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('phone', 'Số điện thoại'), ('email', 'Email')], max_length=5, verbose_name='loại')),
                ('new_value', models.CharField(max_length=254, verbose_name='giá trị mới')),
                ('code_hash', models.CharField(max_length=64)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='gửi lúc')),
                ('expires_at', models.DateTimeField(db_index=True, verbose_name='hết hạn lúc')),
                ('tries', models.PositiveSmallIntegerField(default=0, verbose_name='số lần nhập sai')),
                ('used_at', models.DateTimeField(blank=True, null=True, verbose_name='dùng hoặc huỷ lúc')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='contact_change_codes', to=settings.AUTH_USER_MODEL, verbose_name='tài khoản')),
            ],
            options={
                'verbose_name': 'mã xác nhận đổi liên lạc',
                'verbose_name_plural': 'mã xác nhận đổi liên lạc',
                'indexes': [models.Index(fields=['user', 'kind', '-created_at'], name='contact_change_user_kind')],
            },
        ),
    ]

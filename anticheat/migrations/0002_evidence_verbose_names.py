
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('anticheat', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='answerevent',
            options={'verbose_name': 'dấu vết câu trả lời', 'verbose_name_plural': 'dấu vết câu trả lời'},
        ),
        migrations.AlterModelOptions(
            name='clientevent',
            options={'verbose_name': 'dấu vết trình duyệt', 'verbose_name_plural': 'dấu vết trình duyệt'},
        ),
        migrations.AlterModelOptions(
            name='connectionevidence',
            options={'verbose_name': 'dấu vết kết nối', 'verbose_name_plural': 'dấu vết kết nối'},
        ),
        migrations.AlterModelOptions(
            name='signupevidence',
            options={'verbose_name': 'dấu vết đăng ký tài khoản', 'verbose_name_plural': 'dấu vết đăng ký tài khoản'},
        ),
    ]

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_contactchangecode'),
    ]

    operations = [
        migrations.AddField(
            model_name='smsresetcode',
            name='request_hash',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
    ]

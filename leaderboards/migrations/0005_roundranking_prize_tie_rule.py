from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leaderboards', '0004_vietnamese_field_labels'),
    ]

    operations = [
        migrations.AddField(
            model_name='roundranking',
            name='prize_tie_rule',
            field=models.CharField(blank=True, choices=[('', 'Chưa quyết định'), ('extend', 'Trao giải cho tất cả người đồng hạng'), ('correct_count', 'Xét thêm: nhiều câu trả lời đúng hơn'), ('lot', 'Xét thêm: bốc thăm (mã bốc thăm được ghi lại)')], default='', max_length=16, verbose_name='xử lý đồng hạng ở ranh giới giải'),
        ),
        migrations.AddField(
            model_name='roundranking',
            name='prize_tie_seed',
            field=models.CharField(blank=True, default='', max_length=32, verbose_name='mã bốc thăm'),
        ),
    ]

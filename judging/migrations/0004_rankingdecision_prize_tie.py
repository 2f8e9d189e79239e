
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('judging', '0003_vietnamese_field_labels'),
    ]

    operations = [
        migrations.AlterField(
            model_name='rankingdecision',
            name='action',
            field=models.CharField(choices=[('propose', 'Giám khảo đề xuất'), ('return', 'Trả lại để xem xét lại'), ('approve', 'Ban tổ chức phê duyệt'), ('publish', 'Công bố'), ('revise', 'Tính lại sau khi đã khoá'), ('recompute', 'Tính lại bản nháp'), ('prizes', 'Đặt số giải'), ('prize_tie', 'Quyết định đồng hạng ở ranh giới giải'), ('withdraw', 'Thu hồi kết quả đã công bố'), ('supersede', 'Được thay thế bởi phiên bản mới')], max_length=10, verbose_name='quyết định'),
        ),
    ]

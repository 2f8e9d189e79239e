
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('questionbank', '0003_vietnamese_field_labels'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='questionsimilaritykey',
            options={'verbose_name': 'khoá so trùng câu hỏi', 'verbose_name_plural': 'khoá so trùng câu hỏi'},
        ),
    ]

from django.apps import AppConfig


class QuestionbankConfig(AppConfig):
    name = "questionbank"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Ngân hàng câu hỏi"

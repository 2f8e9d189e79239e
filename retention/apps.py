from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "retention"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Thời hạn lưu trữ dữ liệu cá nhân"

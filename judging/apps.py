from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JudgingConfig(AppConfig):
    name = "judging"
    verbose_name = _("Chấm thi và phê duyệt kết quả")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from judging import receivers

        receivers.connect()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JudgingConfig(AppConfig):
    name = "judging"
    verbose_name = _("Chấm thi và phê duyệt kết quả")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # In ready(), not at the top: the receivers load models, which wait for the app registry.
        from judging import receivers

        receivers.connect()

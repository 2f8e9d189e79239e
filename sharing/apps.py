from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = _("Chia sẻ cuộc thi")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # In ready(), not at the top: the link-preview provider loads models, which wait for the app registry.
        from contests.pages import register_head_meta
        from sharing import checks  # noqa: F401 - registers the system checks
        from sharing.previews import contest_page_meta

        register_head_meta(contest_page_meta)

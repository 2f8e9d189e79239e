from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveConfig(AppConfig):
    name = "live"
    verbose_name = _("Trò chơi trực tiếp")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # In ready(), not at the top: these modules load models, which wait for the app registry. Importing
        # live.scoring registers the scoring strategies of the rounds a game is saved as (contests.scoring).
        import live.scoring  # noqa: F401
        from accounts.services import register_anonymiser, register_personal_data_exporter
        from live.services.players import personal_data_anonymise, personal_data_export

        register_personal_data_exporter(personal_data_export)
        register_anonymiser(personal_data_anonymise)

from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Khảo sát"

    def ready(self) -> None:
        # In ready(), not at the top: services load models, which wait for the app registry.
        from accounts.services import register_anonymiser, register_personal_data_exporter
        from surveys import services

        register_personal_data_exporter(services.personal_data_export)
        register_anonymiser(services.personal_data_anonymise)

from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "practice"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Luyện tập"

    def ready(self) -> None:
        # In ready(), not at the top: services load models, which wait for the app registry.
        from accounts.services import register_anonymiser, register_personal_data_exporter
        from practice import receivers, services
        from questionbank.services._common import register_used_checker

        receivers.connect()
        # A practised version must not change under the citizen's history: edits then make a new version.
        register_used_checker(services.question_practised)
        register_personal_data_exporter(services.personal_data_export)
        register_anonymiser(services.personal_data_anonymise)

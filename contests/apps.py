from django.apps import AppConfig


class ContestsConfig(AppConfig):
    name = "contests"
    default_auto_field = "django.db.models.BigAutoField"

from django.apps import AppConfig


class LeaderboardsConfig(AppConfig):
    name = "leaderboards"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Bảng xếp hạng"

    def ready(self) -> None:
        # In ready(), not at the top: the receivers load models, which wait for the app registry.
        from leaderboards import receivers

        receivers.connect()

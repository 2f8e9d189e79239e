from django.apps import AppConfig


class LeaderboardsConfig(AppConfig):
    name = "leaderboards"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Bảng xếp hạng"

    def ready(self) -> None:
        from leaderboards import receivers

        receivers.connect()

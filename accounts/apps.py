from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Tổ chức và tài khoản"

    def ready(self) -> None:
        from accounts import checks  # noqa: F401 - registers the deployment checks
        from accounts.contact_change import contact_change_export
        from accounts.services import register_personal_data_exporter

        register_personal_data_exporter(contact_change_export)

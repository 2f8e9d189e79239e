from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Tổ chức và tài khoản"

    def ready(self) -> None:
        from accounts import checks  # noqa: F401 - registers the deployment checks
        from accounts.tenancy import register_list_filters  # needs the models: importable only once apps are ready

        register_list_filters()  # every admin's relation list filters are tenant-scoped

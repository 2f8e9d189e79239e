from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Tổ chức và tài khoản"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        # In ready(), not at the top: these modules load models, importable only once the apps are ready.
        from accounts import checks  # noqa: F401 - registers the deployment checks
        from accounts.contact_change import contact_change_export
        from accounts.login_policy import on_user_logged_in
        from accounts.services import register_personal_data_exporter
        from accounts.tenancy import register_list_filters

        register_personal_data_exporter(contact_change_export)
        # Every login, whatever its entry point, trusts its device for the account (accounts.login_policy).
        user_logged_in.connect(on_user_logged_in, dispatch_uid="accounts.login_policy.device_trust")
        register_list_filters()  # every admin's relation list filters are tenant-scoped

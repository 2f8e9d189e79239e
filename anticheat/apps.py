from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AntiCheatConfig(AppConfig):
    name = "anticheat"
    verbose_name = _("Chống gian lận")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        # In ready(), not at the top: these load models, which wait for the app registry.
        from accounts.services import register_anonymiser, register_personal_data_exporter
        from accounts.signals import citizen_signed_up
        from anticheat import receivers
        from anticheat.evidence import store_records
        from anticheat.services import personal_data_anonymise, personal_data_export
        from anticheat.workbook import SHEET
        from exports.workbook import register_workbook_sheet
        from judging.review import register_review_flags
        from realtime.evidence import register_sink

        if getattr(settings, "ANTICHEAT_IN_EXAM", True):
            register_sink("anticheat", store_records)
        citizen_signed_up.connect(receivers.on_citizen_signed_up, dispatch_uid="anticheat.on_citizen_signed_up")
        register_workbook_sheet(SHEET)
        register_review_flags(receivers.unreviewed_flags_for_approval)
        register_personal_data_exporter(personal_data_export)
        register_anonymiser(personal_data_anonymise)

"""Deployment checks (``manage.py check --deploy``) for the account-recovery channels: the defaults suit
a developer's machine and must not reach production unnoticed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register

LOG_ONLY_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}


@register(Tags.security, deploy=True)
def check_recovery_channels(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    warnings = []
    if settings.SMS_SENDER == "accounts.sms.LogSmsSender":
        warnings.append(Warning(
            "SMS_SENDER is the log-only sender: password-reset codes are written to the log and never sent.",
            hint="Set SMS_SENDER to the dotted path of a real gateway sender (accounts/sms.py).",
            id="accounts.W001"))
    if settings.EMAIL_BACKEND in LOG_ONLY_EMAIL_BACKENDS:
        warnings.append(Warning(
            f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}: password-reset links are printed, not sent.",
            hint="Set EMAIL_BACKEND (e.g. django.core.mail.backends.smtp.EmailBackend) and the EMAIL_* settings.",
            id="accounts.W002"))
    return warnings

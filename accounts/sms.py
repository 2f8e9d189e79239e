"""Pluggable SMS sending. ``settings.SMS_SENDER`` is the dotted path of a class with a
``send(*, phone, message)`` method; the default only writes to the log (development and demos).

A real gateway sender should use a short network timeout: it is called after the transaction commits,
inside the request.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsSender(Protocol):
    def send(self, *, phone: str, message: str) -> None: ...


class LogSmsSender:
    """Writes the message to the log instead of sending it. Never use in production: codes are logged."""

    def send(self, *, phone: str, message: str) -> None:
        masked = phone[:3] + "*" * max(0, len(phone) - 5) + phone[-2:]  # logs are personal data too
        logger.warning("SMS to %s: %s", masked, message)


def get_sms_sender() -> SmsSender:
    return import_string(settings.SMS_SENDER)()

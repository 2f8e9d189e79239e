from __future__ import annotations

import logging
from collections.abc import Mapping

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.template.loader import render_to_string
from django.utils import translation

from contest_engine.outages import database_outage, is_database_busy, is_database_unavailable

logger = logging.getLogger(__name__)


def chosen_language(cookies: Mapping[str, str]) -> str:
    """The language chosen with the language switcher (its cookie), if the site offers it; else Vietnamese.
    Used for pages (below) and for the exam socket (``realtime.consumers``)."""
    language = cookies.get(settings.LANGUAGE_COOKIE_NAME)
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


class ChosenLanguageMiddleware(LocaleMiddleware):
    """Vietnamese unless the person chose another language with the language switcher (cookie).

    The browser's Accept-Language is deliberately ignored: this is a Vietnamese public service, and a phone
    set to English would otherwise get Django's own messages in English next to Vietnamese page text.
    """

    def process_request(self, request: HttpRequest) -> None:
        translation.activate(chosen_language(request.COOKIES))
        request.LANGUAGE_CODE = translation.get_language()


class DatabaseUnavailableMiddleware:
    """A page that fails because the database is away answers 503 with a short Vietnamese page and
    ``Retry-After``, and the outage is logged once (``contest_engine.outages``) — not a 500 with a traceback in
    the log for every request of every citizen while PostgreSQL restarts. Other errors are left to Django."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            database_outage.failed(exception, source="http")
        elif is_database_busy(exception):
            # No free pooled connection within DATABASE_POOL_TIMEOUT: the process is overloaded, the database is
            # fine — the same 503 (the person retries), one log line, no outage (docs/operations.md).
            logger.warning("no free database connection within the pool's timeout: %s %s", request.method,
                           request.path)
        else:
            return None
        # Rendered without the request: its context processors would ask the database for the user.
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "10"
        return response

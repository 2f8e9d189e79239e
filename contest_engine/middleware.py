from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


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

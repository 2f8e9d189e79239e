"""The read API's URLs (mounted at /api/v1/ by contest_engine/urls.py).

django-ninja marks its views CSRF-exempt (it checks CSRF itself for cookie-based auth). This API takes no
cookie at all (bearer tokens or nothing) and has only GET operations, so Django's own CSRF check costs nothing
here — and keeps it, like every other view of the project (tests/security: no view opts out): a POST endpoint
added later is protected until someone decides otherwise, in the open."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, re_path

from api.views import not_found, read_api


def _csrf_checked(view: Any) -> Any:
    def view_with_csrf(request: Any, *args: Any, **kwargs: Any) -> Any:
        return view(request, *args, **kwargs)

    view_with_csrf.__doc__ = view.__doc__
    return view_with_csrf


def _patterns() -> list[URLPattern | URLResolver]:
    patterns, _app_name, _namespace = read_api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern) and getattr(pattern.callback, "csrf_exempt", False):
            pattern.callback = _csrf_checked(pattern.callback)
    return [*patterns, re_path(r"^(?P<rest>.+)$", not_found, name="not_found")]


app_name = read_api.urls_namespace
urlpatterns = _patterns()

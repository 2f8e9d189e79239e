"""System checks of the public address that short links, QR codes, posters and link previews are built on."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register()
def check_public_base_url(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    base = getattr(settings, "PUBLIC_BASE_URL", "")
    if not base:
        return []
    parts = urlsplit(base)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"} or parts.query:
        return [Error(f"PUBLIC_BASE_URL is {base!r}: it must be a scheme and a host only.",
                      hint="For example https://thi.cantho.gov.vn (no path, no trailing parts).", id="sharing.E001")]
    return []


@register(Tags.security, deploy=True)
def check_public_base_url_set(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    if getattr(settings, "PUBLIC_BASE_URL", ""):
        return []
    return [Warning("PUBLIC_BASE_URL is not set: short links, QR codes and posters take the host of the organiser's "
                    "request, which may be an internal address citizens cannot reach.",
                    hint="Set PUBLIC_BASE_URL to the site's public address (docs/sharing.md).", id="sharing.W001")]

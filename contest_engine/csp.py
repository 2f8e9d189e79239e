"""Content-Security-Policy: django-csp's middleware with the request's own socket origin.

The policy itself is ``CONTENT_SECURITY_POLICY`` in contest_engine/settings.py (docs/operations.md). The exam,
live-game and leaderboard pages open WebSockets to the host that served them; CSP 3's ``'self'`` covers
same-origin ``ws:``/``wss:`` but older browsers (Safari before 15.4) do not apply it to sockets, so the one
socket origin of this request — its host, validated against ALLOWED_HOSTS, with the scheme matching the page —
is added to ``connect-src``. No other origin is ever allowed.
"""

from __future__ import annotations

from typing import Any

from csp.middleware import CSPMiddleware, PolicyParts
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest


def same_origin_socket_source(request: HttpRequest) -> str | None:
    """``wss://host`` for a secure page, ``ws://host`` otherwise; None for a host the site does not serve."""
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    return f"{'wss' if request.is_secure() else 'ws'}://{host}"


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware; ``get_policy_parts`` is its documented extension point (django-csp 4.0)."""

    def get_policy_parts(self, request: HttpRequest, response: Any, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request=request, response=response, report_only=report_only)
        source = same_origin_socket_source(request)
        if source is not None:
            update = dict(parts.update or {})  # what a view asked for with @csp_update, kept
            existing = update.get("connect-src") or ()
            update["connect-src"] = [*([existing] if isinstance(existing, str) else existing), source]
            parts.update = update
        return parts

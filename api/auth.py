"""Who is calling and how often: bearer tokens (``api.services.api_token_authenticate``), anonymous callers of
the public endpoints, scopes, and the rate limits (``accounts.ratelimit``'s fixed windows in the project's cache,
Redis in production: every server process shares the counters)."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError, AuthorizationError, Throttled
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle

from accounts.ratelimit import client_address, ratelimit_hit
from api.models import ApiToken
from api.services import api_token_authenticate


class Anonymous:
    """``request.auth`` of a public endpoint called without a token."""

    def __bool__(self) -> bool:  # ninja takes a falsy result as "not authenticated"
        return True

    def __repr__(self) -> str:
        return "Anonymous"


ANONYMOUS = Anonymous()


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer ce_…``. A token that is wrong, revoked or expired is a 401, never "anonymous":
    a client must learn that its credential stopped working."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        found = api_token_authenticate(raw=token.strip())
        if found is None:
            # Refused tokens are counted per client address (``API_RATE_LIMIT_BAD_TOKEN``): past the limit the
            # answer is 429, so a client retrying a dead token in a loop is slowed down like any other. A valid
            # token is never refused for its address's failures (portals may share a NAT address).
            result = ratelimit_hit(scope="api:bad-token", identifier=client_address(request),
                                   limit=settings.API_RATE_LIMIT_BAD_TOKEN)
            if not result.allowed:
                raise Throttled(wait=result.retry_after)
            raise AuthenticationError(401, "Mã truy cập không hợp lệ, đã hết hạn hoặc đã bị thu hồi.")
        return found


def anonymous(request: HttpRequest) -> Anonymous | None:
    """The second auth callback of a public endpoint: no Authorization header at all is an anonymous caller (a
    header ninja's bearer check did not accept, e.g. ``Basic …``, is a 401)."""
    return None if request.headers.get("Authorization") else ANONYMOUS


token_auth = ApiTokenAuth()
PUBLIC_AUTH = [token_auth, anonymous]


def token_of(request: HttpRequest) -> ApiToken | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiToken) else None


def require_scope(request: HttpRequest, scope: str) -> ApiToken:
    """The calling token if it holds ``scope``; else 403 (the endpoints that call this require a token)."""
    token = token_of(request)
    if token is None or not token.has_scope(scope):
        raise AuthorizationError(403, f"Mã truy cập không có phạm vi {scope}.")
    return token


class ProjectRateThrottle(BaseThrottle):
    """Per token (``API_RATE_LIMIT_TOKEN``) when a token authenticated the request, else per client address
    (``API_RATE_LIMIT_ANONYMOUS``, the address as ``accounts.ratelimit.client_address`` sees it behind the proxy).
    Over the limit: ninja answers 429 with ``Retry-After`` (the seconds left in the window, from ``wait``)."""

    def __init__(self) -> None:
        self._last = threading.local()  # one throttle object serves every request thread

    def allow_request(self, request: HttpRequest) -> bool:
        token = token_of(request)
        if token is not None:
            scope, identifier, limit = "api:token", str(token.pk), settings.API_RATE_LIMIT_TOKEN
        else:
            scope, identifier, limit = "api:address", client_address(request), settings.API_RATE_LIMIT_ANONYMOUS
        result = ratelimit_hit(scope=scope, identifier=identifier, limit=limit)
        self._last.retry_after = result.retry_after
        return result.allowed

    def wait(self) -> Any:
        return getattr(self._last, "retry_after", None)

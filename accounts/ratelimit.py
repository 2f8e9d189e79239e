"""Fixed-window rate limits kept in Django's cache (Redis in production, so every process shares them).

A limit is ``(attempts, window_seconds)``. Counters are keyed by a scope (``login:account``,
``login:address`` …) and a hash of the identifier, so no phone number or e-mail address is written
to Redis in clear.

Why fixed windows: one INCR per attempt, no sorted sets to trim; a burst of up to twice the limit
across a window edge is acceptable for these purposes (slowing down guessing, not metering).

Why never "per address alone at the strict limit": many mobile users in Vietnam reach us through one
carrier NAT address, so per-address limits are loose and the strict limit is per account identifier.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from accounts.validators import ascii_digits, normalise_phone

Limit = tuple[int, int]

# The clock of the windows (a name of its own so tests can hold it still: a test's attempts must not straddle a
# window edge, which would reset its counters half-way).
clock = time.time


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    count: int
    retry_after: int  # seconds until the current window ends

    @property
    def retry_after_minutes(self) -> int:
        return max(1, -(-self.retry_after // 60))


def _key(scope: str, identifier: str, window: int, now: float) -> tuple[str, int]:
    bucket = int(now // window)
    digest = hashlib.sha256(f"{scope}\x00{identifier}".encode()).hexdigest()[:32]
    retry_after = int((bucket + 1) * window - now) + 1
    return f"rl:{scope}:{digest}:{bucket}", retry_after


def ratelimit_peek(*, scope: str, identifier: str, limit: Limit) -> RateLimitResult:
    """Whether one more attempt is allowed, without counting one."""
    attempts, window = limit
    key, retry_after = _key(scope, identifier, window, clock())
    count = int(cache.get(key, 0))
    return RateLimitResult(allowed=count < attempts, count=count, retry_after=retry_after)


def ratelimit_hit(*, scope: str, identifier: str, limit: Limit) -> RateLimitResult:
    """Count one attempt; ``allowed`` is False once the count is over the limit for this window."""
    attempts, window = limit
    key, retry_after = _key(scope, identifier, window, clock())
    # add() is atomic (SET NX); incr() is atomic (INCR). The window's key expires with the window.
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window + 1)
        count = 1
    return RateLimitResult(allowed=count <= attempts, count=count, retry_after=retry_after)


def ratelimit_reset(*, scope: str, identifier: str, limit: Limit) -> None:
    _attempts, window = limit
    key, _retry = _key(scope, identifier, window, clock())
    cache.delete(key)


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or ``settings.CLIENT_IP_HEADER`` behind a trusted proxy.

    For a list-valued header (X-Forwarded-For) the *rightmost* entry is used: that is the one our own
    proxy appended; entries to its left come from the client and can be forged.
    IPv6 addresses are reduced to their /64 network, which is what one subscriber is given.
    """
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    raw = ""
    if header:
        meta_key = header if header.startswith("HTTP_") else "HTTP_" + header.upper().replace("-", "_")
        raw = request.META.get(meta_key, "").split(",")[-1].strip()
    raw = raw or request.META.get("REMOTE_ADDR", "") or "unknown"
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64]
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def login_identifier(login: str) -> str:
    """Canonical form of a login identifier: NFKC, digits of any script as ASCII, e-mail lower-case, a phone number
    in its domestic form — so '0912 345 678', '+84912345678' and '091234567８' give one string."""
    login = ascii_digits(login).strip()
    if "@" in login:
        return login.lower()
    return normalise_phone(login) or login.lower()

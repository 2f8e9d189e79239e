from __future__ import annotations

from typing import ClassVar

import pytest
from django.core.cache import cache


class CapturingSmsSender:
    """SMS sender for tests: keeps (phone, message) pairs instead of sending."""

    outbox: ClassVar[list[tuple[str, str]]] = []

    def send(self, *, phone: str, message: str) -> None:
        self.outbox.append((phone, message))


CAPTURING_SMS_SENDER = "tests.accounts.conftest.CapturingSmsSender"


def _clear_rate_limits() -> None:
    # Only this process's rate-limit keys (the cache prefix is per test process): never FLUSHDB a shared Redis.
    if not hasattr(cache, "_cache") or not hasattr(cache._cache, "get_client"):
        cache.clear()  # an in-process cache belongs to this process alone
        return
    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(match=cache.make_key("rl:*"), count=1000):
        client.delete(key)


@pytest.fixture(autouse=True)
def clean_rate_limits(monkeypatch):
    # The windows are fixed (aligned to the clock): a test whose attempts straddled a 15-minute or hourly edge
    # would see its counters start again half-way. Hold the limiter's clock one second into the current hour.
    import time

    from accounts import ratelimit

    start = time.time()
    monkeypatch.setattr(ratelimit, "clock", lambda: start - start % 3600 + 1)
    _clear_rate_limits()
    yield
    _clear_rate_limits()


@pytest.fixture
def sms_outbox(settings):
    settings.SMS_SENDER = CAPTURING_SMS_SENDER
    CapturingSmsSender.outbox.clear()
    yield CapturingSmsSender.outbox
    CapturingSmsSender.outbox.clear()

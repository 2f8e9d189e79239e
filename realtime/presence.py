"""Which connection is the active one for an attempt ("the newer wins") — presence, kept in Redis.

One atomic ``SET key token GET`` per connect returns the previous holder's channel name, which the new
consumer then tells to step aside. Presence is a rebuildable view (STYLE.md: Redis holds presence): losing
it only means one older tab is not told to close; answers are stored by seq either way, so nothing is
lost or doubled. Without Redis (the embedded default: one process, in-memory channel layer) a process-local
dict does the same.

Why not the attempt row (a column claimed under a row lock, the first design; removed): that is a locked
transaction per connect, and in a join storm of 10,000 citizens those writes competed with the answers for
the database and cost ~3 ms of CPU each in the server process.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.cache import cache

TTL_SECONDS = 24 * 3600
_local: dict[int, str] = {}
_lock = threading.Lock()


def _redis_client():
    client = getattr(cache, "_cache", None)
    if client is None or not hasattr(client, "get_client"):
        return None
    return client.get_client(write=True)


def _key(attempt_id: int) -> str:
    return f"{getattr(settings, 'REDIS_PREFIX', 'ce')}:attempt-conn:{int(attempt_id)}"


def connection_claim(*, attempt_id: int, token: str) -> str:
    """Make ``token`` (a channel name) the attempt's active connection; return the previous one ('' if
    none or the same)."""
    client = _redis_client()
    if client is not None:
        previous = client.set(_key(attempt_id), token, ex=TTL_SECONDS, get=True)
        if isinstance(previous, bytes):
            previous = previous.decode()
    else:
        with _lock:
            previous = _local.get(attempt_id)
            _local[attempt_id] = token
    return previous if previous and previous != token else ""


def connection_claim_many(claims: list[tuple[int, str]]) -> list[str]:
    """``connection_claim`` for many (attempt id, token) pairs in one Redis round trip."""
    if not claims:
        return []
    client = _redis_client()
    if client is None:
        return [connection_claim(attempt_id=a, token=t) for a, t in claims]
    pipe = client.pipeline(transaction=False)
    for attempt_id, token in claims:
        pipe.set(_key(attempt_id), token, ex=TTL_SECONDS, get=True)
    out = []
    for (_, token), previous in zip(claims, pipe.execute(), strict=True):
        if isinstance(previous, bytes):
            previous = previous.decode()
        out.append(previous if previous and previous != token else "")
    return out


def connection_release(*, attempt_id: int, token: str) -> None:
    """Forget ``token`` if it is still the active one (a newer connection is left alone)."""
    client = _redis_client()
    if client is not None:
        # Compare-and-delete in one step so a newer claim made meanwhile is never removed.
        client.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
                    1, _key(attempt_id), token)
        return
    with _lock:
        if _local.get(attempt_id) == token:
            del _local[attempt_id]

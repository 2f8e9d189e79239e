"""Which connection is the active one for an attempt ("the newer wins") — presence, kept in Redis.

A claim is ``"<stamp>|<channel name>"``, the stamp being the microsecond the connection opened. One Lua call
per connect (pipelined for a batch of connects) keeps the newest claim and returns the one it replaced,
which the new consumer then tells to step aside; a claim older than the one held loses and is told who
holds it. Comparing stamps, not arrival order, is what lets the rule be *re-established*: after a Redis
restart every claim is gone, and each server process re-claims its live connections
(``realtime.sessions`` checks them every ``REALTIME_PRESENCE_CHECK_SECONDS``) — the newest wins again,
whichever process re-claims first, and a connection that finds a newer claim steps aside by itself, even
if the notice sent to it was lost with the restart.

Presence is a rebuildable view (STYLE.md: Redis holds presence). If Redis cannot be reached, a connect
still succeeds (nothing is claimed; the check claims it once Redis is back) — answers are stored by seq
either way, so nothing is lost or doubled. Without Redis (the embedded default: one process, in-memory
channel layer) a process-local dict does the same.

Why not the attempt row (a column claimed under a row lock, the first design; removed): that is a locked
transaction per connect, and in a join storm of 10,000 citizens those writes competed with the answers for
the database and cost ~3 ms of CPU each in the server process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from contest_engine.outages import is_redis_unavailable, redis_outage

TTL_SECONDS = 24 * 3600
_local: dict[int, str] = {}
_lock = threading.Lock()

# KEYS[1]: the attempt's key; ARGV: the claim, its stamp, the TTL. Returns {1, replaced} when the claim
# holds now (replaced: the older claim, '' if none or the same), {0, holder} when a newer claim holds.
_CLAIM = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  return {1, ''}
end
if current then
  local sep = string.find(current, '|', 1, true)
  local stamp = sep and tonumber(string.sub(current, 1, sep - 1)) or 0
  if stamp > tonumber(ARGV[2]) then
    return {0, current}
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return {1, current or ''}
"""


@dataclass(frozen=True, slots=True)
class Claim:
    """What a claim found: ``previous`` — an older connection it replaced (to be told to step aside);
    ``newer`` — a newer connection holds the attempt (this one must step aside); both channel names."""

    previous: str = ""
    newer: str = ""


def claim_stamp() -> int:
    """The stamp of a connection opening now (microseconds since the epoch)."""
    return time.time_ns() // 1000


def _value(token: str, stamp: int) -> str:
    return f"{int(stamp)}|{token}"


def _token(value: str | bytes | None) -> str:
    if isinstance(value, bytes):
        value = value.decode()
    if not value:
        return ""
    stamp, sep, token = value.partition("|")
    return token if sep and stamp.isdigit() else value  # a bare channel name: a claim of the previous release


def _stamp(value: str) -> int:
    stamp, sep, _ = value.partition("|")
    return int(stamp) if sep and stamp.isdigit() else 0


def _redis_client():
    client = getattr(cache, "_cache", None)
    if client is None or not hasattr(client, "get_client"):
        return None
    return client.get_client(write=True)


def _key(attempt_id: int) -> str:
    return f"{getattr(settings, 'REDIS_PREFIX', 'ce')}:attempt-conn:{int(attempt_id)}"


def _result(token: str, won: int, other: str | bytes | None) -> Claim:
    other_token = _token(other)
    if other_token == token:
        return Claim()
    return Claim(previous=other_token) if won else Claim(newer=other_token)


def _claim_local(attempt_id: int, token: str, stamp: int) -> Claim:
    value = _value(token, stamp)
    with _lock:
        current = _local.get(attempt_id)
        if current == value:
            return Claim()
        if current and _stamp(current) > stamp:
            return _result(token, 0, current)
        _local[attempt_id] = value
    return _result(token, 1, current)


def connection_claim(*, attempt_id: int, token: str, stamp: int | None = None) -> str:
    """Make ``token`` (a channel name) the attempt's active connection; return the previous one ('' if none,
    the same, or a newer one that keeps the attempt)."""
    return connection_claim_many([(attempt_id, token, stamp)])[0].previous


def connection_claim_many(claims: Sequence[tuple[int, str, int | None]]) -> list[Claim]:
    """Claim many (attempt id, token, stamp — None: now) in one Redis round trip. If Redis cannot be reached,
    nothing is claimed (every result empty; the outage is logged once) and the connects go on: the periodic
    check (``connection_check_many``) claims them when Redis is back."""
    if not claims:
        return []
    now = claim_stamp()
    stamped = [(attempt_id, token, now if stamp is None else stamp) for attempt_id, token, stamp in claims]
    client = _redis_client()
    if client is None:
        return [_claim_local(attempt_id, token, stamp) for attempt_id, token, stamp in stamped]
    try:
        script = client.register_script(_CLAIM)
        pipe = client.pipeline(transaction=False)
        for attempt_id, token, stamp in stamped:
            script(keys=[_key(attempt_id)], args=[_value(token, stamp), stamp, TTL_SECONDS], client=pipe)
        replies = pipe.execute()
    except Exception as exc:
        if not is_redis_unavailable(exc):
            raise
        redis_outage.failed(exc, source="presence", items=len(stamped))
        return [Claim() for _ in stamped]
    redis_outage.succeeded()
    return [_result(token, int(won), other) for (_, token, _), (won, other) in zip(stamped, replies, strict=True)]


def connection_check_many(claims: Sequence[tuple[int, str, int]]) -> list[Claim]:
    """For the live connections of a process: is each (attempt id, token, stamp) still the attempt's claim?
    One MGET per 500; only the claims that are missing (Redis restarted, TTL ran out) or differ are claimed
    again — the newer wins, so the result says which connection must step aside. Raises on Redis errors
    (the caller retries at its next check)."""
    client = _redis_client()
    if client is None:
        return [_claim_local(attempt_id, token, stamp) for attempt_id, token, stamp in claims]
    out: list[Claim] = []
    for start in range(0, len(claims), 500):
        chunk = claims[start:start + 500]
        values = client.mget([_key(attempt_id) for attempt_id, _, _ in chunk])
        stale = [i for i, ((_, token, stamp), value) in enumerate(zip(chunk, values, strict=True))
                 if (value.decode() if isinstance(value, bytes) else value) != _value(token, stamp)]
        results = [Claim()] * len(chunk)
        if stale:
            claimed = connection_claim_many([chunk[i] for i in stale])
            for i, claim in zip(stale, claimed, strict=True):
                results[i] = claim
        out.extend(results)
    return out


def connection_release(*, attempt_id: int, token: str) -> None:
    """Forget ``token`` if it is still the active one (a newer connection is left alone)."""
    client = _redis_client()
    if client is not None:
        # Compare-and-delete in one step so a newer claim made meanwhile is never removed.
        client.eval("local v = redis.call('get', KEYS[1]) "
                    "if v and (v == ARGV[1] or string.sub(v, -string.len(ARGV[1]) - 1) == '|' .. ARGV[1]) "
                    "then return redis.call('del', KEYS[1]) end return 0", 1, _key(attempt_id), token)
        return
    with _lock:
        if _token(_local.get(attempt_id)) == token:
            del _local[attempt_id]

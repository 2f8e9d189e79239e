"""Live leaderboard storage: one interface, a Redis implementation and an in-process twin.

Every board (a round's "live" or "frozen" view, and the same per unit) is an ordered set of *keys*, one per
person: a fixed-width decimal string whose byte order IS the live order — score desc, server duration asc,
submit time asc, attempt id asc::

    <10**13 − score×1000 : 14><duration ms : 10><submitted µs since epoch : 16><attempt id : 12>

In Redis all members have score 0, so ``ZRANGE 0 N-1`` returns the top N in that order, ``ZRANK`` a
position and ``ZLEXCOUNT - (<prefix>`` the number of people strictly ahead on the tie-break chain (the
first 40 characters; the attempt id only orders the listing) — standard competition rank (1, 1, 3) in
O(log n). A float score cannot hold four keys exactly; strings can.

Per board: ``who`` (user → "number|unit|key", the person's counted attempt) and a per-round ``meta`` hash
(attempt id → "user|unit|name"). The compare-and-set of a new attempt against the person's counted one
(first: lower attempt number wins; last: higher; best: smaller key) is one Lua script, so concurrent
submissions of one person from several processes cannot both win. A per-round ``ready`` marker is set by
the rebuild; a board without it has lost its data (Redis restarted or flushed): every script then answers
"not ready" and the caller rebuilds from the database.

Key layout (prefix ``<REDIS_PREFIX>:lb:<round>``, standalone Redis; unit keys are derived in Lua):
``:ready``, ``:ver``, ``:meta``, ``:unitnames``, ``:<view>:z``, ``:<view>:who``, ``:<view>:units``,
``:<view>:u:<unit>``, ``:push`` (throttle), ``:lock`` (rebuild).
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
import time
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

SCORE_OFFSET = 10**13
KEY_WIDTHS = (14, 10, 16, 12)
TIE_PREFIX_LEN = sum(KEY_WIDTHS[:3])
KEY_LEN = sum(KEY_WIDTHS)
assert KEY_WIDTHS == (14, 10, 16, 12), "_row slices the key with these widths"
VIEWS = ("live", "frozen")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class NotReady(Exception):
    """The board has no data for this round (never built, or lost by Redis): rebuild from the database."""


def _micros(moment: dt.datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def encode_key(*, score: Decimal | int | str, duration_ms: int, submitted_at: dt.datetime, attempt_id: int) -> str:
    scaled = int((Decimal(score) * 1000).to_integral_value())
    return (f"{SCORE_OFFSET - scaled:014d}{min(int(duration_ms), 10**10 - 1):010d}"
            f"{_micros(submitted_at):016d}{int(attempt_id):012d}")


def decode_key(key: str) -> dict[str, Any]:
    a, b, c = KEY_WIDTHS[0], KEY_WIDTHS[0] + KEY_WIDTHS[1], TIE_PREFIX_LEN
    return {
        "score": Decimal(SCORE_OFFSET - int(key[:a])).scaleb(-3),
        "duration_ms": int(key[a:b]),
        "submitted_at": _EPOCH + dt.timedelta(microseconds=int(key[b:c])),
        "attempt_id": int(key[c:]),
    }


class LiveEntry:
    """A person's candidate attempt for a live board. ``key`` is computed once (or given: the rebuild on
    PostgreSQL has the database build it, see ``KEY_SQL``)."""

    __slots__ = ("attempt_id", "key", "name", "number", "unit_id", "user_id")

    def __init__(self, *, attempt_id: int, user_id: int, unit_id: int, number: int, name: str = "",
                 score: Decimal | None = None, duration_ms: int = 0, submitted_at: dt.datetime | None = None,
                 key: str | None = None) -> None:
        self.attempt_id, self.user_id, self.unit_id, self.number, self.name = (attempt_id, user_id, unit_id,
                                                                               number, name)
        if key is None:
            assert submitted_at is not None
            key = encode_key(score=score if score is not None else 0, duration_ms=duration_ms,
                             submitted_at=submitted_at, attempt_id=attempt_id)
        self.key = key

    def __repr__(self) -> str:
        return f"LiveEntry(attempt_id={self.attempt_id}, user_id={self.user_id}, key={self.key!r})"

    @property
    def meta(self) -> str:
        return f"{self.user_id}|{self.unit_id}|{self.name}"


# The same key built by PostgreSQL (exact: numeric score, numeric epoch); the property tests compare it with
# encode_key through the incremental path. Columns: score, duration_ms, submitted_at, id.
KEY_SQL = ("lpad((10000000000000 - round(c.score * 1000))::bigint::text, 14, '0') "
           "|| lpad(LEAST(c.duration_ms, 9999999999)::text, 10, '0') "
           "|| lpad(floor(extract(epoch FROM c.submitted_at) * 1000000)::bigint::text, 16, '0') "
           "|| lpad(c.id::text, 12, '0')")


class BoardRow:
    """One listed person. The member key is decoded on access (a page of 100 rows costs no Decimal or datetime
    it does not show)."""

    __slots__ = ("key", "meta", "position", "rank")

    def __init__(self, key: str, meta: str | None, position: int, rank: int) -> None:
        self.key, self.meta, self.position, self.rank = key, meta or "0|0|", position, rank

    def __repr__(self) -> str:
        return f"BoardRow(position={self.position}, rank={self.rank}, attempt_id={self.attempt_id})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BoardRow) and (self.key, self.meta, self.position, self.rank) == (
            other.key, other.meta, other.position, other.rank)

    __hash__ = None  # type: ignore[assignment]

    @property
    def attempt_id(self) -> int:
        return int(self.key[40:])

    @property
    def user_id(self) -> int:
        return int(self.meta.split("|", 1)[0])

    @property
    def unit_id(self) -> int:
        return int(self.meta.split("|", 2)[1])

    @property
    def name(self) -> str:
        return self.meta.split("|", 2)[2]

    @property
    def score(self) -> Decimal:
        return Decimal(SCORE_OFFSET - int(self.key[:14])).scaleb(-3)

    @property
    def duration_ms(self) -> int:
        return int(self.key[14:24])

    @property
    def submitted_at(self) -> dt.datetime:
        return _EPOCH + dt.timedelta(microseconds=int(self.key[24:40]))


def _row(key: str, meta: str | None, *, position: int, rank: int) -> BoardRow:
    return BoardRow(key, meta, position, rank)


def rows_from_keys(keys: list[str], metas: list[str | None], *, offset: int, first_rank: int) -> list[BoardRow]:
    """Listing rows with standard competition ranks: equal tie prefixes share the rank of the first."""
    rows: list[BoardRow] = []
    rank = first_rank
    for index, (key, meta) in enumerate(zip(keys, metas, strict=True)):
        if index and key[:TIE_PREFIX_LEN] != keys[index - 1][:TIE_PREFIX_LEN]:
            rank = offset + index + 1
        rows.append(_row(key, meta, position=offset + index + 1, rank=rank))
    return rows


# The compare-and-set rules, mirrored by ``leaderboards.strategies.SelectionPolicy.live_rule``.
RULES = ("min_number", "max_number", "best_key", "force", "remove")


class Board:
    """Interface of a live leaderboard store (see module docstring for semantics)."""

    def is_ready(self, round_id: int) -> bool: raise NotImplementedError
    def apply(self, round_id: int, view: str, entry: LiveEntry | None, *, rule: str,
              user_id: int | None = None, expire_at: int | None = None) -> bool: raise NotImplementedError

    def apply_many(self, round_id: int, changes: Sequence[tuple[str, LiveEntry]], *, rule: str,
                   expire_at: int | None = None) -> list[bool]:
        """``apply`` for several (view, entry) pairs of one round, in order; one result per pair. Raises
        NotReady when the round's board has no data (some pairs may have been applied: rebuild)."""
        return [self.apply(round_id, view, entry, rule=rule, expire_at=expire_at) for view, entry in changes]

    def top(self, round_id: int, view: str, *, limit: int, offset: int = 0,
            unit_id: int | None = None) -> list[BoardRow]: raise NotImplementedError
    def rank_of(self, round_id: int, view: str, *, user_id: int,
                unit_id: int | None = None) -> BoardRow | None: raise NotImplementedError
    def count(self, round_id: int, view: str, *, unit_id: int | None = None) -> int: raise NotImplementedError
    def version(self, round_id: int) -> int: raise NotImplementedError
    def replace(self, round_id: int, boards: dict[str, Iterable[LiveEntry]],
                expire_at: int | None = None) -> int: raise NotImplementedError
    def drop(self, round_id: int) -> None: raise NotImplementedError
    def try_lock(self, round_id: int, name: str, ttl_ms: int) -> bool: raise NotImplementedError
    def unlock(self, round_id: int, name: str) -> None: raise NotImplementedError
    def touch(self, round_id: int, name: str, ttl_ms: int) -> None: raise NotImplementedError
    def is_locked(self, round_id: int, name: str) -> bool: raise NotImplementedError
    def add_pending(self, round_id: int, attempt_id: int) -> None: raise NotImplementedError
    def drain_pending(self, round_id: int) -> list[int]: raise NotImplementedError


# --------------------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------------------

_APPLY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local user, key, number, rule = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local unitprefix = ARGV[7]
local function touch(unit)
  -- Every key of the round expires at one absolute time (days after the close); the ready marker a minute
  -- earlier, so a board is never "ready" with its data gone.
  if ARGV[8] == '' then return end
  local at = tonumber(ARGV[8])
  for i = 2, 4 do redis.call('EXPIREAT', KEYS[i], at) end
  redis.call('EXPIREAT', KEYS[6], at)
  redis.call('EXPIREAT', KEYS[1], at - 60)
  redis.call('EXPIREAT', KEYS[5], at + 2592000)
  if unit then redis.call('EXPIREAT', unitprefix .. unit, at) end
end
local cur = redis.call('HGET', KEYS[3], user)
if cur then
  local s1 = string.find(cur, '|', 1, true)
  local s2 = string.find(cur, '|', s1 + 1, true)
  local cnum = tonumber(string.sub(cur, 1, s1 - 1))
  local cunit = string.sub(cur, s1 + 1, s2 - 1)
  local ckey = string.sub(cur, s2 + 1)
  if rule ~= 'remove' then
    if ckey == key then return 0 end
    local replace
    if rule == 'min_number' then replace = number < cnum
    elseif rule == 'max_number' then replace = number > cnum
    elseif rule == 'best_key' then replace = key < ckey
    else replace = true end
    if not replace then return 0 end
  end
  redis.call('ZREM', KEYS[2], ckey)
  redis.call('ZREM', unitprefix .. cunit, ckey)
  if rule == 'remove' then
    redis.call('HDEL', KEYS[3], user)
    redis.call('INCR', KEYS[5])
    touch(nil)
    return 1
  end
elseif rule == 'remove' then
  return 0
end
redis.call('ZADD', KEYS[2], 0, key)
redis.call('ZADD', unitprefix .. ARGV[6], 0, key)
redis.call('SADD', KEYS[6], ARGV[6])
redis.call('HSET', KEYS[3], user, ARGV[3] .. '|' .. ARGV[6] .. '|' .. key)
redis.call('HSET', KEYS[4], string.sub(key, -12), ARGV[5])
redis.call('INCR', KEYS[5])
touch(ARGV[6])
return 1
"""

_TOP = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local keys = redis.call('ZRANGE', KEYS[2], ARGV[1], ARGV[2])
if #keys == 0 then return {0} end
local ids = {}
for i, k in ipairs(keys) do ids[i] = string.sub(k, -12) end
local metas = redis.call('HMGET', KEYS[3], unpack(ids))
local ahead = 0
if tonumber(ARGV[1]) > 0 then
  ahead = redis.call('ZLEXCOUNT', KEYS[2], '-', '(' .. string.sub(keys[1], 1, tonumber(ARGV[3])))
end
local out = {ahead}
for i, k in ipairs(keys) do out[2 * i] = k; out[2 * i + 1] = metas[i] or '' end
return out
"""

_RANK = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local cur = redis.call('HGET', KEYS[3], ARGV[1])
if not cur then return {} end
local s1 = string.find(cur, '|', 1, true)
local s2 = string.find(cur, '|', s1 + 1, true)
local key = string.sub(cur, s2 + 1)
local zset = KEYS[2]
if ARGV[3] ~= '' then zset = ARGV[3] end
local ahead = redis.call('ZLEXCOUNT', zset, '-', '(' .. string.sub(key, 1, tonumber(ARGV[2])))
local pos = redis.call('ZRANK', zset, key)
if not pos then return {} end
local meta = redis.call('HGET', KEYS[4], string.sub(key, -12)) or ''
return {key, ahead, pos, meta}
"""


class RedisBoard(Board):
    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url)
        self.prefix = f"{prefix}:lb"
        self._apply = self.redis.register_script(_APPLY)
        self._top = self.redis.register_script(_TOP)
        self._rank = self.redis.register_script(_RANK)

    def k(self, round_id: int, *parts: object) -> str:
        return ":".join([self.prefix, str(int(round_id)), *map(str, parts)])

    def _view_keys(self, round_id: int, view: str) -> list[str]:
        return [self.k(round_id, "ready"), self.k(round_id, view, "z"), self.k(round_id, view, "who"),
                self.k(round_id, "meta"), self.k(round_id, "ver"), self.k(round_id, view, "units")]

    def is_ready(self, round_id: int) -> bool:
        return bool(self.redis.exists(self.k(round_id, "ready")))

    def _apply_args(self, round_id: int, view: str, entry: LiveEntry | None, *, rule: str,
                    user_id: int | None = None, expire_at: int | None = None) -> list[Any]:
        at = "" if expire_at is None else int(expire_at)
        if entry is None:
            return [user_id, "", 0, "remove", "", "", self.k(round_id, view, "u", ""), at]
        return [entry.user_id, entry.key, entry.number, rule, entry.meta, entry.unit_id,
                self.k(round_id, view, "u", ""), at]

    def apply(self, round_id: int, view: str, entry: LiveEntry | None, *, rule: str,
              user_id: int | None = None, expire_at: int | None = None) -> bool:
        result = int(self._apply(keys=self._view_keys(round_id, view),
                                 args=self._apply_args(round_id, view, entry, rule=rule, user_id=user_id,
                                                       expire_at=expire_at)))
        if result < 0:
            raise NotReady(round_id)
        return bool(result)

    def apply_many(self, round_id: int, changes: Sequence[tuple[str, LiveEntry]], *, rule: str,
                   expire_at: int | None = None) -> list[bool]:
        """One round trip: the compare-and-set scripts of every pair in one pipeline (not a transaction:
        each script is atomic on its own, which is all ``apply`` promises)."""
        if not changes:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for view, entry in changes:
            self._apply(keys=self._view_keys(round_id, view), client=pipe,
                        args=self._apply_args(round_id, view, entry, rule=rule, expire_at=expire_at))
        results = [int(r) for r in pipe.execute()]
        if any(r < 0 for r in results):
            raise NotReady(round_id)
        return [bool(r) for r in results]

    def _zset(self, round_id: int, view: str, unit_id: int | None) -> str:
        if unit_id is None:
            return self.k(round_id, view, "z")
        return self.k(round_id, view, "u", unit_id)

    def top(self, round_id: int, view: str, *, limit: int, offset: int = 0,
            unit_id: int | None = None) -> list[BoardRow]:
        if limit <= 0:
            return []
        reply = self._top(keys=[self.k(round_id, "ready"), self._zset(round_id, view, unit_id),
                                self.k(round_id, "meta")], args=[offset, offset + limit - 1, TIE_PREFIX_LEN])
        if reply is None:
            raise NotReady(round_id)
        ahead = int(reply[0])
        keys = [v.decode() for v in reply[1::2]]
        metas = [v.decode() if v else None for v in reply[2::2]]
        return rows_from_keys(keys, metas, offset=offset, first_rank=ahead + 1)

    def rank_of(self, round_id: int, view: str, *, user_id: int, unit_id: int | None = None) -> BoardRow | None:
        reply = self._rank(keys=[self.k(round_id, "ready"), self.k(round_id, view, "z"),
                                 self.k(round_id, view, "who"), self.k(round_id, "meta")],
                           args=[user_id, TIE_PREFIX_LEN,
                                 self._zset(round_id, view, unit_id) if unit_id is not None else ""])
        if reply is None:
            raise NotReady(round_id)
        if not reply:
            return None
        key, ahead, pos, meta = reply
        return _row(key.decode(), meta.decode() or None, position=int(pos) + 1, rank=int(ahead) + 1)

    def count(self, round_id: int, view: str, *, unit_id: int | None = None) -> int:
        return int(self.redis.zcard(self._zset(round_id, view, unit_id)))

    def version(self, round_id: int) -> int:
        return int(self.redis.get(self.k(round_id, "ver")) or 0)

    def replace(self, round_id: int, boards: dict[str, Iterable[LiveEntry]], expire_at: int | None = None,
                batch: int = 10_000) -> int:
        """Build every view into temporary keys, then swap them in with one MULTI (readers never see a
        half-built board) and set the ready marker."""
        r = self.redis
        tmp = "~tmp"
        total = 0
        renames: list[tuple[str, str]] = []
        drops: list[str] = []
        meta_tmp = self.k(round_id, "meta" + tmp)
        r.delete(meta_tmp)
        for view, entries in boards.items():
            z_tmp, who_tmp, units_tmp = (self.k(round_id, view, "z" + tmp), self.k(round_id, view, "who" + tmp),
                                         self.k(round_id, view, "units" + tmp))
            old_units = {u.decode() for u in r.smembers(self.k(round_id, view, "units"))}
            stale = [self.k(round_id, view, "u", u + tmp) for u in old_units]
            r.delete(z_tmp, who_tmp, units_tmp, *stale)
            new_units: set[str] = set()
            chunk: list[LiveEntry] = []
            for entry in entries:
                chunk.append(entry)
                if len(chunk) >= batch:
                    new_units |= self._write_chunk(round_id, view, chunk, z_tmp, who_tmp, meta_tmp, tmp)
                    total += len(chunk)
                    chunk = []
            if chunk:
                new_units |= self._write_chunk(round_id, view, chunk, z_tmp, who_tmp, meta_tmp, tmp)
                total += len(chunk)
            if new_units:
                r.sadd(units_tmp, *new_units)
            for name in ("z", "who", "units"):
                renames.append((self.k(round_id, view, name + tmp), self.k(round_id, view, name)))
            for unit in new_units:
                renames.append((self.k(round_id, view, "u", unit + tmp), self.k(round_id, view, "u", unit)))
            drops.extend(self.k(round_id, view, "u", u) for u in old_units - new_units)
        renames.append((meta_tmp, self.k(round_id, "meta")))
        check = r.pipeline(transaction=False)
        for src, _dst in renames:
            check.exists(src)
        present = check.execute()
        pipe = r.pipeline(transaction=True)
        for (src, dst), there in zip(renames, present, strict=True):
            if there:
                pipe.rename(src, dst)
            else:
                pipe.delete(dst)
        if drops:
            pipe.delete(*drops)
        pipe.set(self.k(round_id, "ready"), int(time.time()))
        pipe.incr(self.k(round_id, "ver"))
        if expire_at is not None:
            for (_src, dst), there in zip(renames, present, strict=True):
                if there:
                    pipe.expireat(dst, int(expire_at))
            pipe.expireat(self.k(round_id, "ready"), int(expire_at) - 60)
            pipe.expireat(self.k(round_id, "ver"), int(expire_at) + 2_592_000)
        pipe.execute()
        return total

    def _write_chunk(self, round_id: int, view: str, chunk: list[LiveEntry], z_tmp: str, who_tmp: str,
                     meta_tmp: str, tmp: str) -> set[str]:
        """One pipelined round trip per chunk: a ZADD of many members per key, one HSET of many fields."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(z_tmp, {e.key: 0 for e in chunk})
        by_unit: dict[int, dict[str, int]] = {}
        for e in chunk:
            by_unit.setdefault(e.unit_id, {})[e.key] = 0
        for unit, members in by_unit.items():
            pipe.zadd(self.k(round_id, view, "u", f"{unit}{tmp}"), members)
        pipe.hset(who_tmp, mapping={e.user_id: f"{e.number}|{e.unit_id}|{e.key}" for e in chunk})
        pipe.hset(meta_tmp, mapping={f"{e.attempt_id:012d}": e.meta for e in chunk})
        pipe.execute()
        return {str(u) for u in by_unit}

    def drop(self, round_id: int) -> None:
        keys = list(self.redis.scan_iter(match=self.k(round_id, "*"), count=1000))
        if keys:
            self.redis.delete(*keys)

    def try_lock(self, round_id: int, name: str, ttl_ms: int) -> bool:
        return bool(self.redis.set(self.k(round_id, name), "1", nx=True, px=max(1, int(ttl_ms))))

    def unlock(self, round_id: int, name: str) -> None:
        self.redis.delete(self.k(round_id, name))

    def touch(self, round_id: int, name: str, ttl_ms: int) -> None:
        """Set the marker ``name`` (held or not) for ``ttl_ms`` from now."""
        self.redis.set(self.k(round_id, name), "1", px=max(1, int(ttl_ms)))

    def is_locked(self, round_id: int, name: str) -> bool:
        return bool(self.redis.exists(self.k(round_id, name)))

    def add_pending(self, round_id: int, attempt_id: int) -> None:
        self.redis.rpush(self.k(round_id, "pending"), int(attempt_id))

    def drain_pending(self, round_id: int) -> list[int]:
        pipe = self.redis.pipeline(transaction=True)
        pipe.lrange(self.k(round_id, "pending"), 0, -1)
        pipe.delete(self.k(round_id, "pending"))
        values, _ = pipe.execute()
        return [int(v) for v in values]


# --------------------------------------------------------------------------------------------------
# In-process (embedded default: one process, no Redis)
# --------------------------------------------------------------------------------------------------


class _View:
    __slots__ = ("keys", "units", "who")

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.who: dict[int, tuple[int, int, str]] = {}
        self.units: dict[int, list[str]] = {}


def _remove(lst: list[str], key: str) -> None:
    index = bisect.bisect_left(lst, key)
    if index < len(lst) and lst[index] == key:
        del lst[index]


class MemoryBoard(Board):
    """The same semantics as RedisBoard in this process's memory (sorted lists, one lock).

    ``refresh_seconds``: in the embedded default the task worker is another process (the deadline sweeper
    submits there), so this process cannot see its updates; a board older than this is treated as lost and
    rebuilt from the database on next use. None = never (tests, a single process)."""

    def __init__(self, refresh_seconds: float | None = None) -> None:
        self.refresh_seconds = refresh_seconds
        self._lock = threading.RLock()
        self._views: dict[tuple[int, str], _View] = {}
        self._meta: dict[int, dict[int, str]] = {}
        self._versions: dict[int, int] = {}
        self._ready: dict[int, float] = {}
        self._locks: dict[tuple[int, str], float] = {}
        self._pending: dict[int, list[int]] = {}

    def _view(self, round_id: int, view: str) -> _View:
        return self._views.setdefault((round_id, view), _View())

    def _check(self, round_id: int) -> None:
        if not self.is_ready(round_id):
            raise NotReady(round_id)

    def is_ready(self, round_id: int) -> bool:
        built = self._ready.get(round_id)
        if built is None:
            return False
        return self.refresh_seconds is None or time.monotonic() - built < self.refresh_seconds

    def apply(self, round_id: int, view: str, entry: LiveEntry | None, *, rule: str,
              user_id: int | None = None, expire_at: int | None = None) -> bool:
        with self._lock:
            self._check(round_id)
            board = self._view(round_id, view)
            uid = entry.user_id if entry is not None else int(user_id or 0)
            cur = board.who.get(uid)
            if cur is not None:
                cnum, cunit, ckey = cur
                if entry is not None:
                    key = entry.key
                    if ckey == key:
                        return False
                    if rule == "min_number":
                        replace = entry.number < cnum
                    elif rule == "max_number":
                        replace = entry.number > cnum
                    elif rule == "best_key":
                        replace = key < ckey
                    else:
                        replace = True
                    if not replace:
                        return False
                _remove(board.keys, ckey)
                _remove(board.units.get(cunit, []), ckey)
                if entry is None:
                    del board.who[uid]
                    self._versions[round_id] = self._versions.get(round_id, 0) + 1
                    return True
            elif entry is None:
                return False
            key = entry.key
            bisect.insort(board.keys, key)
            bisect.insort(board.units.setdefault(entry.unit_id, []), key)
            board.who[uid] = (entry.number, entry.unit_id, key)
            self._meta.setdefault(round_id, {})[entry.attempt_id] = entry.meta
            self._versions[round_id] = self._versions.get(round_id, 0) + 1
            return True

    def _list(self, round_id: int, view: str, unit_id: int | None) -> list[str]:
        board = self._view(round_id, view)
        return board.keys if unit_id is None else board.units.get(unit_id, [])

    def top(self, round_id: int, view: str, *, limit: int, offset: int = 0,
            unit_id: int | None = None) -> list[BoardRow]:
        with self._lock:
            self._check(round_id)
            lst = self._list(round_id, view, unit_id)
            keys = lst[offset:offset + max(0, limit)]
            if not keys:
                return []
            ahead = bisect.bisect_left(lst, keys[0][:TIE_PREFIX_LEN]) if offset else 0
            meta = self._meta.get(round_id, {})
            return rows_from_keys(keys, [meta.get(int(k[TIE_PREFIX_LEN:])) for k in keys], offset=offset,
                                  first_rank=ahead + 1)

    def rank_of(self, round_id: int, view: str, *, user_id: int, unit_id: int | None = None) -> BoardRow | None:
        with self._lock:
            self._check(round_id)
            cur = self._view(round_id, view).who.get(int(user_id))
            if cur is None:
                return None
            key = cur[2]
            lst = self._list(round_id, view, unit_id)
            pos = bisect.bisect_left(lst, key)
            if pos >= len(lst) or lst[pos] != key:
                return None
            ahead = bisect.bisect_left(lst, key[:TIE_PREFIX_LEN])
            return _row(key, self._meta.get(round_id, {}).get(int(key[TIE_PREFIX_LEN:])), position=pos + 1,
                        rank=ahead + 1)

    def count(self, round_id: int, view: str, *, unit_id: int | None = None) -> int:
        with self._lock:
            return len(self._list(round_id, view, unit_id))

    def version(self, round_id: int) -> int:
        return self._versions.get(round_id, 0)

    def replace(self, round_id: int, boards: dict[str, Iterable[LiveEntry]], expire_at: int | None = None) -> int:
        built: dict[str, _View] = {}
        meta: dict[int, str] = {}
        total = 0
        for view, entries in boards.items():
            board = _View()
            for entry in entries:
                key = entry.key
                board.keys.append(key)
                board.units.setdefault(entry.unit_id, []).append(key)
                board.who[entry.user_id] = (entry.number, entry.unit_id, key)
                meta[entry.attempt_id] = entry.meta
                total += 1
            board.keys.sort()
            for lst in board.units.values():
                lst.sort()
            built[view] = board
        with self._lock:
            for view in VIEWS:
                self._views.pop((round_id, view), None)
            for view, board in built.items():
                self._views[(round_id, view)] = board
            self._meta[round_id] = meta
            self._versions[round_id] = self._versions.get(round_id, 0) + 1
            self._ready[round_id] = time.monotonic()
        return total

    def drop(self, round_id: int) -> None:
        with self._lock:
            for view in VIEWS:
                self._views.pop((round_id, view), None)
            self._meta.pop(round_id, None)
            self._ready.pop(round_id, None)

    def try_lock(self, round_id: int, name: str, ttl_ms: int) -> bool:
        with self._lock:
            now = time.monotonic()
            if self._locks.get((round_id, name), 0) > now:
                return False
            self._locks[(round_id, name)] = now + ttl_ms / 1000
            return True

    def unlock(self, round_id: int, name: str) -> None:
        with self._lock:
            self._locks.pop((round_id, name), None)

    def touch(self, round_id: int, name: str, ttl_ms: int) -> None:
        with self._lock:
            self._locks[(round_id, name)] = time.monotonic() + ttl_ms / 1000

    def is_locked(self, round_id: int, name: str) -> bool:
        with self._lock:
            return self._locks.get((round_id, name), 0) > time.monotonic()

    def add_pending(self, round_id: int, attempt_id: int) -> None:
        with self._lock:
            self._pending.setdefault(round_id, []).append(int(attempt_id))

    def drain_pending(self, round_id: int) -> list[int]:
        with self._lock:
            return self._pending.pop(round_id, [])


_board: Board | None = None
_board_lock = threading.Lock()


def get_board() -> Board:
    """The process's board: Redis when REDIS_URL is set (shared by every server process), else in-process."""
    global _board
    if _board is None:
        with _board_lock:
            if _board is None:
                from django.conf import settings

                backend = getattr(settings, "LEADERBOARD_BACKEND", "")
                url = getattr(settings, "REDIS_URL", "")
                if backend == "memory" or (not backend and not url):
                    _board = MemoryBoard(refresh_seconds=float(
                        getattr(settings, "LEADERBOARD_MEMORY_REFRESH_SECONDS", 10)))
                else:
                    _board = RedisBoard(url, getattr(settings, "REDIS_PREFIX", "ce"))
    return _board


def set_board(board: Board | None) -> None:
    """Tests: use ``board`` (None = choose again from the settings)."""
    global _board
    _board = board

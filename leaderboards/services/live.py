"""The live provisional leaderboard: kept up to date on submit, rebuilt from the database, pushed throttled.

- ``leaderboard_record_attempts`` runs after the commit of every batch of submitted attempts (``realtime.events.
  attempts_submitted``): a compare-and-set of the person's counted attempt under the round's selection policy
  on the "live" board (and on the "frozen" board when the attempt was submitted before the freeze).
- A board without data (never built, Redis restarted or flushed) is rebuilt from the database on first use
  (``leaderboard_rebuild``); attempts submitted while a rebuild runs are queued and re-applied after the swap.
- Pushes are coalesced per round across every process: the first change of a window takes a Redis key
  (``SET NX PX``) and sends the board when the window ends; changes inside the window only bump the version.
  After sending, the flusher releases the key and re-arms itself if the version moved meanwhile, so the last
  change is never lost and a round gets at most about one push per ``LEADERBOARD_PUSH_INTERVAL`` seconds.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from contests.models import Attempt, Registration, Round
from leaderboards.services.boards import KEY_SQL, BoardRow, LiveEntry, NotReady, get_board
from leaderboards.services.ranking import counted_attempts_sql
from leaderboards.strategies import LIVE_ORDER, policy_for
from leaderboards.visibility import (
    display_name,
    freeze_at,
    public_view,
    registration_names_unless_disqualified,
    viewer_visibility,
)
from realtime import events

logger = logging.getLogger(__name__)

REBUILD_LOCK = "lock"
PUSH_LOCK = "push"


def push_interval() -> float:
    return float(getattr(settings, "LEADERBOARD_PUSH_INTERVAL", 1.0))


def push_top() -> int:
    return int(getattr(settings, "LEADERBOARD_PUSH_TOP", 100))


# --------------------------------------------------------------------------------------------------
# Round rules
# --------------------------------------------------------------------------------------------------


def expire_at(round: Round) -> int:
    """When a round's live-board keys expire in Redis (LEADERBOARD_KEEP_DAYS after its close, 7 by default):
    old rounds do not hold memory forever, and a board asked for later is simply rebuilt."""
    keep = dt.timedelta(days=float(getattr(settings, "LEADERBOARD_KEEP_DAYS", 7)))
    return int((max(round.effective_closes_at, timezone.now()) + keep).timestamp())


def views_of(round: Round) -> tuple[str, ...]:
    return ("live", "frozen") if freeze_at(round) is not None else ("live",)


# --------------------------------------------------------------------------------------------------
# Entries from the database
# --------------------------------------------------------------------------------------------------


def _as_datetime(value: Any) -> dt.datetime:
    if isinstance(value, str):  # SQLite returns text from raw cursors
        value = parse_datetime(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value


def _as_score(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else 0)).quantize(Decimal("0.001"))


def db_entries(*, round: Round, submitted_before: dt.datetime | None = None, user_id: int | None = None,
               chunk: int = 20_000) -> Iterator[LiveEntry]:
    """Each person's counted attempt in live order (SQL, streamed with a server-side cursor on PostgreSQL)."""
    sql, params = counted_attempts_sql(round_id=round.pk, policy=round.settings.counted_attempt, order=LIVE_ORDER,
                                       with_prediction=False, target=None, submitted_before=submitted_before,
                                       user_id=user_id)
    registration = Registration._meta.db_table
    postgres = connection.vendor == "postgresql"
    if postgres:  # the database builds the keys: no datetime/Decimal parsing per row in Python
        full = (f"SELECT c.id, c.user_id, c.unit_id, c.number, r.full_name, {KEY_SQL} "
                f"FROM ({sql}) c JOIN {registration} r ON r.id = c.registration_id")
    else:
        full = (f"SELECT c.id, c.user_id, c.unit_id, c.number, r.full_name, c.score, c.duration_ms, "
                f"c.submitted_at FROM ({sql}) c JOIN {registration} r ON r.id = c.registration_id")
    cursor = connection.chunked_cursor() if postgres else connection.cursor()
    try:
        cursor.execute(full, params)
        while True:
            rows = cursor.fetchmany(chunk)
            if not rows:
                break
            if postgres:
                for aid, uid, unit, number, name, key in rows:
                    yield LiveEntry(attempt_id=aid, user_id=uid, unit_id=unit, number=number, key=key,
                                    name=(name or "").replace("|", " "))
            else:
                for aid, uid, unit, number, name, score, duration, submitted in rows:
                    yield LiveEntry(attempt_id=aid, user_id=uid, unit_id=unit, number=number,
                                    score=_as_score(score), duration_ms=int(duration or 0),
                                    submitted_at=_as_datetime(submitted), name=(name or "").replace("|", " "))
    finally:
        cursor.close()


def entry_of(attempt: Attempt, *, name: str | None = None) -> LiveEntry:
    if name is None:
        name = Registration.objects.filter(pk=attempt.registration_id).values_list("full_name", flat=True).first()
    return _entry(attempt, name)


def _entry(attempt: Attempt, name: str | None) -> LiveEntry:
    return LiveEntry(attempt_id=attempt.pk, user_id=attempt.user_id, unit_id=attempt.unit_id, number=attempt.number,
                     score=_as_score(attempt.score), duration_ms=int(attempt.duration_ms or 0),
                     submitted_at=attempt.submitted_at, name=(name or "").replace("|", " "))


# --------------------------------------------------------------------------------------------------
# Writes
# --------------------------------------------------------------------------------------------------


def leaderboard_rebuild(*, round: Round, wait_seconds: float = 120.0) -> int:
    """Rebuild every view of the round's live board from the database; returns the number of entries
    (-1 when another process was rebuilding and finished, or the wait ran out). One rebuild per round at a
    time (a lock key); attempts recorded meanwhile are re-applied after the swap."""
    board = get_board()
    if not board.try_lock(round.pk, REBUILD_LOCK, int(max(wait_seconds, 60) * 1000)):
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline and board.is_locked(round.pk, REBUILD_LOCK):
            time.sleep(0.05)
        return -1
    try:
        fa = freeze_at(round)
        boards = {"live": db_entries(round=round)}
        if fa is not None:
            boards["frozen"] = db_entries(round=round, submitted_before=fa)
        total = board.replace(round.pk, boards, expire_at=expire_at(round))
        pending = board.drain_pending(round.pk)
        if pending:
            for attempt in Attempt.objects.filter(pk__in=pending).select_related("round__contest"):
                _apply_attempt(attempt, round=round)
    finally:
        board.unlock(round.pk, REBUILD_LOCK)
    leaderboard_changed(round=round)
    return total


def _apply_attempt(attempt: Attempt, *, round: Round, name: str | None = None) -> bool:
    """Compare-and-set of ``attempt`` on each view (raises NotReady)."""
    if attempt.status not in ("submitted", "expired") or attempt.submitted_at is None:
        return False
    board = get_board()
    rule = policy_for(round.settings.counted_attempt).live_rule
    entry = entry_of(attempt, name=name)
    until = expire_at(round)
    changed = board.apply(round.pk, "live", entry, rule=rule, expire_at=until)
    fa = freeze_at(round)
    if fa is not None and attempt.submitted_at < fa:
        changed = board.apply(round.pk, "frozen", entry, rule=rule, expire_at=until) or changed
    return changed


def leaderboard_record_attempt(*, attempt: Attempt) -> bool:
    """``leaderboard_record_attempts`` for one attempt; whether a board changed."""
    return leaderboard_record_attempts(attempts=[attempt]) > 0


def leaderboard_record_attempts(*, attempts: Sequence[Attempt]) -> int:
    """Put just-submitted attempts (one commit's worth) on the live boards, after the commit. Returns how
    many of them changed a board.

    One query for the whole batch (names, leaving out disqualified people); per round, one Redis round trip
    for the compare-and-sets (a pipeline), one for the rebuild-lock check and one for the push throttle. A
    lost board is rebuilt (the rebuild reads the committed attempts)."""
    finished = [a for a in attempts if a.status in ("submitted", "expired") and a.submitted_at is not None]
    names = registration_names_unless_disqualified(registration_ids={a.registration_id for a in finished})
    by_round: dict[int, list[Attempt]] = defaultdict(list)
    for attempt in finished:
        if attempt.registration_id in names:
            by_round[attempt.round_id].append(attempt)
    uncached = [rid for rid, group in by_round.items() if "round" not in group[0]._state.fields_cache]
    rounds = Round.objects.select_related("contest").in_bulk(uncached) if uncached else {}
    changed = 0
    for round_id, group in by_round.items():
        round = rounds.get(round_id) or group[0].round
        try:
            changed += _record_round(round, group, names)
        except Exception:  # the board is a rebuildable view: one round's failure must not cost the others
            logger.exception("live leaderboard update of round %s failed (attempts %s)", round_id,
                             [a.pk for a in group])
    return changed


def _record_round(round: Round, group: list[Attempt], names: dict[int, str]) -> int:
    board = get_board()
    if board.is_locked(round.pk, REBUILD_LOCK):
        for attempt in group:
            board.add_pending(round.pk, attempt.pk)  # before the apply: see the module docstring
    fa = freeze_at(round)
    changes: list[tuple[str, LiveEntry]] = []
    owners: list[int] = []
    for attempt in group:
        entry = _entry(attempt, names[attempt.registration_id])
        changes.append(("live", entry))
        owners.append(attempt.pk)
        if fa is not None and attempt.submitted_at < fa:
            changes.append(("frozen", entry))
            owners.append(attempt.pk)
    try:
        results = board.apply_many(round.pk, changes, rule=policy_for(round.settings.counted_attempt).live_rule,
                                   expire_at=expire_at(round))
    except NotReady:
        leaderboard_rebuild(round=round)
        return len(group)
    moved = {pk for pk, result in zip(owners, results, strict=True) if result}
    if moved:
        leaderboard_changed(round=round)
    return len(moved)


def leaderboard_refresh_person(*, round: Round, user_id: int) -> None:
    """Re-derive one person's counted attempt from the database on every view (after a disqualification,
    a reinstatement or a rescore) and set it unconditionally (or remove the person)."""
    board = get_board()
    fa = freeze_at(round)
    try:
        for view in views_of(round):
            found = list(db_entries(round=round, user_id=user_id,
                                    submitted_before=fa if view == "frozen" else None))
            board.apply(round.pk, view, found[0] if found else None, rule="force", user_id=user_id,
                        expire_at=expire_at(round))
    except NotReady:
        leaderboard_rebuild(round=round)
        return
    leaderboard_changed(round=round)


# --------------------------------------------------------------------------------------------------
# Reads (a lost board is rebuilt first)
# --------------------------------------------------------------------------------------------------


def _retry(round: Round, fn: Any) -> Any:
    try:
        return fn()
    except NotReady:
        leaderboard_rebuild(round=round)
    try:
        return fn()
    except NotReady:
        return None


_top_cache: dict[tuple, tuple[float, list[BoardRow]]] = {}


def top_cache_seconds() -> float:
    return float(getattr(settings, "LEADERBOARD_TOP_CACHE_SECONDS", 0.25))


def leaderboard_top(*, round: Round, view: str = "live", limit: int = 100, offset: int = 0,
                    unit_id: int | None = None, max_age: float | None = None) -> list[BoardRow]:
    """A page of the board. Pages are cached in the process for ``max_age`` seconds (default
    LEADERBOARD_TOP_CACHE_SECONDS, 0.25 s): the board is provisional and pushed at most once a second, so a
    quarter-second-old page is as good as a fresh one and a page view costs no Redis round trip."""
    max_age = top_cache_seconds() if max_age is None else max_age
    key = (round.pk, view, limit, offset, unit_id)
    now = time.monotonic()
    if max_age > 0:
        hit = _top_cache.get(key)
        if hit is not None and now - hit[0] < max_age:
            return hit[1]
    rows = _retry(round, lambda: get_board().top(round.pk, view, limit=limit, offset=offset, unit_id=unit_id)) or []
    if max_age > 0:
        if len(_top_cache) > 10_000:
            _top_cache.clear()
        _top_cache[key] = (now, rows)
    return rows


def leaderboard_my_rank(*, round: Round, user_id: int, view: str = "live",
                        unit_id: int | None = None) -> BoardRow | None:
    return _retry(round, lambda: get_board().rank_of(round.pk, view, user_id=user_id, unit_id=unit_id))


def leaderboard_count(*, round: Round, view: str = "live", unit_id: int | None = None) -> int:
    board = get_board()
    if not board.is_ready(round.pk):
        leaderboard_rebuild(round=round)
    return board.count(round.pk, view, unit_id=unit_id)


# --------------------------------------------------------------------------------------------------
# Throttled pushes
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushPlan:
    """What the flusher needs, captured when the change happened (the flusher thread reads no database)."""

    round_id: int
    public_view: str | None  # None: the public board is hidden now
    has_frozen: bool


def push_plan(round: Round, *, now: dt.datetime | None = None) -> PushPlan:
    return PushPlan(round_id=round.pk, public_view=public_view(round=round, now=now or timezone.now()),
                    has_frozen=freeze_at(round) is not None)


def leaderboard_changed(*, round: Round) -> None:
    """A board of ``round`` changed: make sure a push goes out within one interval (at most one per interval
    per round across every process)."""
    interval = push_interval()
    if get_board().try_lock(round.pk, PUSH_LOCK, int(interval * 1000) + 60_000):
        plan = push_plan(round)
        timer = threading.Timer(interval, _flush_safely, args=(plan, round))
        timer.daemon = True
        with _timers_lock:
            _timers.add(timer)
        timer.start()


_timers: set[threading.Timer] = set()
_timers_lock = threading.Lock()


def cancel_pending_pushes() -> None:
    """Cancel this process's scheduled pushes (tests; a stopping process)."""
    with _timers_lock:
        pending = list(_timers)
        _timers.clear()
    for timer in pending:
        timer.cancel()


def _flush_safely(plan: PushPlan, round: Round) -> None:
    with _timers_lock:
        _timers.discard(threading.current_thread())  # type: ignore[arg-type]
    try:
        leaderboard_flush(plan=plan, round=round)
    except Exception:  # a push failure must not kill the timer thread silently
        logger.exception("leaderboard push of round %s failed", plan.round_id)
        get_board().unlock(plan.round_id, PUSH_LOCK)


def score_text(score: Decimal | None) -> str:
    """A score on the wire: plain decimal digits without trailing zeros ("10", "9.5"), never an exponent
    (``str(Decimal("10.000").normalize())`` is "1E+1"). Pages format it with the number rule."""
    if not score:
        return "0"
    return format(score.normalize(), "f")


def rows_payload(rows: list[BoardRow], *, masked: bool) -> list[dict[str, Any]]:
    return [{"rank": r.rank, "position": r.position, "user_id": r.user_id, "unit_id": r.unit_id,
             "name": display_name(r.name, masked=masked), "score": score_text(r.score),
             "duration_ms": r.duration_ms} for r in rows]


def board_event(type_: str, *, round_id: int, view: str, masked: bool, limit: int | None = None,
                **fields: Any) -> dict[str, Any]:
    board = get_board()
    version = board.version(round_id)
    rows = board.top(round_id, view, limit=limit or push_top())
    return events.leaderboard_event(type_, round_id=round_id, version=version, view=view,
                                    rows=rows_payload(rows, masked=masked), total=board.count(round_id, view),
                                    **fields)


def leaderboard_flush(*, plan: PushPlan, round: Round) -> int:
    """Send the current boards to the round's groups, release the throttle, re-arm if changed meanwhile.
    Returns the version sent."""
    board = get_board()
    sent = board.version(plan.round_id)
    try:
        staff = board_event(events.LEADERBOARD_UPDATE, round_id=plan.round_id, view="live", masked=False)
        events.group_push_now_unsafe(events.leaderboard_group(plan.round_id, staff=True), staff)
        if plan.public_view is not None:
            public = board_event(events.LEADERBOARD_UPDATE, round_id=plan.round_id, view=plan.public_view,
                                 masked=True)
            events.group_push_now_unsafe(events.leaderboard_group(plan.round_id), public)
    except NotReady:
        pass
    finally:
        board.unlock(plan.round_id, PUSH_LOCK)
    if board.version(plan.round_id) != sent:
        leaderboard_changed(round=round)
    return sent


# --------------------------------------------------------------------------------------------------
# The leaderboard socket's calls (synchronous; run in realtime.db's pool)
# --------------------------------------------------------------------------------------------------


class RoundNotVisible(Exception):
    """No such round, or its contest is not published (and the viewer is not its staff)."""


@dataclass(frozen=True)
class SocketView:
    round_id: int
    group: str | None  # channel-layer group to join (None: hidden for this viewer)
    staff: bool
    view: str | None
    unit_id: int | None  # the viewer's unit in this contest (for "my rank in my unit")


def socket_open(*, round_id: int, user: Any, now: dt.datetime | None = None) -> tuple[SocketView, list[dict]]:
    """Who may see what on ``ws/leaderboards/<round_id>/``: returns the group to join and the first frames
    (a snapshot and the viewer's own rank, or ``leaderboard.hidden``). Raises RoundNotVisible."""
    now = now or timezone.now()
    round = Round.objects.select_related("contest").filter(pk=round_id).first()
    if round is None:
        raise RoundNotVisible
    visibility = viewer_visibility(round=round, user=user, now=now)
    if not round.contest.is_published and not visibility.staff:
        raise RoundNotVisible
    user_id = user.pk if getattr(user, "is_authenticated", False) else None
    unit_id = None
    if user_id is not None:
        unit_id = Registration.objects.filter(contest_id=round.contest_id, user_id=user_id).values_list(
            "unit_id", flat=True).first()
    if visibility.view is None:
        frame = events.event(events.LEADERBOARD_HIDDEN, round_id=round.pk, message=visibility.reason)
        return SocketView(round.pk, None, False, None, unit_id), [frame]
    group = events.leaderboard_group(round.pk, staff=visibility.staff)
    if not get_board().is_ready(round.pk):
        leaderboard_rebuild(round=round)
    frames = [board_event(events.LEADERBOARD_SNAPSHOT, round_id=round.pk, view=visibility.view,
                          masked=not visibility.staff)]
    view = SocketView(round.pk, group, visibility.staff, visibility.view, unit_id)
    if user_id is not None:
        frames.append(my_rank_frame(view=view, user_id=user_id))
    return view, frames


def my_rank_frame(*, view: SocketView, user_id: int) -> dict[str, Any]:
    """``leaderboard.rank``: the viewer's rank overall and in their unit (null when not on the board)."""
    board = get_board()
    row = unit_row = None
    if view.view is not None:
        try:
            row = board.rank_of(view.round_id, view.view, user_id=user_id)
            if row is not None and view.unit_id is not None:
                unit_row = board.rank_of(view.round_id, view.view, user_id=user_id, unit_id=view.unit_id)
        except NotReady:
            row = None
    payload = rows_payload([row], masked=not view.staff)[0] if row is not None else None
    return events.event(events.LEADERBOARD_RANK, round_id=view.round_id, version=board.version(view.round_id),
                        view=view.view, me=payload, unit_rank=unit_row.rank if unit_row is not None else None)

"""The units dashboard's live numbers: pushed to the contest's staff as the live boards are (issue 25).

- ``unit_dashboard_changed(contest_id=…)`` is called after the commit of anything that moves a number of the
  dashboard: a registration, an attempt started, a batch of submits (``realtime.events.attempts_submitted``), a
  ranking computed (winners), the populations set (rates). It only marks the contest: the first change of a
  window takes a Redis key (``SET NX PX``, the live boards' throttle) and arms a timer in this process; changes
  inside the window cost nothing in this process (a local flag) and one ``SET NX`` of a "dirty" key in another.
- When the window ends, the flusher computes every dashboard of the contest at once (``selectors.
  unit_stats_all``: a fixed number of queries whatever the number of rounds and submits), sends one
  ``units.update`` per group (the contest's page and each round's), releases the key and re-arms itself if a
  change came in meanwhile — so the last change is never lost, and a contest costs at most about one
  computation per ``LEADERBOARD_PUSH_INTERVAL`` (1 s) across every process, however many submits arrive. A
  contest nobody is watching (no open dashboard socket has renewed its "watched" key within 90 s) costs no
  computation at all: the socket renews the key every 30 s while it is open.
- ``socket_open`` decides who may subscribe: exactly the staff the pages admit (``STAFF_ROLES`` of the contest's
  organisation, ``accounts.tenancy.scope_for``); anyone else is told the page does not exist.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.utils import dateformat, timezone

from accounts.tenancy import scope_for
from contest_engine.numbers import format_count, format_score
from contests.models import Contest, Round
from leaderboards import selectors
from leaderboards.services.boards import get_board
from leaderboards.services.live import push_interval
from leaderboards.visibility import STAFF_ROLES
from realtime import events

logger = logging.getLogger(__name__)

PUSH_LOCK = "units-push"
DIRTY = "units-dirty"
WATCHED = "units-watched"  # set by every open dashboard socket of the contest, renewed while it stays open
WATCH_RENEW_SECONDS = 30.0
WATCH_TTL_MS = 90_000

_armed: set[int] = set()  # contests with a timer in this process that has not started computing yet
_timers: set[threading.Timer] = set()
_lock = threading.Lock()
_contest_of_round: dict[int, int] = {}  # a round never changes contest


def contest_ids_of_rounds(round_ids: Iterable[int]) -> set[int]:
    """The contests of these rounds (cached in the process: the submit hook asks once per batch)."""
    wanted = {int(r) for r in round_ids}
    missing = [r for r in wanted if r not in _contest_of_round]
    if missing:
        _contest_of_round.update(Round.objects.filter(pk__in=missing).values_list("pk", "contest_id"))
    return {_contest_of_round[r] for r in wanted if r in _contest_of_round}


def unit_dashboard_changed(*, contest_id: int) -> None:
    """A number of ``contest_id``'s units dashboard changed (call after the commit): make sure a push goes out
    within one interval, at most one per interval per contest across every process."""
    contest_id = int(contest_id)
    with _lock:
        if contest_id in _armed:  # this process's timer has not read the database yet: it will see this change
            return
    board = get_board()
    interval = push_interval()
    if not board.try_lock(contest_id, PUSH_LOCK, int(interval * 1000) + 60_000):
        board.try_lock(contest_id, DIRTY, 120_000)  # the holder re-arms after its push
        return
    timer = threading.Timer(interval, _flush_safely, args=(contest_id,))
    timer.daemon = True
    with _lock:
        _armed.add(contest_id)
        _timers.add(timer)
    timer.start()


def cancel_pending_pushes() -> None:
    """Cancel this process's scheduled pushes (tests; a stopping process)."""
    with _lock:
        pending = list(_timers)
        _timers.clear()
        _armed.clear()
    for timer in pending:
        timer.cancel()


def _flush_safely(contest_id: int) -> None:
    with _lock:
        _timers.discard(threading.current_thread())  # type: ignore[arg-type]
    try:
        unit_dashboard_flush(contest_id=contest_id)
    except Exception:  # a push failure must not kill the timer thread silently
        logger.exception("units dashboard push of contest %s failed", contest_id)
        get_board().unlock(contest_id, PUSH_LOCK)
    finally:
        connections.close_all()  # this thread's own connection (a timer thread per window)


def unit_dashboard_flush(*, contest_id: int) -> int:
    """Compute the contest's dashboards once and send them to their groups; release the throttle and re-arm
    when a change came in meanwhile. Returns the number of groups sent to."""
    board = get_board()
    with _lock:
        _armed.discard(contest_id)  # from here on a change in this process goes through Redis
    board.unlock(contest_id, DIRTY)
    messages: list[tuple[str, dict[str, Any]]] = []
    try:
        if not board.is_locked(contest_id, WATCHED):  # nobody has the dashboard open: nothing to compute
            return 0
        contest = Contest.objects.filter(pk=contest_id).first()
        if contest is None:
            return 0
        now = timezone.now()
        messages = [(events.units_group(contest_id=contest_id, round_id=round_id),
                     units_event(events.UNITS_UPDATE, contest_id=contest_id, round_id=round_id, stats=stats,
                                 now=now))
                    for round_id, stats in selectors.unit_stats_all(contest=contest).items()]
        events.group_push_many_now_unsafe(messages)
    finally:
        board.unlock(contest_id, PUSH_LOCK)
        if board.is_locked(contest_id, DIRTY):
            unit_dashboard_changed(contest_id=contest_id)
    return len(messages)


def unit_dashboard_watched(*, contest_id: int) -> None:
    """An open dashboard socket of ``contest_id`` says it is there (on connect, then every
    WATCH_RENEW_SECONDS): pushes are computed only for contests someone watches."""
    get_board().touch(int(contest_id), WATCHED, WATCH_TTL_MS)


def bar_widths(stats: list[selectors.UnitStats]) -> dict[int, float]:
    """Each unit's bar: its entrants as a share of the largest unit's (the page's chart)."""
    top = max((s.entrants for s in stats), default=0) or 1
    return {s.unit_id: round(100.0 * s.entrants / top, 1) for s in stats}


def units_event(type_: str, *, contest_id: int, round_id: int | None, stats: list[selectors.UnitStats],
                now: dt.datetime) -> dict[str, Any]:
    """``units.snapshot`` / ``units.update``: per unit the numbers and their text as the page writes them (the
    one number rule, contest_engine/numbers.py), and the unit ids in each of the page's orders."""
    bars = bar_widths(stats)
    units = []
    for s in stats:
        rate = s.rate_percent
        units.append({
            "unit_id": s.unit_id, "registered": s.registered, "in_progress": s.in_progress, "entrants": s.entrants,
            "attempts": s.attempts, "population": s.population, "rate_percent": rate, "winners": s.winners,
            "bar": bars[s.unit_id],
            "text": {"registered": format_count(s.registered), "in_progress": format_count(s.in_progress),
                     "entrants": format_count(s.entrants), "attempts": format_count(s.attempts),
                     "population": "—" if s.population is None else format_count(s.population),
                     "rate": f"{format_score(rate)}%" if rate is not None else "—",
                     "winners": format_count(s.winners),
                     "bar_value": format_count(s.entrants) + (f" ({format_score(rate)}%)" if rate is not None
                                                              else "")},
        })
    orders = {order: [s.unit_id for s in selectors.unit_stats_sorted(list(stats), order=order)]
              for order in selectors.UNIT_ORDERS}
    return events.event(type_, contest_id=int(contest_id), round_id=round_id, units=units, orders=orders,
                        updated=dateformat.time_format(timezone.localtime(now), "H:i:s"))


# --------------------------------------------------------------------------------------------------
# The dashboard socket's call (synchronous; run in realtime.db's pool)
# --------------------------------------------------------------------------------------------------


class DashboardNotVisible(Exception):
    """No such round or contest, or the viewer is not its staff."""


@dataclass(frozen=True)
class DashboardSocket:
    contest_id: int
    round_id: int | None
    group: str


def socket_open(*, user: Any, round_id: int | None = None, contest_id: int | None = None,
                now: dt.datetime | None = None) -> tuple[DashboardSocket, dict[str, Any]]:
    """Who may subscribe to ``ws/leaderboards/units/…``: the staff the units pages admit (the same
    ``scope_for(…, STAFF_ROLES)`` as ``get_scoped_or_404`` in the views). Returns the group and a snapshot;
    raises DashboardNotVisible."""
    if not getattr(user, "is_authenticated", False):
        raise DashboardNotVisible
    round = None
    if round_id is not None:
        round = scope_for(Round.objects.select_related("contest"), user, STAFF_ROLES).filter(pk=round_id).first()
        if round is None:
            raise DashboardNotVisible
        contest = round.contest
    else:
        contest = scope_for(Contest.objects.all(), user, STAFF_ROLES).filter(pk=contest_id).first()
        if contest is None:
            raise DashboardNotVisible
    unit_dashboard_watched(contest_id=contest.pk)  # before the snapshot's numbers: no change falls between
    stats = selectors.unit_stats(contest=contest, round=round)
    socket = DashboardSocket(contest.pk, round_id, events.units_group(contest_id=contest.pk, round_id=round_id))
    return socket, units_event(events.UNITS_SNAPSHOT, contest_id=contest.pk, round_id=round_id, stats=stats,
                               now=now or timezone.now())

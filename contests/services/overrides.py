"""Organisers' exceptions to the rules: extra time, an extra attempt, extending or reopening a round.

Each needs a reason, is stored as an ``OverrideGrant`` and written to the audit log. Deadlines of attempts
in progress are recomputed from their start (never incremented), and their open connections are told to
refresh after the commit. A refused request raises ``OverrideInvalid`` naming the field at fault and why.

Apps above contests may forbid reopening a round (leaderboards: not once its official results are
published) with ``register_reopen_guard(fn)``: ``fn(round)`` raises a ``ContestError`` to refuse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.tenancy import require_role
from contests import errors
from contests.limits import compute_deadline, extra_seconds_for
from contests.models import Attempt, AttemptStatus, OverrideGrant, OverrideKind, Registration, Round
from contests.services._common import audit, broadcast_attempt_changed, resolve_now

MAX_EXTRA_SECONDS = 24 * 3600
MAX_EXTRA_ATTEMPTS = 10

ReopenGuard = Callable[[Round], None]
_reopen_guards: dict[str, ReopenGuard] = {}


def register_reopen_guard(fn: ReopenGuard) -> ReopenGuard:
    """Register ``fn(round)`` that raises a ``ContestError`` when ``round`` must not be reopened/extended."""
    _reopen_guards[f"{fn.__module__}.{fn.__qualname__}"] = fn
    return fn


def _when(moment: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _check(actor: Any, round: Round, reason: str) -> None:
    require_role(actor, round.contest.organisation_id, [Role.ORGANISER])
    if not (reason or "").strip():
        raise errors.ReasonRequired()


def _same_contest(registration: Registration, round: Round) -> None:
    if registration.contest_id != round.contest_id:
        raise errors.OverrideInvalid(
            _("Thí sinh %(name)s không đăng ký cuộc thi của đợt «%(round)s».") % {
                "name": registration.full_name, "round": round.name}, field="round")


def _recompute_deadlines(attempts: list[Attempt], round: Round, *, reason: str) -> None:
    for attempt in attempts:
        attempt.deadline = compute_deadline(
            started_at=attempt.started_at, round=round,
            extra_seconds=extra_seconds_for(registration_id=attempt.registration_id, round_id=round.pk))
        broadcast_attempt_changed(attempt, reason=reason)
    if attempts:
        Attempt.objects.bulk_update(attempts, ["deadline"])


def override_extra_time(*, actor: Any, registration: Registration, round: Round, seconds: int, reason: str,
                        now: dt.datetime | None = None) -> OverrideGrant:
    """Give one contestant ``seconds`` more for every attempt of theirs in ``round``, including the one in
    progress (its deadline is recomputed; still capped by the round's close). An attempt already finished
    is not reopened: give an extra attempt instead."""
    now = resolve_now(now)
    round = Round.objects.select_related("contest").get(pk=round.pk)
    _check(actor, round, reason)
    _same_contest(registration, round)
    if not 0 < int(seconds) <= MAX_EXTRA_SECONDS:
        raise errors.OverrideInvalid(_("Thời gian thêm phải từ 1 phút đến %(n)s phút.") % {
            "n": MAX_EXTRA_SECONDS // 60}, field="minutes")
    with transaction.atomic():
        grant = OverrideGrant.objects.create(
            kind=OverrideKind.EXTRA_TIME, contest_id=round.contest_id, round=round, registration=registration,
            extra_seconds=int(seconds), reason=reason, actor=actor, created_at=now)
        in_progress = list(Attempt.objects.select_for_update(of=("self",)).filter(
            registration=registration, round=round, status=AttemptStatus.IN_PROGRESS))
        _recompute_deadlines(in_progress, round, reason="extra_time")
        audit(actor=actor, action="contests.extra_time", target=registration,
              organisation=round.contest.organisation_id, reason=reason,
              data={"round_id": round.pk, "seconds": int(seconds), "grant_id": grant.pk})
    return grant


def override_extra_attempt(*, actor: Any, registration: Registration, round: Round, reason: str, count: int = 1,
                           now: dt.datetime | None = None) -> OverrideGrant:
    """Allow one contestant ``count`` more attempts in ``round`` than its maximum."""
    now = resolve_now(now)
    round = Round.objects.select_related("contest").get(pk=round.pk)
    _check(actor, round, reason)
    _same_contest(registration, round)
    if not 0 < int(count) <= MAX_EXTRA_ATTEMPTS:
        raise errors.OverrideInvalid(_("Số lượt thêm phải từ 1 đến %(n)s.") % {"n": MAX_EXTRA_ATTEMPTS},
                                     field="count")
    with transaction.atomic():
        grant = OverrideGrant.objects.create(
            kind=OverrideKind.EXTRA_ATTEMPT, contest_id=round.contest_id, round=round, registration=registration,
            extra_attempts=int(count), reason=reason, actor=actor, created_at=now)
        audit(actor=actor, action="contests.extra_attempt", target=registration,
              organisation=round.contest.organisation_id, reason=reason,
              data={"round_id": round.pk, "count": int(count), "grant_id": grant.pk})
    return grant


def round_close_moment(round: Round) -> dt.datetime:
    """When the round stopped (or will stop) taking attempts: its official close when that came first (its
    dates may have been corrected after it closed), else its (extended) close."""
    if round.closed_at is not None and round.closed_at < round.effective_closes_at:
        return round.closed_at
    return round.effective_closes_at


def round_reopen_allowed(*, round: Round) -> None:
    """Raises the registered guards' error when ``round`` may not be extended or reopened at all."""
    for guard in list(_reopen_guards.values()):
        guard(round)


def round_extend_check(*, round: Round, until: dt.datetime, now: dt.datetime | None = None) -> None:
    """Why ``round`` cannot be extended or reopened until ``until`` (``OverrideInvalid`` on ``until``, or the
    registered guards' errors, e.g. results already published); returns None when it can."""
    now = resolve_now(now)
    round_reopen_allowed(round=round)
    if until <= now:
        raise errors.OverrideInvalid(
            _("«Gia hạn / mở lại đến» phải là một thời điểm trong tương lai (bây giờ là %(now)s).") % {
                "now": _when(now)}, field="until")
    if until <= round.opens_at:
        raise errors.OverrideInvalid(
            _("«Gia hạn / mở lại đến» phải sau thời điểm bắt đầu của đợt (%(opens)s).") % {
                "opens": _when(round.opens_at)}, field="until")
    stopped = round_close_moment(round)
    is_closed = round.closed_at is not None or round.has_closed(now)
    if not is_closed and until <= stopped:
        raise errors.OverrideInvalid(
            _("Đợt thi đang mở đến %(close)s: «Gia hạn / mở lại đến» phải muộn hơn thời điểm đó. Muốn rút "
              "ngắn đợt thi thì sửa thời gian kết thúc của đợt.") % {"close": _when(stopped)}, field="until")
    if is_closed and until < round.closes_at:
        raise errors.OverrideInvalid(
            _("Thời gian kết thúc của đợt (đã sửa sau khi đợt bị chốt) là %(close)s: mở lại đến thời điểm đó "
              "hoặc muộn hơn; muốn kết thúc sớm hơn thì sửa thời gian kết thúc của đợt trước.") % {
                "close": _when(round.closes_at)}, field="until")


def round_extend(*, actor: Any, round: Round, until: dt.datetime, reason: str,
                 now: dt.datetime | None = None) -> OverrideGrant:
    """Extend a round, or reopen a closed one (e.g. closed early by a mistyped date, or after an outage),
    until ``until``.

    Refused (``OverrideInvalid`` naming the field, or a guard's error) when ``until`` is not in the future,
    not after the opening, not later than the close of a round still open, or when a registered guard
    forbids it — leaderboards refuses once the round's official results are published
    (``RoundResultsPublished``). Clears ``closed_at`` and the prediction target (the official ranking is
    computed again at the new close, as a new version). Attempts in progress whose deadline was capped by
    the old close get their deadline recomputed. Finished attempts stay finished. Audited
    (``contests.round_extended``, or ``contests.round_reopened`` for a round that had closed)."""
    now = resolve_now(now)
    with transaction.atomic():
        round = Round.objects.select_for_update(of=("self",)).select_related("contest").get(pk=round.pk)
        _check(actor, round, reason)
        round_extend_check(round=round, until=until, now=now)
        previous = round_close_moment(round)
        reopened = round.closed_at is not None or round.has_closed(now)
        previous_closed_at = round.closed_at
        # Reopening until the round's own close (corrected after it closed) needs no extension.
        round.extended_until = until if until > round.closes_at else None
        round.closed_at = None
        round.prediction_target_value = None
        round.results_revision += 1  # a stored ranking of the earlier close is out of date
        round.save(update_fields=["extended_until", "closed_at", "prediction_target_value", "results_revision"])
        round.refresh_settings()
        grant = OverrideGrant.objects.create(
            kind=OverrideKind.ROUND_EXTEND, contest_id=round.contest_id, round=round, previous_close=previous,
            new_close=until, reason=reason, actor=actor, created_at=now)
        capped = list(Attempt.objects.select_for_update(of=("self",)).filter(
            round=round, status=AttemptStatus.IN_PROGRESS, deadline__gte=previous))
        _recompute_deadlines(capped, round, reason="round_extended")
        audit(actor=actor, action="contests.round_reopened" if reopened else "contests.round_extended",
              target=round, organisation=round.contest.organisation_id, reason=reason,
              data={"previous_close": previous, "new_close": until, "grant_id": grant.pk,
                    "previous_closed_at": previous_closed_at})
    return grant

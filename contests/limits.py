"""Time and attempt limits of one contestant in one round: the extra time and extra attempts granted
(``OverrideGrant``), the attempt's deadline, and the grace after it — read by the attempt services, the
overrides, the exam socket's stores and the contest page alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, Sum

from contests.models import Attempt, OverrideGrant, OverrideKind, Round


@dataclass(frozen=True)
class Grants:
    seconds: int
    attempts: int


def grants_for(*, registration_id: int, round_id: int) -> Grants:
    """Extra time and extra attempts granted to one contestant in one round, in one query."""
    totals = OverrideGrant.objects.filter(registration_id=registration_id, round_id=round_id).aggregate(
        seconds=Sum("extra_seconds", filter=Q(kind=OverrideKind.EXTRA_TIME)),
        attempts=Sum("extra_attempts", filter=Q(kind=OverrideKind.EXTRA_ATTEMPT)))
    return Grants(seconds=int(totals["seconds"] or 0), attempts=int(totals["attempts"] or 0))


def extra_seconds_for(*, registration_id: int, round_id: int) -> int:
    """Total extra time granted to one contestant in one round (applies to each of their attempts)."""
    total = OverrideGrant.objects.filter(
        kind=OverrideKind.EXTRA_TIME, registration_id=registration_id, round_id=round_id
    ).aggregate(total=Sum("extra_seconds"))["total"]
    return int(total or 0)


def extra_attempts_for(*, registration_id: int, round_id: int) -> int:
    total = OverrideGrant.objects.filter(
        kind=OverrideKind.EXTRA_ATTEMPT, registration_id=registration_id, round_id=round_id
    ).aggregate(total=Sum("extra_attempts"))["total"]
    return int(total or 0)


def compute_deadline(*, started_at: dt.datetime, round: Round, extra_seconds: int = 0) -> dt.datetime:
    """``min(started_at + time limit + extra time, the round's (extended) close)``."""
    own = started_at + round.settings.time_limit + dt.timedelta(seconds=extra_seconds)
    return min(own, round.effective_closes_at)


def is_past_grace(attempt: Attempt, now: dt.datetime) -> bool:
    """True when nothing may be stored in ``attempt`` any more (deadline + grace has passed)."""
    return now > attempt.deadline + attempt.round.settings.grace

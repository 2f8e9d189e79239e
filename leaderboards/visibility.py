"""Who may see what on a leaderboard: the round's visibility rules, when its public board freezes, how a
name is shown (masked for the public, full for staff) and who is left out (disqualified people).

One home for these rules: the pages and the admin (``leaderboards.selectors``, ``leaderboards.views``), the
live boards and their pushes (``leaderboards.services.live``) and the leaderboard socket all ask here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.tenancy import has_role
from contests.blind_grading import judge_is_blinded
from contests.models import FINISHED_STATUSES, Attempt, Registration, Round, ScoreboardVisibility
from leaderboards.models import Disqualification, DisqualificationScope

STAFF_ROLES = frozenset({Role.ORGANISER, Role.JUDGE})


def display_name(full_name: str, *, masked: bool) -> str:
    """Public lists show the family name and initials ("Nguyễn V. A."); staff see the full name."""
    name = " ".join((full_name or "").split())
    if not masked or not name:
        return name
    first, *rest = name.split(" ")
    if not rest:
        return f"{first[0]}."
    return " ".join([first, *(f"{part[0]}." for part in rest)])


def freeze_at(round: Round) -> dt.datetime | None:
    """When the public board freezes (None: the round's board never freezes)."""
    s = round.settings
    if s.scoreboard_visibility != ScoreboardVisibility.FROZEN or s.freeze_minutes <= 0:
        return None
    return round.effective_closes_at - dt.timedelta(minutes=s.freeze_minutes)


def registration_names_unless_disqualified(*, registration_ids: Iterable[int]) -> dict[int, str]:
    """Registered name by registration id, leaving out people disqualified in their contest (one query: the
    submit hook's only database read, for a whole batch of submits)."""
    ids = set(registration_ids)
    if not ids:
        return {}
    active = Disqualification.objects.filter(registration_id=OuterRef("pk"), scope=DisqualificationScope.PERSON,
                                             revoked_at__isnull=True)
    rows = (Registration.objects.filter(pk__in=ids).annotate(disqualified=Exists(active))
            .values_list("pk", "full_name", "disqualified"))
    return {pk: name or "" for pk, name, disqualified in rows if not disqualified}


def round_is_over(round: Round, now: dt.datetime) -> bool:
    return round.closed_at is not None or round.has_closed(now)


def is_round_staff(user: Any, round: Round) -> bool:
    """Judges and organisers of the organisation that owns the round see the live board at all times —
    except a judge while the round's essays are being graded (blind grading: contests.blind_grading), who
    sees what the public sees."""
    return has_role(user, round.contest.organisation_id, STAFF_ROLES) and not judge_is_blinded(user, round)


def public_view(*, round: Round, now: dt.datetime) -> str | None:
    """What the public group of the round receives now: "live", "frozen" or None (hidden).

    With "hidden until own attempt ends" only people whose attempt ended ever join the public group, so
    it receives the live board."""
    if round_is_over(round, now):
        return "live"
    mode = round.settings.scoreboard_visibility
    if mode == ScoreboardVisibility.HIDDEN_UNTIL_CLOSE:
        return None
    if mode == ScoreboardVisibility.FROZEN:
        fa = freeze_at(round)
        return "frozen" if fa is not None and now >= fa else "live"
    return "live"


@dataclass(frozen=True)
class Visibility:
    view: str | None  # the board this viewer sees ("live"/"frozen"), None = hidden
    staff: bool  # judges/organisers of the owning organisation: full names, live board
    reason: str = ""  # why hidden (Vietnamese, shown on the page)


def viewer_visibility(*, round: Round, user: Any, now: dt.datetime) -> Visibility:
    if is_round_staff(user, round):
        return Visibility("live", True)
    if round_is_over(round, now):
        return Visibility("live", False)
    mode = round.settings.scoreboard_visibility
    if mode == ScoreboardVisibility.HIDDEN_UNTIL_CLOSE:
        return Visibility(None, False, _("Bảng xếp hạng được công bố sau khi đợt thi kết thúc."))
    if mode == ScoreboardVisibility.HIDDEN_UNTIL_OWN_ATTEMPT_ENDS:
        finished = getattr(user, "is_authenticated", False) and Attempt.objects.filter(
            round=round, user_id=user.pk, status__in=FINISHED_STATUSES).exists()
        if not finished:
            return Visibility(None, False, _("Bảng xếp hạng hiện ra sau khi bạn nộp bài."))
        return Visibility("live", False)
    return Visibility(public_view(round=round, now=now), False)

"""Reads of retention: which contests' personal data is due for anonymisation, and how much of it there is."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, DateTimeField, ExpressionWrapper, F, Max, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from contests.models import Answer, Contest, Registration
from judging.models import Complaint
from live.models import LivePlayer

# What the contest's copies say once anonymised (stored text, like the account deletion's "Người dùng đã xoá").
ERASED_NAME = "Thí sinh đã ẩn danh"
ERASED_ESSAY_TEXT = "(Bài tự luận đã được xoá khi hết thời hạn lưu trữ dữ liệu cá nhân của cuộc thi.)"
ERASED_COMPLAINT_TEXT = "(Nội dung khiếu nại đã được xoá khi hết thời hạn lưu trữ dữ liệu cá nhân của cuộc thi.)"


@dataclass(frozen=True)
class DueContest:
    """A contest whose retention has passed, with the rows its anonymisation would change."""

    contest_id: int
    organisation_id: int
    title: str
    ended_at: dt.datetime
    due_at: dt.datetime
    retention_days: int
    registrations: int
    essays: int
    complaints: int
    live_players: int = 0


def contests_with_end() -> QuerySet[Contest]:
    """Contests annotated with ``ended_at``: the latest end of their rounds (an extension counts)."""
    return Contest.objects.annotate(ended_at=Max(Coalesce("rounds__extended_until", "rounds__closes_at")))


def contests_due(*, now: dt.datetime) -> QuerySet[Contest]:
    """Contests not yet anonymised whose last round ended more than ``personal_data_retention_days`` ago
    (a contest without rounds never ends). Ordered by id."""
    # end + one constant interval per retention setting in use (a handful): SQLite, the embedded default, cannot
    # multiply an interval by a column ("Invalid arguments for operator *"), PostgreSQL and SQLite both add one.
    pending = Contest.objects.filter(personal_data_erased_at__isnull=True)
    days_in_use = sorted(set(pending.values_list("personal_data_retention_days", flat=True)))
    if not days_in_use:
        return contests_with_end().none()
    due_at = Case(*(When(personal_data_retention_days=days,
                         then=ExpressionWrapper(F("ended_at") + Value(dt.timedelta(days=days)),
                                                output_field=DateTimeField()))
                    for days in days_in_use), output_field=DateTimeField())
    return (contests_with_end().filter(personal_data_erased_at__isnull=True, ended_at__isnull=False)
            .annotate(due_at=due_at).filter(due_at__lte=now).order_by("pk"))


def registrations_to_erase(*, contest_id: int) -> QuerySet[Registration]:
    return Registration.objects.filter(contest_id=contest_id).exclude(
        full_name=ERASED_NAME, date_of_birth__isnull=True, national_id="")


def essays_to_erase(*, contest_id: int) -> QuerySet[Answer]:
    return Answer.objects.filter(attempt__round__contest_id=contest_id,
                                 attempt_question__snapshot__type="essay").exclude(
        Q(response__text=ERASED_ESSAY_TEXT))


def complaints_to_erase(*, contest_id: int) -> QuerySet[Complaint]:
    return Complaint.objects.filter(round__contest_id=contest_id).exclude(content=ERASED_COMPLAINT_TEXT)


def live_players_to_erase(*, contest_id: int) -> QuerySet[LivePlayer]:
    """Players of live games who joined with a registration of the contest: their shown name is its copy."""
    return LivePlayer.objects.filter(registration__contest_id=contest_id).exclude(display_name=ERASED_NAME)


def due_report(*, now: dt.datetime) -> list[DueContest]:
    """What a retention run at ``now`` would anonymise, contest by contest (the dry run's report)."""
    return [DueContest(contest_id=c.pk, organisation_id=c.organisation_id, title=c.title, ended_at=c.ended_at,
                       due_at=c.due_at, retention_days=c.personal_data_retention_days,
                       registrations=registrations_to_erase(contest_id=c.pk).count(),
                       essays=essays_to_erase(contest_id=c.pk).count(),
                       complaints=complaints_to_erase(contest_id=c.pk).count(),
                       live_players=live_players_to_erase(contest_id=c.pk).count())
            for c in contests_due(now=now)]

"""Retention of the contests' personal data (Law 91/2025, Decree 356/2025; docs/privacy.md "Retention").

``personal_data_retention_days`` after a contest's last round ends (default 365), ``retention_run`` anonymises
the contest's own copies of personal data:

- registrations: full name → "Thí sinh đã ẩn danh", date of birth and national ID number emptied (the unit
  stays: collective prizes and participation statistics are about units, not people);
- essay answers: the text replaced by a notice (the judges' marks stay);
- complaints: the contestant's text replaced by a notice (status, outcome and the panel's decision stay);
- live-game players who joined with a registration of the contest: their shown name (a copy of the
  registration's) becomes the same placeholder; nicknames of anonymous players are linked to nobody and stay.

Attempts, answers' choices, scores, durations and every ranking version keep their numbers, so published
rankings, unit statistics and a rescore stay valid; the published list names nobody any more. The citizen's
account is not touched: it lives until its owner deletes it (accounts.services.account_anonymise), and its own
attempt history goes with it. Network and device evidence has its own, shorter retention (anticheat).

Each contest is done in one transaction with its row locked (``skip_locked``: workers running the job at once
take different contests), marked ``personal_data_erased_at`` and audited (``contest.personal_data_erased`` with
counts only). A dry run reports the same counts and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict

from django.db import transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from accounts.services import audit_record
from contests.models import Contest
from retention import selectors
from retention.selectors import DueContest

logger = logging.getLogger(__name__)


def _erase(*, contest_id: int, now: dt.datetime) -> DueContest | None:
    with transaction.atomic():
        # The row lock first (FOR UPDATE cannot go with the end's aggregate), then whether it is still due.
        locked = (Contest.objects.select_for_update(skip_locked=True)
                  .filter(pk=contest_id, personal_data_erased_at__isnull=True).first())
        contest = selectors.contests_due(now=now).filter(pk=contest_id).first() if locked is not None else None
        if contest is None:  # another worker has it, or did it
            return None
        registrations = selectors.registrations_to_erase(contest_id=contest.pk).update(
            full_name=selectors.ERASED_NAME, date_of_birth=None, national_id="")
        essays = selectors.essays_to_erase(contest_id=contest.pk).update(
            response={"text": selectors.ERASED_ESSAY_TEXT})
        complaints = selectors.complaints_to_erase(contest_id=contest.pk).update(
            content=selectors.ERASED_COMPLAINT_TEXT)
        # One display name per game (name_key is unique per game): the key becomes the player's own id.
        live_players = selectors.live_players_to_erase(contest_id=contest.pk).update(
            display_name=selectors.ERASED_NAME, name_key=Concat(Value("#erased:"), Cast("pk", CharField())))
        Contest.objects.filter(pk=contest.pk).update(personal_data_erased_at=now)
        done = DueContest(contest_id=contest.pk, organisation_id=contest.organisation_id, title=contest.title,
                          ended_at=contest.ended_at, due_at=contest.due_at,
                          retention_days=contest.personal_data_retention_days, registrations=registrations,
                          essays=essays, complaints=complaints, live_players=live_players)
        audit_record(actor=None, action="contest.personal_data_erased", target=contest,
                     organisation=contest.organisation_id,
                     data={key: value for key, value in asdict(done).items() if key not in {"title", "contest_id",
                                                                                             "organisation_id"}})
    return done


def retention_run(*, now: dt.datetime | None = None, dry_run: bool = False) -> list[DueContest]:
    """Anonymise every contest that is due at ``now`` (or, with ``dry_run``, only report what would be); the
    contests done with their counts."""
    now = now or timezone.now()
    if dry_run:
        return selectors.due_report(now=now)
    done = []
    for contest_id in list(selectors.contests_due(now=now).values_list("pk", flat=True)):
        result = _erase(contest_id=contest_id, now=now)
        if result is not None:
            logger.info("retention: contest %s anonymised (%s registrations, %s essays, %s complaints)",
                        result.contest_id, result.registrations, result.essays, result.complaints)
            done.append(result)
    return done

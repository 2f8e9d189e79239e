"""Complaints about a published result (khiếu nại, đề nghị phúc khảo) and what is done about them.

Procedure (docs/judging.md): an organiser records the complaint (who, received when, how, what it says) once
the round's result has been published; may order a re-grade of the contestant's essays (a new grading cycle,
graded blind by two judges); once the re-grade is final the ranking is out of date, so it is revised into a
new version that goes through propose → approve → publish and replaces the published one at once; the
organiser records the decision (upheld / rejected, what was decided, by whom, when) with the version in force.
Every step is audited (``judging.complaint_*``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from accounts.services import audit_record
from accounts.tenancy import has_role
from contests.models import Registration, Round
from judging import errors
from judging.models import Complaint, ComplaintOutcome, ComplaintStatus, EssayAssignment, EssayStatus
from judging.services.essays import essay_regrade_open
from leaderboards.models import RoundRanking
from leaderboards.services.ranking import ranking_current

COMPLAINT_ROLES = frozenset({Role.ORGANISER})


def _audit(*, actor: Any, action: str, complaint: Complaint, reason: str = "", data: dict | None = None) -> None:
    audit_record(actor=actor, action=f"judging.complaint_{action}", target=complaint,
                 organisation=complaint.round.contest.organisation_id, reason=reason,
                 data={"round_id": complaint.round_id, "registration_id": complaint.registration_id, **(data or {})})


def complaint_record(*, actor: Any, round: Round, registration: Registration, content: str, channel: str = "",
                     received_at: dt.datetime | None = None, now: dt.datetime | None = None) -> Complaint:
    """Record a complaint about ``round``'s published result. Raises NotAllowed, ComplaintNotAllowed (nothing
    published yet), ReasonRequired (no content)."""
    now = now or timezone.now()
    content = (content or "").strip()
    if not has_role(actor, round.contest.organisation_id, COMPLAINT_ROLES):
        raise errors.NotAllowed()
    if registration.contest_id != round.contest_id:
        raise errors.NotAllowed()
    if not content:
        raise errors.ReasonRequired(errors.ComplaintContentRequired.default_message)
    if not RoundRanking.objects.filter(round=round, published_at__isnull=False).exists():
        raise errors.ComplaintNotAllowed()
    with transaction.atomic():
        complaint = Complaint.objects.create(round=round, registration=registration, content=content,
                                             channel=(channel or "").strip()[:100], received_at=received_at or now,
                                             recorded_by=actor)
        complaint.round = round
        _audit(actor=actor, action="recorded", complaint=complaint, data={"channel": complaint.channel})
    return complaint


def complaint_essays(*, complaint: Complaint) -> list[EssayAssignment]:
    """The essays of the complaining contestant in the round (what a re-grade may be ordered for)."""
    return list(EssayAssignment.objects.filter(round_id=complaint.round_id,
                                               attempt__registration_id=complaint.registration_id)
                .select_related("attempt_question").order_by("attempt__number", "attempt_question__position"))


def complaint_regrade(*, actor: Any, complaint: Complaint, assignment: EssayAssignment, reason: str,
                      now: dt.datetime | None = None) -> EssayAssignment:
    """Order the re-grade of one of the contestant's essays: its next grading cycle opens (two judges grade it
    afresh, without seeing the earlier marks). Raises NotAllowed, ComplaintClosed, RegradeNotFinal."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (Complaint.objects.select_for_update(of=("self",)).select_related("round__contest")
                  .get(pk=complaint.pk))
        if not has_role(actor, locked.round.contest.organisation_id, COMPLAINT_ROLES):
            raise errors.NotAllowed()
        if locked.status == ComplaintStatus.DECIDED:
            raise errors.ComplaintClosed()
        if assignment.round_id != locked.round_id or assignment.pk not in {a.pk for a in complaint_essays(
                complaint=locked)}:
            raise errors.NotAllowed()
        reopened = essay_regrade_open(actor=actor, assignment=assignment, reason=reason or locked.content, now=now)
        locked.regraded.add(reopened)
        locked.status = ComplaintStatus.REGRADING
        locked.save(update_fields=["status"])
        _audit(actor=actor, action="regrade_ordered", complaint=locked, reason=reason,
               data={"code": reopened.code, "cycle": reopened.cycle})
    return reopened


def complaint_decide(*, actor: Any, complaint: Complaint, outcome: str, decision: str,
                     now: dt.datetime | None = None) -> Complaint:
    """Record the decision on a complaint, with the ranking version in force at that moment. Refused while
    an ordered re-grade has no final mark yet (RegradePending). Raises NotAllowed, ComplaintClosed,
    ReasonRequired, InvalidTransition (unknown outcome)."""
    now = now or timezone.now()
    decision = (decision or "").strip()
    if outcome not in ComplaintOutcome.values:
        raise errors.InvalidTransition()
    if not decision:
        raise errors.ReasonRequired()
    with transaction.atomic():
        locked = (Complaint.objects.select_for_update(of=("self",)).select_related("round__contest")
                  .get(pk=complaint.pk))
        if not has_role(actor, locked.round.contest.organisation_id, COMPLAINT_ROLES):
            raise errors.NotAllowed()
        if locked.status == ComplaintStatus.DECIDED:
            raise errors.ComplaintClosed()
        if locked.regraded.exclude(status=EssayStatus.FINAL).exists():
            raise errors.RegradePending()
        current = ranking_current(round=locked.round)
        locked.status, locked.outcome, locked.decision = ComplaintStatus.DECIDED, outcome, decision
        locked.decided_by, locked.decided_at, locked.ranking = actor, now, current
        locked.save(update_fields=["status", "outcome", "decision", "decided_by", "decided_at", "ranking"])
        _audit(actor=actor, action="decided", complaint=locked, reason=decision,
               data={"outcome": outcome, "version": current.version if current else None})
    return locked

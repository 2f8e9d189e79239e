"""The result-approval workflow over ``leaderboards.RoundRanking``:

    draft --propose (judge)--> proposed --approve (organiser)--> approved --publish (organiser)--> published
    proposed --return (organiser, reason)--> draft
    any locked version --revise (organiser, reason)--> a NEW draft version (leaderboards.ranking_compute),
                                                     which needs proposing and approval again

Only the current (newest) version moves. Proposing needs every essay of the round graded. The approver
must not be the judge who proposed (four eyes). Each step locks the ranking row (``FOR UPDATE``), appends a
``RankingDecision`` and an audit event; a published list is served masked (judging.selectors).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from accounts.services import audit_record
from accounts.tenancy import has_role
from judging import errors
from judging.models import DecisionAction, RankingDecision
from judging.selectors import essay_grading_complete
from leaderboards.models import RankingStatus, RoundRanking
from leaderboards.services.ranking import ranking_compute, ranking_current, ranking_is_locked

PROPOSE_ROLES = frozenset({Role.JUDGE})
APPROVE_ROLES = frozenset({Role.ORGANISER})


def _ranking_models() -> Any:
    return RankingStatus, RoundRanking


def _locked(ranking: Any) -> Any:
    _, RoundRanking = _ranking_models()
    return RoundRanking.objects.select_for_update(of=("self",)).select_related("round__contest").get(pk=ranking.pk)


def _check_current(ranking: Any) -> None:
    current = ranking_current(round=ranking.round)
    if current is None or current.pk != ranking.pk:
        raise errors.NotCurrentVersion()


def _step(*, actor: Any, ranking: Any, roles: frozenset[str], action: str, allowed_from: tuple[str, ...],
          to_status: str, note: str = "", now: dt.datetime | None = None, check: Any = None) -> Any:
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(ranking)
        organisation_id = locked.round.contest.organisation_id
        if not has_role(actor, organisation_id, roles):
            raise errors.NotAllowed()
        _check_current(locked)
        if locked.status not in allowed_from:
            raise errors.InvalidTransition()
        if check is not None:
            check(locked)
        previous = locked.status
        locked.status = to_status
        locked.save(update_fields=["status"])
        RankingDecision.objects.create(ranking=locked, action=action, from_status=previous, to_status=to_status,
                                       actor=actor, note=note, at=now)
        audit_record(actor=actor, action=f"judging.ranking_{action}", target=locked, organisation=organisation_id,
                     reason=note, data={"round_id": locked.round_id, "version": locked.version,
                                        "from": previous, "to": to_status})
    ranking.status = locked.status
    return locked


def ranking_propose(*, actor: Any, ranking: Any, note: str = "", now: dt.datetime | None = None) -> Any:
    """A judge proposes the current draft: the ranking is locked (leaderboards.ranking_is_locked) from now on.
    Raises NotAllowed, NotCurrentVersion, InvalidTransition, GradingIncomplete."""
    RankingStatus, _ = _ranking_models()

    def graded(locked: Any) -> None:
        if not essay_grading_complete(round=locked.round):
            raise errors.GradingIncomplete()

    return _step(actor=actor, ranking=ranking, roles=PROPOSE_ROLES, action=DecisionAction.PROPOSE,
                 allowed_from=(RankingStatus.DRAFT,), to_status=RankingStatus.PROPOSED, note=note, now=now,
                 check=graded)


def ranking_return(*, actor: Any, ranking: Any, reason: str, now: dt.datetime | None = None) -> Any:
    """An organiser sends a proposal back to draft (with a reason)."""
    RankingStatus, _ = _ranking_models()
    if not (reason or "").strip():
        raise errors.ReasonRequired()
    return _step(actor=actor, ranking=ranking, roles=APPROVE_ROLES, action=DecisionAction.RETURN,
                 allowed_from=(RankingStatus.PROPOSED,), to_status=RankingStatus.DRAFT, note=reason.strip(), now=now)


def ranking_approve(*, actor: Any, ranking: Any, note: str = "", now: dt.datetime | None = None) -> Any:
    """An organiser approves a proposal; not the person who proposed it (four eyes)."""
    RankingStatus, _ = _ranking_models()

    def four_eyes(locked: Any) -> None:
        proposal = (RankingDecision.objects.filter(ranking=locked, action=DecisionAction.PROPOSE)
                    .order_by("-at", "-id").first())
        if proposal is not None and proposal.actor_id == getattr(actor, "pk", None):
            raise errors.NotAllowed("Người đề xuất không được tự phê duyệt kết quả.")

    return _step(actor=actor, ranking=ranking, roles=APPROVE_ROLES, action=DecisionAction.APPROVE,
                 allowed_from=(RankingStatus.PROPOSED,), to_status=RankingStatus.APPROVED, note=note, now=now,
                 check=four_eyes)


def ranking_publish(*, actor: Any, ranking: Any, note: str = "", now: dt.datetime | None = None) -> Any:
    """An organiser publishes an approved ranking: the public list page shows it (masked)."""
    RankingStatus, _ = _ranking_models()
    return _step(actor=actor, ranking=ranking, roles=APPROVE_ROLES, action=DecisionAction.PUBLISH,
                 allowed_from=(RankingStatus.APPROVED,), to_status=RankingStatus.PUBLISHED, note=note, now=now)


def ranking_revise(*, actor: Any, ranking: Any, reason: str, now: dt.datetime | None = None) -> Any:
    """Recompute a locked (proposed/approved/published) ranking as a new draft version, audited; the new
    version needs proposing and approval again. A published version stays public until the new one is
    published. Returns the new version."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise errors.ReasonRequired()
    with transaction.atomic():
        locked = _locked(ranking)
        organisation_id = locked.round.contest.organisation_id
        if not has_role(actor, organisation_id, APPROVE_ROLES):
            raise errors.NotAllowed()
        _check_current(locked)
        if not ranking_is_locked(locked):
            raise errors.InvalidTransition()
        new = ranking_compute(round=locked.round, actor=actor, revision_reason=reason, now=now)
        RankingDecision.objects.create(ranking=locked, action=DecisionAction.REVISE, from_status=locked.status,
                                       to_status=locked.status, actor=actor, note=reason, at=now)
        audit_record(actor=actor, action="judging.ranking_revise", target=locked, organisation=organisation_id,
                     reason=reason, data={"round_id": locked.round_id, "version": locked.version,
                                          "status": locked.status, "new_version": new.version,
                                          "changed": (new.diff or {}).get("changed", 0)})
    return new

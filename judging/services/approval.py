"""Result approval: decisions on the stored official ranking of a round (leaderboards.RoundRanking).

Workflow of the current (newest) version (docs/judging.md):

    draft ──propose (judge)──▶ proposed ──approve (organiser, not the proposer)──▶ approved ──publish──▶ published
    proposed ──return (organiser, reason)──▶ draft
    locked ──revise (organiser, reason)──▶ new draft version          (locked: proposed / approved / published)
    draft ──recompute (judge or organiser)──▶ new draft version        (e.g. once every essay is graded)
    published ──withdraw (organiser, reason, public notice)──▶ withdrawn
    published vN ──publish of a newer version──▶ superseded            (replaced at once, kept in the history)

A ranking that depends on grading is not proposable until every essay has its final mark and the version was
computed after the last change of its inputs (``Round.results_revision``; also a check of the stored entries
against the attempts). Approve and publish check the same again: a proposal is refused if anything changed
since it was computed. A decision names the version it is about (``version``): a recompute in between
refuses it (``VersionMismatch``).

Every step locks the ranking row (``SELECT … FOR UPDATE``), appends a ``RankingDecision`` (append-only, shown
on the round's page) and an audit event ``judging.ranking_<action>`` (reason included).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.services import audit_record
from accounts.tenancy import has_role
from judging import errors
from judging.models import DecisionAction, RankingDecision
from judging.selectors import essay_grading_complete, ranking_readiness
from judging.services.essays import essay_assignments_create
from leaderboards import errors as leaderboard_errors
from leaderboards.models import CollectivePrize, PrizeTieRule, RankingStatus, RoundRanking
from leaderboards.selectors import prize_line_ties
from leaderboards.services import ranking as ranking_service
from leaderboards.services.ranking import prizes_clean, ranking_compute, ranking_current, ranking_is_locked

PROPOSE_ROLES = frozenset({Role.JUDGE})
APPROVE_ROLES = frozenset({Role.ORGANISER})
RECOMPUTE_ROLES = frozenset({Role.ORGANISER, Role.JUDGE})


def _ranking_models() -> Any:
    return RankingStatus, RoundRanking


def _locked(ranking: Any) -> Any:
    _, RoundRanking = _ranking_models()
    return RoundRanking.objects.select_for_update(of=("self",)).select_related("round__contest").get(pk=ranking.pk)


def _check_current(ranking: Any) -> None:
    current = ranking_current(round=ranking.round)
    if current is None or current.pk != ranking.pk:
        raise errors.NotCurrentVersion()


def _check_version(ranking: Any, version: int | None) -> None:
    if version is not None and int(version) != ranking.version:
        raise errors.VersionMismatch()


def _check_fresh(ranking: Any) -> None:
    """Refuse a decision on a version whose inputs changed since it was computed."""
    readiness = ranking_readiness(ranking=ranking, deep=True)
    if readiness.stale:
        raise errors.RankingStale()


def _check_prize_ties(ranking: Any) -> None:
    """Refuse while a prize line falls inside a tie nobody decided on (docs/contest-rules.md)."""
    if any(not tie.resolved for tie in prize_line_ties(ranking=ranking)):
        raise errors.PrizeTieUndecided()


def _record(*, ranking: Any, actor: Any, action: str, from_status: str, to_status: str, note: str = "",
            data: dict | None = None, now: dt.datetime) -> RankingDecision:
    decision = RankingDecision.objects.create(ranking=ranking, action=action, from_status=from_status,
                                              to_status=to_status, actor=actor, note=note, data=data or {}, at=now)
    audit_record(actor=actor, action=f"judging.ranking_{action}", target=ranking,
                 organisation=ranking.round.contest.organisation_id, reason=note,
                 data={"round_id": ranking.round_id, "version": ranking.version, "from": from_status,
                       "to": to_status, **(data or {})})
    return decision


def _step(*, actor: Any, ranking: Any, roles: frozenset[str], action: str, allowed_from: tuple[str, ...],
          to_status: str, note: str = "", now: dt.datetime | None = None, version: int | None = None,
          check: Callable[[Any], None] | None = None, after: Callable[[Any], dict] | None = None) -> Any:
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(ranking)
        if not has_role(actor, locked.round.contest.organisation_id, roles):
            raise errors.NotAllowed()
        _check_current(locked)
        _check_version(locked, version)
        if locked.status not in allowed_from:
            raise errors.InvalidTransition()
        if check is not None:
            check(locked)
        previous = locked.status
        locked.status = to_status
        locked.save(update_fields=["status"])
        data = after(locked) if after is not None else {}
        _record(ranking=locked, actor=actor, action=action, from_status=previous, to_status=to_status, note=note,
                data=data, now=now)
    ranking.status = locked.status
    return locked


def ranking_propose(*, actor: Any, ranking: Any, note: str = "", version: int | None = None,
                    now: dt.datetime | None = None) -> Any:
    """A judge proposes the current draft: the ranking is locked (leaderboards.ranking_is_locked) from now on.
    Raises NotAllowed, NotCurrentVersion, VersionMismatch, InvalidTransition, GradingIncomplete, RankingStale,
    PrizeTieUndecided (also refused at approve and publish)."""
    RankingStatus, _ = _ranking_models()

    def graded(locked: Any) -> None:

        essay_assignments_create(round=locked.round)  # an essay that escaped the submit hook is not forgotten
        if not essay_grading_complete(round=locked.round):
            raise errors.GradingIncomplete()
        _check_fresh(locked)
        _check_prize_ties(locked)

    return _step(actor=actor, ranking=ranking, roles=PROPOSE_ROLES, action=DecisionAction.PROPOSE,
                 allowed_from=(RankingStatus.DRAFT,), to_status=RankingStatus.PROPOSED, note=note, now=now,
                 version=version, check=graded)


def ranking_return(*, actor: Any, ranking: Any, reason: str, version: int | None = None,
                   now: dt.datetime | None = None) -> Any:
    """An organiser sends a proposal back to draft (with a reason)."""
    RankingStatus, _ = _ranking_models()
    if not (reason or "").strip():
        raise errors.ReasonRequired()
    return _step(actor=actor, ranking=ranking, roles=APPROVE_ROLES, action=DecisionAction.RETURN,
                 allowed_from=(RankingStatus.PROPOSED,), to_status=RankingStatus.DRAFT, note=reason.strip(), now=now,
                 version=version)


def proposer_of(ranking: Any) -> Any:
    """Who proposed the version (the latest proposal), or None."""
    proposal = (RankingDecision.objects.filter(ranking=ranking, action=DecisionAction.PROPOSE)
                .select_related("actor").order_by("-at", "-id").first())
    return proposal.actor if proposal is not None else None


def ranking_approve(*, actor: Any, ranking: Any, note: str = "", version: int | None = None,
                    now: dt.datetime | None = None) -> Any:
    """An organiser approves a proposal; not the person who proposed it (four eyes: SelfApproval).
    Refused (RankingStale) if anything the ranking is computed from changed since."""
    RankingStatus, _ = _ranking_models()
    now = now or timezone.now()

    def four_eyes(locked: Any) -> None:
        proposer = proposer_of(locked)
        if proposer is not None and proposer.pk == getattr(actor, "pk", None):
            raise errors.SelfApproval()
        _check_fresh(locked)
        _check_prize_ties(locked)

    def stamp(locked: Any) -> dict:
        locked.approved_at, locked.approved_by = now, actor
        locked.save(update_fields=["approved_at", "approved_by"])
        return {}

    return _step(actor=actor, ranking=ranking, roles=APPROVE_ROLES, action=DecisionAction.APPROVE,
                 allowed_from=(RankingStatus.PROPOSED,), to_status=RankingStatus.APPROVED, note=note, now=now,
                 version=version, check=four_eyes, after=stamp)


def ranking_publish(*, actor: Any, ranking: Any, note: str = "", version: int | None = None,
                    without_prizes: bool = False, now: dt.datetime | None = None) -> Any:
    """An organiser publishes an approved ranking: the public list page shows it (masked). A previously
    published version of the round is replaced at once (status ``superseded``, kept in the history, its public
    page points to the new one). A ranking without any prize is published only with ``without_prizes``
    (PrizesNotConfirmed); a stale one never (RankingStale)."""
    RankingStatus, RoundRanking = _ranking_models()
    now = now or timezone.now()

    def checks(locked: Any) -> None:
        if not locked.prize_places and not without_prizes:
            raise errors.PrizesNotConfirmed()
        _check_fresh(locked)
        _check_prize_ties(locked)

    def replace_older(locked: Any) -> dict:
        locked.published_at, locked.published_by = now, actor
        locked.save(update_fields=["published_at", "published_by"])
        replaced = []
        for old in (RoundRanking.objects.select_for_update().filter(round_id=locked.round_id,
                                                                     status=RankingStatus.PUBLISHED)
                    .exclude(pk=locked.pk).select_related("round__contest")):
            old.status, old.ended_at = RankingStatus.SUPERSEDED, now
            old.public_notice = old.public_notice or _(
                "Kết quả này đã được thay thế bởi phiên bản %(v)s, công bố ngày %(day)s.") % {
                "v": locked.version, "day": timezone.localtime(now).strftime("%d/%m/%Y")}
            old.save(update_fields=["status", "ended_at", "public_notice"])
            _record(ranking=old, actor=actor, action=DecisionAction.SUPERSEDE, from_status=RankingStatus.PUBLISHED,
                    to_status=RankingStatus.SUPERSEDED, note=locked.revision_reason,
                    data={"replaced_by_version": locked.version}, now=now)
            replaced.append(old.version)
        return {"replaces_versions": replaced, "without_prizes": not locked.prize_places}

    return _step(actor=actor, ranking=ranking, roles=APPROVE_ROLES, action=DecisionAction.PUBLISH,
                 allowed_from=(RankingStatus.APPROVED,), to_status=RankingStatus.PUBLISHED, note=note, now=now,
                 version=version, check=checks, after=replace_older)


def ranking_withdraw(*, actor: Any, ranking: Any, reason: str, notice: str,
                     now: dt.datetime | None = None) -> Any:
    """An organiser takes a published version down at once (a wrong list must not stay public while a
    corrected version goes through approval). The public page shows ``notice`` instead of the list; the
    version stays in the history. Raises NotAllowed, ReasonRequired, NoticeRequired, NotPublished."""
    RankingStatus, _ = _ranking_models()
    now = now or timezone.now()
    reason, notice = (reason or "").strip(), (notice or "").strip()
    if not reason:
        raise errors.ReasonRequired()
    if not notice:
        raise errors.NoticeRequired()
    with transaction.atomic():
        locked = _locked(ranking)
        if not has_role(actor, locked.round.contest.organisation_id, APPROVE_ROLES):
            raise errors.NotAllowed()
        if locked.status != RankingStatus.PUBLISHED:
            raise errors.NotPublished()
        locked.status, locked.ended_at, locked.public_notice = RankingStatus.WITHDRAWN, now, notice
        locked.save(update_fields=["status", "ended_at", "public_notice"])
        _record(ranking=locked, actor=actor, action=DecisionAction.WITHDRAW, from_status=RankingStatus.PUBLISHED,
                to_status=RankingStatus.WITHDRAWN, note=reason, data={"notice": notice}, now=now)
    ranking.status = locked.status
    return locked


def ranking_revise(*, actor: Any, ranking: Any, reason: str, prizes: dict[str, int] | None = None,
                   collective_prizes: dict[str, int] | None = None, now: dt.datetime | None = None) -> Any:
    """Recompute a locked ranking as a new draft version, audited; the new version needs proposing and
    approval again. A published version stays public until the new one is published (or it is withdrawn).
    Returns the new version."""
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
        new = ranking_compute(round=locked.round, actor=actor, revision_reason=reason, prizes=prizes,
                              collective_prizes=collective_prizes, now=now)
        _record(ranking=locked, actor=actor, action=DecisionAction.REVISE, from_status=locked.status,
                to_status=locked.status, note=reason,
                data={"new_version": new.version, "status": locked.status,
                      "changed": (new.diff or {}).get("changed", 0)}, now=now)
    return new


def ranking_recompute(*, actor: Any, round: Any, now: dt.datetime | None = None) -> Any:
    """A judge or organiser recomputes the round's draft ranking from the current data (typically once every
    essay is graded): a new draft version with the changes against the previous one. A locked version is
    revised by an organiser instead (``ranking_revise``). Raises NotAllowed, InvalidTransition."""
    now = now or timezone.now()
    with transaction.atomic():
        if not has_role(actor, round.contest.organisation_id, RECOMPUTE_ROLES):
            raise errors.NotAllowed()
        current = ranking_current(round=round)
        if ranking_is_locked(current):
            raise errors.InvalidTransition()
        try:
            new = ranking_compute(round=round, actor=actor, now=now)
        except leaderboard_errors.LeaderboardError as exc:
            raise errors.JudgingError(exc.message) from exc
        _record(ranking=new, actor=actor, action=DecisionAction.RECOMPUTE, from_status=new.status,
                to_status=new.status, data={"previous_version": current.version if current else None,
                                            "changed": (new.diff or {}).get("changed", 0)}, now=now)
    return new


def _prizes_from(values: dict[str, Any] | None) -> dict[str, int]:
    try:
        return prizes_clean({k: int(v) for k, v in (values or {}).items()})
    except (TypeError, ValueError) as exc:
        raise errors.InvalidPrizes() from exc


def ranking_prizes_set(*, actor: Any, ranking: Any, prizes: dict[str, Any], reason: str,
                       collective_prizes: dict[str, Any] | None = None, now: dt.datetime | None = None) -> Any:
    """An organiser sets the number of prizes (individual per tier, collective per kind), with a reason that
    goes into the decision history. A draft is changed in place (its winners re-marked); a locked version
    gets a new draft version with the new prizes (approval needed again). Returns the ranking that now has
    them. Raises NotAllowed, ReasonRequired, InvalidPrizes, NotCurrentVersion."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise errors.ReasonRequired()
    cleaned = _prizes_from(prizes)
    collective: dict[str, int] | None = None
    if collective_prizes is not None:
        try:
            collective = {k: int(collective_prizes.get(k) or 0) for k in CollectivePrize.values}
        except (TypeError, ValueError) as exc:
            raise errors.InvalidPrizes() from exc
        if any(n < 0 or n > 10_000 for n in collective.values()):
            raise errors.InvalidPrizes()
    with transaction.atomic():
        locked = _locked(ranking)
        if not has_role(actor, locked.round.contest.organisation_id, APPROVE_ROLES):
            raise errors.NotAllowed()
        _check_current(locked)
        before = {"prizes": dict(locked.prizes or {}), "prize_places": locked.prize_places,
                  "collective_prizes": dict(locked.collective_prizes or {})}
        if ranking_service.ranking_is_locked(locked):
            target = ranking_service.ranking_compute(round=locked.round, actor=actor, revision_reason=reason,
                                                     prizes=cleaned, collective_prizes=collective, now=now)
        else:
            target = ranking_service.ranking_prizes_set(ranking=locked, prizes=cleaned,
                                                        collective_prizes=collective)
            target.round = locked.round
        _record(ranking=target, actor=actor, action=DecisionAction.PRIZES, from_status=target.status,
                to_status=target.status, note=reason,
                data={"before": before, "after": {"prizes": cleaned, "prize_places": target.prize_places,
                                                  "collective_prizes": dict(target.collective_prizes or {})},
                      "new_version": target.version if target.pk != locked.pk else None}, now=now)
    return target


def ranking_prize_tie_decide(*, actor: Any, ranking: Any, rule: str, reason: str,
                             now: dt.datetime | None = None) -> Any:
    """An organiser decides what happens when a prize line falls inside a tie the tie-break chain cannot break:
    extend the prizes to everyone tied (``PrizeTieRule.EXTEND``), or a further criterion of the rule book —
    more correct answers, or a draw by lot whose seed is drawn now and recorded (decision history, audit) so the
    draw can be re-run by anyone. A draft is changed in place (winners re-marked); a locked version gets a new
    draft version (approval needed again). Returns the ranking that now has the rule.
    Raises NotAllowed, ReasonRequired, InvalidPrizeTieRule, NotCurrentVersion."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise errors.ReasonRequired()
    if rule not in PrizeTieRule.values or rule == PrizeTieRule.UNDECIDED:
        raise errors.InvalidPrizeTieRule()
    seed = secrets.token_hex(8) if rule == PrizeTieRule.LOT else ""
    with transaction.atomic():
        locked = _locked(ranking)
        if not has_role(actor, locked.round.contest.organisation_id, APPROVE_ROLES):
            raise errors.NotAllowed()
        _check_current(locked)
        ties_before = [asdict(tie) for tie in prize_line_ties(ranking=locked)]
        before = locked.prize_tie_rule
        if ranking_service.ranking_is_locked(locked):
            target = ranking_service.ranking_compute(round=locked.round, actor=actor, revision_reason=reason,
                                                     prize_tie=(rule, seed), now=now)
        else:
            target = ranking_service.ranking_prize_tie_set(ranking=locked, rule=rule, seed=seed)
            target.round = locked.round
        _record(ranking=target, actor=actor, action=DecisionAction.PRIZE_TIE, from_status=target.status,
                to_status=target.status, note=reason,
                data={"before": before, "after": rule, "seed": seed, "ties_before": ties_before,
                      "ties_after": [asdict(tie) for tie in prize_line_ties(ranking=target)],
                      "new_version": target.version if target.pk != locked.pk else None}, now=now)
    return target

"""Fixed questions of a round and their versions.

A round's blueprint names a fixed question by the id of any of its versions. Which version contestants see is
decided per round and kept (``RoundFixedVersion``):

* the **first draw** of the round (its first attempt) pins, for each fixed question, the version in force then
  (``contests.blueprints.fixed_versions_in_force``: the newest approved version, so an edit waiting for
  review never stops the round);
* every later attempt shows the pinned version, even after a writer edits the question and a reviewer
  approves the edit — everyone in the round answers the same text;
* an organiser **accepts** the newer approved versions with ``round_fixed_versions_accept`` (with a reason,
  audited); attempts already drawn keep what they showed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.tenancy import require_role
from contests import errors
from contests.blueprints import blueprint_fixed_versions, fixed_question_ids, fixed_versions_in_force
from contests.models import Round, RoundFixedVersion, RoundSettings
from contests.services._common import audit, resolve_now
from questionbank.models import Question


def _pins(round: Round) -> dict[int, int]:
    return dict(RoundFixedVersion.objects.filter(round=round).values_list("family_id", "question_id"))


def round_fixed_versions_pin(*, round: Round, settings: RoundSettings,
                             now: dt.datetime | None = None) -> dict[int, tuple[int, int]]:
    """{named id: (version id, family id)} for this round's draw, pinning the version in force of every fixed
    question the round has not pinned yet. Call inside the attempt's transaction: the pins commit with the
    first attempt that shows them. Concurrent first draws insert the same rows; the unique constraint keeps
    one and both read it back. Raises ``BlueprintUnsatisfiable`` when a fixed question cannot be used."""
    if not fixed_question_ids(settings.blueprint):
        return {}
    now = resolve_now(now)
    organisation = round.contest.organisation
    pinned = _pins(round)
    found = blueprint_fixed_versions(organisation=organisation, blueprint=settings.blueprint, pinned=pinned)
    missing = {family: version for version, family in found.values() if family not in pinned}
    if missing:
        RoundFixedVersion.objects.bulk_create(
            [RoundFixedVersion(round=round, family_id=family, question_id=version, pinned_at=now)
             for family, version in missing.items()], ignore_conflicts=True)
        found = blueprint_fixed_versions(organisation=organisation, blueprint=settings.blueprint,
                                         pinned=_pins(round))
    return found


@dataclass(frozen=True)
class FixedQuestionState:
    """One fixed question of a round, as the round's admin page shows it."""

    named_id: int
    family_id: int | None
    pinned_id: int | None       # the version the round shows (None: not drawn yet)
    pinned_version: int | None
    in_force_id: int | None     # the newest approved version (None: unusable)
    in_force_version: int | None

    @property
    def newer_available(self) -> bool:
        return self.pinned_id is not None and self.in_force_id is not None and self.in_force_id != self.pinned_id

    @property
    def unusable(self) -> bool:
        return self.in_force_id is None


def round_fixed_versions_state(*, round: Round) -> list[FixedQuestionState]:
    """Every fixed question of the round: the version it shows, and the version in force in the bank."""
    named = fixed_question_ids(round.settings.blueprint)
    if not named:
        return []
    found, _unusable = fixed_versions_in_force(organisation=round.contest.organisation, question_ids=named)
    pins = _pins(round)
    families = dict(Question.objects.filter(pk__in=named).values_list("id", "family_id"))
    ids = set(pins.values()) | {version for version, _family in found.values()}
    numbers = dict(Question.objects.filter(pk__in=ids).values_list("id", "version"))
    states = []
    for qid in named:
        family = found[qid][1] if qid in found else (families.get(qid) or (qid if qid in families else None))
        pinned = pins.get(family) if family is not None else None
        in_force = found[qid][0] if qid in found else None
        states.append(FixedQuestionState(qid, family, pinned, numbers.get(pinned), in_force, numbers.get(in_force)))
    return states


def round_fixed_versions_accept(*, round: Round, actor: Any, reason: str,
                                now: dt.datetime | None = None) -> int:
    """Show the newest approved version of every fixed question from now on (organiser of the round's
    organisation; ``reason`` required). Attempts already drawn keep what they showed. Returns how many
    questions changed version; records an AuditEvent ``contests.fixed_versions_accepted`` with each change.
    Raises ``ReasonRequired``, ``BlueprintUnsatisfiable`` (a fixed question that cannot be used at all)."""
    now = resolve_now(now)
    require_role(actor, round.contest.organisation_id, [Role.ORGANISER])
    reason = (reason or "").strip()
    if not reason:
        raise errors.ReasonRequired()
    with transaction.atomic():
        locked = Round.objects.select_for_update().select_related("contest__organisation").get(pk=round.pk)
        in_force = blueprint_fixed_versions(organisation=locked.contest.organisation,
                                            blueprint=locked.settings.blueprint)
        pins = {pin.family_id: pin for pin in RoundFixedVersion.objects.filter(round=locked)}
        changes = []
        for version, family in in_force.values():
            pin = pins.get(family)
            if pin is None or pin.question_id == version:
                continue  # not drawn yet: the first draw takes the version in force anyway
            changes.append({"family_id": family, "from": pin.question_id, "to": version})
            pin.question_id, pin.pinned_at = version, now
            pin.pinned_by = actor if getattr(actor, "pk", None) else None
            pin.save(update_fields=["question", "pinned_at", "pinned_by"])
        if changes:
            audit(actor=actor, action="contests.fixed_versions_accepted", target=locked,
                  organisation=locked.contest.organisation_id, reason=reason, data={"changes": changes})
    return len(changes)


def fixed_versions_summary(states: list[FixedQuestionState]) -> str:
    """One line per fixed question for the admin (Vietnamese)."""
    lines = []
    for s in states:
        if s.unusable:
            lines.append(_("#%(id)s: không dùng được (chưa có phiên bản đã duyệt, đã ngừng sử dụng hoặc không "
                           "thuộc phạm vi của đơn vị)") % {"id": s.named_id})
        elif s.pinned_id is None:
            lines.append(_("#%(id)s: chưa có lượt thi; sẽ dùng phiên bản %(v)s (#%(vid)s)")
                         % {"id": s.named_id, "v": s.in_force_version, "vid": s.in_force_id})
        elif s.newer_available:
            lines.append(_("#%(id)s: đang dùng phiên bản %(pv)s (#%(pid)s); đã có phiên bản %(v)s (#%(vid)s) được "
                           "duyệt — chọn «Dùng phiên bản mới của câu hỏi cố định» để áp dụng")
                         % {"id": s.named_id, "pv": s.pinned_version, "pid": s.pinned_id, "v": s.in_force_version,
                            "vid": s.in_force_id})
        else:
            lines.append(_("#%(id)s: đang dùng phiên bản %(pv)s (#%(pid)s), mới nhất")
                         % {"id": s.named_id, "pv": s.pinned_version, "pid": s.pinned_id})
    return "\n".join(lines)

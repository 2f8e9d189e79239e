"""What every part of the question bank's services shares: the limits on sizes, the "has this question been
used?" hook, the audit trail and the role checks.

Permissions: ``actor=None`` means a trusted system caller (management command, demo loader). Otherwise the
actor needs the role named in each service's docstring in the question's organisation (accounts.tenancy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from accounts.models import AuditEvent, Organisation
from accounts.services import audit_record
from accounts.tenancy import has_role
from questionbank.errors import QuestionPermissionDenied
from questionbank.models import (
    Question,
    QuestionType,
)

MAX_STEM_CHARS = 10_000
MAX_OPTION_CHARS = 2_000
MAX_FEEDBACK_CHARS = 5_000
MAX_EXPLANATION_CHARS = 20_000
MAX_OPTIONS = 8  # A–H
MAX_POINTS = Decimal("1000")
MAX_TOPIC_DEPTH = 8
IMPORT_CHUNK = 500  # questions saved per batch inside the import transaction
CHOICE_TYPES = frozenset({QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.TRUE_FALSE})
FRACTION_SUM_TOLERANCE = Decimal("0.01")  # Moodle stores thirds as 0.33333


_used_checkers: list[Callable[[Question], bool]] = []


def register_used_checker(checker: Callable[[Question], bool]) -> None:
    """Contests register a function answering "did any attempt draw this question version?"."""
    if checker not in _used_checkers:
        _used_checkers.append(checker)


def question_is_used(question: Question) -> bool:
    """True when some attempt drew this exact version: it must then never change (edits make a new version)."""
    return any(checker(question) for checker in _used_checkers)


@dataclass(frozen=True)
class QuestionUse:
    """A place that will show a question (any of its versions) to contestants: a round still to run, named
    for the staff of ``organisation_id`` only."""

    organisation_id: int
    label: str


_use_listers: list[Callable[[Question], list[QuestionUse]]] = []


def register_use_lister(lister: Callable[[Question], list[QuestionUse]]) -> None:
    """Contests register a function listing the rounds that have not closed and name this question's family
    as a fixed question — what a writer is warned about before editing it."""
    if lister not in _use_listers:
        _use_listers.append(lister)


def question_uses(question: Question) -> list[QuestionUse]:
    return [use for lister in _use_listers for use in lister(question)]


def _audit(*, actor: Any, action: str, target: Any = None, organisation: Organisation | None = None,
           reason: str = "", data: dict | None = None) -> AuditEvent:
    """Through accounts.services.audit_record (the project's one audit door)."""
    event = audit_record(actor=actor, action=action, target=target, organisation=organisation,
                         reason=reason, data=data)
    if isinstance(event, AuditEvent):
        return event
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None, action=action, organisation=organisation,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "", reason=reason, data=data or {},
    )


def _require(actor: Any, organisation_id: int, roles: set[str], message: str | None = None) -> None:
    if actor is None:
        return
    if not has_role(actor, organisation_id, roles):
        raise QuestionPermissionDenied(message)

"""Small helpers shared by the contests services (audit, broadcasts, time)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from accounts.models import Organisation


def resolve_now(now: dt.datetime | None) -> dt.datetime:
    """One ``now`` per operation; timezone-aware only."""
    if now is None:
        return timezone.now()
    if timezone.is_naive(now):
        raise ValueError("naive datetime passed as now")
    return now


def audit(*, actor: Any, action: str, target: models.Model | None = None,
          organisation: Organisation | int | None = None, reason: str = "", data: dict | None = None) -> None:
    """Write to the shared audit log (accounts.services.audit_record)."""
    from accounts.services import audit_record

    audit_record(actor=actor, action=action, target=target, organisation=organisation, reason=reason, data=data)


def broadcast_attempt_submitted(attempt: Any) -> None:
    """Schedule the 'attempt submitted' push for after the commit (realtime owns the event)."""
    try:
        from realtime.events import attempt_submitted_on_commit
    except ImportError:  # pragma: no cover - realtime app not installed
        transaction.on_commit(lambda: None)
        return
    attempt_submitted_on_commit(attempt)


def broadcast_attempt_changed(attempt: Any, *, reason: str) -> None:
    """Ask open connections of ``attempt`` to refresh (new deadline etc.), after the commit."""
    try:
        from realtime.events import attempt_changed_on_commit
    except ImportError:  # pragma: no cover
        return
    attempt_changed_on_commit(attempt, reason=reason)

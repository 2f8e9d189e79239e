"""Small helpers shared by the contests services (audit, broadcasts, time)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router
from django.utils import timezone

from accounts.models import Organisation
from accounts.services import audit_record
from contests import signals
from contests.models import Attempt


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
    audit_record(actor=actor, action=action, target=target, organisation=organisation, reason=reason, data=data)


def broadcast_attempts_submitted(attempts: list[Any]) -> None:
    """Announce a batch of finished attempts (``contests.signals.attempts_finalised``, inside the transaction):
    realtime pushes ``attempt.submitted`` to their connections and signals the leaderboards after the commit."""
    signals.attempts_finalised.send(sender=Attempt, attempts=attempts)


def broadcast_attempt_changed(attempt: Any, *, reason: str) -> None:
    """Ask open connections of ``attempt`` to refresh (new deadline etc.), after the commit
    (``contests.signals.attempt_changed``; realtime listens)."""
    signals.attempt_changed.send(sender=Attempt, attempt=attempt, reason=reason)


def _value_type(field: models.Field, connection: Any) -> str:
    """The type a VALUES column is cast to: the column's own, except that character types lose their length
    (an explicit cast to varchar(n) would silently cut a longer value; the assignment to the column then
    raises "value too long", as Django's own writes do)."""
    db_type = field.db_type(connection) or "text"
    return "varchar" if db_type.startswith("varchar(") else db_type


def bulk_update_rows(objs: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write ``fields`` of ``objs`` (instances of one model) in one statement.

    On PostgreSQL this is ``UPDATE … FROM (VALUES …)``: Django's ``bulk_update`` builds and compiles a CASE
    expression per field and row, which was 76% of the time of finalising submits in batches of 100
    (docs/decisions.md). Elsewhere (the embedded SQLite default) it is ``bulk_update``.
    Values go through each field's ``get_db_prep_save`` and are cast to the column's type."""
    if not objs:
        return
    model = type(objs[0])
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model._base_manager.bulk_update(objs, fields)
        return
    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(f"%s::{_value_type(field, connection)}" for field in [pk, *columns]) + ")"
    names = ", ".join(["pk_", *(f"c{i}" for i in range(len(columns)))])
    assignments = ", ".join(f"{quote(field.column)} = v.c{i}" for i, field in enumerate(columns))
    params: list[Any] = []
    for obj in objs:
        params.append(pk.get_db_prep_value(obj.pk, connection))
        params.extend(field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns)
    # Identifiers and types come from the model's meta, never from input; every value is a parameter.
    sql = (f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608
           f"FROM (VALUES {', '.join([row] * len(objs))}) AS v({names}) WHERE t.{quote(pk.column)} = v.pk_")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)

"""The evidence sink: records buffered by ``realtime.evidence`` stored in bulk, in the flusher thread.

Answers are the volume (every answer of every socket): on PostgreSQL they go in with one ``COPY`` per flush,
built as one text block (one formatted line per answer, the batch's timestamp formatted once), so storing
them costs a few microseconds of CPU per answer in the server process, away from the acks. Connections and
client events are few (rate-limited per connection) and go through plain statements.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction

from anticheat.models import AnswerEvent, ClientEvent, ConnectionEvidence, SignupEvidence
from contests.models import Attempt
from realtime.evidence import AnswerBatchRecord, ClientEventRecord, ConnectionRecord

logger = logging.getLogger(__name__)

MAX_TIMES = 50  # timestamps kept per attempt and client-event kind (the counter keeps counting)


def network_of(address: str) -> str:
    """The /24 of an IPv4 address, the /64 of an IPv6 one ("" for none)."""
    if not address:
        return ""
    try:
        ip = ipaddress.ip_address(address.split("/")[0])
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def device_key(*, cookie: str, user_agent: str) -> str:
    """The device cookie when the browser has one, else a hash of the user agent (``ua:…``)."""
    if cookie:
        return cookie[:64]
    return "ua:" + hashlib.sha256(user_agent.encode("utf-8", "replace")).hexdigest()[:16]


def store_records(records: list[Any]) -> None:
    """The sink registered with ``realtime.evidence`` (anticheat.apps)."""
    answers = [r for r in records if isinstance(r, AnswerBatchRecord)]
    connections_ = [r for r in records if isinstance(r, ConnectionRecord)]
    client_events = [r for r in records if isinstance(r, ClientEventRecord)]
    if answers:
        with transaction.atomic():
            answer_events_store(answers)
    if connections_:
        with transaction.atomic():
            connections_store(connections_)
    if client_events:
        with transaction.atomic():
            client_events_store(client_events)


def _answer_lines(batches: Iterable[AnswerBatchRecord]) -> Iterable[tuple[int, int, int, dt.datetime, str]]:
    for batch in batches:
        for result in batch.results:
            if result.position is None:
                continue
            status = result.status if result.status != "error" else getattr(result.error, "code", "error")
            yield result.attempt_id, result.position, result.client_seq, batch.now, status[:10]


def answer_events_store(batches: list[AnswerBatchRecord]) -> int:
    if connection.vendor != "postgresql":
        rows = [AnswerEvent(attempt_id=a, position=p, seq=s, at=at, status=st) for a, p, s, at, st in
                _answer_lines(batches)]
        AnswerEvent.objects.bulk_create(rows, batch_size=1000)
        return len(rows)
    parts: list[str] = []
    count = 0
    for batch in batches:
        stamp = batch.now.isoformat()
        lines = [f"{r.attempt_id}\t{r.position}\t{r.client_seq}\t{stamp}\t"
                 f"{r.status if r.status != 'error' else getattr(r.error, 'code', 'error')[:10]}\n"
                 for r in batch.results if r.position is not None and isinstance(r.attempt_id, int)
                 and isinstance(r.client_seq, int)]
        count += len(lines)
        parts.extend(lines)
    if not parts:
        return 0
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(
            "COPY anticheat_answerevent (attempt_id, position, seq, at, status) FROM STDIN") as copy:
        copy.write("".join(parts))
    return count


def connections_store(records: list[ConnectionRecord]) -> int:
    rounds = dict(Attempt.objects.filter(pk__in={r.attempt_id for r in records}).values_list("pk", "round_id"))
    rows = [ConnectionEvidence(attempt_id=r.attempt_id, round_id=rounds[r.attempt_id], user_id=r.user_id, at=r.at,
                               address=r.address or None, network=network_of(r.address),
                               device=device_key(cookie=r.device, user_agent=r.user_agent),
                               user_agent=r.user_agent[:300], replaced=r.replaced)
            for r in records if r.attempt_id in rounds]
    ConnectionEvidence.objects.bulk_create(rows)
    return len(rows)


_UPSERT_CLIENT_EVENTS = """
INSERT INTO anticheat_clientevent (attempt_id, kind, count, first_at, last_at, times, positions)
SELECT t.a, t.k, t.n, t.f, t.l, t.times::jsonb, t.pos::jsonb
FROM unnest(%s::bigint[], %s::text[], %s::int[], %s::timestamptz[], %s::timestamptz[], %s::text[], %s::text[])
  AS t(a, k, n, f, l, times, pos)
WHERE EXISTS (SELECT 1 FROM contests_attempt WHERE id = t.a)
ON CONFLICT (attempt_id, kind) DO UPDATE SET
  count = anticheat_clientevent.count + EXCLUDED.count,
  last_at = GREATEST(anticheat_clientevent.last_at, EXCLUDED.last_at),
  times = CASE WHEN jsonb_array_length(anticheat_clientevent.times) >= %s THEN anticheat_clientevent.times
               ELSE anticheat_clientevent.times || EXCLUDED.times END,
  positions = CASE WHEN jsonb_array_length(anticheat_clientevent.positions) >= %s
                   THEN anticheat_clientevent.positions
                   ELSE anticheat_clientevent.positions || EXCLUDED.positions END
"""


def client_events_store(records: list[ClientEventRecord]) -> int:
    groups: dict[tuple[int, str], list[ClientEventRecord]] = defaultdict(list)
    for r in records:
        groups[(r.attempt_id, r.kind)].append(r)
    utc = dt.UTC

    def moment(ms: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(ms / 1000, tz=utc)

    if connection.vendor == "postgresql":
        columns: list[list[Any]] = [[], [], [], [], [], [], []]
        for (attempt_id, kind), items in groups.items():
            items.sort(key=lambda r: r.at_ms)
            for column, value in zip(columns, (
                    attempt_id, kind, len(items), moment(items[0].at_ms), moment(items[-1].at_ms),
                    json.dumps([r.at_ms for r in items[:MAX_TIMES]]),
                    json.dumps([r.position for r in items[:MAX_TIMES]])), strict=True):
                column.append(value)
        with connection.cursor() as cursor:
            cursor.execute(_UPSERT_CLIENT_EVENTS, [*columns, MAX_TIMES, MAX_TIMES])
        return len(records)
    existing = {(e.attempt_id, e.kind): e for e in ClientEvent.objects.select_for_update().filter(
        attempt_id__in={a for a, _ in groups})}
    known = set(Attempt.objects.filter(pk__in={a for a, _ in groups}).values_list("pk", flat=True))
    for (attempt_id, kind), items in groups.items():
        if attempt_id not in known:
            continue
        items.sort(key=lambda r: r.at_ms)
        row = existing.get((attempt_id, kind))
        if row is None:
            row = ClientEvent(attempt_id=attempt_id, kind=kind, count=0, first_at=moment(items[0].at_ms),
                              last_at=moment(items[-1].at_ms), times=[], positions=[])
        row.count += len(items)
        row.last_at = max(row.last_at, moment(items[-1].at_ms))
        room = max(0, MAX_TIMES - len(row.times))
        row.times = row.times + [r.at_ms for r in items[:room]]
        row.positions = row.positions + [r.position for r in items[:room]]
        row.save()
    return len(records)


def signup_record(*, user: Any, address: str, user_agent: str, device: str, at: dt.datetime) -> None:
    """Receiver of ``accounts.signals.citizen_signed_up``."""
    SignupEvidence.objects.update_or_create(user=user, defaults={
        "at": at, "address": address if _is_ip(address) else None, "network": network_of(address),
        "device": device_key(cookie=device, user_agent=user_agent)})


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True

"""Reads of anticheat: settings in force, the judges' review queue with its counts, the attempt timeline, the
number of unreviewed high flags (for the approval page), and the rows of the workbook's "Cảnh báo" sheet."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from accounts.models import AuditEvent
from anticheat.defaults import effective
from anticheat.models import (
    AnswerEvent,
    AttemptReview,
    ClientEvent,
    ConnectionEvidence,
    Flag,
    FlagKind,
    ReviewDecision,
    ReviewStatus,
    RoundCheckSettings,
    Severity,
)
from contests.models import Answer, Attempt, AttemptQuestion, Presentation, Round


def settings_for(round_id: int) -> dict[str, float | int]:
    """The thresholds in force for a round: the defaults with its overrides."""
    row = RoundCheckSettings.objects.filter(round_id=round_id).values_list("overrides", flat=True).first()
    return effective(row)


def unreviewed_high_flags_count(*, round_id: int) -> int:
    """High-severity flags whose attempt has no decision in force (the approval page shows it)."""
    decided = AttemptReview.objects.filter(round_id=round_id).exclude(status=ReviewStatus.UNREVIEWED) \
        .values("attempt_id")
    return Flag.objects.filter(round_id=round_id, severity=Severity.HIGH).exclude(attempt_id__in=decided).count()


@dataclass
class QueueRow:
    attempt_id: int
    full_name: str
    unit_name: str
    score: Any
    duration_ms: int | None
    status: str
    review_status: str
    severity: str
    score_max: float
    flags: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, label, severity)


@dataclass
class Queue:
    rows: list[QueueRow]
    total: int
    counts_by_kind: list[tuple[str, str, dict[str, int]]]  # (kind, label, {severity: n})
    counts_by_severity: dict[str, int]
    counts_by_review: dict[str, int]
    unreviewed_high: int
    units: list[tuple[int, str]]


def review_queue(*, round: Round, kind: str = "", unit_id: int | None = None, review: str = "",
                 limit: int = 200, offset: int = 0) -> Queue:
    """Flagged attempts of the round, most severe first (then the strongest score, then the attempt id);
    filtered by flag kind, unit and review status. Counts are over the whole round."""
    flags = list(Flag.objects.filter(round=round).values_list(
        "attempt_id", "kind", "severity", "severity_rank", "score", "unit_id", "unit__name"))
    reviews = dict(AttemptReview.objects.filter(round=round).values_list("attempt_id", "status"))
    by_attempt: dict[int, list[tuple]] = defaultdict(list)
    for row in flags:
        by_attempt[row[0]].append(row)
    by_kind: dict[str, Counter] = defaultdict(Counter)
    severity_counts: Counter = Counter()
    for _attempt, flag_kind, severity, *_rest in flags:
        by_kind[flag_kind][severity] += 1
        severity_counts[severity] += 1
    review_counts: Counter = Counter(reviews.get(a, ReviewStatus.UNREVIEWED) for a in by_attempt)
    units = sorted({(r[5], r[6] or "") for r in flags if r[5] is not None}, key=lambda u: u[1])
    chosen = []
    for attempt_id, rows in by_attempt.items():
        if kind and not any(r[1] == kind for r in rows):
            continue
        if unit_id is not None and rows[0][5] != unit_id:
            continue
        status = reviews.get(attempt_id, ReviewStatus.UNREVIEWED)
        if review and status != review:
            continue
        chosen.append((-max(r[3] for r in rows), -max(r[4] for r in rows), attempt_id))
    chosen.sort()
    page = [a for *_k, a in chosen[offset:offset + limit]]
    attempts = {a.pk: a for a in Attempt.objects.filter(pk__in=page).select_related("registration", "unit")}
    labels = dict(FlagKind.choices)
    out = []
    for attempt_id in page:
        attempt = attempts[attempt_id]
        rows = sorted(by_attempt[attempt_id], key=lambda r: (-r[3], -r[4]))
        out.append(QueueRow(
            attempt_id=attempt_id, full_name=attempt.registration.full_name, unit_name=attempt.unit.name,
            score=attempt.score, duration_ms=attempt.duration_ms, status=attempt.get_status_display(),
            review_status=reviews.get(attempt_id, ReviewStatus.UNREVIEWED), severity=rows[0][2],
            score_max=max(r[4] for r in rows), flags=[(r[1], str(labels.get(r[1], r[1])), r[2]) for r in rows]))
    unreviewed_high = sum(1 for a, rows in by_attempt.items() for r in rows
                          if r[2] == Severity.HIGH
                          and reviews.get(a, ReviewStatus.UNREVIEWED) == ReviewStatus.UNREVIEWED)
    return Queue(
        rows=out, total=len(chosen),
        counts_by_kind=[(k, str(labels[k]), dict(by_kind[k])) for k in FlagKind.values if k in by_kind],
        counts_by_severity={s: severity_counts.get(s, 0) for s in Severity.values},
        counts_by_review={s: review_counts.get(s, 0) for s in ReviewStatus.values},
        unreviewed_high=unreviewed_high, units=units)


@dataclass
class TimelineEvent:
    at: dt.datetime
    kind: str  # start, connect, answer, client, replaced, submit
    position: int | None = None
    seq: int | None = None
    status: str = ""
    seconds_on_question: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def attempt_timeline(*, attempt: Attempt) -> dict[str, Any]:
    """Everything about how one attempt was taken, in server-time order: the start, each connection (address,
    device, replaced sessions), each answer (seq, position, time on question, changes), the client's
    evidence, the submit — with the attempt's flags, its review and the decision history."""
    one_at_a_time = attempt.round.settings.presentation == Presentation.ONE_AT_A_TIME
    events: list[TimelineEvent] = [TimelineEvent(attempt.started_at, "start")]
    connections = list(ConnectionEvidence.objects.filter(attempt=attempt).order_by("at", "id"))
    for c in connections:
        events.append(TimelineEvent(c.at, "connect", detail={
            "address": c.address or "", "network": c.network, "device": c.device, "user_agent": c.user_agent,
            "replaced": c.replaced}))
    shown = dict(AttemptQuestion.objects.filter(attempt=attempt).values_list("position", "shown_at"))
    answer_events = list(AnswerEvent.objects.filter(attempt=attempt).order_by("at", "id"))
    if not answer_events:  # evidence purged or never kept: the stored answers' last times
        answer_events = [AnswerEvent(attempt=attempt, position=p, seq=s, at=at, status="stored")
                         for p, s, at in Answer.objects.filter(attempt=attempt).values_list(
                             "attempt_question__position", "client_seq", "received_at")]
        answer_events.sort(key=lambda e: e.at)
    baseline = max(attempt.started_at, connections[0].at) if connections else attempt.started_at
    previous = baseline
    changes: Counter = Counter()
    for e in answer_events:
        seconds = None
        if e.status == "stored":
            changes[e.position] += 1
            if one_at_a_time:
                seconds = (e.at - (shown.get(e.position) or baseline)).total_seconds()
            else:
                seconds = (e.at - previous).total_seconds()
                previous = e.at
        events.append(TimelineEvent(e.at, "answer", position=e.position, seq=e.seq, status=e.status,
                                    seconds_on_question=round(seconds, 2) if seconds is not None else None,
                                    detail={"version": changes[e.position]}))
    client_counts = {}
    for c in ClientEvent.objects.filter(attempt=attempt):
        client_counts[c.kind] = c.count
        for i, ms in enumerate(c.times):
            position = c.positions[i] if i < len(c.positions) else None
            events.append(TimelineEvent(dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC), "client",
                                        position=position, status=c.kind))
    for audit in AuditEvent.objects.filter(target_type="contests.attempt", target_id=str(attempt.pk),
                                           action="attempt.session_replaced"):
        events.append(TimelineEvent(audit.at, "replaced"))
    if attempt.submitted_at:
        events.append(TimelineEvent(attempt.submitted_at, "submit", status=attempt.submit_kind))
    events.sort(key=lambda e: (e.at, e.kind != "start"))
    review = AttemptReview.objects.filter(attempt=attempt).select_related("decided_by").first()
    return {
        "events": events,
        "flags": list(Flag.objects.filter(attempt=attempt).order_by("-severity_rank", "-score")),
        "review": review,
        "review_status": review.status if review else ReviewStatus.UNREVIEWED,
        "decisions": list(ReviewDecision.objects.filter(attempt=attempt).select_related("actor").order_by("at", "id")),
        "client_counts": client_counts,
        "connections": len(connections),
        "devices": len({c.device for c in connections}),
        "networks": len({c.network for c in connections if c.network}),
        "changes": sum(max(0, n - 1) for n in changes.values()),
        "one_at_a_time": one_at_a_time,
    }


def export_rows(*, round_ids: list[int]) -> Iterator[dict[str, Any]]:
    """One dict per flag of the rounds (the "Cảnh báo" sheet), most severe first, with the review in force."""
    reviews = {r.attempt_id: r for r in AttemptReview.objects.filter(round_id__in=round_ids)}
    flags = Flag.objects.filter(round_id__in=round_ids).select_related("round", "attempt__registration", "unit") \
        .order_by("round_id", "-severity_rank", "-score", "attempt_id", "kind")
    for flag in flags.iterator(chunk_size=2000):
        review = reviews.get(flag.attempt_id)
        yield {"flag": flag, "review_status": review.get_status_display() if review else ReviewStatus.UNREVIEWED.label,
               "review_reason": review.reason if review else ""}


def has_flags(*, round: Round) -> bool:
    return Flag.objects.filter(Q(round=round)).exists()

"""Checks on how one attempt was taken, from the evidence the server recorded while it ran.

Pure functions over plain data (``AttemptData``), so the rules are tested without a database and the
loader (``anticheat.checks.load``) can fetch a whole round's evidence in a few set-based queries.
Every check returns ``FlagSpec``s; none of them ever touches an answer or a score.

Time on question is measured on the server: an answer's time is when the writer stored its first version
(``AnswerEvent``; ``Answer.received_at`` when no event was kept). A question was shown at ``shown_at`` in
one-question-at-a-time rounds, and at the first connection (the snapshot) otherwise — there the check is
cumulative (the k-th answer cannot come before k questions could have been read), so a contestant who reads
every question first and then answers quickly is not mistaken for a bot.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from anticheat.models import FlagKind, Severity


@dataclass
class FlagSpec:
    attempt_id: int
    kind: str
    severity: str
    score: float
    evidence: dict[str, Any]
    group_key: str = ""


@dataclass
class QuestionData:
    position: int
    reading_seconds: float
    shown_at: dt.datetime | None
    first_answer_at: dt.datetime | None
    revisions: int = 0


@dataclass
class ConnectionData:
    at: dt.datetime
    network: str
    device: str
    replaced: bool
    address: str = ""


@dataclass
class AttemptData:
    attempt_id: int
    started_at: dt.datetime
    submitted_at: dt.datetime | None
    one_at_a_time: bool
    questions: list[QuestionData] = field(default_factory=list)
    connections: list[ConnectionData] = field(default_factory=list)
    client_counts: dict[str, int] = field(default_factory=dict)


def reading_seconds(chars: int, settings: dict[str, Any]) -> float:
    return float(settings["reading_base_seconds"]) + chars / float(settings["reading_chars_per_second"])


def _seconds(later: dt.datetime, earlier: dt.datetime) -> float:
    return (later - earlier).total_seconds()


def shown_baseline(data: AttemptData) -> dt.datetime:
    """When the questions were first on screen: the first connection (its snapshot), not before the start."""
    if data.connections:
        return max(data.started_at, min(c.at for c in data.connections))
    return data.started_at


def check_fast_answers(data: AttemptData, settings: dict[str, Any]) -> FlagSpec | None:
    answered = sorted((q for q in data.questions if q.first_answer_at is not None),
                      key=lambda q: q.first_answer_at)  # type: ignore[arg-type, return-value]
    if len(answered) < int(settings["fast_answers_min_count"]):
        return None
    fraction = float(settings["fast_answer_fraction"])
    fast: list[int] = []
    times: list[float] = []
    if data.one_at_a_time:
        for q in answered:
            seconds = _seconds(q.first_answer_at, q.shown_at or shown_baseline(data))  # type: ignore[arg-type]
            times.append(round(seconds, 2))
            if seconds < fraction * q.reading_seconds:
                fast.append(q.position)
    else:
        baseline = shown_baseline(data)
        needed = 0.0
        previous = baseline
        for q in answered:
            needed += q.reading_seconds
            times.append(round(_seconds(q.first_answer_at, previous), 2))  # type: ignore[arg-type]
            previous = q.first_answer_at  # type: ignore[assignment]
            if _seconds(q.first_answer_at, baseline) < fraction * needed:  # type: ignore[arg-type]
                fast.append(q.position)
    share = len(fast) / len(answered)
    if share >= float(settings["fast_answers_high_share"]):
        severity = Severity.HIGH
    elif share >= float(settings["fast_answers_warn_share"]):
        severity = Severity.WARN
    else:
        return None
    return FlagSpec(data.attempt_id, FlagKind.FAST_ANSWERS, severity, round(share, 3), {
        "answered": len(answered), "too_fast": len(fast), "share": round(share, 3), "positions": fast[:50],
        "seconds_on_question": times[:50],
        "reading_seconds": [round(q.reading_seconds, 1) for q in answered][:50],
        "measured": "per_question" if data.one_at_a_time else "cumulative"})


def check_fast_attempt(data: AttemptData, settings: dict[str, Any]) -> FlagSpec | None:
    if data.submitted_at is None or not data.questions:
        return None
    answered = [q for q in data.questions if q.first_answer_at is not None]
    if len(answered) < int(settings["fast_answers_min_count"]):
        return None
    needed = sum(q.reading_seconds for q in answered)
    last = max(q.first_answer_at for q in answered)  # type: ignore[type-var]
    took = _seconds(last, shown_baseline(data))  # type: ignore[arg-type]
    ratio = took / needed if needed else 1.0
    if ratio < float(settings["fast_attempt_high_fraction"]):
        severity = Severity.HIGH
    elif ratio < float(settings["fast_attempt_warn_fraction"]):
        severity = Severity.WARN
    else:
        return None
    return FlagSpec(data.attempt_id, FlagKind.FAST_ATTEMPT, severity, round(1 - ratio, 3), {
        "seconds_to_last_answer": round(took, 1), "reading_seconds_total": round(needed, 1),
        "ratio": round(ratio, 3), "answered": len(answered),
        "duration_seconds": round(_seconds(data.submitted_at, data.started_at), 1)})


def check_regular_intervals(data: AttemptData, settings: dict[str, Any]) -> FlagSpec | None:
    times = sorted(q.first_answer_at for q in data.questions if q.first_answer_at is not None)  # type: ignore
    gaps = [_seconds(b, a) for a, b in itertools.pairwise(times)]
    if len(gaps) < int(settings["regular_min_intervals"]):
        return None
    mean = sum(gaps) / len(gaps)
    if mean <= 0:
        return None
    cv = math.sqrt(sum((g - mean) ** 2 for g in gaps) / len(gaps)) / mean
    if cv < float(settings["regular_cv_high"]):
        severity = Severity.HIGH
    elif cv < float(settings["regular_cv_warn"]):
        severity = Severity.WARN
    else:
        return None
    return FlagSpec(data.attempt_id, FlagKind.REGULAR_INTERVALS, severity, round(1 - cv, 3), {
        "intervals": len(gaps), "mean_seconds": round(mean, 3), "cv": round(cv, 4),
        "gaps_seconds": [round(g, 2) for g in gaps[:50]]})


def check_multiple_devices(data: AttemptData, settings: dict[str, Any]) -> FlagSpec | None:
    connections = sorted(data.connections, key=lambda c: c.at)
    if len(connections) < 2:
        return None
    devices = {c.device for c in connections}
    networks = {c.network for c in connections if c.network}
    # Two devices at once: a connection that took the attempt from a LIVE connection of another device.
    overlapping = sum(1 for before, after in itertools.pairwise(connections)
                      if after.replaced and after.device != before.device)
    replaced = sum(1 for c in connections if c.replaced)
    if overlapping:
        severity = Severity.HIGH
    elif len(devices) >= 2:
        severity = Severity.WARN
    elif len(networks) >= 2:
        severity = Severity.INFO
    else:
        return None
    return FlagSpec(data.attempt_id, FlagKind.MULTIPLE_DEVICES, severity,
                    float(len(devices) + len(networks) + overlapping), {
                        "connections": len(connections), "devices": len(devices), "networks": len(networks),
                        "replaced_live_connection": replaced, "replaced_by_other_device": overlapping})


def _count_check(data: AttemptData, kind: str, counted: tuple[str, ...], warn: int, high: int | None,
                 ) -> FlagSpec | None:
    counts = {k: data.client_counts.get(k, 0) for k in counted}
    total = sum(counts.values())
    if high is not None and total >= high:
        severity = Severity.HIGH
    elif total >= warn:
        severity = Severity.WARN
    else:
        return None
    return FlagSpec(data.attempt_id, kind, severity, float(total), {"total": total, **counts})


def attempt_checks(data: AttemptData, settings: dict[str, Any]) -> list[FlagSpec]:
    """Every per-attempt check."""
    found = [
        check_fast_answers(data, settings),
        check_fast_attempt(data, settings),
        check_regular_intervals(data, settings),
        check_multiple_devices(data, settings),
        _count_check(data, FlagKind.FOCUS_LOSS, ("hidden", "blur", "fullscreen_exit"),
                     int(settings["focus_loss_warn"]), int(settings["focus_loss_high"])),
        _count_check(data, FlagKind.COPY_PASTE, ("copy", "paste"), int(settings["copy_paste_warn"]),
                     int(settings["copy_paste_high"])),
        _count_check(data, FlagKind.RELOADS, ("reload",), int(settings["reloads_warn"]), None),
    ]
    return [f for f in found if f is not None]


# --- round-level: many attempts from one network or device in a short window ----------------------------
@dataclass
class FirstConnection:
    attempt_id: int
    user_id: int
    at: dt.datetime
    network: str
    device: str


def _windows(rows: list[FirstConnection], window: dt.timedelta, threshold: int,
             needed: Any = None) -> tuple[set[int], int]:
    """Attempts inside any window of length ``window`` holding ≥ ``threshold`` distinct people (or ≥
    ``needed(start, end)`` when given); and the largest number of distinct people seen in one window."""
    rows = sorted(rows, key=lambda r: r.at)
    flagged: set[int] = set()
    best = 0
    start = 0
    users: dict[int, int] = {}
    for end, row in enumerate(rows):
        users[row.user_id] = users.get(row.user_id, 0) + 1
        while row.at - rows[start].at > window:
            old = rows[start].user_id
            users[old] -= 1
            if not users[old]:
                del users[old]
            start += 1
        best = max(best, len(users))
        if len(users) >= threshold and (needed is None or len(users) >= needed(rows[start].at, row.at)):
            flagged.update(r.attempt_id for r in rows[start:end + 1])
    return flagged, best


def check_network_bursts(rows: list[FirstConnection], settings: dict[str, Any]) -> list[FlagSpec]:
    window = dt.timedelta(minutes=float(settings["burst_window_minutes"]))
    by_network: dict[str, list[FirstConnection]] = {}
    by_device: dict[str, list[FirstConnection]] = {}
    for row in rows:
        if row.network:
            by_network.setdefault(row.network, []).append(row)
        # A user-agent hash is shared by every phone of one model and browser version: it names a device only
        # together with the network. A device cookie names one browser wherever it is.
        key = f"{row.device}@{row.network}" if row.device.startswith("ua:") else row.device
        if key:
            by_device.setdefault(key, []).append(row)
    found: dict[int, FlagSpec] = {}
    device_warn, device_high = int(settings["burst_device_warn"]), int(settings["burst_device_high"])
    for key, group in by_device.items():
        if len({r.user_id for r in group}) < device_warn:
            continue
        flagged, best = _windows(group, window, device_warn)
        severity = Severity.HIGH if best >= device_high else Severity.WARN
        for attempt_id in flagged:
            found[attempt_id] = FlagSpec(attempt_id, FlagKind.NETWORK_BURST, severity, float(best), {
                "by": "device", "people_in_window": best, "window_minutes": window.total_seconds() / 60},
                group_key=f"device:{_short(key)}")
    network_warn = int(settings["burst_network_warn"])
    moments = sorted(r.at.timestamp() for r in rows)
    everyone = max(1, len({r.user_id for r in rows}))
    for network, group in by_network.items():
        people = len({r.user_id for r in group})
        if people < network_warn:
            continue
        share = people / everyone

        def needed(start: dt.datetime, end: dt.datetime, share: float = share) -> float:
            # A busy carrier network is busy whenever the round is: a burst is ≥ 5× its usual share of the
            # attempts started in the same minutes (all networks), plus 5.
            around = (bisect.bisect_right(moments, end.timestamp() + window.total_seconds() / 2)
                      - bisect.bisect_left(moments, start.timestamp() - window.total_seconds() / 2))
            return 5 * share * around + 5

        flagged, best = _windows(group, window, network_warn, needed)
        for attempt_id in flagged:
            if attempt_id not in found:
                found[attempt_id] = FlagSpec(attempt_id, FlagKind.NETWORK_BURST, Severity.WARN, float(best), {
                    "by": "network", "network": network, "people_in_window": best,
                    "window_minutes": window.total_seconds() / 60}, group_key=f"network:{network}")
    return list(found.values())


def _short(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:12]

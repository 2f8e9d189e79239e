"""Checks across attempts and accounts: prediction farming, duplicate persons, account-creation bursts."""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
import unicodedata
import zlib
from dataclasses import dataclass
from typing import Any

from anticheat.checks.inexam import FirstConnection, FlagSpec, _windows
from anticheat.models import FlagKind, Severity


@dataclass
class PredictionRow:
    attempt_id: int
    user_id: int
    prediction: int
    network: str
    device: str


def binomial_upper_tail(n: int, k: int, q: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, q), summed in log space."""
    if k <= 0:
        return 1.0
    if q <= 0:
        return 0.0
    if q >= 1:
        return 1.0
    log_q, log_r = math.log(q), math.log1p(-q)
    terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_q + (n - i) * log_r
             for i in range(k, n + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def check_prediction_farming(rows: list[PredictionRow], settings: dict[str, Any]) -> list[FlagSpec]:
    """Many accounts from one network or device whose predictions cover a run of near-consecutive values
    (sorted distinct values, each at most ``farming_max_gap`` above the previous) — more of them than the
    round's own spread of predictions explains: with G accounts in the group and a share q of all the round's
    predictions inside the run's range, k accounts in the run must have a binomial tail P(X ≥ k; G, q) below
    ``farming_alpha`` / (groups examined). A carrier network holding hundreds of people whose guesses bunch
    around popular values is therefore not a farm; twenty accounts on 1000…1019 are."""
    minimum, gap = int(settings["farming_min_accounts"]), int(settings["farming_max_gap"])
    high_at = int(settings["farming_high_accounts"])
    everyone = sorted(r.prediction for r in rows)
    total = len(everyone)
    groups: dict[tuple[str, str], list[PredictionRow]] = {}
    for row in rows:
        if row.network:
            groups.setdefault(("network", row.network), []).append(row)
        key = f"{row.device}@{row.network}" if row.device.startswith("ua:") else row.device
        if key:
            groups.setdefault(("device", key), []).append(row)
    examined = {k: g for k, g in groups.items() if len({r.user_id for r in g}) >= minimum}
    threshold = float(settings["farming_alpha"]) / max(1, len(examined))
    found: dict[int, FlagSpec] = {}
    for (by, key), group in examined.items():
        size = len({r.user_id for r in group})
        group.sort(key=lambda r: r.prediction)
        run: list[PredictionRow] = [group[0]]
        for row in [*group[1:], None]:
            if row is not None and row.prediction - run[-1].prediction <= gap:
                run.append(row)
                continue
            people_in_run = {r.user_id for r in run}
            values = sorted({r.prediction for r in run})
            if len(people_in_run) >= minimum and len(values) >= minimum:
                inside = bisect.bisect_right(everyone, values[-1]) - bisect.bisect_left(everyone, values[0])
                q = inside / total if total else 1.0
                # The run's own accounts are in ``inside``: leave them out of the round's spread.
                q_others = max(inside - len(run), 0) / max(total - len(run), 1)
                p_value = binomial_upper_tail(size, len(people_in_run), max(q_others, 1.0 / max(total, 1)))
                if p_value <= threshold:
                    severity = Severity.HIGH if len(people_in_run) >= high_at or by == "device" else Severity.WARN
                    evidence = {"by": by, "accounts": len(people_in_run), "accounts_in_group": size,
                                "distinct_predictions": len(values), "from": values[0], "to": values[-1],
                                "max_gap": gap, "share_of_round_in_range": round(q, 5),
                                "p_value": float(f"{p_value:.3g}")}
                    if by == "network":
                        evidence["network"] = key
                    for r in run:
                        old = found.get(r.attempt_id)
                        if old is None or (severity == Severity.HIGH and old.severity != Severity.HIGH):
                            found[r.attempt_id] = FlagSpec(r.attempt_id, FlagKind.PREDICTION_FARMING, severity,
                                                           float(len(people_in_run)), evidence,
                                                           group_key=f"farm:{by}:{values[0]}-{values[-1]}")
            if row is not None:
                run = [row]
    return list(found.values())


_SPACES = re.compile(r"\s+")


def normalised_name(name: str) -> str:
    """Case, spacing and diacritics removed ("Nguyễn  Văn An" → "nguyen van an"; đ → d)."""
    text = unicodedata.normalize("NFD", (name or "").replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SPACES.sub(" ", text).strip().casefold()


@dataclass
class PersonRow:
    attempt_id: int
    registration_id: int
    user_id: int
    full_name: str
    date_of_birth: dt.date | None
    unit_id: int | None


def check_duplicate_persons(rows: list[PersonRow], others: list[PersonRow]) -> list[FlagSpec]:
    """Accounts of one contest with the same normalised name and birth date (and unit: high). ``rows`` are
    the round's attempts; ``others`` every registration of the contest (attempt_id 0 when not in the round)."""
    people: dict[tuple[str, dt.date], dict[int, PersonRow]] = {}
    for row in [*others, *rows]:
        if row.date_of_birth is None or not normalised_name(row.full_name):
            continue
        people.setdefault((normalised_name(row.full_name), row.date_of_birth), {})[row.user_id] = row
    flags: list[FlagSpec] = []
    for (name, born), by_user in people.items():
        if len(by_user) < 2:
            continue
        for row in rows:
            if (normalised_name(row.full_name), row.date_of_birth) != (name, born):
                continue
            same_unit = sum(1 for other in by_user.values() if other.user_id != row.user_id
                            and other.unit_id == row.unit_id)
            severity = Severity.HIGH if same_unit else Severity.WARN
            flags.append(FlagSpec(row.attempt_id, FlagKind.DUPLICATE_PERSON, severity, float(len(by_user)), {
                "accounts": len(by_user), "same_unit": same_unit,
                "registrations": sorted(r.registration_id for r in by_user.values())[:20]},
                group_key=f"person:{born.isoformat()}:{zlib.crc32(name.encode())}"))
    return flags


@dataclass
class SignupRow:
    user_id: int
    at: dt.datetime
    network: str
    device: str


def check_signup_bursts(signups: list[SignupRow], attempts_by_user: dict[int, list[int]],
                        settings: dict[str, Any]) -> list[FlagSpec]:
    window = dt.timedelta(minutes=float(settings["signup_window_minutes"]))
    warn, high_device = int(settings["signup_warn"]), int(settings["signup_high_same_device"])
    by_network: dict[str, list[SignupRow]] = {}
    for row in signups:
        if row.network:
            by_network.setdefault(row.network, []).append(row)
    flags: dict[int, FlagSpec] = {}
    for network, group in by_network.items():
        if len(group) < warn:
            continue
        as_rows = [FirstConnection(attempt_id=r.user_id, user_id=r.user_id, at=r.at, network=network, device=r.device)
                   for r in group]
        users, best = _windows(as_rows, window, warn)
        if not users:
            continue
        devices: dict[str, int] = {}
        for r in group:
            if r.user_id in users:
                devices[r.device] = devices.get(r.device, 0) + 1
        top_device = max(devices.values()) if devices else 0
        severity = Severity.HIGH if top_device >= high_device else Severity.WARN
        for user_id in users:
            for attempt_id in attempts_by_user.get(user_id, []):
                flags[attempt_id] = FlagSpec(attempt_id, FlagKind.SIGNUP_BURST, severity, float(best), {
                    "network": network, "accounts_in_window": best, "same_device": top_device,
                    "window_minutes": window.total_seconds() / 60}, group_key=f"signup:{network}")
    return list(flags.values())

"""Answer copying: pairs of attempts that share too many identical WRONG answers to be independent.

The statistic (docs/anti-cheat.md has the derivation and its limits). For a pair (A, B) let W be the questions
both answered wrongly and M the number of those where they chose the same wrong option. If B answered
independently of A, then on a question j of W, B picked A's wrong option with probability
``f_j(o_A)`` = the share of that option among all wrong answers to j in the round (option frequencies: a rare
wrong option weighs more). M is then a sum of independent Bernoulli(p_j) — a Poisson-binomial variable —
and the p-value of the pair is its upper tail P(M ≥ m). Computed from both sides (p_j from A's options and
from B's), keeping the larger tail. This is the binomial/Poisson family of copying indices (Holland's
K-index; the generalised binomial test of van der Linden & Sotaridona, 2006), with the round's empirical
option frequencies instead of an IRT model (frequencies leave the pair out, see ``Frequencies``). The tail is
computed exactly (the Poisson-binomial recurrence, vectorised over pairs); a Poisson approximation would
overstate it badly when most of the shared wrong answers match.

False positives: a pair is flagged when p ≤ α / T, T = the number of pairs tested in the round (Bonferroni),
and M ≥ ``copying_min_matches``; so under independence the chance of any false flag in a round is ≤ α
(default 0.01) for pairs tested because they share a network, device or unit. Pairs surfaced by the answer
hash were selected for looking alike, so for them the bound is a screening rule, not a guarantee.

Candidates, never all pairs: (1) every pair inside a block of at most ``copying_block_max`` attempts sharing a
first-connection network, a device, or a unit; (2) MinHash locality-sensitive hashing of each attempt's set of
wrong answers (``copying_lsh_bands`` bands of ``copying_lsh_rows`` hashes): two attempts whose wrong-answer
sets have Jaccard similarity J collide in some band with probability 1 − (1 − J^r)^b (≈ 0.996 at J = 0.6 with
the defaults). Vectorised with numpy: 100,000 attempts × 25 questions take a few seconds.
"""

from __future__ import annotations

import io
import json
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection

from anticheat.checks.inexam import FlagSpec
from anticheat.models import FlagKind, Severity
from contests.models import Answer, AttemptStatus

ANALYSED_STATUSES = (AttemptStatus.SUBMITTED, AttemptStatus.EXPIRED, AttemptStatus.DISQUALIFIED)
_PRIME = np.int64(2_147_483_647)  # 2^31 − 1

_COPY_ANSWERS = """
COPY (SELECT a.attempt_id, q.question_id, hashtext(a.response::text)::int8,
             CASE WHEN a.is_correct THEN 1::int8 ELSE 0::int8 END
      FROM contests_answer a
      JOIN contests_attempt t ON t.id = a.attempt_id
      JOIN contests_attemptquestion q ON q.id = a.attempt_question_id
      WHERE t.round_id = {round_id} AND t.status IN ('submitted', 'expired', 'disqualified')
        AND a.response NOT IN ('{{"options": []}}'::jsonb, '{{"text": ""}}'::jsonb, '{{"number": ""}}'::jsonb))
TO STDOUT (FORMAT binary)
"""
_ROW = np.dtype([("n", ">i2"), ("l1", ">i4"), ("attempt", ">i8"), ("l2", ">i4"), ("question", ">i8"),
                 ("l3", ">i4"), ("token", ">i8"), ("l4", ">i4"), ("correct", ">i8")])


@dataclass
class AnswerTable:
    attempt: np.ndarray  # int64 attempt ids, one per answer
    question: np.ndarray  # int64 bank question ids
    token: np.ndarray  # int64 hash of the response
    correct: np.ndarray  # bool


def answers_load(*, round_id: int) -> AnswerTable:
    """Every non-empty answer of the round's finished attempts. PostgreSQL: one binary COPY read by numpy."""
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        buffer = io.BytesIO()
        with connection.connection.cursor() as cursor, cursor.copy(
                _COPY_ANSWERS.format(round_id=int(round_id))) as copy:
            for chunk in copy:
                buffer.write(chunk)
        raw = buffer.getbuffer()
        body = raw[19:len(raw) - 2]  # 19-byte header (signature, flags, extension length), 2-byte trailer
        rows = np.frombuffer(body, dtype=_ROW)
        table = AnswerTable(rows["attempt"].astype(np.int64), rows["question"].astype(np.int64),
                            rows["token"].astype(np.int64), rows["correct"].astype(bool))
        del rows, body, raw
        buffer.close()
        return table
    values = list(Answer.objects.filter(attempt__round_id=round_id, attempt__status__in=ANALYSED_STATUSES)
                  .values_list("attempt_id", "attempt_question__question_id", "response", "is_correct"))
    values = [v for v in values if v[2] not in ({"options": []}, {"text": ""}, {"number": ""})]
    return AnswerTable(
        np.array([v[0] for v in values], dtype=np.int64), np.array([v[1] for v in values], dtype=np.int64),
        np.array([zlib.crc32(json.dumps(v[2], sort_keys=True).encode()) for v in values], dtype=np.int64),
        np.array([bool(v[3]) for v in values], dtype=bool))


@dataclass
class AttemptMeta:
    ids: np.ndarray  # sorted attempt ids
    started: np.ndarray  # epoch seconds
    submitted: np.ndarray  # epoch seconds
    blocks: dict[str, Sequence[int | str | None]] = field(default_factory=dict)  # name → key per attempt


@dataclass
class CopyingResult:
    flags: list[FlagSpec]
    stats: dict[str, Any]


def _distinct(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a sort and a mask: numpy's hash-based ``unique`` is several times slower on
    millions of int64 pair codes)."""
    if not len(x):
        return x
    x = np.sort(x)
    return x[np.r_[True, x[1:] != x[:-1]]]


def _codes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(x, return_inverse=True)`` by sorting."""
    order = np.argsort(x, kind="stable")
    sx = x[order]
    first = np.r_[True, sx[1:] != sx[:-1]] if len(sx) else np.empty(0, dtype=bool)
    inverse = np.empty(len(x), dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return sx[first], inverse


def _minhash_bands(rows_attempt: np.ndarray, codes: np.ndarray, n: int, bands: int, rows: int,
                   eligible: np.ndarray) -> list[np.ndarray]:
    """For each band, one int64 signature per attempt (−1 for attempts without enough wrong answers)."""
    rng = np.random.default_rng(20261129)
    order = np.argsort(rows_attempt, kind="stable")
    rows_attempt, codes = rows_attempt[order], codes[order]
    starts = np.flatnonzero(np.r_[True, rows_attempt[1:] != rows_attempt[:-1]])
    owners = rows_attempt[starts]
    signatures = []
    x = codes.astype(np.int64) + 1
    for _ in range(bands):
        signature = np.zeros(len(owners), dtype=np.int64)
        for _ in range(rows):
            a = np.int64(rng.integers(1, _PRIME - 1))
            b = np.int64(rng.integers(0, _PRIME - 1))
            hashed = (a * x + b) % _PRIME
            signature = signature * np.int64(1_000_003) + np.minimum.reduceat(hashed, starts)
        full = np.full(n, -1, dtype=np.int64)
        full[owners] = signature
        full[~eligible] = -1
        signatures.append(full)
    return signatures


def _pairs_in_groups(keys: np.ndarray, cap: int) -> np.ndarray:
    """All pairs (as i·n + j, i < j, over the indices of ``keys``) of equal keys ≥ 0, in groups of 2..cap."""
    valid = np.flatnonzero(keys >= 0)
    if len(valid) < 2:
        return np.empty(0, dtype=np.int64)
    order = valid[np.argsort(keys[valid], kind="stable")]
    sorted_keys = keys[order]
    bounds = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1], True])
    sizes = np.diff(bounds)
    n = np.int64(len(keys))
    out = []
    for size in range(2, cap + 1):
        groups = np.flatnonzero(sizes == size)
        if not len(groups):
            continue
        members = order[bounds[groups][:, None] + np.arange(size)[None, :]]  # groups × size
        members.sort(axis=1)
        i, j = np.triu_indices(size, k=1)
        out.append((members[:, i] * n + members[:, j]).ravel())
    return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


def poisson_binomial_tails(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Exact P(M ≥ m) per row, M = the sum of independent Bernoulli(p) over the row (zeros are no trial).
    Vectorised over rows: the non-zero p of each row are packed to the left, then one pass of the usual
    recurrence per column."""
    width = int((p > 0).sum(axis=1).max()) if len(p) else 0
    packed = -np.sort(-p, axis=1)[:, :max(width, 1)]
    dist = np.zeros((len(p), width + 2))
    dist[:, 0] = 1.0
    for column in range(width):
        pj = packed[:, column][:, None]
        dist[:, 1:] = dist[:, 1:] * (1 - pj) + dist[:, :-1] * pj
        dist[:, 0] *= (1 - pj[:, 0])
    k = np.arange(width + 2)[None, :]
    return np.minimum(1.0, (dist * (k >= m[:, None])).sum(axis=1))


def poisson_binomial_upper_tail(p: Sequence[float], m: int) -> float:
    """Exact P(M ≥ m) for M a sum of independent Bernoulli(p_j)."""
    dist = [1.0]
    for pj in p:
        nxt = [0.0] * (len(dist) + 1)
        for k, mass in enumerate(dist):
            nxt[k] += mass * (1 - pj)
            nxt[k + 1] += mass * pj
        dist = nxt
    return float(sum(dist[m:]))


def copying_analyse(*, table: AnswerTable, meta: AttemptMeta, settings: dict[str, Any]) -> CopyingResult:
    n = len(meta.ids)
    stats: dict[str, Any] = {"attempts": n, "answers": len(table.attempt)}
    if n < 2 or not len(table.attempt):
        return CopyingResult([], {**stats, "pairs_tested": 0, "pairs_flagged": 0})
    index = np.searchsorted(meta.ids, table.attempt)
    known = (index < n) & (meta.ids[np.minimum(index, n - 1)] == table.attempt)
    wrong = known & ~table.correct
    w_attempt, w_question, w_token = index[wrong], table.question[wrong], table.token[wrong]
    questions, w_col = _codes(w_question)
    # One code per (question, wrong response); f = its share of the wrong answers to that question.
    combined = w_col.astype(np.int64) * np.int64(1 << 33) + (w_token & np.int64((1 << 33) - 1))
    options, w_code = _codes(combined)
    code_count = np.bincount(w_code, minlength=len(options)).astype(np.float64)
    question_wrong = np.bincount(w_col, minlength=len(questions)).astype(np.float64)
    code_col = (options >> np.int64(33)).astype(np.int64)
    kinds = np.bincount(code_col, minlength=len(questions)).astype(np.float64)  # distinct wrong answers per question
    freq = Frequencies(code_count, question_wrong[code_col], kinds[code_col])
    matrix = np.zeros((n, len(questions)), dtype=np.int32)  # wrong answer code + 1; 0 = right or none
    matrix[w_attempt, w_col] = w_code.astype(np.int32) + 1
    wrong_count = np.bincount(w_attempt, minlength=n)
    min_matches = int(settings["copying_min_matches"])
    eligible = wrong_count >= min_matches

    cap = int(settings["copying_block_max"])
    candidates = []
    for keys in meta.blocks.values():
        _, key_codes = np.unique(np.array([str(k) if k not in (None, "") else "" for k in keys]), return_inverse=True)
        key_codes = key_codes.astype(np.int64)
        blank = np.array([k in (None, "") for k in keys])
        key_codes[blank | ~eligible] = -1
        candidates.append(_pairs_in_groups(key_codes, cap))
    block_pairs = _distinct(np.concatenate(candidates)) if candidates else np.empty(0, dtype=np.int64)
    lsh = [_pairs_in_groups(sig, cap) for sig in _minhash_bands(
        w_attempt, w_code, n, int(settings["copying_lsh_bands"]), int(settings["copying_lsh_rows"]), eligible)]
    lsh_pairs = _distinct(np.concatenate(lsh)) if lsh else np.empty(0, dtype=np.int64)
    pairs = _distinct(np.concatenate([block_pairs, lsh_pairs]))
    tested = len(pairs)
    stats.update(pairs_tested=int(tested), pairs_from_blocks=len(block_pairs), pairs_from_hash=len(lsh_pairs),
                 all_pairs=n * (n - 1) // 2)
    if not tested:
        return CopyingResult([], {**stats, "pairs_flagged": 0})
    threshold = float(settings["copying_alpha"]) / tested
    found: list[tuple[int, int, int, float, float]] = []
    for start in range(0, tested, 50_000):  # ~50 MB of temporaries per chunk, whatever the round's size
        chunk = pairs[start:start + 50_000]
        i, j = chunk // n, chunk % n
        a, b = matrix[i], matrix[j]
        both = (a > 0) & (b > 0)
        same = both & (a == b)
        m = same.sum(axis=1)
        keep = m >= min_matches
        if not keep.any():
            continue
        i, j, a, b, both, m = i[keep], j[keep], a[keep], b[keep], both[keep], m[keep]
        for s in range(0, len(i), 20_000):
            part = slice(s, s + 20_000)
            p_a, p_b = freq.pair(a[part], b[part])
            p = np.where(both[part], np.maximum(p_a, p_b), 0.0)
            tail = poisson_binomial_tails(p, m[part])
            lam = p.sum(axis=1)
            hit = tail <= threshold
            for x, y, mm, lm, pv in zip(i[part][hit], j[part][hit], m[part][hit], lam[hit], tail[hit], strict=True):
                found.append((int(x), int(y), int(mm), float(lm), float(pv)))
    stats["pairs_flagged"] = len(found)
    close = float(settings["copying_close_minutes"]) * 60
    flags = _pair_flags(found, matrix, freq, meta, close, threshold)
    return CopyingResult(flags, stats)


class Frequencies:
    """The chance that an independent examinee who got question j wrong chose a given wrong answer: its share
    of the OTHER examinees' wrong answers to j (the pair itself left out, or a ring would vouch for itself),
    smoothed by half a count per distinct wrong answer so an option nobody else chose is rare, not impossible."""

    def __init__(self, count: np.ndarray, wrong_on_question: np.ndarray, kinds_on_question: np.ndarray) -> None:
        self.count, self.wrong, self.kinds = count, wrong_on_question, kinds_on_question

    def pair(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """p_j from A's answers and from B's, for code matrices (code + 1; 0 = not wrong) of equal shape."""
        ia, ib = np.maximum(a, 1) - 1, np.maximum(b, 1) - 1
        same = (a == b).astype(np.float64)
        others = np.maximum(self.wrong[ia] - 2.0, 0.0) + 0.5 * self.kinds[ia]
        p_a = (np.maximum(self.count[ia] - 1.0 - same, 0.0) + 0.5) / others
        p_b = (np.maximum(self.count[ib] - 1.0 - same, 0.0) + 0.5) / others
        return np.minimum(p_a, 1.0), np.minimum(p_b, 1.0)


def _pair_flags(found: list[tuple[int, int, int, float, float]], matrix: np.ndarray, freq: Frequencies,
                meta: AttemptMeta, close_seconds: float, threshold: float) -> list[FlagSpec]:
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    best: dict[int, dict[str, Any]] = {}
    partners: dict[int, list[int]] = {}
    for i, j, m, lam, _ in found:
        parent[root(i)] = root(j)
        both = (matrix[i] > 0) & (matrix[j] > 0)
        p_a, p_b = freq.pair(matrix[i][both], matrix[j][both])
        p = np.maximum(p_a, p_b)
        exact = poisson_binomial_upper_tail(p.tolist(), m)
        timed = (abs(float(meta.started[i] - meta.started[j])) <= close_seconds
                 or abs(float(meta.submitted[i] - meta.submitted[j])) <= close_seconds)
        for me, other in ((i, j), (j, i)):
            partners.setdefault(me, []).append(int(meta.ids[other]))
            record = {"partner_attempt_id": int(meta.ids[other]), "identical_wrong": m,
                      "both_wrong": int(both.sum()), "expected_identical": round(lam, 3),
                      "p_value": float(f"{exact:.3g}"), "threshold": float(f"{threshold:.3g}"),
                      "close_in_time": bool(timed),
                      "start_gap_minutes": round(abs(float(meta.started[i] - meta.started[j])) / 60, 1)}
            if me not in best or exact < best[me]["p_value"] or (timed and not best[me]["close_in_time"]):
                best[me] = record
    flags = []
    for me, record in best.items():
        severity = Severity.HIGH if record["close_in_time"] else Severity.WARN
        others = sorted(set(partners[me]))
        flags.append(FlagSpec(int(meta.ids[me]), FlagKind.ANSWER_COPYING, severity,
                              round(-math.log10(max(record["p_value"], 1e-300)), 2),
                              {**record, "partners": others[:20], "partner_count": len(others)},
                              group_key=f"ring:{int(meta.ids[root(me)])}"))
    return flags

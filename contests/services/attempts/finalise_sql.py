"""Set-based finalisation of a batch of attempts: the contract of ``finish._finalise_rows`` (score from the
stored answers, each answer's credit, status, finish time, duration) in ONE SQL statement.

Why a second implementation: the Python reference costs ~0.5–0.7 ms per attempt (model instances for every
answer, the strategy's Decimal arithmetic per question, the parameters of two ``UPDATE … FROM VALUES``);
at the end of a round thousands of attempts finish within seconds (the submit storm, the sweeper), and in
a server process that time is taken from the event loop (one GIL). Here the database grades the answers
against the stored keys, writes every answer's credit and every attempt's totals, and returns the new
values: the Python per attempt is reading one returned row.

Only what it reproduces exactly is done here — everything else goes to the reference (``finish``):
- the round's scoring rule is ``weighted`` (the registered ``WeightedScoring``, not a replacement);
- every question of the attempt is a choice question (``single``, ``truefalse``, ``multiple``): no essays
  (the judges' marks), no numeric or short text (Python's normalisation rules).
``tests/contests/test_finalise_sql.py`` runs both on generated attempts (hypothesis) and requires equal
scores, counts, credits, finish times and durations; if ``grade_response`` gains a rule for choice
questions, that test fails until this statement follows.

Rules, as in ``contests.scoring.grade_response`` (``chosen`` = the set of option ids given, as text):
no choice → 0, not correct; ``multiple`` without partial credit → 1 if ``chosen`` equals the set of options
with a positive fraction, else 0; ``multiple`` with partial credit → the sum of the chosen options'
fractions; ``single``/``truefalse`` → the one chosen option's fraction (0 for several); then clamped to
[0, 1], fully correct at 1, and 0 unless fully correct without partial credit. A question's mark is
points × fraction rounded half up to 7 decimals, the attempt's score the sum rounded half up to 3
(PostgreSQL's ``round(numeric)`` rounds half away from zero: the same for these non-negative marks).
Only the fractions a rule reads are cast (``grade_response`` converts them all): a corrupt fraction fails
the attempt here when it is read, and is ignored when it is not — the scores of valid keys are the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection

from contests.models import Attempt, AttemptStatus, SubmitKind
from contests.scoring import WeightedScoring, strategy_class

CHOICE_TYPES = ("single", "truefalse", "multiple")

_NOT_CHOICE = """
SELECT DISTINCT attempt_id FROM contests_attemptquestion
WHERE attempt_id = ANY(%s::bigint[]) AND coalesce(snapshot->>'type', '') <> ALL(%s::text[])
"""

_FINALISE = """
WITH w AS MATERIALIZED (
  SELECT a.id AS attempt_id, x.partial
  FROM unnest(%(ids)s::bigint[], %(partial)s::bool[]) AS x(attempt_id, partial)
  JOIN contests_attempt a ON a.id = x.attempt_id AND a.status = 'in_progress'
),
given AS MATERIALIZED (
  SELECT an.id, an.attempt_id, w.partial, q.points, q.snapshot->>'type' = 'multiple' AS multiple,
         q.key->'options' AS options,
         ARRAY(SELECT DISTINCT e FROM jsonb_array_elements_text(
           CASE jsonb_typeof(an.response->'options') WHEN 'array' THEN an.response->'options' ELSE '[]'::jsonb END
         ) AS e ORDER BY e) AS chosen,
         CASE WHEN q.snapshot->>'type' = 'multiple' AND NOT w.partial THEN ARRAY(SELECT o.k FROM jsonb_each_text(
           CASE jsonb_typeof(q.key->'options') WHEN 'object' THEN q.key->'options' ELSE '{}'::jsonb END
         ) AS o(k, v) WHERE o.v::numeric > 0 ORDER BY o.k) END AS correct
  FROM w
  JOIN contests_answer an ON an.attempt_id = w.attempt_id
  JOIN contests_attemptquestion q ON q.id = an.attempt_question_id
),
raw AS MATERIALIZED (
  SELECT id, attempt_id, partial, points, greatest(0::numeric, least(1::numeric, CASE
      WHEN cardinality(chosen) = 0 THEN 0::numeric
      WHEN multiple AND NOT partial THEN CASE WHEN chosen = correct THEN 1::numeric ELSE 0::numeric END
      WHEN multiple THEN coalesce((SELECT sum((options->>e)::numeric) FROM unnest(chosen) AS e), 0::numeric)
      WHEN cardinality(chosen) = 1 THEN coalesce((options->>chosen[1])::numeric, 0::numeric)
      ELSE 0::numeric END)) AS clamped
  FROM given
),
g AS MATERIALIZED (
  SELECT id, attempt_id, clamped >= 1 AS is_full,
         CASE WHEN clamped > 0 AND (partial OR clamped >= 1) THEN round(points * clamped, 7) ELSE 0::numeric END AS pts
  FROM raw
),
answers_written AS (
  UPDATE contests_answer t SET is_correct = g.is_full, points_awarded = g.pts FROM g WHERE t.id = g.id
  RETURNING t.id
),
totals AS (
  SELECT attempt_id, round(sum(pts), 3) AS score, count(*) FILTER (WHERE is_full) AS correct
  FROM g GROUP BY attempt_id
)
UPDATE contests_attempt t SET
  status = %(status)s, submit_kind = %(kind)s,
  submitted_at = least(%(now)s::timestamptz, t.deadline),
  duration_ms = greatest(0, floor(extract(epoch FROM least(%(now)s::timestamptz, t.deadline) - t.started_at)
                                  * 1000))::bigint,
  score = coalesce(totals.score, 0), correct_count = coalesce(totals.correct, 0)
FROM w LEFT JOIN totals USING (attempt_id)
WHERE t.id = w.attempt_id
RETURNING t.id, t.submitted_at, t.duration_ms, t.score, t.correct_count
"""


def set_based_ids(attempts: Sequence[Attempt]) -> set[int]:
    """The attempts (rounds attached) this module finalises exactly; the others go to the reference."""
    if connection.vendor != "postgresql" or strategy_class(WeightedScoring.name) is not WeightedScoring:
        return set()
    weighted = [a.pk for a in attempts if a.round.settings.scoring_rule == WeightedScoring.name]
    if not weighted:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(_NOT_CHOICE, [weighted, list(CHOICE_TYPES)])
        other = {row[0] for row in cursor.fetchall()}
    return set(weighted) - other


def attempts_finalise_set_based(attempts: Sequence[Attempt], *, now: dt.datetime, kind: str) -> None:
    """Score and close locked, in-progress attempts (all of ``set_based_ids``) in one statement, and set the
    stored values on the instances. The caller holds the row locks inside a transaction and sends the
    signal."""
    if not attempts:
        return
    status = AttemptStatus.SUBMITTED if kind == SubmitKind.CLIENT else AttemptStatus.EXPIRED
    params: dict[str, Any] = {
        "ids": [a.pk for a in attempts],
        "partial": [a.round.settings.partial_credit == "fractions" for a in attempts],
        "status": str(status), "kind": str(kind), "now": now,
    }
    with connection.cursor() as cursor:
        # An OLTP statement: PostgreSQL's JIT (its cost estimate of the per-answer JSON work crosses
        # jit_above_cost) compiled for ~250 ms to save a few; off for the rest of this transaction only.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(_FINALISE, params)
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    for attempt in attempts:
        stored = rows.get(attempt.pk)
        if stored is None:  # not in progress after all: the caller's contract was broken
            raise RuntimeError(f"attempt {attempt.pk} was not in progress when finalised")
        attempt.submitted_at, attempt.duration_ms, attempt.score, attempt.correct_count = stored
        attempt.status = status
        attempt.submit_kind = kind

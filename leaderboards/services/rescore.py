"""Rescoring after a question correction (``questionbank.services.review.question_corrected``).

A reviewer corrected a question version in place (usually a wrong key): every attempt that drew it gets the
corrected key on its ``AttemptQuestion`` row and is scored again from its stored answers with the round's
scoring strategy (the database is the truth: scores are recomputed, never adjusted). Live boards of the
affected rounds are rebuilt after the commit. Stored official rankings do not move by themselves: an
organiser recomputes them (``ranking_compute``), which shows what changed — a locked one only as an audited
revision.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction

from contests.models import FINISHED_STATUSES, Answer, Attempt, AttemptQuestion, AttemptStatus, Round
from contests.scoring import get_strategy
from contests.services._common import audit, bulk_update_rows
from contests.services.attempts.finish import attempt_score_inputs
from contests.services.attempts.start import snapshot_question
from contests.services.contests import round_results_changed
from leaderboards.services.live import leaderboard_rebuild

BATCH = 500


def attempts_rescore_for_question(*, question: Any, actor: Any = None) -> dict[str, int]:
    """Refresh the key of every drawn copy of ``question`` and rescore the finished attempts. Returns counts."""
    _, key = snapshot_question(question)
    statuses = (*FINISHED_STATUSES, AttemptStatus.DISQUALIFIED)
    attempt_ids = list(AttemptQuestion.objects.filter(question=question, attempt__status__in=statuses)
                       .values_list("attempt_id", flat=True).distinct())
    changed = 0
    rounds: set[int] = set()
    with transaction.atomic():
        AttemptQuestion.objects.filter(question=question).update(key=key)
        for start in range(0, len(attempt_ids), BATCH):
            attempts = list(Attempt.objects.select_for_update(of=("self",)).select_related("round__contest")
                            .filter(pk__in=attempt_ids[start:start + BATCH]))
            inputs, answers = attempt_score_inputs(attempts)
            by_attempt: dict[int, dict[int, Answer]] = defaultdict(dict)
            for answer in answers:
                by_attempt[answer.attempt_id][answer._position] = answer  # type: ignore[attr-defined]
            touched_answers: list[Answer] = []
            touched: list[Attempt] = []
            for attempt in attempts:
                s = attempt.round.settings
                outcome = get_strategy(s.scoring_rule).score(inputs.get(attempt.pk, []),
                                                             partial=s.partial_credit == "fractions",
                                                             time_limit_seconds=s.time_limit_seconds)
                for q in outcome.questions:
                    answer = by_attempt[attempt.pk].get(q.position)
                    if answer is not None and (answer.is_correct, answer.points_awarded) != (q.is_correct, q.points):
                        answer.is_correct, answer.points_awarded = q.is_correct, q.points
                        touched_answers.append(answer)
                if (attempt.score, attempt.correct_count) != (outcome.score, outcome.correct_count):
                    attempt.score, attempt.correct_count = outcome.score, outcome.correct_count
                    touched.append(attempt)
                    rounds.add(attempt.round_id)
            bulk_update_rows(touched, ["score", "correct_count"])
            bulk_update_rows(touched_answers, ["is_correct", "points_awarded"])
            changed += len(touched)
        round_results_changed(round_ids=rounds)
        audit(actor=actor, action="leaderboards.attempts_rescored", target=question,
              organisation=getattr(question, "organisation_id", None),
              data={"attempts": len(attempt_ids), "changed": changed, "rounds": sorted(rounds)})

        def rebuild() -> None:
            for round in Round.objects.filter(pk__in=rounds).select_related("contest"):
                leaderboard_rebuild(round=round)

        transaction.on_commit(rebuild, robust=True)
    return {"attempts": len(attempt_ids), "changed": changed, "rounds": len(rounds)}

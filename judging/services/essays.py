"""Anonymous essay grading.

Contract:
- ``essay_assignments_create`` gives every essay answer of the round's finished attempts an assignment with
  a random anonymous code (idempotent). Judges see the code, the question and the text — never the name.
- ``essay_grade_submit``: a judge of the owning organisation grades an assignment once (DB constraint); the
  assignment row is locked (``FOR UPDATE``) so concurrent graders get slots 1, 2 (and 3) in order.
  Two grades within the round's threshold → final = their mean. Further apart → a third grade is needed;
  final = mean of the third grade and whichever of the first two is nearer to it (all three when equidistant).
- On a final mark, the answer's ``points_awarded`` is set and the attempt's score recomputed from its stored
  answers (the round's scoring strategy for auto-graded questions + the final essay marks): never
  incremented. Audited.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role
from accounts.services import audit_record
from accounts.tenancy import has_role
from contests.models import FINISHED_STATUSES, Answer, Attempt, Round
from contests.scoring import get_strategy
from contests.services.attempts.finish import attempt_score_inputs
from judging import errors
from judging.models import EssayAssignment, EssayGrade, EssayGradingSettings, EssayStatus

GRADER_ROLES = frozenset({Role.JUDGE})
DEFAULT_THRESHOLD = Decimal("1.00")
TWO = Decimal(2)
Q2 = Decimal("0.01")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def essay_threshold(round: Round) -> Decimal:
    row = EssayGradingSettings.objects.filter(round=round).first()
    return row.threshold if row is not None else DEFAULT_THRESHOLD


def _new_code() -> str:
    return "TL-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


def essay_assignments_create(*, round: Round, actor: Any = None) -> int:
    """Create assignments for the essay answers of ``round``'s finished attempts; returns how many were new."""
    if actor is not None and not has_role(actor, round.contest.organisation_id, GRADER_ROLES | {Role.ORGANISER}):
        raise errors.NotAllowed()
    answers = (Answer.objects.filter(attempt__round=round, attempt__status__in=FINISHED_STATUSES,
                                     attempt_question__snapshot__type="essay", essay_assignment__isnull=True)
               .select_related("attempt_question").order_by("id"))
    created = 0
    for answer in answers.iterator(chunk_size=500):
        for _ in range(10):  # a code collision is astronomically rare; retry with a new code
            try:
                with transaction.atomic():
                    EssayAssignment.objects.create(round=round, answer=answer, attempt_id=answer.attempt_id,
                                                   attempt_question=answer.attempt_question, code=_new_code(),
                                                   max_points=answer.attempt_question.points)
                created += 1
                break
            except IntegrityError:
                if EssayAssignment.objects.filter(answer=answer).exists():
                    break
    if created:
        audit_record(actor=actor, action="judging.essays_assigned", target=round,
                     organisation=round.contest.organisation_id, data={"created": created})
    return created


def final_mark_of(marks: list[Decimal], *, threshold: Decimal) -> tuple[Decimal | None, str]:
    """(final mark or None when a third grade is needed, rule used). ``marks`` in slot order."""
    if len(marks) < 2:
        return None, ""
    first, second = marks[0], marks[1]
    if len(marks) == 2:
        if abs(first - second) <= threshold:
            return ((first + second) / TWO).quantize(Q2, rounding=ROUND_HALF_UP), "mean_of_two"
        return None, ""
    third = marks[2]
    d1, d2 = abs(third - first), abs(third - second)
    if d1 == d2:
        return ((first + second + third) / 3).quantize(Q2, rounding=ROUND_HALF_UP), "mean_of_three"
    nearer = first if d1 < d2 else second
    return ((third + nearer) / TWO).quantize(Q2, rounding=ROUND_HALF_UP), "third_with_nearer"


def essay_grade_submit(*, assignment: EssayAssignment, grader: Any, mark: Decimal | str | int, comment: str = "",
                       now: dt.datetime | None = None) -> EssayGrade:
    """Record ``grader``'s grade. Raises NotAllowed, AlreadyGraded, GradingClosed, InvalidMark."""
    now = now or timezone.now()
    try:
        mark = Decimal(str(mark).replace(",", ".").strip())
    except ArithmeticError as exc:
        raise errors.InvalidMark() from exc
    if not mark.is_finite():
        raise errors.InvalidMark()
    with transaction.atomic():
        locked = (EssayAssignment.objects.select_for_update(of=("self",)).select_related("round__contest")
                  .get(pk=assignment.pk))
        organisation_id = locked.round.contest.organisation_id
        if not has_role(grader, organisation_id, GRADER_ROLES):
            raise errors.NotAllowed()
        if mark < 0 or mark > locked.max_points or mark != mark.quantize(Q2):
            raise errors.InvalidMark()
        grades = list(locked.grades.order_by("slot"))
        if any(g.grader_id == grader.pk for g in grades):
            raise errors.AlreadyGraded()
        if locked.status == EssayStatus.FINAL or (len(grades) >= 2 and locked.status != EssayStatus.NEEDS_THIRD):
            raise errors.GradingClosed()
        grade = EssayGrade.objects.create(assignment=locked, grader=grader, slot=len(grades) + 1, mark=mark,
                                          comment=comment.strip(), graded_at=now)
        marks = [g.mark for g in grades] + [mark]
        final, rule = final_mark_of(marks, threshold=essay_threshold(locked.round))
        data: dict[str, Any] = {"code": locked.code, "slot": grade.slot}
        if final is not None:
            locked.status, locked.final_mark, locked.final_rule, locked.finalised_at = (
                EssayStatus.FINAL, final, rule, now)
            locked.save(update_fields=["status", "final_mark", "final_rule", "finalised_at"])
            Answer.objects.filter(pk=locked.answer_id).update(points_awarded=final)
            attempt_rescore_with_essays(attempt_id=locked.attempt_id)
            data.update(final=True, rule=rule)
        elif len(marks) == 2:
            locked.status = EssayStatus.NEEDS_THIRD
            locked.save(update_fields=["status"])
            data["needs_third"] = True
        audit_record(actor=grader, action="judging.essay_graded", target=locked, organisation=organisation_id,
                     data=data)
    return grade


def essay_final_marks(attempt_ids: list[int]) -> dict[tuple[int, int], Decimal]:
    """{(attempt id, position): final mark} of finalised essays — registered with contests.scoring so every
    score computation (submit, sweeper, rescore after a question correction) includes the judges' marks."""
    return {(attempt_id, position): mark for attempt_id, position, mark in
            EssayAssignment.objects.filter(attempt_id__in=attempt_ids, status=EssayStatus.FINAL)
            .values_list("attempt_id", "attempt_question__position", "final_mark")}


def attempt_rescore_with_essays(*, attempt_id: int) -> Attempt:
    """Recompute an attempt's score from its stored answers with the round's scoring strategy, which reads
    the final marks of its graded essays through ``essay_final_marks`` (an essay without a final mark counts
    0). Locks the attempt row."""
    with transaction.atomic():
        attempt = (Attempt.objects.select_for_update(of=("self",)).select_related("round__contest")
                   .get(pk=attempt_id))
        inputs, _answers = attempt_score_inputs([attempt])
        settings = attempt.round.settings
        outcome = get_strategy(settings.scoring_rule).score(inputs.get(attempt.pk, []),
                                                            partial=settings.partial_credit == "fractions",
                                                            time_limit_seconds=settings.time_limit_seconds)
        attempt.score = outcome.score.quantize(Decimal("0.001"))
        attempt.save(update_fields=["score"])
    return attempt

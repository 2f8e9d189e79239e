"""Anonymous essay grading.

Contract:
- Every essay answer of a finished attempt gets an ``EssayAssignment`` with a random anonymous code as soon as
  the attempt is submitted (``essay_assignments_for_attempts``, on ``realtime.events.attempts_submitted``),
  whenever that is; ``essay_assignments_create`` catches up on anything missed (idempotent) and runs when a
  grading page or the round's results page is opened and before a proposal. Judges see the code, the
  question, the model answer and the rubric, and the text — never the name.
- ``essay_grade_submit``: a judge of the owning organisation grades an assignment once per grading cycle
  (DB constraint); the assignment row is locked (``FOR UPDATE``) so concurrent graders get slots 1, 2 (and 3)
  in order. Two grades within the round's threshold → final = their mean. Further apart → a third grade is
  needed; final = mean of the third grade and whichever of the first two is nearer to it (all three when
  equidistant).
- ``essay_grade_correct``: a judge corrects their own grade, with a reason, while the round's ranking has
  not been proposed (its current version is a draft, or there is none). Kept as an ``EssayGradeCorrection``.
- ``essay_regrade_open``: a complaint's re-grade (phúc khảo, organisers, after publication) opens the next
  grading cycle of an assignment: two fresh grades (three when they differ), the earlier final mark standing
  until the new one is final.
- Whenever the final mark changes, the answer's ``points_awarded`` is set, the attempt's score recomputed from
  its stored answers (the round's scoring strategy + the final essay marks: never incremented) and
  ``Round.results_revision`` bumped, so a ranking computed before is known to be out of date. Audited
  (codes and marks, never the text).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Role
from accounts.services import audit_record
from accounts.tenancy import has_role
from contest_engine.numbers import format_score
from contests.models import FINISHED_STATUSES, Answer, Attempt, Round
from contests.scoring import get_strategy
from contests.services.attempts.finish import attempt_score_inputs
from contests.services.contests import round_results_changed
from judging import errors
from judging.models import (
    EssayAssignment,
    EssayGrade,
    EssayGradeCorrection,
    EssayGradingSettings,
    EssayGuide,
    EssayStatus,
)
from leaderboards.services.ranking import ranking_current
from questionbank.models import Question

GRADER_ROLES = frozenset({Role.JUDGE})
REGRADE_ROLES = frozenset({Role.ORGANISER})
DEFAULT_THRESHOLD = Decimal("1.00")
TWO = Decimal(2)
Q2 = Decimal("0.01")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def essay_threshold(round: Round) -> Decimal:
    row = EssayGradingSettings.objects.filter(round=round).first()
    return row.threshold if row is not None else DEFAULT_THRESHOLD


def _new_code() -> str:
    return "TL-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


def essay_answers_unassigned(*, round_ids: Iterable[int]) -> QuerySet[Answer]:
    """Essay answers of finished attempts of these rounds that have no assignment yet. The query starts from
    the bank's essay questions (few) through the attempt-question and answer foreign-key indexes, so it stays
    cheap on a round of a million multiple-choice attempts."""
    return Answer.objects.filter(attempt_question__question__type="essay", attempt__round_id__in=list(round_ids),
                                 attempt__status__in=FINISHED_STATUSES, essay_assignment__isnull=True)


def _assign(answers: Iterable[Answer]) -> dict[int, int]:
    """Create an assignment per answer (``attempt_question`` and ``attempt__round`` loaded); {round id: new}."""
    created: dict[int, int] = defaultdict(int)
    for answer in answers:
        for _ in range(10):  # a code collision is astronomically rare; retry with a new code
            try:
                with transaction.atomic():
                    EssayAssignment.objects.create(round_id=answer.attempt.round_id, answer=answer,
                                                   attempt_id=answer.attempt_id,
                                                   attempt_question=answer.attempt_question, code=_new_code(),
                                                   max_points=answer.attempt_question.points)
                created[answer.attempt.round_id] += 1
                break
            except IntegrityError:
                if EssayAssignment.objects.filter(answer=answer).exists():
                    break
    return created


def essay_assignments_create(*, round: Round, actor: Any = None) -> int:
    """Create the missing assignments of ``round``'s finished attempts (idempotent); returns how many."""
    if actor is not None and not has_role(actor, round.contest.organisation_id, GRADER_ROLES | {Role.ORGANISER}):
        raise errors.NotAllowed()
    answers = (essay_answers_unassigned(round_ids=[round.pk]).select_related("attempt_question", "attempt")
               .order_by("id"))
    created = _assign(answers.iterator(chunk_size=500)).get(round.pk, 0)
    if created:
        audit_record(actor=actor, action="judging.essays_assigned", target=round,
                     organisation=round.contest.organisation_id, data={"created": created})
    return created


def essay_assignments_for_attempts(*, attempt_ids: list[int]) -> int:
    """The submit hook: the essays of just-submitted attempts enter the grading queue at once, whether the
    round is still open or not. One query when the batch has no essay."""
    answers = list(Answer.objects.filter(attempt_id__in=attempt_ids, attempt_question__question__type="essay",
                                         attempt__status__in=FINISHED_STATUSES, essay_assignment__isnull=True)
                   .select_related("attempt_question", "attempt__round__contest"))
    if not answers:
        return 0
    created = _assign(answers)
    rounds = {a.attempt.round_id: a.attempt.round for a in answers}
    for round_id, count in created.items():
        audit_record(actor=None, action="judging.essays_assigned", target=rounds[round_id],
                     organisation=rounds[round_id].contest.organisation_id, data={"created": count, "on": "submit"})
    return sum(created.values())


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


def parse_mark(raw: Decimal | str | int, *, max_points: Decimal) -> Decimal:
    """A typed mark ("4", "4,5", "4.25") as a Decimal, or the precise reason it is refused: not a number,
    outside 0…max, more than two decimals."""
    text = str(raw).strip().replace(",", ".")
    try:
        mark = Decimal(text)
    except (InvalidOperation, ValueError) as exc:
        raise errors.InvalidMark() from exc
    if not text or not mark.is_finite():
        raise errors.InvalidMark()
    if mark < 0 or mark > max_points:
        raise errors.MarkOutOfRange(errors.MarkOutOfRange.template % {"max": format_score(max_points)})
    if mark != mark.quantize(Q2):
        raise errors.MarkTooPrecise()
    return mark.quantize(Q2)


def _lock(assignment: EssayAssignment) -> EssayAssignment:
    return (EssayAssignment.objects.select_for_update(of=("self",)).select_related("round__contest")
            .get(pk=assignment.pk))


def _settle(locked: EssayAssignment, *, now: dt.datetime) -> dict[str, Any]:
    """Recompute ``locked``'s status and final mark from the grades of its current cycle; when the final mark
    changes, write it to the answer, rescore the attempt and mark the round's results as changed."""
    marks = list(locked.grades.filter(cycle=locked.cycle).order_by("slot").values_list("mark", flat=True))
    final, rule = final_mark_of(marks, threshold=essay_threshold(locked.round))
    before = locked.final_mark
    fields = ["status", "final_mark", "final_rule", "finalised_at"]
    data: dict[str, Any] = {}
    if final is not None:
        locked.status, locked.final_mark, locked.final_rule, locked.finalised_at = EssayStatus.FINAL, final, rule, now
        data.update(final=True, rule=rule)
    else:
        locked.status = EssayStatus.NEEDS_THIRD if len(marks) >= 2 else EssayStatus.AWAITING
        if locked.cycle == 1:
            # The first cycle's final mark came from these grades: it no longer stands.
            locked.final_mark, locked.final_rule, locked.finalised_at = None, "", None
        if len(marks) >= 2:
            data["needs_third"] = True
    locked.save(update_fields=fields)
    if locked.final_mark != before:
        Answer.objects.filter(pk=locked.answer_id).update(points_awarded=locked.final_mark or Decimal(0))
        attempt_rescore_with_essays(attempt_id=locked.attempt_id)
        round_results_changed(round_ids=[locked.round_id])
        data["mark_changed"] = True
    return data


def essay_grade_submit(*, assignment: EssayAssignment, grader: Any, mark: Decimal | str | int, comment: str = "",
                       now: dt.datetime | None = None) -> EssayGrade:
    """Record ``grader``'s grade in the assignment's current cycle. Raises NotAllowed, AlreadyGraded,
    GradingClosed, InvalidMark, MarkOutOfRange, MarkTooPrecise."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(assignment)
        organisation_id = locked.round.contest.organisation_id
        if not has_role(grader, organisation_id, GRADER_ROLES):
            raise errors.NotAllowed()
        value = parse_mark(mark, max_points=locked.max_points)
        grades = list(locked.grades.filter(cycle=locked.cycle).order_by("slot"))
        if any(g.grader_id == grader.pk for g in grades):
            raise errors.AlreadyGraded()
        if locked.status == EssayStatus.FINAL or (len(grades) >= 2 and locked.status != EssayStatus.NEEDS_THIRD):
            raise errors.GradingClosed()
        grade = EssayGrade.objects.create(assignment=locked, grader=grader, cycle=locked.cycle,
                                          slot=len(grades) + 1, mark=value, comment=comment.strip(), graded_at=now)
        data: dict[str, Any] = {"code": locked.code, "cycle": locked.cycle, "slot": grade.slot}
        data.update(_settle(locked, now=now))
        audit_record(actor=grader, action="judging.essay_graded", target=locked, organisation=organisation_id,
                     data=data)
    return grade


def grade_correction_allowed(*, round: Round) -> bool:
    """Judges correct their own grades until the ranking is proposed: no version yet, or a draft."""
    current = ranking_current(round=round)
    return current is None or current.status == "draft"


def essay_grade_correct(*, grade: EssayGrade, grader: Any, mark: Decimal | str | int, reason: str,
                        comment: str | None = None, now: dt.datetime | None = None) -> EssayGrade:
    """``grader`` corrects their own grade (a typing slip: 4 instead of 0,4), with a reason, before the
    ranking is proposed. The final mark is recomputed (it may now need a third grade, or no longer need
    one). Raises NotAllowed, ReasonRequired, CorrectionClosed, InvalidMark, MarkOutOfRange, MarkTooPrecise."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise errors.ReasonRequired()
    with transaction.atomic():
        locked = _lock(grade.assignment)
        organisation_id = locked.round.contest.organisation_id
        row = EssayGrade.objects.select_for_update().get(pk=grade.pk)
        if row.grader_id != getattr(grader, "pk", None) or not has_role(grader, organisation_id, GRADER_ROLES):
            raise errors.NotAllowed()
        if row.cycle != locked.cycle or not grade_correction_allowed(round=locked.round):
            raise errors.CorrectionClosed()
        value = parse_mark(mark, max_points=locked.max_points)
        old = row.mark
        EssayGradeCorrection.objects.create(grade=row, old_mark=old, new_mark=value, reason=reason,
                                            corrected_by=grader, at=now)
        row.mark, row.corrected_at = value, now
        update = ["mark", "corrected_at"]
        if comment is not None:
            row.comment = comment.strip()
            update.append("comment")
        row.save(update_fields=update)
        data: dict[str, Any] = {"code": locked.code, "cycle": row.cycle, "slot": row.slot, "old_mark": str(old),
                                "new_mark": str(value)}
        data.update(_settle(locked, now=now))
        audit_record(actor=grader, action="judging.essay_grade_corrected", target=locked,
                     organisation=organisation_id, reason=reason, data=data)
    return row


def essay_regrade_open(*, actor: Any, assignment: EssayAssignment, reason: str,
                       now: dt.datetime | None = None) -> EssayAssignment:
    """Open the next grading cycle of a final essay (a complaint's re-grade; organisers). The earlier final
    mark stands until the new cycle's is final. Raises NotAllowed, ReasonRequired, RegradeNotFinal."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise errors.ReasonRequired()
    with transaction.atomic():
        locked = _lock(assignment)
        organisation_id = locked.round.contest.organisation_id
        if not has_role(actor, organisation_id, REGRADE_ROLES):
            raise errors.NotAllowed()
        if locked.status != EssayStatus.FINAL:
            raise errors.RegradeNotFinal()
        locked.cycle += 1
        locked.status = EssayStatus.AWAITING
        locked.save(update_fields=["cycle", "status"])
        audit_record(actor=actor, action="judging.essay_regrade_opened", target=locked, organisation=organisation_id,
                     reason=reason, data={"code": locked.code, "cycle": locked.cycle,
                                          "standing_mark": str(locked.final_mark)})
    return locked


GUIDE_ROLES = frozenset({Role.JUDGE, Role.ORGANISER})


def essay_questions(*, round: Round) -> list[Any]:
    """The bank's essay questions (versions) drawn in ``round``, in the order they were first drawn."""
    ids = (EssayAssignment.objects.filter(round=round).order_by("attempt_question__question_id")
           .values_list("attempt_question__question_id", flat=True).distinct())
    return list(Question.objects.filter(pk__in=list(ids)).order_by("pk"))


def essay_guide_for(*, round: Round, question: Any) -> tuple[str, str]:
    """(model answer, rubric) shown to the graders of ``question`` in ``round``: the panel's guide, the model
    answer falling back to the question's explanation in the bank."""
    guide = EssayGuide.objects.filter(round=round, question=question).first()
    model_answer = (guide.model_answer if guide is not None else "") or getattr(question, "explanation", "")
    return model_answer, guide.rubric if guide is not None else ""


def essay_guide_save(*, actor: Any, round: Round, question: Any, model_answer: str, rubric: str,
                     now: dt.datetime | None = None) -> EssayGuide:
    """The judging panel writes the marking scheme of an essay question of the round. Raises NotAllowed."""
    now = now or timezone.now()
    if not has_role(actor, round.contest.organisation_id, GUIDE_ROLES):
        raise errors.NotAllowed()
    if not EssayAssignment.objects.filter(round=round, attempt_question__question=question).exists():
        raise errors.NotAllowed()
    with transaction.atomic():
        guide, _created = EssayGuide.objects.update_or_create(
            round=round, question=question,
            defaults={"model_answer": (model_answer or "").strip(), "rubric": (rubric or "").strip(),
                      "updated_by": actor, "updated_at": now})
        audit_record(actor=actor, action="judging.essay_guide_saved", target=guide,
                     organisation=round.contest.organisation_id, data={"question_id": question.pk})
    return guide


def essay_final_marks(attempt_ids: list[int]) -> dict[tuple[int, int], Decimal]:
    """{(attempt id, position): final mark} of graded essays — registered with contests.scoring so every
    score computation (submit, sweeper, rescore after a question correction) includes the judges' marks. An
    essay being re-graded keeps its last final mark until the re-grade is final."""
    return {(attempt_id, position): mark for attempt_id, position, mark in
            EssayAssignment.objects.filter(attempt_id__in=attempt_ids, final_mark__isnull=False)
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

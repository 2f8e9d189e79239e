"""The review workflow: submit for review, approve, reject, retire, and the correction of a question that
attempts already drew (``question_corrected`` is sent after the commit).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from accounts.models import AuditEvent, Role
from questionbank.errors import QuestionPermissionDenied, QuestionStateError, QuestionValidationError
from questionbank.importers.base import ParsedOption
from questionbank.models import (
    Question,
    QuestionOption,
    QuestionSimilarityKey,
    QuestionStatus,
)
from questionbank.sanitize import clean_text
from questionbank.services._common import _audit, _require
from questionbank.services.questions import _as_decimal, _write_fingerprint, question_clean

# Sent (after commit) when a reviewer corrects a question that attempts already drew; the leaderboard
# issue connects a receiver that rescores those attempts. kwargs: question, audit_event.
question_corrected = Signal()


def _locked(question: Question) -> Question:
    return Question.objects.select_for_update().get(pk=question.pk)


def question_submit_for_review(*, question: Question, actor: Any) -> Question:
    """draft → in_review (writer role)."""
    _require(actor, question.organisation_id, {Role.WRITER})
    with transaction.atomic():
        q = _locked(question)
        if q.status != QuestionStatus.DRAFT or not q.is_current:
            raise QuestionStateError("Chỉ gửi thẩm định được câu hỏi đang ở trạng thái nháp.")
        q.status = QuestionStatus.IN_REVIEW
        q.save(update_fields=["status", "updated_at"])
    return q


def question_approve(*, question: Question, actor: Any, note: str = "") -> Question:
    """in_review → approved (reviewer role in the owner organisation; never the question's author)."""
    _require(actor, question.organisation_id, {Role.REVIEWER},
             "Chỉ thành viên Tổ thẩm định của đơn vị sở hữu mới được duyệt câu hỏi.")
    with transaction.atomic():
        q = _locked(question)
        if actor is not None and q.author_id is not None and q.author_id == actor.pk:
            raise QuestionPermissionDenied("Người soạn câu hỏi không được tự duyệt câu hỏi của mình.")
        if q.status != QuestionStatus.IN_REVIEW or not q.is_current:
            raise QuestionStateError("Chỉ duyệt được câu hỏi đang chờ thẩm định.")
        q.status = QuestionStatus.APPROVED
        q.reviewer = actor if getattr(actor, "pk", None) else None
        q.reviewed_at = timezone.now()
        q.review_note = clean_text(note)
        q.save(update_fields=["status", "reviewer", "reviewed_at", "review_note", "updated_at"])
        _audit(actor=actor, action="question.approve", target=q, organisation=q.organisation,
               data={"family_id": q.family_id, "version": q.version})
    return q


def question_reject(*, question: Question, actor: Any, note: str) -> Question:
    """in_review → draft with the reviewer's note (reviewer role)."""
    _require(actor, question.organisation_id, {Role.REVIEWER},
             "Chỉ thành viên Tổ thẩm định của đơn vị sở hữu mới được trả lại câu hỏi.")
    note = clean_text(note)
    if not note:
        raise QuestionValidationError(["Cần ghi rõ lý do trả lại câu hỏi."])
    with transaction.atomic():
        q = _locked(question)
        if q.status != QuestionStatus.IN_REVIEW:
            raise QuestionStateError("Chỉ trả lại được câu hỏi đang chờ thẩm định.")
        q.status = QuestionStatus.DRAFT
        q.review_note = note
        q.reviewer = actor if getattr(actor, "pk", None) else None
        q.reviewed_at = timezone.now()
        q.save(update_fields=["status", "review_note", "reviewer", "reviewed_at", "updated_at"])
    return q


def question_retire(*, question: Question, actor: Any, reason: str = "") -> Question:
    """any → retired (reviewer or organiser role). A retired question is never drawn again; attempts that
    drew it keep it. Irreversible by design (write a new question instead)."""
    _require(actor, question.organisation_id, {Role.REVIEWER, Role.ORGANISER})
    with transaction.atomic():
        q = _locked(question)
        if q.status == QuestionStatus.RETIRED:
            return q
        q.status = QuestionStatus.RETIRED
        q.save(update_fields=["status", "updated_at"])
        QuestionSimilarityKey.objects.filter(question=q).delete()
        _audit(actor=actor, action="question.retire", target=q, organisation=q.organisation,
               reason=clean_text(reason), data={"family_id": q.family_id, "version": q.version})
    return q


def question_correct(*, question: Question, actor: Any, reason: str,
                     fractions: dict[int, Decimal | str] | None = None, stem: str | None = None,
                     option_texts: dict[int, str] | None = None, explanation: str | None = None) -> AuditEvent:
    """Correct *this version in place* — the explicit, audited exception to "used versions never change",
    for an error (usually a wrong key) whose fix should rescore past attempts.

    Reviewer role; ``reason`` required. ``fractions``/``option_texts`` map option ids of this version to new
    values. Records an AuditEvent ``question.correct`` with the before/after key, and sends
    ``question_corrected`` after commit (the leaderboard rescoring listens). Raises QuestionValidationError
    if the corrected question is invalid."""
    _require(actor, question.organisation_id, {Role.REVIEWER},
             "Chỉ thành viên Tổ thẩm định mới được đính chính câu hỏi.")
    reason = clean_text(reason)
    if not reason:
        raise QuestionValidationError(["Cần ghi rõ lý do đính chính."])
    fractions = fractions or {}
    option_texts = option_texts or {}
    with transaction.atomic():
        q = _locked(question)
        opts = list(q.options.order_by("position", "id"))
        known = {o.pk for o in opts}
        unknown = (set(fractions) | set(option_texts)) - known
        if unknown:
            raise QuestionValidationError(["Phương án không thuộc câu hỏi này."])
        before = {"stem": q.stem, "explanation": q.explanation,
                  "options": {str(o.pk): {"text": o.text, "fraction": str(o.fraction)} for o in opts}}
        new_options = [ParsedOption(text=option_texts.get(o.pk, o.text),
                                    fraction=_as_decimal(fractions.get(o.pk, o.fraction)),
                                    feedback=o.feedback, tolerance=o.tolerance) for o in opts]
        data, errors = question_clean(type=q.type, stem=q.stem if stem is None else stem, options=new_options,
                                      explanation=q.explanation if explanation is None else explanation,
                                      citation_document=q.citation_document, citation_article=q.citation_article,
                                      citation_clause=q.citation_clause, difficulty=q.difficulty,
                                      points=q.default_points)
        if errors:
            raise QuestionValidationError(errors)
        q.stem, q.explanation = data.stem, data.explanation
        for o, new in zip(opts, data.options, strict=True):
            o.text, o.fraction = new.text, new.fraction
        QuestionOption.objects.bulk_update(opts, ["text", "fraction"])
        if q.is_current:
            _write_fingerprint(q, data.options)
        q.save(update_fields=["stem", "explanation", "normalised_text", "search_key", "search_text", "answer_key",
                                 "updated_at"])
        after = {"stem": q.stem, "explanation": q.explanation,
                 "options": {str(o.pk): {"text": o.text, "fraction": str(o.fraction)} for o in opts}}
        event = _audit(actor=actor, action="question.correct", target=q, organisation=q.organisation,
                       reason=reason, data={"family_id": q.family_id, "version": q.version,
                                            "before": before, "after": after, "rescore": True})
        transaction.on_commit(lambda: question_corrected.send(sender=Question, question=q, audit_event=event))
    return event

"""Writes to the question bank: create/edit (with versions), review workflow, corrections, media, import.

Every rule about questions lives here; the admin, views, management commands and importers only parse
input and call these functions. All text is sanitised here (questionbank.sanitize) whatever its source.

Permissions: ``actor=None`` means a trusted system caller (management command, demo loader). Otherwise
the actor needs the role named in each docstring in the question's organisation (accounts.tenancy).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone

from accounts.models import AuditEvent, Organisation, Role
from accounts.services import audit_record
from accounts.tenancy import has_role
from questionbank import dedupe, selectors
from questionbank.importers.base import ParsedMedia, ParsedOption, ParsedQuestion, ParseResult, Problem
from questionbank.models import (
    Difficulty,
    Question,
    QuestionMedia,
    QuestionOption,
    QuestionSimilarityKey,
    QuestionStatus,
    QuestionType,
    Tag,
    Topic,
    Visibility,
)
from questionbank.sanitize import clean_html, clean_text, html_to_text

logger = logging.getLogger(__name__)

# Sent (after commit) when a reviewer corrects a question that attempts already drew; the leaderboard
# issue connects a receiver that rescores those attempts. kwargs: question, audit_event.
question_corrected = Signal()

MAX_STEM_CHARS = 10_000
MAX_OPTION_CHARS = 2_000
MAX_FEEDBACK_CHARS = 5_000
MAX_EXPLANATION_CHARS = 20_000
MAX_OPTIONS = 8  # A–H
MAX_POINTS = Decimal("1000")
MAX_TOPIC_DEPTH = 8
IMPORT_CHUNK = 500  # questions saved per batch inside the import transaction
CHOICE_TYPES = frozenset({QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.TRUE_FALSE})
FRACTION_SUM_TOLERANCE = Decimal("0.01")  # Moodle stores thirds as 0.33333


# --- Errors ------------------------------------------------------------------------------------------
class QuestionBankError(Exception):
    """Base of question-bank domain errors; ``message`` is Vietnamese and safe to show."""

    default_message = "Không thực hiện được thao tác với câu hỏi."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class QuestionValidationError(QuestionBankError):
    default_message = "Câu hỏi không hợp lệ."

    def __init__(self, messages: Sequence[str]):
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


class QuestionPermissionDenied(QuestionBankError):
    default_message = "Bạn không có quyền thực hiện thao tác này với câu hỏi."


class QuestionStateError(QuestionBankError):
    default_message = "Trạng thái của câu hỏi không cho phép thao tác này."


class MediaRejected(QuestionBankError):
    default_message = "Tệp đính kèm không hợp lệ."


# --- "Has this question been used?" hook -------------------------------------------------------------
_used_checkers: list[Callable[[Question], bool]] = []


def register_used_checker(checker: Callable[[Question], bool]) -> None:
    """Contests register a function answering "did any attempt draw this question version?"."""
    if checker not in _used_checkers:
        _used_checkers.append(checker)


def question_is_used(question: Question) -> bool:
    """True when some attempt drew this exact version: it must then never change (edits make a new version)."""
    return any(checker(question) for checker in _used_checkers)


# --- Input normalisation and validation --------------------------------------------------------------
@dataclass
class QuestionData:
    """Sanitised, validated content of one question (what a version consists of)."""

    type: str
    stem: str
    options: list[ParsedOption] = field(default_factory=list)
    explanation: str = ""
    citation_document: str = ""
    citation_article: str = ""
    citation_clause: str = ""
    difficulty: str = Difficulty.MEDIUM
    points: Decimal = Decimal("1")


def _as_decimal(value: Any, default: Decimal | None = None) -> Decimal | None:
    if value is None or value == "":
        return default
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def question_clean(*, type: str, stem: str, options: Iterable[ParsedOption] = (), explanation: str = "",
                   citation_document: str = "", citation_article: str = "", citation_clause: str = "",
                   difficulty: str = Difficulty.MEDIUM, points: Decimal | str | int = Decimal("1"),
                   ) -> tuple[QuestionData, list[str]]:
    """Sanitise and validate question content. Returns the cleaned data and a list of Vietnamese errors
    (empty when valid). Pure: no database access, so importers can validate thousands of rows."""
    errors: list[str] = []
    if type not in QuestionType.values:
        errors.append(f"Loại câu hỏi không hợp lệ: “{type}”.")
    stem_html = clean_html(stem)
    if not html_to_text(stem_html) and "<img" not in stem_html:
        errors.append("Thiếu nội dung câu hỏi.")
    elif len(stem_html) > MAX_STEM_CHARS:
        errors.append(f"Nội dung câu hỏi quá dài ({len(stem_html)} ký tự, tối đa {MAX_STEM_CHARS}).")
    explanation_html = clean_html(explanation)
    if len(explanation_html) > MAX_EXPLANATION_CHARS:
        errors.append(f"Phần giải thích quá dài (tối đa {MAX_EXPLANATION_CHARS} ký tự).")
    cit = {"citation_document": clean_text(citation_document), "citation_article": clean_text(citation_article),
           "citation_clause": clean_text(citation_clause)}
    limits = {"citation_document": (60, "Số hiệu văn bản"), "citation_article": (20, "Điều"),
              "citation_clause": (20, "Khoản")}
    for key, (limit, label) in limits.items():
        if len(cit[key]) > limit:
            errors.append(f"{label} quá dài (tối đa {limit} ký tự).")
    if difficulty not in Difficulty.values:
        errors.append(f"Độ khó không hợp lệ: “{difficulty}”.")
    pts = _as_decimal(points)
    if pts is None or pts < 0 or pts > MAX_POINTS or pts != pts.quantize(Decimal("0.01")):
        errors.append(f"Điểm không hợp lệ: “{points}” (số từ 0 đến {MAX_POINTS}, tối đa 2 chữ số thập phân).")
        pts = Decimal("1")

    cleaned_options: list[ParsedOption] = []
    for index, opt in enumerate(options):
        label = chr(ord("A") + index) if index < 26 else str(index + 1)
        text = clean_html(opt.text)
        fraction = _as_decimal(opt.fraction)
        if fraction is None or fraction < -1 or fraction > 1:
            errors.append(f"Tỉ lệ điểm của phương án {label} phải nằm trong khoảng -1 đến 1.")
            fraction = Decimal("0")
        fraction = fraction.quantize(Decimal("0.00001"))
        tolerance = _as_decimal(opt.tolerance) if opt.tolerance not in (None, "") else None
        if opt.tolerance not in (None, "") and (tolerance is None or tolerance < 0):
            errors.append(f"Sai số của phương án {label} không hợp lệ.")
            tolerance = None
        if not html_to_text(text) and "<img" not in text:
            errors.append(f"Phương án {label} để trống.")
        elif len(text) > MAX_OPTION_CHARS:
            errors.append(f"Phương án {label} quá dài (tối đa {MAX_OPTION_CHARS} ký tự).")
        feedback = clean_html(opt.feedback)
        if len(feedback) > MAX_FEEDBACK_CHARS:
            errors.append(f"Phản hồi của phương án {label} quá dài.")
        cleaned_options.append(ParsedOption(text=text, fraction=fraction, feedback=feedback, tolerance=tolerance))

    errors.extend(_key_errors(type, cleaned_options))
    data = QuestionData(type=type, stem=stem_html, options=cleaned_options, explanation=explanation_html,
                        difficulty=difficulty, points=pts, **cit)
    return data, errors


def _key_errors(qtype: str, options: list[ParsedOption]) -> list[str]:
    """Rules on the answer key per type (Moodle-compatible credit fractions)."""
    errors: list[str] = []
    n = len(options)
    positive = [o.fraction for o in options if o.fraction > 0]
    if qtype in CHOICE_TYPES:
        if n > MAX_OPTIONS:
            errors.append(f"Tối đa {MAX_OPTIONS} phương án (A–H), câu hỏi có {n}.")
        if qtype == QuestionType.TRUE_FALSE and n != 2:
            errors.append("Câu Đúng/Sai phải có đúng 2 phương án.")
        elif n < 2:
            errors.append("Câu trắc nghiệm cần ít nhất 2 phương án.")
        texts = [dedupe.normalise(o.text) for o in options]
        if len(set(texts)) != len(texts):
            errors.append("Có hai phương án trùng nội dung.")
        if not positive:
            errors.append("Không có phương án đúng.")
        elif qtype in (QuestionType.SINGLE, QuestionType.TRUE_FALSE):
            if max(positive) != 1:
                errors.append("Câu một lựa chọn cần một phương án đúng được 100% điểm.")
            if qtype == QuestionType.TRUE_FALSE and len(positive) != 1:
                errors.append("Câu Đúng/Sai chỉ có một phương án đúng.")
        elif abs(sum(positive) - 1) > FRACTION_SUM_TOLERANCE:
            errors.append("Tổng tỉ lệ điểm của các phương án đúng (câu nhiều lựa chọn) phải bằng 100%.")
    elif qtype == QuestionType.NUMERIC:
        if not options:
            errors.append("Câu trả lời số cần ít nhất một đáp án.")
        for index, opt in enumerate(options):
            if _as_decimal(html_to_text(opt.text)) is None and html_to_text(opt.text) != "*":
                errors.append(f"Đáp án {chr(ord('A') + index)} của câu trả lời số không phải là số.")
        if options and (not positive or max(positive) != 1):
            errors.append("Câu trả lời số cần một đáp án đúng được 100% điểm.")
    elif qtype == QuestionType.SHORT_TEXT:
        if not positive or max(positive) != 1:
            errors.append("Câu trả lời ngắn cần ít nhất một đáp án được chấp nhận (100% điểm).")
        if n > 20:
            errors.append("Câu trả lời ngắn có tối đa 20 đáp án được chấp nhận.")
    elif qtype == QuestionType.ESSAY and options:
        errors.append("Câu tự luận không có phương án trả lời.")
    return errors


# --- Topics and tags -------------------------------------------------------------------------------------
def topic_get_or_create_path(*, path: Sequence[str], create: bool = True,
                             cache: dict[tuple[str, ...], Topic] | None = None) -> Topic | None:
    """The topic at ``path`` (["Luật Giao thông", "Xử phạt"]), creating missing nodes when ``create``.
    Returns None for an empty path. Raises QuestionValidationError when a node is missing and not ``create``."""
    names = [clean_text(p)[:200] for p in path if clean_text(p)]
    if not names:
        return None
    if len(names) > MAX_TOPIC_DEPTH:
        raise QuestionValidationError([f"Chủ đề lồng quá sâu (tối đa {MAX_TOPIC_DEPTH} cấp)."])
    cache = {} if cache is None else cache
    parent: Topic | None = None
    for depth in range(1, len(names) + 1):
        key = tuple(names[:depth])
        node = cache.get(key)
        if node is None:
            name = names[depth - 1]
            node = Topic.objects.filter(parent=parent, name=name).first()
            if node is None:
                if not create:
                    raise QuestionValidationError([f"Chủ đề “{' > '.join(key)}” chưa có trong hệ thống."])
                node, _ = Topic.objects.get_or_create(parent=parent, name=name)
            cache[key] = node
        parent = node
    return parent


def _tags_for(names: Iterable[str]) -> list[Tag]:
    tags = []
    for raw in names:
        name = clean_text(raw)[:60]
        if name:
            tag, _ = Tag.objects.get_or_create(name=name)
            tags.append(tag)
    return tags


# --- Audit --------------------------------------------------------------------------------------------
def _audit(*, actor: Any, action: str, target: Any = None, organisation: Organisation | None = None,
           reason: str = "", data: dict | None = None) -> AuditEvent:
    """Through accounts.services.audit_record (the project's one audit door)."""
    event = audit_record(actor=actor, action=action, target=target, organisation=organisation,
                         reason=reason, data=data)
    if isinstance(event, AuditEvent):
        return event
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None, action=action, organisation=organisation,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "", reason=reason, data=data or {},
    )


# --- Permissions ----------------------------------------------------------------------------------------
def _require(actor: Any, organisation_id: int, roles: set[str], message: str | None = None) -> None:
    if actor is None:
        return
    if not has_role(actor, organisation_id, roles):
        raise QuestionPermissionDenied(message)


# --- Create / update ------------------------------------------------------------------------------------
def _write_options(question: Question, options: Sequence[ParsedOption]) -> None:
    QuestionOption.objects.bulk_create([
        QuestionOption(question=question, position=i, text=o.text, fraction=o.fraction, feedback=o.feedback,
                       tolerance=o.tolerance)
        for i, o in enumerate(options)
    ])


def _write_fingerprint(question: Question, options: Sequence[ParsedOption]) -> dedupe.Fingerprint:
    fp = dedupe.fingerprint(question.stem, [o.text for o in options])
    question.normalised_text = fp.normalised
    question.search_key = fp.search_key
    QuestionSimilarityKey.objects.filter(question=question).delete()
    QuestionSimilarityKey.objects.bulk_create(
        [QuestionSimilarityKey(question=question, key=k) for k in set(fp.band_keys)], ignore_conflicts=True)
    return fp


def question_create(*, organisation: Organisation, author: Any, type: str, stem: str,
                    options: Sequence[ParsedOption] = (), explanation: str = "", citation_document: str = "",
                    citation_article: str = "", citation_clause: str = "", topic: Topic | None = None,
                    tags: Iterable[str] = (), difficulty: str = Difficulty.MEDIUM,
                    points: Decimal | str | int = Decimal("1"), visibility: str = Visibility.SHARED,
                    status: str = QuestionStatus.DRAFT) -> Question:
    """Create version 1 of a new question (writer role). Content is sanitised; raises
    QuestionValidationError listing every problem. Duplicates are not errors: see
    ``selectors.question_duplicates``. ``status`` other than draft/in_review is for system callers only."""
    _require(author, organisation.pk, {Role.WRITER})
    if author is not None and status not in (QuestionStatus.DRAFT, QuestionStatus.IN_REVIEW):
        raise QuestionPermissionDenied("Câu hỏi mới chỉ có thể ở trạng thái nháp hoặc chờ thẩm định.")
    if visibility not in Visibility.values:
        raise QuestionValidationError([f"Phạm vi không hợp lệ: “{visibility}”."])
    data, errors = question_clean(type=type, stem=stem, options=options, explanation=explanation,
                                  citation_document=citation_document, citation_article=citation_article,
                                  citation_clause=citation_clause, difficulty=difficulty, points=points)
    if errors:
        raise QuestionValidationError(errors)
    with transaction.atomic():
        question = Question.objects.create(
            organisation=organisation, visibility=visibility, type=data.type, stem=data.stem,
            explanation=data.explanation, citation_document=data.citation_document,
            citation_article=data.citation_article, citation_clause=data.citation_clause, topic=topic,
            difficulty=data.difficulty, default_points=data.points, status=status,
            author=author if getattr(author, "pk", None) else None,
        )
        question.family_id = question.pk
        _write_options(question, data.options)
        _write_fingerprint(question, data.options)
        question.save(update_fields=["family_id", "normalised_text", "search_key"])
        if tags:
            question.tags.set(_tags_for(tags))
    return question


_CONTENT_FIELDS = ("type", "stem", "explanation", "citation_document", "citation_article", "citation_clause",
                   "difficulty")


def question_update(*, question: Question, actor: Any, type: str | None = None, stem: str | None = None,
                    options: Sequence[ParsedOption] | None = None, explanation: str | None = None,
                    citation_document: str | None = None, citation_article: str | None = None,
                    citation_clause: str | None = None, topic: Topic | bool | None = False,
                    tags: Iterable[str] | None = None, difficulty: str | None = None,
                    points: Decimal | str | int | None = None, visibility: str | None = None) -> Question:
    """Edit the current version of a question (writer role). Arguments left as None are unchanged
    (``topic=False`` means unchanged; ``topic=None`` clears it).

    * If the version was drawn by an attempt (``question_is_used``) a **new version** is written: same
      ``family_id``, ``version + 1``; the old row is kept unchanged with ``is_current=False``.
    * Any content change to an approved question sends it back to review (status ``in_review``):
      a reviewer must approve what contestants will see. Returns the current version after the edit.
    Locks the family's current row (select_for_update) so two concurrent edits cannot both branch it.
    """
    _require(actor, question.organisation_id, {Role.WRITER})
    with transaction.atomic():
        current = Question.objects.select_for_update().get(pk=question.pk)
        if not current.is_current:
            raise QuestionStateError("Chỉ sửa được phiên bản hiện hành của câu hỏi.")
        if current.status == QuestionStatus.RETIRED:
            raise QuestionStateError("Câu hỏi đã ngừng sử dụng, không sửa được.")
        old_options = [ParsedOption(text=o.text, fraction=o.fraction, feedback=o.feedback, tolerance=o.tolerance)
                       for o in current.options.order_by("position", "id")]
        merged = {
            "type": current.type if type is None else type,
            "stem": current.stem if stem is None else stem,
            "options": old_options if options is None else list(options),
            "explanation": current.explanation if explanation is None else explanation,
            "citation_document": current.citation_document if citation_document is None else citation_document,
            "citation_article": current.citation_article if citation_article is None else citation_article,
            "citation_clause": current.citation_clause if citation_clause is None else citation_clause,
            "difficulty": current.difficulty if difficulty is None else difficulty,
            "points": current.default_points if points is None else points,
        }
        data, errors = question_clean(**merged)
        if visibility is not None and visibility not in Visibility.values:
            errors.append(f"Phạm vi không hợp lệ: “{visibility}”.")
        if errors:
            raise QuestionValidationError(errors)
        new_topic = current.topic if topic is False else topic
        old_tags = sorted(current.tags.values_list("name", flat=True))
        new_tag_objs = _tags_for(tags) if tags is not None else None
        content_changed = (
            any(getattr(current, f) != getattr(data, f) for f in _CONTENT_FIELDS)
            or current.default_points != data.points
            or _options_key(old_options) != _options_key(data.options)
            or (new_topic.pk if new_topic else None) != current.topic_id
        )
        tags_changed = new_tag_objs is not None and sorted(t.name for t in new_tag_objs) != old_tags
        visibility_changed = visibility is not None and visibility != current.visibility
        if not (content_changed or tags_changed or visibility_changed):
            return current

        status = current.status
        if content_changed and status == QuestionStatus.APPROVED:
            status = QuestionStatus.IN_REVIEW
        if content_changed and question_is_used(current):
            # Rows created outside the services (fixtures, raw SQL) may lack a family: version 1 founds it.
            family_id = current.family_id or current.pk
            target = Question(
                organisation=current.organisation, visibility=visibility or current.visibility,
                family_id=family_id, version=current.version + 1, is_current=True,
                author=actor if getattr(actor, "pk", None) else current.author, status=status,
            )
            Question.objects.filter(pk=current.pk).update(is_current=False, family_id=family_id)
            QuestionSimilarityKey.objects.filter(question=current).delete()
            tag_objs = new_tag_objs if new_tag_objs is not None else list(current.tags.all())
        else:
            target = current
            target.status = status
            if visibility is not None:
                target.visibility = visibility
            tag_objs = new_tag_objs
        for f in _CONTENT_FIELDS:
            setattr(target, f, getattr(data, f))
        target.default_points = data.points
        target.topic = new_topic
        if status != QuestionStatus.APPROVED:
            target.reviewer, target.reviewed_at = None, None
        target.save()
        if target.pk != current.pk:
            # The new version shows the same pictures/audio (the files are shared, never rewritten).
            QuestionMedia.objects.bulk_create([
                QuestionMedia(question=target, kind=m.kind, file=m.file.name, content_type=m.content_type,
                              size=m.size) for m in current.media.all()])
        if target.pk != current.pk or content_changed:
            QuestionOption.objects.filter(question=target).delete()
            _write_options(target, data.options)
            _write_fingerprint(target, data.options)
            target.save(update_fields=["normalised_text", "search_key"])
        if tag_objs is not None:
            target.tags.set(tag_objs)
    return target


def _options_key(options: Sequence[ParsedOption]) -> list[tuple]:
    return [(o.text, Decimal(o.fraction).quantize(Decimal("0.00001")), o.feedback,
             None if o.tolerance is None else Decimal(o.tolerance).normalize()) for o in options]


# --- Review workflow ------------------------------------------------------------------------------------
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
        q.save(update_fields=["stem", "explanation", "normalised_text", "search_key", "updated_at"])
        after = {"stem": q.stem, "explanation": q.explanation,
                 "options": {str(o.pk): {"text": o.text, "fraction": str(o.fraction)} for o in opts}}
        event = _audit(actor=actor, action="question.correct", target=q, organisation=q.organisation,
                       reason=reason, data={"family_id": q.family_id, "version": q.version,
                                            "before": before, "after": after, "rescore": True})
        transaction.on_commit(lambda: question_corrected.send(sender=Question, question=q, audit_event=event))
    return event


# --- Media ------------------------------------------------------------------------------------------------
_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_AUDIO_SIGNATURES = (
    (b"ID3", "audio/mpeg"),
    (b"\xff\xfb", "audio/mpeg"),
    (b"\xff\xf3", "audio/mpeg"),
    (b"\xff\xf2", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
)


def media_sniff(content: bytes) -> tuple[str, str] | None:
    """(kind, content type) from the file's magic bytes — never from its name. SVG is refused (it can
    carry script). Returns None for anything else."""
    head = content[:16]
    for sig, ctype in _IMAGE_SIGNATURES:
        if head.startswith(sig):
            return QuestionMedia.Kind.IMAGE, ctype
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return QuestionMedia.Kind.IMAGE, "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return QuestionMedia.Kind.AUDIO, "audio/wav"
    if head[4:8] == b"ftyp" and head[8:11] in (b"M4A", b"mp4", b"iso", b"mp4"):
        return QuestionMedia.Kind.AUDIO, "audio/mp4"
    for sig, ctype in _AUDIO_SIGNATURES:
        if head.startswith(sig):
            return QuestionMedia.Kind.AUDIO, ctype
    return None


def media_limits() -> dict[str, int]:
    return {
        QuestionMedia.Kind.IMAGE: int(getattr(settings, "QUESTION_IMAGE_MAX_BYTES", 2 * 1024 * 1024)),
        QuestionMedia.Kind.AUDIO: int(getattr(settings, "QUESTION_AUDIO_MAX_BYTES", 10 * 1024 * 1024)),
    }


def media_validate(*, filename: str, content: bytes) -> tuple[str, str]:
    """Check type (magic bytes) and size; returns (kind, content_type) or raises MediaRejected."""
    sniffed = media_sniff(content)
    if sniffed is None:
        raise MediaRejected(f"Tệp “{filename}” không phải ảnh (PNG, JPEG, GIF, WebP) hay âm thanh "
                            "(MP3, OGG, WAV, M4A) được hỗ trợ.")
    kind, ctype = sniffed
    limit = media_limits()[kind]
    if len(content) > limit:
        raise MediaRejected(f"Tệp “{filename}” quá lớn ({len(content) // 1024} KB, tối đa {limit // 1024} KB).")
    return kind, ctype


_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp",
               "audio/mpeg": "mp3", "audio/ogg": "ogg", "audio/wav": "wav", "audio/mp4": "m4a"}


def question_media_add(*, question: Question, actor: Any, filename: str, content: bytes) -> QuestionMedia:
    """Attach an image/audio file (writer role). The stored name is derived from the sniffed type."""
    _require(actor, question.organisation_id, {Role.WRITER})
    kind, ctype = media_validate(filename=filename, content=content)
    media = QuestionMedia(question=question, kind=kind, content_type=ctype, size=len(content))
    media.file.save(f"q{question.pk}.{_EXTENSIONS[ctype]}", ContentFile(content), save=False)
    media.save()
    return media


# --- Import ---------------------------------------------------------------------------------------------
@dataclass
class ImportReport:
    imported: int = 0
    unsupported: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    question_ids: list[int] = field(default_factory=list)
    valid: int = 0  # questions that passed validation (what a dry run would import)

    def as_dict(self) -> dict:
        """The exact shape documented for ``import_questions --json``."""
        return {"imported": self.imported, "unsupported": self.unsupported, "warnings": self.warnings,
                "errors": self.errors}


def _where(pq: ParsedQuestion) -> str:
    if pq.row is not None:
        return f"dòng {pq.row}"
    if pq.line is not None:
        return f"dòng {pq.line}"
    return "tệp"


def questions_import(*, organisation: Organisation, result: ParseResult, actor: Any = None,
                     dry_run: bool = False, visibility: str = Visibility.SHARED,
                     create_topics: bool = True) -> ImportReport:
    """Validate every parsed question and save them all, or nothing (one transaction per file).

    Imported questions start ``in_review``. Near-duplicates (inside the file or against questions visible to
    ``organisation``) are warnings, never merged. With ``dry_run`` nothing is written and ``valid`` says how
    many would be imported. Writer role when ``actor`` is given.
    """
    _require(actor, organisation.pk, {Role.WRITER})
    report = ImportReport(unsupported=[u.as_dict() for u in result.unsupported],
                          warnings=[w.as_dict() for w in result.warnings],
                          errors=[e.as_dict() for e in result.errors])
    if visibility not in Visibility.values:
        report.errors.append(Problem(f"Phạm vi không hợp lệ: “{visibility}”.").as_dict())
    cleaned: list[tuple[ParsedQuestion, QuestionData]] = []
    for pq in result.questions:
        data, errors = question_clean(type=pq.type, stem=pq.stem, options=pq.options, explanation=pq.explanation,
                                      citation_document=pq.citation_document,
                                      citation_article=pq.citation_article, citation_clause=pq.citation_clause,
                                      difficulty=pq.difficulty, points=pq.points)
        for media in pq.media:
            try:
                media_validate(filename=media.filename, content=media.content)
            except MediaRejected as exc:
                errors.append(exc.message)
        if len([t for t in pq.topic_path if t.strip()]) > MAX_TOPIC_DEPTH:
            errors.append(f"Chủ đề lồng quá sâu (tối đa {MAX_TOPIC_DEPTH} cấp).")
        for message in errors:
            report.errors.append(Problem(message, line=pq.line, row=pq.row).as_dict())
        cleaned.append((pq, data))
    if not result.questions and not report.errors and not result.unsupported:
        report.errors.append(Problem("Tệp không có câu hỏi nào.").as_dict())

    topic_cache: dict[tuple[str, ...], Topic] = {}
    if not create_topics:
        for pq, _data in cleaned:
            try:
                topic_get_or_create_path(path=pq.topic_path, create=False, cache=topic_cache)
            except QuestionValidationError as exc:
                for message in exc.messages:
                    report.errors.append(Problem(message, line=pq.line, row=pq.row).as_dict())

    # Duplicates: warnings only.
    fingerprints = [dedupe.fingerprint(d.stem, [o.text for o in d.options]) for _pq, d in cleaned]
    items = list(zip([pq for pq, _ in cleaned], fingerprints, strict=True))
    for pq, message in selectors.import_duplicates(organisation=organisation, items=items):
        report.warnings.append(Problem(message, line=pq.line, row=pq.row).as_dict())

    report.valid = len(cleaned) if not report.errors else 0
    if report.errors or dry_run:
        return report

    # Only the keys are needed from here on: drop the shingle sets (most of the fingerprints' memory).
    fingerprints = [dedupe.Fingerprint(fp.normalised, fp.search_key, frozenset(), fp.band_keys)
                    for fp in fingerprints]
    ids: list[int] = []
    tag_cache: dict[str, Tag] = {}
    through = Question.tags.through
    author = actor if getattr(actor, "pk", None) else None
    with transaction.atomic():
        # In chunks so model instances for options and keys never pile up for a whole large file.
        for start in range(0, len(cleaned), IMPORT_CHUNK):
            chunk = cleaned[start:start + IMPORT_CHUNK]
            chunk_fps = fingerprints[start:start + IMPORT_CHUNK]
            questions = [Question(
                organisation=organisation, visibility=visibility, type=data.type, stem=data.stem,
                explanation=data.explanation, citation_document=data.citation_document,
                citation_article=data.citation_article, citation_clause=data.citation_clause,
                topic=topic_get_or_create_path(path=pq.topic_path, create=create_topics, cache=topic_cache),
                difficulty=data.difficulty, default_points=data.points, status=QuestionStatus.IN_REVIEW,
                author=author, normalised_text=fp.normalised, search_key=fp.search_key,
            ) for (pq, data), fp in zip(chunk, chunk_fps, strict=True)]
            Question.objects.bulk_create(questions)
            chunk_ids = [q.pk for q in questions]
            Question.objects.filter(pk__in=chunk_ids).update(family_id=F("id"))
            options, keys, tag_links = [], [], []
            for q, (pq, data), fp in zip(questions, chunk, chunk_fps, strict=True):
                options.extend(QuestionOption(question_id=q.pk, position=i, text=o.text, fraction=o.fraction,
                                              feedback=o.feedback, tolerance=o.tolerance)
                               for i, o in enumerate(data.options))
                keys.extend(QuestionSimilarityKey(question_id=q.pk, key=k) for k in set(fp.band_keys))
                for name in {clean_text(t)[:60] for t in pq.tags if clean_text(t)}:
                    if name not in tag_cache:
                        tag_cache[name], _ = Tag.objects.get_or_create(name=name)
                    tag_links.append(through(question_id=q.pk, tag_id=tag_cache[name].pk))
            QuestionOption.objects.bulk_create(options)
            QuestionSimilarityKey.objects.bulk_create(keys)  # new questions, keys deduplicated: no conflicts
            through.objects.bulk_create(tag_links)
            for q, (pq, _data) in zip(questions, chunk, strict=True):
                if pq.media:
                    _link_media(q, [(_save_media(q, media), media.filename) for media in pq.media])
            ids.extend(chunk_ids)
        _audit(actor=actor, action="question.import", organisation=organisation,
               data={"count": len(ids), "first_id": ids[0] if ids else None, "last_id": ids[-1] if ids else None})
    report.imported = len(ids)
    report.question_ids = ids
    return report


def _save_media(question: Question, media: ParsedMedia) -> QuestionMedia:
    kind, ctype = media_validate(filename=media.filename, content=media.content)
    obj = QuestionMedia(question=question, kind=kind, content_type=ctype, size=len(media.content))
    obj.file.save(f"q{question.pk}.{_EXTENSIONS[ctype]}", ContentFile(media.content), save=False)
    obj.save()
    return obj


def _link_media(question: Question, saved: list[tuple[QuestionMedia, str]]) -> None:
    """Point Moodle-style references (``@@PLUGINFILE@@/name``, name raw or URL-encoded) in the question's
    texts at the stored files."""
    from urllib.parse import quote

    def relink(text: str) -> str:
        if "@@PLUGINFILE@@/" not in text:
            return text
        for media, filename in saved:
            for ref in {filename, quote(filename)}:
                text = text.replace(f"@@PLUGINFILE@@/{ref}", media.file.url)
        return text

    question.stem, question.explanation = relink(question.stem), relink(question.explanation)
    question.save(update_fields=["stem", "explanation"])
    options = list(question.options.all())
    for option in options:
        option.text, option.feedback = relink(option.text), relink(option.feedback)
    QuestionOption.objects.bulk_update(options, ["text", "feedback"])


# --- Pending admin uploads (preview → confirm) ------------------------------------------------------------
IMPORT_STORAGE_DIR = "question-imports"
IMPORT_UPLOAD_TTL_SECONDS = 24 * 3600


def import_upload_store(*, data: bytes) -> str:
    """Keep an uploaded file between the preview and the confirmation (shared storage, so any server process
    can confirm). Returns an unguessable single-use token."""
    import secrets

    from django.core.files.storage import default_storage

    token = secrets.token_urlsafe(16)
    default_storage.save(f"{IMPORT_STORAGE_DIR}/{token}.upload", ContentFile(data))
    return token


def import_upload_take(*, token: str) -> bytes | None:
    """The stored bytes for ``token``, deleted as they are read (single use); None if unknown or expired."""
    import re

    from django.core.files.storage import default_storage

    if not re.fullmatch(r"[A-Za-z0-9_-]{10,64}", token or ""):
        return None
    name = f"{IMPORT_STORAGE_DIR}/{token}.upload"
    if not default_storage.exists(name):
        return None
    try:
        with default_storage.open(name, "rb") as handle:
            return handle.read()
    finally:
        default_storage.delete(name)


def import_uploads_purge(*, now: Any = None) -> int:
    """Delete pending uploads older than IMPORT_UPLOAD_TTL_SECONDS (abandoned previews). Idempotent."""
    import datetime as dt

    from django.core.files.storage import default_storage

    now = now or timezone.now()
    try:
        _dirs, files = default_storage.listdir(IMPORT_STORAGE_DIR)
    except (FileNotFoundError, NotImplementedError):
        return 0
    removed = 0
    for name in files:
        path = f"{IMPORT_STORAGE_DIR}/{name}"
        try:
            if now - default_storage.get_modified_time(path) > dt.timedelta(seconds=IMPORT_UPLOAD_TTL_SECONDS):
                default_storage.delete(path)
                removed += 1
        except (FileNotFoundError, NotImplementedError):
            continue
    return removed

"""Writing questions: validation and normalisation of what is written (all text sanitised here, whatever its
source), topics and tags, create and edit — an edit of a version some attempt drew makes a new version.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from accounts.models import Organisation, Role
from questionbank import dedupe
from questionbank.errors import QuestionPermissionDenied, QuestionStateError, QuestionValidationError
from questionbank.importers.base import ParsedOption
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
from questionbank.services._common import (
    CHOICE_TYPES,
    FRACTION_SUM_TOLERANCE,
    MAX_EXPLANATION_CHARS,
    MAX_FEEDBACK_CHARS,
    MAX_OPTION_CHARS,
    MAX_OPTIONS,
    MAX_POINTS,
    MAX_STEM_CHARS,
    MAX_TOPIC_DEPTH,
    _require,
    question_is_used,
)


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
    question.search_text = dedupe.question_search_text(fp.normalised, citation=question.citation)
    question.answer_key = dedupe.answer_key(
        citation_document=question.citation_document, citation_article=question.citation_article,
        correct_texts=[html_to_text(o.text) for o in options if Decimal(str(o.fraction)) > 0])
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
        question.save(update_fields=["family_id", "normalised_text", "search_key", "search_text",
                                         "answer_key"])
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
            target.save(update_fields=["normalised_text", "search_key", "search_text",
                                         "answer_key"])
        if tag_objs is not None:
            target.tags.set(tag_objs)
    return target


def _options_key(options: Sequence[ParsedOption]) -> list[tuple]:
    return [(o.text, Decimal(o.fraction).quantize(Decimal("0.00001")), o.feedback,
             None if o.tolerance is None else Decimal(o.tolerance).normalize()) for o in options]

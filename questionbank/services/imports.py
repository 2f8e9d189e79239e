"""Importing questions from a parsed file (the importers' IR) in chunks inside one transaction, with
duplicate warnings; and the pending admin uploads between the preview and the confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Organisation, Role
from questionbank import dedupe, selectors
from questionbank.errors import MediaRejected, QuestionValidationError
from questionbank.importers.base import ParsedMedia, ParsedQuestion, ParseResult, Problem
from questionbank.models import (
    Question,
    QuestionMedia,
    QuestionOption,
    QuestionSimilarityKey,
    QuestionStatus,
    Tag,
    Topic,
    Visibility,
)
from questionbank.sanitize import clean_text, html_to_text
from questionbank.services._common import IMPORT_CHUNK, MAX_TOPIC_DEPTH, _audit, _require
from questionbank.services.media import _EXTENSIONS, media_validate
from questionbank.services.questions import QuestionData, question_clean, topic_get_or_create_path


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
    answer_keys = [_answer_key(d) for _pq, d in cleaned]
    for pq, message in selectors.import_duplicates(organisation=organisation, items=items, answer_keys=answer_keys):
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
                search_text=dedupe.question_search_text(fp.normalised, citation=_citation(data)),
                answer_key=_answer_key(data),
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


def _citation(data: Any) -> str:
    return Question(citation_document=data.citation_document, citation_article=data.citation_article,
                    citation_clause=data.citation_clause).citation


def _answer_key(data: Any) -> str:
    return dedupe.answer_key(citation_document=data.citation_document, citation_article=data.citation_article,
                             correct_texts=[html_to_text(o.text) for o in data.options if o.fraction > 0])

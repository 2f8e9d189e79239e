"""Exporters: questions → files. They consume the importers' IR (``questionbank.importers.base``), so
one helper turns a saved question into that IR and every exporter works from it."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from questionbank.importers.base import ParsedMedia, ParsedOption, ParsedQuestion

if TYPE_CHECKING:
    from questionbank.models import Question


def question_to_parsed(question: Question, *, with_media: bool = True) -> ParsedQuestion:
    """The IR of one saved question (options in position order, topic path from the root).

    Reads ``options``, ``tags``, ``media`` and the topic chain: prefetch ``options``, ``tags`` and
    ``media`` and select ``topic`` when exporting many questions. Media files are read into memory."""
    topic_path: list[str] = []
    node, seen = question.topic, set()
    while node is not None and node.pk not in seen:
        seen.add(node.pk)
        topic_path.append(node.name)
        node = node.parent
    topic_path.reverse()

    options = sorted(question.options.all(), key=lambda o: (o.position, o.pk or 0))
    media: list[ParsedMedia] = []
    if with_media:
        for item in question.media.all():
            with item.file.open("rb") as handle:
                content = handle.read()
            media.append(ParsedMedia(filename=posixpath.basename(item.file.name), content=content,
                                     content_type=item.content_type))
    return ParsedQuestion(
        type=question.type,
        stem=question.stem,
        options=[ParsedOption(text=o.text, fraction=o.fraction, feedback=o.feedback, tolerance=o.tolerance)
                 for o in options],
        explanation=question.explanation,
        citation_document=question.citation_document,
        citation_article=question.citation_article,
        citation_clause=question.citation_clause,
        topic_path=topic_path,
        tags=sorted(tag.name for tag in question.tags.all()),
        difficulty=question.difficulty,
        points=question.default_points,
        media=media,
    )

"""ParsedQuestion list → Moodle XML (UTF-8 bytes).

A ``<question type="category">`` element is written whenever the topic path changes (``$course$/top/A/B``;
an empty path resets to ``$course$/top``), so ``questionbank.importers.moodle_xml.parse`` gives back the same
questions. Texts are written as HTML (``format="html"``), escaped rather than in CDATA; media go into the
question text as base64 ``<file>`` elements. Difficulty and the legal citation, which Moodle has no place
for, go into a ``<contestengine>`` element that Moodle's importer ignores. Characters XML 1.0 cannot carry
(control characters other than tab and newline) are removed.
"""

from __future__ import annotations

import base64
import posixpath
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from decimal import Decimal
from typing import IO, TYPE_CHECKING

from questionbank.exporters import question_to_parsed
from questionbank.importers._common import join_category_path, short
from questionbank.importers.base import ParsedOption, ParsedQuestion
from questionbank.models import QuestionOption

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from questionbank.models import Question

_MOODLE_TYPES = {
    "single": "multichoice",
    "multiple": "multichoice",
    "truefalse": "truefalse",
    "numeric": "numerical",
    "short": "shortanswer",
    "essay": "essay",
}
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("", text).replace("\r\n", "\n").replace("\r", "\n")


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _text_element(parent: ET.Element, tag: str, text: str, *, html: bool = True) -> ET.Element:
    element = ET.SubElement(parent, tag, {"format": "html"} if html else {})
    ET.SubElement(element, "text").text = _clean(text)
    return element


def _simple(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = _clean(text)
    return element


def _answer(parent: ET.Element, option: ParsedOption, text: str | None = None) -> ET.Element:
    answer = ET.SubElement(parent, "answer", {"fraction": _number(option.fraction * 100), "format": "html"})
    ET.SubElement(answer, "text").text = _clean(option.text if text is None else text)
    if option.tolerance is not None:
        _simple(answer, "tolerance", _number(option.tolerance))
    _text_element(answer, "feedback", option.feedback)
    return answer


def _question(quiz: ET.Element, question: ParsedQuestion, index: int) -> None:
    try:
        moodle_type = _MOODLE_TYPES[question.type]
    except KeyError:
        raise ValueError(f"Unknown question type {question.type!r}") from None
    element = ET.SubElement(quiz, "question", {"type": moodle_type})
    name = ET.SubElement(element, "name")
    ET.SubElement(name, "text").text = _clean(short(question.stem, 60)) or f"Câu hỏi {index}"
    questiontext = _text_element(element, "questiontext", question.stem)
    for media in question.media:
        file = ET.SubElement(questiontext, "file", {"name": media.filename, "path": "/", "encoding": "base64"})
        file.text = base64.b64encode(media.content).decode("ascii")
    _text_element(element, "generalfeedback", question.explanation)
    _simple(element, "defaultgrade", _number(question.points))
    _simple(element, "penalty", "0.3333333")
    _simple(element, "hidden", "0")

    if moodle_type == "multichoice":
        _simple(element, "single", "true" if question.type == "single" else "false")
        _simple(element, "shuffleanswers", "true")
        _simple(element, "answernumbering", "ABCD")
        for option in question.options:
            _answer(element, option)
    elif moodle_type == "truefalse":
        # The IR's true/false options are ["Đúng", "Sai"]: the first is "true".
        for option, value in zip(question.options, ("true", "false"), strict=False):
            _answer(element, option, text=value)
    elif moodle_type == "numerical":
        for option in question.options:
            if option.tolerance is None:
                option = ParsedOption(option.text, option.fraction, option.feedback, Decimal(0))
            _answer(element, option)
    elif moodle_type == "shortanswer":
        _simple(element, "usecase", "0")
        for option in question.options:
            _answer(element, option)
    else:
        _simple(element, "responseformat", "editor")
        _simple(element, "responserequired", "1")
        _simple(element, "responsefieldlines", "15")
        _simple(element, "attachments", "0")
        _text_element(element, "graderinfo", "")
        _text_element(element, "responsetemplate", "")

    if question.tags:
        tags = ET.SubElement(element, "tags")
        for tag in question.tags:
            ET.SubElement(ET.SubElement(tags, "tag"), "text").text = _clean(tag)
    meta = ET.SubElement(element, "contestengine")
    _simple(meta, "difficulty", question.difficulty)
    _simple(meta, "citation_document", question.citation_document)
    _simple(meta, "citation_article", question.citation_article)
    _simple(meta, "citation_clause", question.citation_clause)


def export(questions: Iterable[ParsedQuestion]) -> bytes:
    """Serialise questions to a Moodle XML document (UTF-8, with an XML declaration)."""
    quiz = ET.Element("quiz")
    current_path: list[str] = []
    for index, question in enumerate(questions, start=1):
        if question.topic_path != current_path:
            category = ET.SubElement(quiz, "question", {"type": "category"})
            ET.SubElement(ET.SubElement(category, "category"), "text").text = _clean(
                join_category_path(question.topic_path))
            current_path = list(question.topic_path)
        _question(quiz, question, index)
    ET.indent(quiz, space="  ")
    return ET.tostring(quiz, encoding="utf-8", xml_declaration=True) + b"\n"


def export_questions(out: str | IO[bytes], queryset: QuerySet[Question]) -> int:
    """Export saved questions (``queryset``, any filtering already applied) to Moodle XML at ``out`` (a path
    or a binary file); returns how many were written. Media are embedded, and links to a stored media file
    in the texts become ``@@PLUGINFILE@@/name`` again so an import relinks them to its own copies."""
    from django.db.models import Prefetch

    parsed: list[ParsedQuestion] = []
    base = (queryset.order_by("id").select_related("topic")
            .prefetch_related(Prefetch("options", queryset=QuestionOption.objects.order_by("position", "id")),
                              "tags", "media"))
    for question in base.iterator(chunk_size=500):
        item = question_to_parsed(question)
        links = {m.file.url: f"@@PLUGINFILE@@/{posixpath.basename(m.file.name)}" for m in question.media.all()}
        if links:
            item.stem, item.explanation = _unlink(item.stem, links), _unlink(item.explanation, links)
            for option in item.options:
                option.text, option.feedback = _unlink(option.text, links), _unlink(option.feedback, links)
        parsed.append(item)
    data = export(parsed)
    if isinstance(out, str):
        with open(out, "wb") as handle:
            handle.write(data)
    else:
        out.write(data)
    return len(parsed)


def _unlink(text: str, links: dict[str, str]) -> str:
    for url, ref in links.items():
        text = text.replace(url, ref)
    return text

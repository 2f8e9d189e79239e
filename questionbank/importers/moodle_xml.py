"""Moodle XML → ParseResult.

Supported question types: multichoice (``<single>true</single>`` → single, ``false`` → multiple), truefalse,
numerical (answers with ``<tolerance>``), shortanswer and essay. Category elements
(``<question type="category">`` with a ``$course$/top/A/B`` path) set the topic path of the questions after
them, in file order. Fractions are Moodle percentages (``fraction="50"`` → ``Decimal("0.5")``, negatives
allowed); ``generalfeedback`` → explanation; ``defaultgrade`` → points; ``<tags>``; embedded
``<file encoding="base64">`` elements anywhere in a question → media (references in the text stay as
``@@PLUGINFILE@@/name``). HTML is kept as written: nothing in it is fetched, resolved or executed — the import
service sanitises it. Our own exporter adds a ``<contestengine>`` element (difficulty, legal citation) that
Moodle ignores and this parser reads back.

The XML is read with defusedxml: a DTD, entity declarations and external references are refused with
ImportFileError, as are files over 20 MB, files that are not UTF-8 and a root element other than ``<quiz>``.
"""

from __future__ import annotations

import base64
import binascii
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from ._common import (
    FALSE_TEXT,
    MAX_MEDIA_BYTES,
    TRUE_TEXT,
    accept_question,
    check_size,
    make_media,
    mb,
    parse_decimal,
    quantize_fraction,
    short,
    split_category_path,
)
from .base import ImportFileError, ParsedMedia, ParsedOption, ParsedQuestion, ParseResult, Problem, Unsupported

SUPPORTED = ("multichoice", "truefalse", "numerical", "shortanswer", "essay")

UNSUPPORTED_REASONS = {
    "cloze": "Câu hỏi điền khuyết nhiều chỗ (cloze) chưa được hỗ trợ.",
    "multianswer": "Câu hỏi điền khuyết nhiều chỗ (cloze/multianswer) chưa được hỗ trợ.",
    "matching": "Câu hỏi ghép đôi (matching) chưa được hỗ trợ.",
    "randomsamatch": "Câu hỏi ghép đôi ngẫu nhiên chưa được hỗ trợ.",
    "ddwtos": "Câu hỏi kéo thả vào văn bản chưa được hỗ trợ.",
    "gapselect": "Câu hỏi chọn từ điền vào chỗ trống chưa được hỗ trợ.",
    "ddimageortext": "Câu hỏi kéo thả vào hình chưa được hỗ trợ.",
    "ddmarker": "Câu hỏi kéo thả điểm đánh dấu chưa được hỗ trợ.",
    "calculated": "Câu hỏi tính toán theo công thức chưa được hỗ trợ.",
    "calculatedsimple": "Câu hỏi tính toán theo công thức chưa được hỗ trợ.",
    "calculatedmulti": "Câu hỏi trắc nghiệm tính theo công thức chưa được hỗ trợ.",
    "description": "Đây là đoạn mô tả, không phải câu hỏi.",
    "random": "Câu hỏi ngẫu nhiên của Moodle chỉ là tham chiếu tới ngân hàng câu hỏi, không có nội dung.",
    "ordering": "Câu hỏi sắp xếp thứ tự chưa được hỗ trợ.",
}

_ENCODING_RE = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


class _LineTreeBuilder(ET.TreeBuilder):
    """TreeBuilder that remembers the line of each start tag (ElementTree has no sourceline)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[ET.Element, int] = {}
        self.expat = None

    def start(self, tag, attrs):
        element = super().start(tag, attrs)
        if self.expat is not None:
            self.lines[element] = self.expat.CurrentLineNumber
        return element


def _read_xml(data: bytes) -> tuple[ET.Element, dict[ET.Element, int]]:
    check_size(data)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError("Tệp XML được lưu bằng mã hoá UTF-16; chỉ chấp nhận UTF-8.")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    declared = _ENCODING_RE.match(data)
    if declared and declared.group(1).decode("ascii").lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise ImportFileError(
            f"Tệp XML khai báo mã hoá {declared.group(1).decode('ascii')}; chỉ chấp nhận UTF-8.")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(f"Tệp XML không phải mã hoá UTF-8 (byte không hợp lệ ở dòng {line}).") from exc

    builder = _LineTreeBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    builder.expat = parser.parser
    try:
        parser.feed(data)
        root = parser.close()
    except DTDForbidden as exc:
        raise ImportFileError("Tệp XML chứa khai báo DTD (<!DOCTYPE …>); vì an toàn, tệp bị từ chối.") from exc
    except EntitiesForbidden as exc:
        raise ImportFileError("Tệp XML khai báo thực thể (<!ENTITY …>); vì an toàn, tệp bị từ chối.") from exc
    except ExternalReferenceForbidden as exc:
        raise ImportFileError("Tệp XML tham chiếu tới tài nguyên bên ngoài; vì an toàn, tệp bị từ chối.") from exc
    except ET.ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        raise ImportFileError(f"Tệp XML sai cú pháp ở dòng {line}, cột {column}.") from exc
    if root.tag != "quiz":
        raise ImportFileError(f"Không phải tệp Moodle XML: phần tử gốc là <{root.tag}>, cần <quiz>.")
    return root, builder.lines


def parse(data: bytes) -> ParseResult:
    root, lines = _read_xml(data)
    result = ParseResult()
    topic_path: list[str] = []
    for element in root:
        if element.tag != "question":
            continue
        line = lines.get(element)
        qtype = (element.get("type") or "").strip()
        if qtype == "category":
            topic_path = split_category_path(_text(element.find("category")))
            continue
        name = _text(element.find("name")) or short(_text(element.find("questiontext"))) or f"dòng {line}"
        if qtype not in SUPPORTED:
            reason = UNSUPPORTED_REASONS.get(qtype, f"Loại câu hỏi '{qtype}' chưa được hỗ trợ.")
            result.unsupported.append(Unsupported(item=name, type=qtype or "(không ghi loại)", reason=reason))
            continue
        _parse_question(element, qtype, name, line, lines, topic_path, result)
    return result


def _text(element: ET.Element | None) -> str:
    """The ``<text>`` child of a Moodle text element (or the element's own text), stripped."""
    if element is None:
        return ""
    child = element.find("text")
    value = child.text if child is not None else element.text
    return (value or "").strip()


def _child_text(element: ET.Element, tag: str) -> str:
    child = element.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _parse_question(element: ET.Element, qtype: str, name: str, line: int | None,
                    lines: dict[ET.Element, int], topic_path: list[str], result: ParseResult) -> None:
    label = f"Câu hỏi «{short(name, 40)}»: "
    errors: list[Problem] = []

    def error(message: str, at: ET.Element | None = None) -> None:
        errors.append(Problem(message=label + message, line=lines.get(at, line) if at is not None else line))

    question = ParsedQuestion(
        type="single",
        stem=_text(element.find("questiontext")),
        explanation=_text(element.find("generalfeedback")),
        topic_path=list(topic_path),
        line=line,
    )
    grade = element.find("defaultgrade")
    if grade is not None and (grade.text or "").strip():
        points = parse_decimal(grade.text)
        if points is None:
            error(f"điểm mặc định '{grade.text.strip()}' không phải là số.", grade)
        else:
            question.points = points
    tags = element.find("tags")
    if tags is not None:
        question.tags = [t for t in (_text(tag) for tag in tags.findall("tag")) if t]
    meta = element.find("contestengine")
    if meta is not None:
        question.difficulty = _child_text(meta, "difficulty") or question.difficulty
        question.citation_document = _child_text(meta, "citation_document")
        question.citation_article = _child_text(meta, "citation_article")
        question.citation_clause = _child_text(meta, "citation_clause")
    question.media = _media(element, error)

    answers = element.findall("answer")
    if qtype == "multichoice":
        single = _child_text(element, "single").lower()
        question.type = "multiple" if single in ("false", "0") else "single"
        question.options = [_answer(a, error) for a in answers]
    elif qtype == "truefalse":
        question.type = "truefalse"
        by_value: dict[str, ParsedOption] = {}
        for answer in answers:
            value = _text(answer).lower()
            if value not in ("true", "false"):
                error(f"đáp án của câu Đúng/Sai phải là 'true' hoặc 'false', không phải '{short(value, 20)}'.",
                      answer)
                continue
            option = _answer(answer, error)
            option.text = TRUE_TEXT if value == "true" else FALSE_TEXT
            by_value[value] = option
        if set(by_value) != {"true", "false"}:
            error("câu Đúng/Sai phải có cả đáp án 'true' và 'false'.")
        else:
            question.options = [by_value["true"], by_value["false"]]
    elif qtype == "numerical":
        question.type = "numeric"
        for answer in answers:
            option = _answer(answer, error)
            tolerance_text = _child_text(answer, "tolerance") or "0"
            tolerance = parse_decimal(tolerance_text)
            if tolerance is None:
                error(f"sai số '{tolerance_text}' không phải là số.", answer)
            option.tolerance = tolerance
            question.options.append(option)
    elif qtype == "shortanswer":
        question.type = "short"
        question.options = [_answer(a, error) for a in answers]
    else:
        question.type = "essay"

    if errors:
        result.errors.extend(errors)
        return
    accept_question(question, result, label=label)


def _answer(answer: ET.Element, error) -> ParsedOption:
    raw = (answer.get("fraction") or "0").strip()
    percent = parse_decimal(raw)
    if percent is None or not Decimal(-100) <= percent <= Decimal(100):
        error(f"tỉ lệ điểm fraction=\"{raw}\" không hợp lệ (phải là số từ -100 đến 100).", answer)
        percent = Decimal(0)
    return ParsedOption(text=_text(answer), fraction=quantize_fraction(percent / 100),
                        feedback=_text(answer.find("feedback")))


def _media(element: ET.Element, error) -> list[ParsedMedia]:
    media: list[ParsedMedia] = []
    for file in element.iter("file"):
        filename = (file.get("name") or "").strip()
        encoding = (file.get("encoding") or "base64").strip().lower()
        if encoding != "base64":
            error(f"tệp đính kèm '{filename}' dùng mã hoá '{encoding}'; chỉ hỗ trợ base64.", file)
            continue
        payload = re.sub(r"\s+", "", file.text or "")
        # Reject before decoding: base64 is 4/3 of the content.
        if len(payload) * 3 // 4 > MAX_MEDIA_BYTES + 3:
            error(f"tệp đính kèm '{filename}' quá lớn (giới hạn {mb(MAX_MEDIA_BYTES)}).", file)
            continue
        try:
            content = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            error(f"tệp đính kèm '{filename}' không phải dữ liệu base64 hợp lệ.", file)
            continue
        if len(content) > MAX_MEDIA_BYTES:
            error(f"tệp đính kèm '{filename}' quá lớn (giới hạn {mb(MAX_MEDIA_BYTES)}).", file)
            continue
        if not filename:
            error("tệp đính kèm thiếu tên (thuộc tính name).", file)
            continue
        media.append(make_media(filename, content))
    return media

"""GIFT (Moodle's text format) → ParseResult.

Supported: ``//`` comment lines, ``::title::``, ``$CATEGORY: a/b``, multiple choice (``=`` right, ``~`` wrong,
``~%50%`` weights; several positive answers make a multiple-answer question), true/false (``{T}``, ``{F}``,
``{TRUE}``, ``{FALSE}`` with ``#wrong feedback#right feedback``), numeric (``{#3.14:0.01}``, ``{#1..5}``,
``{#=3:0 =%50%3:1}``), short answer (only ``=`` answers), essay (``{}``), missing-word questions (text after
the answer block; the blank becomes ``_____``), ``#feedback`` per answer, ``####general feedback`` (→
explanation), escapes ``\\= \\~ \\# \\{ \\} \\: \\\\ \\n`` and the ``[html]``/``[moodle]``/``[plain]``/
``[markdown]`` format markers. Matching (``->``) and text without an answer block (Moodle's "description")
are listed as unsupported. Items are separated by blank lines; every problem carries its line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from ._common import (
    accept_question,
    decode_text,
    parse_decimal,
    plain_to_html,
    quantize_fraction,
    short,
    split_category_path,
    split_evenly,
    truefalse_options,
)
from .base import ParsedOption, ParsedQuestion, ParseResult, Problem, Unsupported

# Escaped characters become private-use placeholders while the structure is parsed (the way Moodle's own
# GIFT reader does it), then are restored in every text.
_ESCAPES = {"\\": "\ue000", "=": "\ue001", "~": "\ue002", "#": "\ue003", "{": "\ue004", "}": "\ue005",
            ":": "\ue006", "n": "\ue007"}
_RESTORE = {placeholder: ("\n" if char == "n" else char) for char, placeholder in _ESCAPES.items()}
_ESCAPE_RE = re.compile(r"\\([\\=~#{}:n])")
_PLACEHOLDER_RE = re.compile("[\ue000-\ue007]")
_FORMAT_RE = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
_WEIGHT_RE = re.compile(r"^\s*%([^%]*)%")
_TRUEFALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}

# Characters that must be escaped in GIFT text (used by ``escape``; the exporter of this format, if any,
# and the property tests rely on escape/unescape being inverse).
_MUST_ESCAPE = "\\=~#{}:"


def escape(text: str) -> str:
    """Escape a plain text for use anywhere in a GIFT item (newlines become ``\\n``)."""
    out = "".join("\\" + char if char in _MUST_ESCAPE else char for char in text)
    return out.replace("\n", "\\n")


def unescape(text: str) -> str:
    """Inverse of ``escape`` for text without unescaped structure characters."""
    return _restore(_ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(1)], _PLACEHOLDER_RE.sub("\ufffd", text)))


def _restore(text: str) -> str:
    return _PLACEHOLDER_RE.sub(lambda m: _RESTORE[m.group(0)], text)


@dataclass
class _Item:
    text: str                              # escaped text (placeholders instead of escapes)
    lines: list[int] = field(default_factory=list)  # file line number of each line of ``text``

    def line_at(self, offset: int) -> int:
        return self.lines[min(self.text.count("\n", 0, max(offset, 0)), len(self.lines) - 1)]


def parse(data: bytes) -> ParseResult:
    text = decode_text(data)
    result = ParseResult()
    topic_path: list[str] = []
    for item in _split_items(text):
        topic_path = _parse_item(item, topic_path, result)
    return result


def _split_items(text: str) -> list[_Item]:
    items: list[_Item] = []
    current_lines: list[str] = []
    current_numbers: list[int] = []

    def flush() -> None:
        if current_lines:
            items.append(_Item(text="\n".join(current_lines), lines=list(current_numbers)))
            current_lines.clear()
            current_numbers.clear()

    for number, raw in enumerate(text.split("\n"), start=1):
        if raw.lstrip().startswith("//"):
            continue
        if not raw.strip():
            flush()
            continue
        current_lines.append(_ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(1)], _PLACEHOLDER_RE.sub("\ufffd", raw)))
        current_numbers.append(number)
    flush()
    return items


def _parse_item(item: _Item, topic_path: list[str], result: ParseResult) -> list[str]:
    """Parse one blank-line separated item; return the topic path in force after it."""
    text = item.text
    start_line = item.lines[0]
    if text.lstrip().upper().startswith("$CATEGORY:"):
        first, _, rest = text.lstrip().partition("\n")
        topic_path = split_category_path(_restore(first.split(":", 1)[1]))
        if rest.strip():
            _parse_item(_Item(text=rest, lines=item.lines[1:]), topic_path, result)
        return topic_path

    errors: list[Problem] = []

    def error(message: str, offset: int | None = None) -> None:
        line = start_line if offset is None else item.line_at(offset)
        errors.append(Problem(message=message, line=line))

    body_start = len(text) - len(text.lstrip())
    title = ""
    if text.startswith("::", body_start):
        end = text.find("::", body_start + 2)
        if end < 0:
            error("Lỗi cú pháp: thiếu dấu '::' đóng tiêu đề câu hỏi.", body_start)
            result.errors.extend(errors)
            return topic_path
        title = _restore(text[body_start + 2:end]).strip()
        body_start = end + 2

    label = f"Câu hỏi «{short(title, 40)}»: " if title else ""
    open_at = text.find("{", body_start)
    if open_at < 0:
        name = title or short(_restore(text[body_start:]))
        result.unsupported.append(Unsupported(
            item=name, type="description",
            reason="Không có phần đáp án {…}: Moodle coi đây là đoạn mô tả, không phải câu hỏi "
                   "(nếu là câu hỏi, hãy thêm phần đáp án trong dấu ngoặc nhọn).",
        ))
        return topic_path
    close_at = text.find("}", open_at)
    if close_at < 0:
        error(f"{label}Lỗi cú pháp: thiếu dấu '}}' đóng phần đáp án.", open_at)
        result.errors.extend(errors)
        return topic_path
    nested = text.find("{", open_at + 1, close_at)
    if nested >= 0:
        error(f"{label}Lỗi cú pháp: dấu '{{' lồng trong phần đáp án (viết '\\{{' nếu là ký tự thường).", nested)
    extra = text.find("{", close_at + 1)
    if extra >= 0:
        error(f"{label}Lỗi cú pháp: câu hỏi có nhiều hơn một phần đáp án {{…}}.", extra)
    stray = text.find("}", close_at + 1)
    if stray >= 0 and extra < 0:
        error(f"{label}Lỗi cú pháp: dấu '}}' thừa (viết '\\}}' nếu là ký tự thường).", stray)

    before = text[body_start:open_at]
    after = text[close_at + 1:]
    text_format = "moodle"
    marker = _FORMAT_RE.match(before)
    if marker:
        text_format = marker.group(1).lower()
        before = before[marker.end():]
    stem = before.strip()
    if after.strip():
        stem = f"{before.rstrip()} _____ {after.lstrip()}".strip()
    stem = _restore(stem)

    answer_offset = open_at + 1
    answer = text[answer_offset:close_at]
    explanation = ""
    general = answer.find("####")
    if general >= 0:
        explanation = _restore(answer[general + 4:]).strip()
        answer = answer[:general]
    stripped = answer.strip()
    lead = answer_offset + (len(answer) - len(answer.lstrip()))

    question = ParsedQuestion(type="essay", stem=stem, explanation=explanation, topic_path=list(topic_path),
                              line=start_line)
    head = stripped.split("#", 1)[0].strip().upper()
    if not stripped:
        question.type = "essay"
    elif stripped.startswith("#"):
        question.type = "numeric"
        question.options = _numeric_answers(stripped[1:], lead + 1, label, error)
    elif stripped.startswith("=") and "->" in stripped:
        result.unsupported.append(Unsupported(
            item=title or short(stem), type="matching",
            reason="Câu hỏi ghép đôi (matching, dùng '->') chưa được hỗ trợ.",
        ))
        return topic_path
    elif head in _TRUEFALSE:
        feedback = [_restore(part).strip() for part in stripped.split("#")[1:]]
        if len(feedback) > 2:
            error(f"{label}Lỗi cú pháp: câu Đúng/Sai có tối đa hai phản hồi '#sai#đúng'.", lead)
        wrong_fb = feedback[0] if feedback else ""
        right_fb = feedback[1] if len(feedback) > 1 else ""
        correct = _TRUEFALSE[head]
        question.type = "truefalse"
        question.options = truefalse_options(
            correct=correct,
            true_feedback=right_fb if correct else wrong_fb,
            false_feedback=wrong_fb if correct else right_fb,
        )
    elif stripped[0] not in "=~":
        error(f"{label}Lỗi cú pháp: phần đáp án phải bắt đầu bằng '=', '~', '#', T hoặc F.", lead)
    else:
        answers = _choice_answers(answer, answer_offset, label, error)
        if "~" in stripped:
            positives = [a for a in answers if a[0].fraction > 0]
            if len(positives) > 1:
                question.type = "multiple"
                unweighted = [a for a in positives if not a[1]]
                if len(unweighted) == len(positives):
                    for (opt, _weighted), share in zip(unweighted, split_evenly(len(unweighted)), strict=True):
                        opt.fraction = share
            else:
                question.type = "single"
        else:
            question.type = "short"
        question.options = [opt for opt, _weighted in answers]

    _to_html(question, text_format)
    if text_format == "markdown":
        result.warnings.append(Problem(
            message=f"{label}định dạng [markdown] được giữ nguyên dưới dạng văn bản thường.", line=start_line))
    if errors:
        result.errors.extend(errors)
        return topic_path
    accept_question(question, result, label=label)
    return topic_path


def _to_html(question: ParsedQuestion, text_format: str) -> None:
    """Texts as HTML, the way Moodle reads each GIFT format: ``[html]`` as is; the default ``[moodle]``
    auto-format keeps HTML and turns line breaks into ``<br>``; ``[plain]`` and ``[markdown]`` are escaped.
    Accepted answers of short-answer and numeric questions stay raw text: they are compared, not shown."""
    if text_format == "html":
        return

    def convert(text: str) -> str:
        return text.replace("\n", "<br>") if text_format == "moodle" else plain_to_html(text)

    question.stem = convert(question.stem)
    question.explanation = convert(question.explanation)
    for option in question.options:
        option.feedback = convert(option.feedback)
        if question.type in ("single", "multiple"):
            option.text = convert(option.text)


def _split_answers(answer: str, base: int) -> list[tuple[str, str, int]]:
    """Split ``=a#fb ~b`` into (marker, body, offset-in-item) triples; text before the first marker is
    returned with marker ''."""
    parts: list[tuple[str, str, int]] = []
    pieces = re.split(r"([=~])", answer)
    offset = base + len(pieces[0])
    if pieces[0].strip():
        parts.append(("", pieces[0], base))
    for index in range(1, len(pieces), 2):
        marker, body = pieces[index], pieces[index + 1]
        parts.append((marker, body, offset))
        offset += 1 + len(body)
    return parts


def _weight(body: str, offset: int, label: str, error) -> tuple[Decimal | None, str]:
    match = _WEIGHT_RE.match(body)
    if not match:
        return None, body
    value = parse_decimal(match.group(1))
    if value is None or not Decimal(-100) <= value <= Decimal(100):
        error(f"{label}Tỉ lệ điểm '%{_restore(match.group(1))}%' không hợp lệ (phải là số từ -100 đến 100).",
              offset)
        return Decimal(0), body[match.end():]
    return quantize_fraction(value / 100), body[match.end():]


def _choice_answers(answer: str, base: int, label: str, error) -> list[tuple[ParsedOption, bool]]:
    answers: list[tuple[ParsedOption, bool]] = []
    for marker, body, offset in _split_answers(answer, base):
        if not marker:
            error(f"{label}Lỗi cú pháp: có chữ '{short(_restore(body), 30)}' trước đáp án đầu tiên "
                  "(mỗi đáp án phải bắt đầu bằng '=' hoặc '~').", offset)
            continue
        weight, body = _weight(body, offset, label, error)
        answer_text, _, feedback = body.partition("#")
        answer_text = _restore(answer_text).strip()
        if not answer_text:
            error(f"{label}Lỗi cú pháp: đáp án sau '{marker}' trống.", offset)
            continue
        fraction = weight if weight is not None else Decimal(1 if marker == "=" else 0)
        answers.append((ParsedOption(text=answer_text, fraction=fraction, feedback=_restore(feedback).strip()),
                        weight is not None))
    return answers


def _numeric_value(value: str, offset: int, label: str, error) -> tuple[str, Decimal] | None:
    value = _restore(value).strip()
    if ".." in value:
        low_text, _, high_text = value.partition("..")
        low, high = parse_decimal(low_text), parse_decimal(high_text)
        if low is None or high is None or low > high:
            error(f"{label}Khoảng số '{value}' không hợp lệ (cần dạng nhỏ..lớn, ví dụ 1..5).", offset)
            return None
        return str((low + high) / 2), (high - low) / 2
    number_text, _, tolerance_text = value.partition(":")
    number_text = number_text.strip()
    if parse_decimal(number_text) is None:
        error(f"{label}Đáp án số '{number_text}' không phải là số.", offset)
        return None
    tolerance = Decimal(0)
    if tolerance_text.strip():
        parsed = parse_decimal(tolerance_text)
        if parsed is None or parsed < 0:
            error(f"{label}Sai số '{tolerance_text.strip()}' không hợp lệ.", offset)
            return None
        tolerance = parsed
    return number_text, tolerance


def _numeric_answers(body: str, base: int, label: str, error) -> list[ParsedOption]:
    if not body.strip():
        error(f"{label}Lỗi cú pháp: câu hỏi số thiếu đáp án sau '#'.", base)
        return []
    options: list[ParsedOption] = []
    if body.lstrip()[:1] not in ("=", "~"):
        # The short form "{#3:2}" — Moodle also reads wrong alternatives after it: "{#3:2~#Completely wrong}"
        # is the answer 3 ± 2, then "~#…" feedback for any other answer (an alternative without a value).
        head, tilde, rest = body.partition("~")
        value, _, feedback = head.partition("#")
        parsed = _numeric_value(value, base, label, error)
        if parsed is None:
            return []
        options.append(ParsedOption(text=parsed[0], fraction=Decimal(1), feedback=_restore(feedback).strip(),
                                    tolerance=parsed[1]))
        if not tilde:
            return options
        base += len(head)
        body = tilde + rest
    for marker, part, offset in _split_answers(body, base):
        if not marker:
            error(f"{label}Lỗi cú pháp: có chữ trước đáp án số đầu tiên.", offset)
            continue
        weight, part = _weight(part, offset, label, error)
        value, _, feedback = part.partition("#")
        if not _restore(value).strip():
            # No value: Moodle's "any other answer" ("*"), which carries feedback and usually no credit.
            fraction = weight if weight is not None else Decimal(1 if marker == "=" else 0)
            options.append(ParsedOption(text="*", fraction=fraction, feedback=_restore(feedback).strip(),
                                        tolerance=None))
            continue
        parsed = _numeric_value(value, offset, label, error)
        if parsed is None:
            continue
        fraction = weight if weight is not None else Decimal(1 if marker == "=" else 0)
        options.append(ParsedOption(text=parsed[0], fraction=fraction, feedback=_restore(feedback).strip(),
                                    tolerance=parsed[1]))
    return options

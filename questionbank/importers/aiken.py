"""Aiken (Moodle's simplest format) → ParseResult.

::

    Người đủ bao nhiêu tuổi thì được lái xe máy trên 50 cm3?
    A. 16 tuổi
    B) 18 tuổi
    C. 20 tuổi
    ANSWER: B

The question text may span several lines; options are an upper-case letter followed by ``.`` or ``)`` and a
space; ``ANSWER:`` (or ``ĐÁP ÁN:``) ends the question. Extension: ``ANSWER: A, C`` makes a multiple-answer
question with the credit split evenly. Blank lines between questions are optional.
"""

from __future__ import annotations

import re
from decimal import Decimal

from ._common import accept_question, decode_text, plain_to_html, split_evenly
from .base import ParsedOption, ParsedQuestion, ParseResult, Problem

# "A. text", "A) text" — and, as Moodle accepts them, "A.text" and "A)text" without the space.
_OPTION_RE = re.compile(r"^([A-Z])\s*[.)]\s*(\S.*)$")
_OPTION_EMPTY_RE = re.compile(r"^([A-Z])\s*[.)]\s*$")
_ANSWER_RE = re.compile(r"^(?:ANSWER|ĐÁP\s+ÁN)\s*:\s*(.*)$", re.IGNORECASE)


class _Draft:
    def __init__(self, line: int, text: str):
        self.line = line
        self.stem_lines = [text]
        self.options: list[tuple[str, str, int]] = []  # letter, text, line


def parse(data: bytes) -> ParseResult:
    text = decode_text(data)
    result = ParseResult()
    draft: _Draft | None = None

    def unfinished(d: _Draft) -> None:
        result.errors.append(Problem(message="Thiếu dòng 'ANSWER: …' cho câu hỏi này.", line=d.line))

    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        option = _OPTION_RE.match(line) or _OPTION_EMPTY_RE.match(line)
        answer = _ANSWER_RE.match(line)
        if answer:
            if draft is None:
                result.errors.append(Problem(message="Dòng 'ANSWER:' không thuộc câu hỏi nào.", line=number))
                continue
            _finish(draft, answer.group(1), number, result)
            draft = None
        elif option:
            if draft is None:
                result.errors.append(Problem(
                    message=f"Phương án '{option.group(1)}.' đứng trước nội dung câu hỏi.", line=number))
                continue
            draft.options.append((option.group(1), option.group(2).strip() if option.lastindex == 2 else "",
                                  number))
        elif draft is not None and draft.options:
            # Text after the options without an ANSWER line: the previous question is unfinished and this
            # line starts the next one.
            unfinished(draft)
            draft = _Draft(number, line)
        elif draft is not None:
            draft.stem_lines.append(line)
        else:
            draft = _Draft(number, line)
    if draft is not None:
        unfinished(draft)
    return result


def _finish(draft: _Draft, answer_text: str, answer_line: int, result: ParseResult) -> None:
    errors: list[Problem] = []
    letters_seen: dict[str, int] = {}
    for letter, _text, line in draft.options:
        if letter in letters_seen:
            errors.append(Problem(
                message=f"Chữ cái phương án '{letter}' bị trùng (đã có ở dòng {letters_seen[letter]}).", line=line))
        else:
            letters_seen[letter] = line
    wanted = [part.strip().upper() for part in re.split(r"[,;\s]+", answer_text.strip()) if part.strip()]
    if not wanted:
        errors.append(Problem(message="Dòng 'ANSWER:' không ghi chữ cái của đáp án đúng.", line=answer_line))
    for letter in wanted:
        if not re.fullmatch(r"[A-Z]", letter):
            errors.append(Problem(message=f"Đáp án '{letter}' không hợp lệ (phải là một chữ cái A, B, C…).",
                                  line=answer_line))
        elif letter not in letters_seen:
            errors.append(Problem(message=f"Đáp án '{letter}' không có trong các phương án của câu hỏi.",
                                  line=answer_line))
    if len(set(wanted)) != len(wanted):
        errors.append(Problem(message="Dòng 'ANSWER:' ghi trùng một chữ cái.", line=answer_line))
    if errors:
        result.errors.extend(errors)
        return
    correct = list(dict.fromkeys(wanted))
    shares = dict(zip(correct, split_evenly(len(correct)), strict=True))
    question = ParsedQuestion(
        type="single" if len(correct) == 1 else "multiple",
        stem=plain_to_html("\n".join(draft.stem_lines)),
        options=[ParsedOption(text=plain_to_html(text), fraction=shares.get(letter, Decimal(0)))
                 for letter, text, _ in draft.options],
        line=draft.line,
    )
    accept_question(question, result)

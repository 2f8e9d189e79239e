"""Limits, decoding and format-independent checks shared by the text/XML/Word parsers.

Everything here is pure (no database). Messages are Vietnamese because they reach organisers.
"""

from __future__ import annotations

import html
import mimetypes
import posixpath
import re
from decimal import Decimal, InvalidOperation

from .base import ImportFileError, ParsedMedia, ParsedOption, ParsedQuestion, ParseResult, Problem

MAX_TEXT_FILE_BYTES = 20 * 1024 * 1024  # GIFT, Aiken, Moodle XML
MAX_STEM_CHARS = 10_000
MAX_OPTION_CHARS = 2_000
MAX_MEDIA_BYTES = 5 * 1024 * 1024
MAX_MEDIA_FILENAME = 200

# Canonical option texts of a true/false question in the IR: always two options, "true" first.
TRUE_TEXT = "Đúng"
FALSE_TEXT = "Sai"

CHOICE_TYPES = ("single", "multiple")
FRACTION_QUANTUM = Decimal("0.00001")  # QuestionOption.fraction has 5 decimal places

_UTF8_BOM = b"\xef\xbb\xbf"


def mb(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def check_size(data: bytes, limit: int | None = None) -> None:
    limit = MAX_TEXT_FILE_BYTES if limit is None else limit
    if len(data) > limit:
        raise ImportFileError(f"Tệp quá lớn ({mb(len(data))}); giới hạn là {mb(limit)}.")


def decode_text(data: bytes) -> str:
    """Decode a text file that must be UTF-8 (a BOM is allowed); newlines become ``\\n``.

    Raises ImportFileError for UTF-16/32 files and any byte sequence that is not UTF-8."""
    check_size(data)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError("Tệp được lưu bằng mã hoá UTF-16; hãy lưu lại tệp với mã hoá UTF-8.")
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"Tệp không phải mã hoá UTF-8 (byte không hợp lệ ở dòng {line}); "
            "hãy lưu lại tệp với mã hoá UTF-8."
        ) from exc
    if "\x00" in text:
        raise ImportFileError("Tệp chứa ký tự NUL: đây không phải tệp văn bản.")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def plain_to_html(text: str) -> str:
    """Plain text as HTML that shows the same: ``<``/``&`` escaped, line breaks as ``<br>``."""
    return html.escape(text, quote=False).replace("\n", "<br>")


def parse_decimal(text: str) -> Decimal | None:
    """A decimal number written with "." (or a Vietnamese decimal comma when there is no dot)."""
    text = text.strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex already filters
        return None
    return value if value.is_finite() else None


def quantize_fraction(value: Decimal) -> Decimal:
    return value.quantize(FRACTION_QUANTUM)


def split_evenly(count: int) -> list[Decimal]:
    """``count`` fractions with 5 decimals that add up to exactly 1 (the last takes the remainder)."""
    if count <= 0:
        return []
    share = quantize_fraction(Decimal(1) / count)
    return [share] * (count - 1) + [Decimal(1) - share * (count - 1)]


def guess_content_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def safe_filename(name: str) -> str:
    """Only the last path component, no control characters; never empty."""
    name = posixpath.basename(name.replace("\\", "/")).strip()
    name = re.sub(r"[\x00-\x1f\x7f]", "", name)
    return name[:MAX_MEDIA_FILENAME] or "tep"


def make_media(filename: str, content: bytes, content_type: str = "") -> ParsedMedia:
    filename = safe_filename(filename)
    return ParsedMedia(filename=filename, content=content, content_type=content_type or guess_content_type(filename))


def short(text: str, limit: int = 60) -> str:
    """First words of a text for naming an item in a report (tags removed)."""
    text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validate_question(q: ParsedQuestion, *, label: str = "", line: int | None = None) -> list[Problem]:
    """Format-independent checks every parser runs on every question it produced.

    ``label`` prefixes messages (e.g. "Câu 3: "); ``line`` defaults to ``q.line``."""
    line = q.line if line is None else line
    problems: list[Problem] = []

    def err(message: str) -> None:
        text = f"{label}{message}" if label else message[:1].upper() + message[1:]
        problems.append(Problem(message=text, line=line, row=q.row))

    stem_text = re.sub(r"<[^>]*>", "", q.stem).strip()
    if not stem_text and not q.media:
        err("nội dung câu hỏi trống.")
    if len(q.stem) > MAX_STEM_CHARS:
        err(f"nội dung câu hỏi quá dài ({len(q.stem)} ký tự; tối đa {MAX_STEM_CHARS}).")
    for index, option in enumerate(q.options):
        if len(option.text) > MAX_OPTION_CHARS:
            err(f"phương án {_ordinal(index)} quá dài ({len(option.text)} ký tự; tối đa {MAX_OPTION_CHARS}).")
        if not option.text.strip() and q.type != "truefalse":
            err(f"phương án {_ordinal(index)} trống.")
        if not Decimal(-1) <= option.fraction <= Decimal(1):
            err(f"tỉ lệ điểm của phương án {_ordinal(index)} phải nằm trong khoảng -100% đến 100%.")
    if q.points < 0:
        err("số điểm không được âm.")

    positive = [o.fraction for o in q.options if o.fraction > 0]
    if q.type in CHOICE_TYPES:
        if len(q.options) < 2:
            err("câu hỏi trắc nghiệm cần ít nhất 2 phương án.")
        if not positive:
            err("không có phương án đúng.")
        elif q.type == "single" and max(positive) != 1:
            err("câu hỏi một lựa chọn đúng phải có một phương án đúng 100%.")
        elif q.type == "multiple" and abs(sum(positive) - 1) > Decimal("0.001"):
            err("tổng tỉ lệ điểm của các phương án đúng phải bằng 100%.")
    elif q.type == "truefalse":
        if len(q.options) != 2:
            err("câu hỏi Đúng/Sai phải có đúng 2 phương án.")
        elif not positive:
            err("không có phương án đúng.")
    elif q.type in ("numeric", "short"):
        if not positive:
            err("không có đáp án đúng.")
        if q.type == "numeric":
            for index, option in enumerate(q.options):
                if option.text.strip() != "*" and parse_decimal(option.text) is None:
                    err(f"đáp án số {_ordinal(index)} không phải là số: {short(option.text, 30)!r}.")
                if option.tolerance is not None and option.tolerance < 0:
                    err(f"sai số của đáp án {_ordinal(index)} không được âm.")
    elif q.type == "essay":
        if q.options:
            err("câu hỏi tự luận không có phương án.")
    else:
        err(f"loại câu hỏi không hợp lệ: {q.type!r}.")
    return problems


def accept_question(q: ParsedQuestion, result: ParseResult, *, label: str = "") -> None:
    """Validate ``q``: add it to the result's questions when it is valid, else its problems to the errors
    (an invalid question is never returned, so nothing downstream can save it by mistake)."""
    problems = validate_question(q, label=label)
    if problems:
        result.errors.extend(problems)
    else:
        result.questions.append(q)


def _ordinal(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else str(index + 1)


def truefalse_options(*, correct: bool, true_feedback: str = "", false_feedback: str = "") -> list[ParsedOption]:
    return [
        ParsedOption(text=TRUE_TEXT, fraction=Decimal(1 if correct else 0), feedback=true_feedback),
        ParsedOption(text=FALSE_TEXT, fraction=Decimal(0 if correct else 1), feedback=false_feedback),
    ]


def split_category_path(path: str) -> list[str]:
    """Moodle category path → topic names: ``$course$/top/A/B`` → ``["A", "B"]``.

    A single ``/`` separates levels; ``//`` is a literal slash inside a name (Moodle's escaping, so
    ``Luật 52//2014//QH13`` names one topic). The context prefix (``$course$``, ``$system$``…) and the
    ``top`` level Moodle adds are dropped."""
    parts = re.split(r"(?<!/)/(?!/)", path.strip())
    names = [part.replace("//", "/").strip() for part in parts]
    names = [name for name in names if name]
    if names and re.fullmatch(r"\$[a-z]+\$", names[0]):
        names = names[1:]
    if names and names[0] == "top":
        names = names[1:]
    return names


def join_category_path(names: list[str]) -> str:
    return "/".join(["$course$", "top", *(name.replace("/", "//") for name in names)])

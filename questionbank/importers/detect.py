"""Format detection and dispatch: ``parse_file(path_or_bytes, fmt)`` → ParseResult.

Each parser module exposes ``parse(data: bytes) -> ParseResult`` and is imported lazily, so a missing or
broken optional parser only affects its own format. Detection looks at the content first (zip members,
XML root, text patterns) and the file name only as a hint.
"""

from __future__ import annotations

import importlib
import io
import re
import zipfile
from pathlib import Path

from django.conf import settings

from questionbank.importers.base import ImportFileError, ParseResult

FORMATS: dict[str, str] = {
    "xlsx": "questionbank.importers.xlsx",
    "docx": "questionbank.importers.docx",
    "moodle-xml": "questionbank.importers.moodle_xml",
    "gift": "questionbank.importers.gift",
    "aiken": "questionbank.importers.aiken",
}
FORMAT_CHOICES = ["auto", *FORMATS]
EXTENSIONS = {".xlsx": "xlsx", ".docx": "docx", ".xml": "moodle-xml", ".gift": "gift", ".txt": None}
_AIKEN_ANSWER_RE = re.compile(r"^\s*ANSWER\s*:\s*[A-Za-z]\s*$", re.MULTILINE)
_GIFT_RE = re.compile(r"(^|\n)\s*(::[^\n]*::|\$CATEGORY:)|\{[^{}]*[=~][^{}]*\}|\{\s*(T|F|TRUE|FALSE)\s*\}")


def max_upload_bytes() -> int:
    return int(getattr(settings, "QUESTION_IMPORT_MAX_BYTES", 20 * 1024 * 1024))


def read_limited(path_or_bytes: str | Path | bytes) -> bytes:
    """The file's bytes, refusing anything over the upload limit without reading it all."""
    limit = max_upload_bytes()
    if isinstance(path_or_bytes, bytes | bytearray):
        data = bytes(path_or_bytes)
    else:
        try:
            with open(path_or_bytes, "rb") as handle:
                data = handle.read(limit + 1)
        except OSError as exc:
            raise ImportFileError(f"Không mở được tệp: {exc.strerror or exc}.") from exc
    if len(data) > limit:
        raise ImportFileError(f"Tệp quá lớn; giới hạn là {limit // (1024 * 1024)} MB.")
    return data


def detect_format(data: bytes, filename: str | None = None) -> str:
    """One of FORMATS, from the content (and the file name as a tie-breaker for plain text)."""
    if data.startswith(b"PK"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ImportFileError("Tệp nén zip bị hỏng: không nhận ra định dạng.") from exc
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "word/document.xml" in names:
            return "docx"
        raise ImportFileError("Tệp zip không phải Excel (.xlsx) hay Word (.docx).")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFileError("Tệp Office 97–2003 (.xls/.doc) hoặc có đặt mật khẩu không được hỗ trợ; hãy lưu "
                              "lại dưới dạng .xlsx hoặc .docx.")
    head = data[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<?xml") or head.startswith(b"<quiz") or head.startswith(b"<!DOCTYPE"):
        return "moodle-xml"
    suffix = Path(filename).suffix.lower() if filename else ""
    if EXTENSIONS.get(suffix):
        return EXTENSIONS[suffix]  # type: ignore[return-value]
    try:
        text = data[:200_000].decode("utf-8", errors="replace")
    except Exception:  # pragma: no cover - decode with replace does not raise
        text = ""
    if _AIKEN_ANSWER_RE.search(text) and not _GIFT_RE.search(text):
        return "aiken"
    if _GIFT_RE.search(text):
        return "gift"
    raise ImportFileError("Không nhận ra định dạng tệp; hãy chọn định dạng (xlsx, docx, moodle-xml, gift, aiken).")


def parse_file(path_or_bytes: str | Path | bytes, fmt: str = "auto", *, filename: str | None = None) -> ParseResult:
    """Read (size-limited), detect when ``fmt == "auto"`` and parse. Raises ImportFileError."""
    if fmt not in FORMAT_CHOICES:
        raise ImportFileError(f"Định dạng “{fmt}” không được hỗ trợ (chọn: {', '.join(FORMAT_CHOICES)}).")
    if filename is None and not isinstance(path_or_bytes, bytes | bytearray):
        filename = str(path_or_bytes)
    data = read_limited(path_or_bytes)
    if not data:
        raise ImportFileError("Tệp rỗng.")
    if fmt == "auto":
        fmt = detect_format(data, filename)
    try:
        module = importlib.import_module(FORMATS[fmt])
    except ImportError as exc:
        raise ImportFileError(f"Bộ đọc định dạng “{fmt}” chưa được cài đặt trên hệ thống.") from exc
    return module.parse(data)

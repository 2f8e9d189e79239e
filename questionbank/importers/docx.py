"""Word (.docx) papers in the convention Vietnamese question writers use (Azota, Shub, McMIX) → ParseResult.

- A question starts with ``Câu N`` / ``Câu N:`` / ``Câu N.`` / ``Bài N`` (an optional ``(0,5 điểm)`` sets the
  points), or ``N.`` when the paper never uses "Câu"/"Bài".
- Options are ``A.`` … ``H.`` (or ``A)``), one per paragraph, several on one line (``A. x   B. y``, tabs) or
  in table cells.
- The correct option is marked by bold, underline, italic (or red colour, highlight) of its letter or of its
  whole text, or by ``*`` before the letter; or given by ``Đáp án: B`` under the question; or in an answer
  key at the end (after ``HẾT`` or an ``ĐÁP ÁN`` heading, or any paragraph made only of key entries):
  ``1-A``, ``1.A``, ``1a``, ``Câu 1: A`` or a table pairing question numbers with letters. When every option
  of a question carries the same formatting it says nothing and is ignored. ``Chọn B`` at the end of the
  explanation is the last resort. Several correct options → a multiple-answer question with the credit
  split evenly.
- ``Lời giải`` / ``Hướng dẫn giải`` / ``Hướng dẫn chi tiết`` / ``Giải thích`` start the explanation.
- ``Phần I …`` and ``I. …`` headings become the topic path of the questions after them (see
  docs/import-formats.md); ``HẾT`` ends the questions.
- Inline pictures in a question (stem, options, explanation) become media, read from the package by
  relationship id; linked (external) pictures are never fetched.
- A question without options is imported as an essay, with a warning.

``line`` in problems is the paragraph number (table-cell paragraphs included, in document order); messages
name the question number ("Câu 3: …") which is what a writer sees in Word.

Hostile files are refused with ImportFileError before python-docx opens them: not a zip, more than 30 MB,
more than 1,000 entries, more than 50 MB uncompressed in total (sizes from the zip central directory), an
entry compressing more than 100:1, a DTD or entity declaration in any XML part; and afterwards more than
20,000 paragraphs.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

from ._common import (
    MAX_MEDIA_BYTES,
    accept_question,
    make_media,
    mb,
    parse_decimal,
    plain_to_html,
    split_evenly,
)
from .base import ImportFileError, ParsedMedia, ParsedOption, ParsedQuestion, ParseResult, Problem

MAX_DOCX_BYTES = 30 * 1024 * 1024
MAX_ZIP_ENTRIES = 1_000
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_FROM_BYTES = 1024 * 1024
MAX_PARAGRAPHS = 20_000

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_V = "urn:schemas-microsoft-com:vml"


def _w(tag: str) -> str:
    return f"{{{_W}}}{tag}"


_LETTERS = "ABCDEFGH"
_QUESTION_RE = re.compile(
    r"^(?:câu|bài|question)\s*(\d{1,4})\s*(?:\(([^)]{0,40})\))?\s*[:.)\-–]?\s*", re.IGNORECASE)
_BARE_QUESTION_RE = re.compile(r"^(\d{1,4})\s*[.)](?:\s+|$)")
_POINTS_RE = re.compile(r"^\s*([\d.,]+)\s*(?:điểm|đ)\s*$", re.IGNORECASE)
_OPTION_MARK_RE = re.compile(r"(?<!\S)(?P<star>\*?)(?P<letter>[A-H])\s*[.)]")
_EXPLANATION_RE = re.compile(
    r"^(?:lời\s+giải(?:\s+chi\s+tiết)?|hướng\s+dẫn\s+giải(?:\s+chi\s+tiết)?|hướng\s+dẫn\s+chi\s+tiết|"
    r"giải\s+thích|giải\s+chi\s+tiết)\s*[:.]?\s*", re.IGNORECASE)
_INLINE_KEY_RE = re.compile(
    r"^đáp\s+án(?:\s+đúng)?(?:\s+là)?\s*[:.]?\s*([A-H](?:\s*[,;&]?\s*[A-H])*)\s*\.?$", re.IGNORECASE)
_CHOOSE_RE = re.compile(r"(?:^|\s)chọn(?:\s+(?:đáp\s+án|phương\s+án))?\s+([A-H])\s*\.?\s*$", re.IGNORECASE)
# "ĐÁP ÁN", "BẢNG ĐÁP ÁN", "Đáp án và hướng dẫn giải", "ĐÁP ÁN MÃ ĐỀ 101" — but not a stem such as
# "Đáp án nào sau đây đúng?".
_KEY_HEADING_RE = re.compile(
    r"^(?:bảng\s+)?đáp\s+án(?:\s+(?:và|hướng|dẫn|giải|chấm|chi|tiết|đề|thi|mã|số|môn|trắc|nghiệm|tham|khảo|phần|"
    r"[IVX]+|\S*\d\S*))*\s*[:.]?\s*$", re.IGNORECASE)
_END_RE = re.compile(r"^[\s\-–—_.*=•~]*HẾT[\s\-–—_.*=•~!]*$", re.IGNORECASE)
_PART_RE = re.compile(r"^phần\s+([IVX]+|\d+|[A-Z])\b\s*[:.\-–)]?\s*(.*)$", re.IGNORECASE)
_ROMAN_RE = re.compile(r"^(X{0,3}(?:IX|IV|V?I{0,3}))\s*[.)]\s+(.+)$")
_KEY_TOKEN_RE = re.compile(r"(?:câu\s*)?(\d{1,4})\s*[-.:)]?\s*([A-Ha-h](?:\s*[,&]\s*[A-Ha-h])*)(?!\w)",
                           re.IGNORECASE)
_KEY_SEPARATORS_RE = re.compile(r"^[\s,;|/.\-–]*$")
_KEY_HEADER_WORDS = {"câu", "đáp án", "đa", "câu hỏi", "số câu", "đáp án đúng", "stt"}


@dataclass
class _Line:
    text: str
    marks: list[bool]
    images: list[str]
    para: int
    auto_numbered: bool = False


@dataclass
class _Option:
    letter: str
    text: str
    marked: bool
    para: int


@dataclass
class _Draft:
    number: int
    para: int
    topic_path: list[str]
    points: Decimal | None = None
    stem_lines: list[str] = field(default_factory=list)
    options: list[_Option] = field(default_factory=list)
    explanation_lines: list[str] = field(default_factory=list)
    inline_key: list[str] = field(default_factory=list)
    chosen_key: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    state: str = "stem"  # stem | options | explanation


# ----------------------------------------------------------------------------------------------------------
# Opening the package safely


def _check_zip(data: bytes) -> None:
    if len(data) > MAX_DOCX_BYTES:
        raise ImportFileError(f"Tệp Word quá lớn ({mb(len(data))}); giới hạn là {mb(MAX_DOCX_BYTES)}.")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("Đây là tệp Word đời cũ (.doc); hãy mở bằng Word và lưu lại dưới dạng .docx.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ImportFileError("Tệp không phải tệp Word .docx hợp lệ (không đọc được dạng nén zip).") from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise ImportFileError(f"Tệp Word chứa quá nhiều thành phần ({len(entries)}); nghi là tệp độc hại.")
        total = sum(entry.file_size for entry in entries)
        if total > MAX_UNCOMPRESSED_BYTES:
            raise ImportFileError(
                f"Tệp Word khi giải nén quá lớn ({mb(total)}; giới hạn {mb(MAX_UNCOMPRESSED_BYTES)}); "
                "nghi là tệp độc hại (zip bomb).")
        for entry in entries:
            if entry.file_size >= RATIO_CHECK_FROM_BYTES and \
                    entry.file_size > MAX_COMPRESSION_RATIO * max(entry.compress_size, 1):
                raise ImportFileError(
                    f"Thành phần '{entry.filename}' của tệp Word có tỉ lệ nén bất thường; nghi là tệp độc hại "
                    "(zip bomb).")
        names = {entry.filename for entry in entries}
        if "word/document.xml" not in names and "[Content_Types].xml" not in names:
            raise ImportFileError("Tệp nén không phải tệp Word .docx (thiếu word/document.xml).")
        for entry in entries:
            if entry.filename.endswith((".xml", ".rels")):
                try:
                    head = archive.read(entry)
                except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
                    raise ImportFileError(f"Tệp Word bị hỏng (thành phần '{entry.filename}').") from exc
                lowered = head.lower()
                if b"<!doctype" in lowered or b"<!entity" in lowered:
                    raise ImportFileError(
                        "Tệp Word chứa khai báo DTD/thực thể XML; vì an toàn, tệp bị từ chối.")


def _open(data: bytes):
    _check_zip(data)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        return docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ImportFileError("Không đọc được tệp Word: tệp không phải .docx hợp lệ.") from exc
    except Exception as exc:  # lxml.etree.XMLSyntaxError and other corrupt-package failures
        if type(exc).__module__.startswith(("lxml", "docx")):
            raise ImportFileError("Không đọc được tệp Word: nội dung XML bị hỏng.") from exc
        raise


# ----------------------------------------------------------------------------------------------------------
# Reading paragraphs with their formatting


class _Reader:
    def __init__(self, document) -> None:
        from docx.enum.style import WD_STYLE_TYPE
        from docx.enum.text import WD_UNDERLINE
        from docx.text.paragraph import Paragraph

        self.document = document
        self.part = document.part
        self._paragraph_cls = Paragraph
        self._underline_none = WD_UNDERLINE.NONE
        self._char_style = WD_STYLE_TYPE.CHARACTER
        self._style_marks: dict[str, bool] = {}
        self.para_count = 0

    # -- formatting -------------------------------------------------------------------------------------
    def _font_marked(self, font) -> bool:
        if font.bold or font.italic:
            return True
        try:
            if font.highlight_color:  # WD_COLOR_INDEX.AUTO is 0, i.e. no highlight
                return True
        except (ValueError, KeyError):  # a value the enum does not know, e.g. w:val="none"
            pass
        underline = font.underline
        if underline not in (None, False) and underline != self._underline_none:
            return True
        try:
            rgb = font.color.rgb
        except (ValueError, AttributeError):
            rgb = None
        return rgb is not None and rgb[0] >= 0xC0 and rgb[1] <= 0x60 and rgb[2] <= 0x60

    def _style_marked(self, style_id: str) -> bool:
        if style_id not in self._style_marks:
            marked = False
            try:
                style = self.part.get_style(style_id, self._char_style)
            except (KeyError, ValueError):
                style = None
            depth = 0
            while style is not None and depth < 10 and not marked:
                marked = self._font_marked(style.font)
                style = style.base_style
                depth += 1
            self._style_marks[style_id] = marked
        return self._style_marks[style_id]

    def _run_marked(self, run) -> bool:
        if self._font_marked(run.font):
            return True
        rpr = run._r.rPr
        style_id = rpr.style if rpr is not None else None
        return bool(style_id) and self._style_marked(style_id)

    # -- paragraphs --------------------------------------------------------------------------------------
    def paragraph_lines(self, p_element) -> list[_Line]:
        """One paragraph → its lines (split at manual line breaks), each with per-character marks."""
        from docx.text.run import Run

        self.para_count += 1
        if self.para_count > MAX_PARAGRAPHS:
            raise ImportFileError(f"Tệp Word có quá nhiều đoạn văn (hơn {MAX_PARAGRAPHS}).")
        paragraph = self._paragraph_cls(p_element, self.document._body)
        chars: list[str] = []
        marks: list[bool] = []
        images: list[tuple[int, str]] = []
        for r in _runs(p_element):
            run = Run(r, paragraph)
            marked = self._run_marked(run)
            for child in r:
                tag = child.tag
                if tag == _w("t"):
                    text = child.text or ""
                elif tag in (_w("tab"), _w("ptab")):
                    text = "\t"
                elif tag in (_w("br"), _w("cr")):
                    text = "\n"
                elif tag in (_w("noBreakHyphen"), _w("softHyphen")):
                    text = "-" if tag == _w("noBreakHyphen") else ""
                elif tag in (_w("drawing"), _w("pict"), _w("object")):
                    text = ""
                    for blip in child.iter(f"{{{_A}}}blip"):
                        rid = blip.get(f"{{{_R}}}embed")
                        images.append((len(chars), rid or ""))
                    for imagedata in child.iter(f"{{{_V}}}imagedata"):
                        images.append((len(chars), imagedata.get(f"{{{_R}}}id") or ""))
                else:
                    continue
                for char in text:
                    if char in "\u00a0\u2007\u202f":
                        char = " "
                    elif char in "\u200b\u200c\u200d\ufeff":
                        continue
                    chars.append(char)
                    marks.append(marked)
        text = "".join(chars)
        per_line: dict[int, list[str]] = {}
        for position, rid in images:
            per_line.setdefault(text.count("\n", 0, position), []).append(rid)
        lines: list[_Line] = []
        start = 0
        for index, segment in enumerate(text.split("\n")):
            end = start + len(segment)
            lines.append(_strip_line(_Line(segment, marks[start:end], per_line.get(index, []), self.para_count)))
            start = end + 1
        ppr = p_element.find(_w("pPr"))
        if ppr is not None and ppr.find(_w("numPr")) is not None and lines:
            lines[0].auto_numbered = True
        return lines

    def image(self, rid: str) -> tuple[str, bytes, str] | None:
        part = self.part.related_parts.get(rid) if rid else None
        if part is None:
            return None
        content_type = getattr(part, "content_type", "") or ""
        blob = part.blob
        return posixpath.basename(str(part.partname)), blob, content_type


def _strip_line(line: _Line) -> _Line:
    text = line.text
    left = len(text) - len(text.lstrip())
    right = len(text.rstrip())
    return _Line(text[left:right], line.marks[left:right], line.images, line.para, line.auto_numbered)


# Containers whose runs are part of the paragraph's visible text. Deleted revisions (w:del) are skipped, and so
# are text boxes inside drawings (their content is duplicated in mc:AlternateContent fallbacks).
_RUN_CONTAINERS = frozenset(_w(tag) for tag in (
    "hyperlink", "ins", "smartTag", "sdt", "sdtContent", "fldSimple", "customXml", "dir", "bdo", "moveTo"))


def _runs(element):
    for child in element:
        if child.tag == _w("r"):
            yield child
        elif child.tag in _RUN_CONTAINERS:
            yield from _runs(child)


# ----------------------------------------------------------------------------------------------------------
# Parsing


def parse(data: bytes) -> ParseResult:
    document = _open(data)
    body = document.element.body
    if sum(1 for _ in body.iter(_w("p"))) > MAX_PARAGRAPHS:
        raise ImportFileError(f"Tệp Word có quá nhiều đoạn văn (hơn {MAX_PARAGRAPHS}).")
    return _Parser(_Reader(document)).run(body)


class _Parser:
    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.result = ParseResult()
        self.drafts: list[_Draft] = []
        self.current: _Draft | None = None
        self.part_title: str | None = None
        self.sub_title: str | None = None
        self.part_is_roman = False
        self.warned_numbering = False
        self.skipped_after_key: list[int] = []
        self.in_key = False
        self.ended = False
        self.key: dict[int, tuple[list[str], int]] = {}
        self.bare_numbers = True

    # -- walking the body ----------------------------------------------------------------------------------
    def run(self, body) -> ParseResult:
        self.bare_numbers = not any(
            _QUESTION_RE.match("".join(t.text or "" for t in p.iter(_w("t"))).strip()) for p in body.iter(_w("p")))
        for element in body.iterchildren():
            if element.tag == _w("p"):
                for line in self.reader.paragraph_lines(element):
                    self.line(line)
            elif element.tag == _w("tbl"):
                self.table(element)
        self.finish_current()
        self.resolve()
        return self.result

    def table(self, tbl) -> None:
        grid: list[list[str]] = []
        cell_lines: list[_Line] = []
        for tr in tbl.iterchildren(_w("tr")):
            row: list[str] = []
            for tc in tr.iterchildren(_w("tc")):
                texts: list[str] = []
                for child in tc.iterchildren():
                    if child.tag == _w("p"):
                        for line in self.reader.paragraph_lines(child):
                            cell_lines.append(line)
                            texts.append(line.text)
                    elif child.tag == _w("tbl"):
                        self.table(child)
                row.append(" ".join(t for t in texts if t).strip())
            grid.append(row)
        first_para = cell_lines[0].para if cell_lines else self.reader.para_count
        pairs = _key_pairs(grid)
        if pairs:
            self.finish_current()
            self.in_key = True
            for number, letters in pairs:
                self.add_key(number, letters, first_para)
            return
        if self.in_key or self.ended:
            return
        for line in cell_lines:
            self.line(line)

    # -- one line ------------------------------------------------------------------------------------------
    def line(self, line: _Line) -> None:
        text = line.text
        if line.auto_numbered and not self.warned_numbering and not (self.ended or self.in_key):
            self.warned_numbering = True
            self.result.warnings.append(Problem(
                message="Tài liệu dùng đánh số tự động của Word (danh sách đánh số); số câu và chữ cái phương án "
                        "do Word tự đánh không được đọc — hãy gõ trực tiếp \"Câu 1:\", \"A.\"….",
                line=line.para))
        if not text and not line.images:
            return
        if self.ended or self.in_key:
            self.key_line(line)
            return
        if _END_RE.match(text):
            self.finish_current()
            self.ended = True
            return
        tokens = _key_tokens(text)
        if tokens:
            self.finish_current()
            self.in_key = True
            for number, letters in tokens:
                self.add_key(number, letters, line.para)
            return
        if _KEY_HEADING_RE.match(text) and not _INLINE_KEY_RE.match(text) and len(text) <= 80:
            self.finish_current()
            self.in_key = True
            return
        match = _QUESTION_RE.match(text) or (self.bare_numbers and _BARE_QUESTION_RE.match(text))
        if match:
            self.start_question(match, line)
            return
        if self.section(text):
            return
        draft = self.current
        if draft is None:
            return  # header of the paper (title, time allowed, name fields…)
        draft.images.extend(line.images)
        explanation = _EXPLANATION_RE.match(text)
        if explanation and (draft.options or draft.stem_lines):
            draft.state = "explanation"
            rest = text[explanation.end():].strip()
            if rest:
                draft.explanation_lines.append(rest)
                self.choose(draft, rest)
            return
        inline = _INLINE_KEY_RE.match(text)
        if inline and draft.state != "explanation":
            draft.inline_key = _letters(inline.group(1))
            return
        if draft.state == "explanation":
            draft.explanation_lines.append(_clean(text))
            self.choose(draft, text)
            return
        options = _split_options(line)
        if options:
            draft.state = "options"
            draft.options.extend(options)
            for option in options:
                if not option.text and line.images:
                    option.text = "(hình ảnh)"
            return
        if draft.state == "options" and draft.options:
            last = draft.options[-1]
            last.text = f"{last.text} {_clean(text)}".strip() if text else last.text or "(hình ảnh)"
            return
        if text:
            draft.stem_lines.append(_clean(text))

    def choose(self, draft: _Draft, text: str) -> None:
        chosen = _CHOOSE_RE.search(text)
        if chosen:
            draft.chosen_key = [chosen.group(1).upper()]

    def start_question(self, match: re.Match, line: _Line) -> None:
        self.finish_current()
        points = None
        extra = match.group(2) if match.re is _QUESTION_RE else None
        if extra:
            found = _POINTS_RE.match(extra)
            if found:
                points = parse_decimal(found.group(1))
        path = [t for t in (self.part_title, self.sub_title) if t]
        draft = _Draft(number=int(match.group(1)), para=line.para, topic_path=path, points=points)
        rest = line.text[match.end():]
        draft.images.extend(line.images)
        if rest.strip():
            # "Câu 1: Nội dung? A. x   B. y" — options may follow the stem on the same line; at least A and B
            # must be there, so a stem ending in "… ông A." keeps its "A.".
            first_option = _first_option_at(rest)
            options: list[_Option] = []
            if first_option:
                options = _split_options(_strip_line(_Line(rest[first_option:], line.marks[match.end():][first_option:],
                                                           [], line.para)))
            if len(options) >= 2:
                draft.stem_lines.append(_clean(rest[:first_option]))
                draft.options.extend(options)
                draft.state = "options"
            else:
                draft.stem_lines.append(_clean(rest))
        self.current = draft

    def section(self, text: str) -> bool:
        part = _PART_RE.match(text)
        if part:
            self.finish_current()
            title = part.group(2).strip(" :.-–")
            self.part_title = title or f"Phần {part.group(1)}"
            self.part_is_roman = False
            self.sub_title = None
            return True
        roman = _ROMAN_RE.match(text)
        if roman and roman.group(1):
            self.finish_current()
            title = roman.group(2).strip(" :.-–")
            if self.part_title is None or self.part_is_roman:
                self.part_title, self.part_is_roman = title, True
            else:
                self.sub_title = title
            return True
        return False

    def key_line(self, line: _Line) -> None:
        tokens = _key_tokens(line.text)
        for number, letters in tokens:
            self.add_key(number, letters, line.para)
        if not tokens and _QUESTION_RE.match(line.text):
            # Questions after the key are usually the worked solutions repeated; say so rather than drop silently.
            self.skipped_after_key.append(line.para)

    def add_key(self, number: int, letters: list[str], para: int) -> None:
        if number in self.key and self.key[number][0] != letters:
            self.result.errors.append(Problem(
                message=f"Bảng đáp án ghi câu {number} hai lần với đáp án khác nhau "
                        f"({', '.join(self.key[number][0])} và {', '.join(letters)}).", line=para))
            return
        self.key[number] = (letters, para)

    def finish_current(self) -> None:
        if self.current is not None:
            self.drafts.append(self.current)
            self.current = None

    # -- turning drafts into questions ------------------------------------------------------------------
    def resolve(self) -> None:
        if self.skipped_after_key:
            self.result.warnings.append(Problem(
                message=f"Bỏ qua {len(self.skipped_after_key)} đoạn bắt đầu bằng \"Câu …\" nằm sau phần đáp án/"
                        "\"HẾT\" (thường là lời giải chi tiết). Nếu đó là câu hỏi, hãy đặt chúng trước phần đáp án.",
                line=self.skipped_after_key[0]))
        numbers: dict[int, int] = {}
        for draft in self.drafts:
            numbers[draft.number] = numbers.get(draft.number, 0) + 1
        for number, (_letters, para) in sorted(self.key.items()):
            if number not in numbers:
                self.result.warnings.append(Problem(
                    message=f"Bảng đáp án có câu {number} nhưng đề không có câu này.", line=para))
        for draft in self.drafts:
            self.build(draft, ambiguous=numbers[draft.number] > 1)

    def build(self, draft: _Draft, *, ambiguous: bool) -> None:
        label = f"Câu {draft.number}: "
        errors: list[Problem] = []

        def error(message: str, para: int | None = None) -> None:
            errors.append(Problem(message=label + message, line=para or draft.para))

        seen: dict[str, int] = {}
        for option in draft.options:
            if option.letter in seen:
                error(f"chữ cái phương án '{option.letter}' bị trùng.", option.para)
            seen[option.letter] = option.para
        letters = [o.letter for o in draft.options]
        expected = list(_LETTERS[: len(letters)])
        if letters and sorted(set(letters)) == sorted(letters) and sorted(letters) != expected:
            self.result.warnings.append(Problem(
                message=label + f"các phương án không liên tục ({', '.join(letters)}).", line=draft.para))

        marked = [o.letter for o in draft.options if o.marked]
        if len(draft.options) > 1 and len(marked) == len(draft.options):
            marked = []  # everything formatted alike: the formatting is style, not a key
        table_key: list[str] = []
        if draft.number in self.key:
            if ambiguous:
                error(f"có nhiều câu cùng số {draft.number}, không xác định được đáp án trong bảng đáp án "
                      "(hãy đánh số câu liên tục).")
            else:
                table_key = self.key[draft.number][0]
        explicit = draft.inline_key or table_key
        if draft.inline_key and table_key and set(draft.inline_key) != set(table_key):
            error(f"đáp án ghi dưới câu hỏi ({', '.join(draft.inline_key)}) khác bảng đáp án "
                  f"({', '.join(table_key)}).")
        if explicit and marked and set(explicit) != set(marked):
            error(f"đáp án được đánh dấu trong đề ({', '.join(marked)}) khác đáp án ghi riêng "
                  f"({', '.join(explicit)}).")
        correct = list(dict.fromkeys(explicit or marked or draft.chosen_key))

        stem = plain_to_html("\n".join(line for line in draft.stem_lines if line).strip())
        media = self.media(draft, error)
        question = ParsedQuestion(
            type="single",
            stem=stem,
            explanation=plain_to_html("\n".join(draft.explanation_lines).strip()),
            topic_path=list(draft.topic_path),
            media=media,
            line=draft.para,
        )
        if draft.points is not None:
            question.points = draft.points
        if not draft.options:
            if correct:
                error(f"có đáp án ({', '.join(correct)}) nhưng không có phương án A, B, C….")
            else:
                question.type = "essay"
                self.result.warnings.append(Problem(
                    message=label + "không có phương án nên được nhập như câu tự luận.", line=draft.para))
        elif not correct and not (ambiguous and draft.number in self.key):
            error("không có phương án đúng (chưa in đậm/gạch chân/in nghiêng đáp án đúng và không có trong "
                  "bảng đáp án).")
        else:
            missing = [letter for letter in correct if letter not in seen]
            if missing:
                error(f"đáp án {', '.join(missing)} không có trong các phương án của câu.")
            shares = dict(zip(correct, split_evenly(len(correct)), strict=True))
            question.type = "single" if len(correct) == 1 else "multiple"
            question.options = [ParsedOption(text=plain_to_html(o.text), fraction=shares.get(o.letter, Decimal(0)))
                                for o in draft.options]
        if errors:
            self.result.errors.extend(errors)
            return
        accept_question(question, self.result, label=label)

    def media(self, draft: _Draft, error) -> list[ParsedMedia]:
        media: list[ParsedMedia] = []
        seen: set[str] = set()
        for rid in draft.images:
            if rid in seen:
                continue
            seen.add(rid)
            found = self.reader.image(rid)
            if found is None:
                self.result.warnings.append(Problem(
                    message=f"Câu {draft.number}: hình ảnh liên kết ra ngoài tệp (không nhúng) bị bỏ qua.",
                    line=draft.para))
                continue
            filename, blob, content_type = found
            if not content_type.startswith("image/"):
                self.result.warnings.append(Problem(
                    message=f"Câu {draft.number}: đối tượng nhúng '{filename}' không phải hình ảnh, bị bỏ qua.",
                    line=draft.para))
                continue
            if len(blob) > MAX_MEDIA_BYTES:
                error(f"hình ảnh '{filename}' quá lớn (giới hạn {mb(MAX_MEDIA_BYTES)}).")
                continue
            media.append(make_media(filename, blob, content_type))
        return media


# ----------------------------------------------------------------------------------------------------------
# Helpers


def _clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def _letters(text: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"[A-H]", text.upper())))


def _first_option_at(text: str) -> int | None:
    for match in _OPTION_MARK_RE.finditer(text):
        if match.group("letter") == "A":
            return match.start()
    return None


def _split_options(line: _Line) -> list[_Option]:
    """Options on one line: it must start with a letter marker; further markers count only in sequence
    (A, then B, then C…), so "Điều 5 B." inside an option's text is not a new option."""
    text = line.text
    first = _OPTION_MARK_RE.match(text)
    if not first:
        return []
    starts = [first]
    expected = ord(first.group("letter")) + 1
    for match in _OPTION_MARK_RE.finditer(text, first.end()):
        if ord(match.group("letter")) == expected:
            starts.append(match)
            expected += 1
    options: list[_Option] = []
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        body_start = match.end()
        body = text[body_start:end]
        body_marks = line.marks[body_start:end]
        content = [m for ch, m in zip(body, body_marks, strict=False) if not ch.isspace()]
        letter_at = match.start("letter")
        letter_marked = bool(match.group("star")) or (line.marks[letter_at] if letter_at < len(line.marks) else False)
        whole_marked = bool(content) and all(content)
        options.append(_Option(letter=match.group("letter"), text=_clean(body), marked=letter_marked or whole_marked,
                               para=line.para))
    return options


def _key_tokens(text: str) -> list[tuple[int, list[str]]]:
    """Key entries when the text is made only of them ("1-A 2.B 3c", "Câu 1: A"), else []."""
    tokens = list(_KEY_TOKEN_RE.finditer(text))
    if not tokens:
        return []
    rest = _KEY_TOKEN_RE.sub(" ", text)
    if not _KEY_SEPARATORS_RE.match(rest):
        return []
    return [(int(m.group(1)), _letters(m.group(2))) for m in tokens]


def _key_pairs(grid: list[list[str]]) -> list[tuple[int, list[str]]] | None:
    """Question-number/letter pairs of an answer-key table, or None when the table is not one.

    Accepts cells that are each a key entry ("1-A"), or numbers and letters paired horizontally
    (| 1 | A | 2 | B |) or vertically (a row of numbers above a row of letters); header cells such as
    "Câu" / "Đáp án" are ignored."""
    cells = [cell for row in grid for cell in row if cell]
    if not cells:
        return None

    def kind(cell: str) -> str:
        lowered = cell.strip().lower().rstrip(":")
        if not lowered:
            return "empty"
        if re.fullmatch(r"(?:câu\s*)?\d{1,4}", lowered):
            return "number"
        if re.fullmatch(r"[a-h](?:\s*[,&]?\s*[a-h])*", lowered):
            return "letter"
        if _key_tokens(cell):
            return "token"
        if lowered in _KEY_HEADER_WORDS:
            return "header"
        return "other"

    kinds = [[kind(cell) for cell in row] for row in grid]
    if any(k == "other" for row in kinds for k in row):
        return None
    pairs: list[tuple[int, list[str]]] = []
    for r, row in enumerate(grid):
        for c, cell in enumerate(row):
            if kinds[r][c] == "token":
                pairs.extend(_key_tokens(cell))
    horizontal: list[tuple[int, list[str]]] = []
    vertical: list[tuple[int, list[str]]] = []
    for r, row in enumerate(grid):
        for c, cell in enumerate(row):
            if kinds[r][c] != "number":
                continue
            number = int(re.sub(r"\D", "", cell))
            if c + 1 < len(row) and kinds[r][c + 1] == "letter":
                horizontal.append((number, _letters(row[c + 1])))
            if r + 1 < len(grid) and c < len(grid[r + 1]) and kinds[r + 1][c] == "letter":
                vertical.append((number, _letters(grid[r + 1][c])))
    pairs.extend(horizontal if len(horizontal) >= len(vertical) else vertical)
    return pairs or None

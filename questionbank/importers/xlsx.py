"""Excel (.xlsx) question parser: one row per question, in the template documented in docs/question-bank.md
and produced by questionbank.exporters.xlsx. Pure: no database.

Hostile files are refused before openpyxl parses anything: the size is capped, the file must be a zip
holding a workbook, and the zip central directory (sizes declared by the archive) is checked against an
uncompressed-size cap and a compression-ratio cap, so a zip bomb is never inflated. openpyxl then reads in
read-only (streaming) mode through defusedxml; rows and columns are capped while streaming; formula
cells are refused (the importer never evaluates anything); text that looks mis-encoded (UTF-8 read as
Windows-1252, or legacy TCVN3/VNI fonts) is an error on its cell.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from questionbank.importers.base import (
    ImportFileError,
    ParsedOption,
    ParsedQuestion,
    ParseResult,
    Problem,
    Unsupported,
)

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_MEMBER_RATIO = 200          # uncompressed / compressed for any member larger than 1 MB
MAX_ZIP_MEMBERS = 2_000
MAX_ROWS = 20_000               # data rows (questions) per file
MAX_COLUMNS = 80
MAX_SHEET_ROWS = 100_000        # including blank rows (a sheet may declare a far-away last row)
HEADER_SCAN_ROWS = 10
OPTION_LETTERS = "ABCDEFGH"
TRUE_TEXT, FALSE_TEXT = "Đúng", "Sai"


def fold(text: str) -> str:
    """Header/keyword comparison key: no diacritics, lower case, single spaces, no punctuation."""
    decomposed = unicodedata.normalize("NFD", str(text))
    base = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("đ", "d").replace("Đ", "D")
    base = re.sub(r"[^\w]+", " ", base.lower())
    return re.sub(r"\s+", " ", base).strip()


# --- Columns ---------------------------------------------------------------------------------------------
# canonical key → (Vietnamese header written by the exporter, accepted aliases)
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "type": ("Loại câu hỏi", ("loai", "loai cau hoi", "kieu cau hoi", "type", "question type")),
    "stem": ("Nội dung câu hỏi", ("cau hoi", "noi dung", "noi dung cau hoi", "de bai", "stem", "question",
                                  "question text")),
}
for _letter in OPTION_LETTERS:
    _l = _letter.lower()
    COLUMNS[f"option_{_l}"] = (f"Phương án {_letter}", (f"phuong an {_l}", f"dap an {_l}", f"lua chon {_l}",
                                                         f"option {_l}", f"answer {_l}", f"choice {_l}", _l))
    COLUMNS[f"fraction_{_l}"] = (f"Tỉ lệ điểm {_letter}", (f"ti le diem {_l}", f"ty le diem {_l}",
                                                           f"ti le {_l}", f"ty le {_l}", f"diem {_l}",
                                                           f"fraction {_l}", f"credit {_l}", f"grade {_l}"))
    COLUMNS[f"feedback_{_l}"] = (f"Phản hồi {_letter}", (f"phan hoi {_l}", f"feedback {_l}"))
COLUMNS.update({
    "answer": ("Đáp án đúng", ("dap an dung", "dap an", "dap so", "correct", "correct answer", "answer",
                               "correct answers", "key")),
    "tolerance": ("Sai số", ("sai so", "sai so cho phep", "tolerance")),
    "explanation": ("Giải thích", ("giai thich", "loi giai", "huong dan", "explanation", "general feedback")),
    "citation_document": ("Văn bản", ("van ban", "so hieu van ban", "can cu", "document", "citation document",
                                      "law")),
    "citation_article": ("Điều", ("dieu", "article", "citation article")),
    "citation_clause": ("Khoản", ("khoan", "clause", "citation clause")),
    "topic": ("Chủ đề", ("chu de", "chuyen de", "topic", "topic path", "category")),
    "difficulty": ("Độ khó", ("do kho", "muc do", "difficulty", "level")),
    "points": ("Điểm", ("diem", "so diem", "diem mac dinh", "points", "default points", "mark")),
    "tags": ("Nhãn", ("nhan", "the", "tags", "tag")),
})
ALIASES: dict[str, str] = {}
for _key, (_header, _aliases) in COLUMNS.items():
    ALIASES[fold(_header)] = _key
    for _alias in _aliases:
        ALIASES.setdefault(fold(_alias), _key)
IGNORED_HEADERS = {"stt", "tt", "so thu tu", "no", "id", "ma", "ma cau hoi"}

TYPE_VALUES: dict[str, str] = {
    "single": "single", "multichoice": "single", "mot lua chon": "single", "mot dap an": "single",
    "mot lua chon dung": "single", "trac nghiem": "single", "chon 1": "single", "1 dap an": "single",
    "multiple": "multiple", "nhieu lua chon": "multiple", "nhieu dap an": "multiple",
    "nhieu lua chon dung": "multiple", "chon nhieu": "multiple",
    "truefalse": "truefalse", "true false": "truefalse", "dung sai": "truefalse", "dung hoac sai": "truefalse",
    "numeric": "numeric", "numerical": "numeric", "so": "numeric", "tra loi so": "numeric",
    "so co sai so": "numeric",
    "short": "short", "shortanswer": "short", "short answer": "short", "tra loi ngan": "short",
    "dien khuyet": "short",
    "essay": "essay", "tu luan": "essay",
}
# Types other quiz systems have that this engine does not: skipped and listed, never an error.
UNSUPPORTED_TYPES: dict[str, str] = {
    "matching": "ghép đôi", "ghep doi": "ghép đôi", "noi cot": "ghép đôi", "ghep cot": "ghép đôi",
    "cloze": "điền khuyết nhiều chỗ", "dien khuyet nhieu cho": "điền khuyết nhiều chỗ",
    "ddwtos": "kéo thả", "keo tha": "kéo thả", "drag and drop": "kéo thả",
    "ordering": "sắp xếp", "sap xep": "sắp xếp", "sap xep thu tu": "sắp xếp",
    "calculated": "tính toán theo công thức", "description": "đoạn mô tả", "mo ta": "đoạn mô tả",
}
DIFFICULTY_VALUES = {"easy": "easy", "de": "easy", "1": "easy", "medium": "medium", "trung binh": "medium",
                     "tb": "medium", "2": "medium", "hard": "hard", "kho": "hard", "3": "hard"}
TRUE_WORDS = {"dung", "d", "true", "t", "yes", "co"}
FALSE_WORDS = {"sai", "s", "false", "f", "no", "khong"}

# UTF-8 read as Windows-1252 ("Ä‘iá»u"): a UTF-8 lead byte shown as Ã/Ä/Å/Æ (2-byte) or á/â (3-byte)
# followed by continuation bytes shown as Latin-1 symbols or the Windows-1252 extras (€‚ƒ„…†‡ˆ‰Š‹Œ‘’“”•–—˜™š›œ).
_CONT = ("[\u0080-\u00bf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152"
         "\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178]")
_MOJIBAKE_RE = re.compile(f"[ÃÄÅÆ]{_CONT}|[áâ]{_CONT}{_CONT}")
# Legacy TCVN3 (ABC) fonts: Latin-1 symbols/capitals glued inside lower-case words ("®iÒu", "Ng\xadêi").
_TCVN3_RE = re.compile(r"[a-z][®©ª«¬­µ¶·¸¹»¼½¾¿ÒÓÔÕÖ×ØÙÚÛÜÞ]|[®¸µ¶·¹¨«¬­][a-z]")


def looks_misencoded(text: str) -> bool:
    return bool(_MOJIBAKE_RE.search(text) or _TCVN3_RE.search(text))


# --- Container checks -------------------------------------------------------------------------------------
def check_container(data: bytes) -> None:
    """Refuse anything but a reasonable .xlsx zip, without inflating it."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(f"Tệp quá lớn ({len(data) // (1024 * 1024)} MB); giới hạn là "
                              f"{MAX_FILE_BYTES // (1024 * 1024)} MB.")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFileError("Tệp là Excel 97–2003 (.xls) hoặc tệp Excel có đặt mật khẩu; hãy mở bằng Excel "
                              "và lưu lại dưới dạng .xlsx không đặt mật khẩu.")
    if not data.startswith(b"PK"):
        raise ImportFileError("Tệp không phải tệp Excel .xlsx hợp lệ (không đúng định dạng nén zip).")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportFileError("Tệp .xlsx bị hỏng: không đọc được cấu trúc nén zip.") from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise ImportFileError("Tệp .xlsx chứa quá nhiều thành phần; có thể là tệp độc hại.")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > 1024 * 1024 and info.file_size > MAX_MEMBER_RATIO * max(info.compress_size, 1):
            raise ImportFileError("Tệp .xlsx có tỉ lệ nén bất thường (nghi là “bom zip”); không nhập.")
        if info.flag_bits & 0x1:
            raise ImportFileError("Tệp .xlsx được mã hoá; hãy bỏ mật khẩu rồi thử lại.")
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ImportFileError(f"Tệp .xlsx khi giải nén quá lớn ({total // (1024 * 1024)} MB; tối đa "
                              f"{MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB).")
    names = {i.filename for i in infos}
    for info in infos:
        if info.filename.endswith((".xml", ".rels", ".vml")) and _declares_dtd(archive, info):
            raise ImportFileError("Tệp .xlsx chứa khai báo DTD/thực thể XML (có thể là tệp độc hại); không nhập.")
    if "xl/workbook.xml" not in names:
        if "word/document.xml" in names:
            raise ImportFileError("Đây là tệp Word (.docx), không phải Excel; hãy chọn định dạng docx.")
        raise ImportFileError("Tệp zip không chứa bảng tính Excel (.xlsx).")


_DTD_MARKERS = tuple(m.encode(enc) for m in ("<!DOCTYPE", "<!ENTITY") for enc in ("utf-8", "utf-16-le",
                                                                                    "utf-16-be"))


def _declares_dtd(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """True when an XML part declares a DTD or entities anywhere (streamed; sizes already capped). Office
    never writes one, and refusing it outright closes entity expansion and external entities whatever
    parser reads the part later."""
    tail = b""
    with archive.open(info) as handle:
        while chunk := handle.read(1 << 20):
            window = tail + chunk
            if any(marker in window for marker in _DTD_MARKERS):
                return True
            tail = window[-32:]
    return False


# --- Cell helpers ---------------------------------------------------------------------------------------
def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return unicodedata.normalize("NFC", str(value)).strip()


def _col_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


@dataclass
class _Row:
    number: int
    cells: dict[str, str]


def _parse_fraction(raw: str) -> Decimal | None:
    """"1", "0.5", "50%", "50", "-25%" → Decimal fraction; None when unparseable. Values above 1 are percent."""
    text = raw.replace(",", ".").replace(" ", "")
    percent = text.endswith("%")
    text = text.rstrip("%")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if percent or abs(value) > 1:
        value = value / 100
    return value.quantize(Decimal("0.00001"))


def _split_list(raw: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,;/\s]+", raw) if p.strip()]


# --- Parser -------------------------------------------------------------------------------------------------
def parse(data: bytes) -> ParseResult:
    """Parse an .xlsx file. Raises ImportFileError when the file as a whole is unreadable or hostile."""
    check_container(data)
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise ImportFileError("Không đọc được tệp Excel (.xlsx): tệp bị hỏng hoặc không đúng định dạng.") from exc
    except Exception as exc:  # defusedxml raises its own errors for entity tricks
        raise ImportFileError("Không đọc được tệp Excel (.xlsx): nội dung XML không hợp lệ hoặc không an "
                              "toàn.") from exc
    try:
        return _parse_workbook(workbook)
    finally:
        workbook.close()


def _pick_sheet(workbook):  # type: ignore[no-untyped-def]
    for name in workbook.sheetnames:
        if fold(name) in {"cau hoi", "questions", "ngan hang cau hoi"}:
            return workbook[name]
    return workbook[workbook.sheetnames[0]]


def _parse_workbook(workbook) -> ParseResult:  # type: ignore[no-untyped-def]
    result = ParseResult()
    sheet = _pick_sheet(workbook)
    header: dict[int, str] | None = None
    rows: list[_Row] = []
    try:
        # Read-only mode yields every row from 1 (gaps as empty rows), so enumerate gives Excel row numbers.
        for row_number, row_cells in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS), start=1):
            if row_number > MAX_SHEET_ROWS:
                raise ImportFileError(f"Trang tính có quá nhiều dòng (quá {MAX_SHEET_ROWS}); hãy xoá các dòng "
                                      "thừa hoặc chia nhỏ tệp.")
            # Formulas are refused wherever they are (never evaluated, never trusted).
            values: list[str] = []
            for index, cell in enumerate(row_cells):
                if getattr(cell, "data_type", None) == "f":
                    result.errors.append(Problem(
                        f"Ô {_col_letter(index)}{row_number} chứa công thức; hãy dán giá trị (Paste Values) "
                        "thay cho công thức.", row=row_number))
                    values.append("")
                    continue
                values.append(_text(getattr(cell, "value", None)))
            if header is None:
                if row_number > HEADER_SCAN_ROWS:
                    raise ImportFileError(f"Không tìm thấy dòng tiêu đề (cần cột “{COLUMNS['stem'][0]}”) trong "
                                          f"{HEADER_SCAN_ROWS} dòng đầu của trang tính “{sheet.title}”.")
                header = _read_header(values, row_number, result)
                continue
            if not any(values):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportFileError(f"Tệp có quá nhiều dòng (tối đa {MAX_ROWS} câu hỏi mỗi tệp); hãy chia nhỏ "
                                      "tệp.")
            cells = {header[i]: v for i, v in enumerate(values) if i in header and v}
            rows.append(_Row(row_number, cells))
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError("Không đọc được nội dung trang tính: tệp Excel bị hỏng.") from exc
    if header is None:
        raise ImportFileError(f"Không tìm thấy dòng tiêu đề (cần cột “{COLUMNS['stem'][0]}”).")
    for row in rows:
        question = _row_to_question(row, result)
        if question is not None:
            result.questions.append(question)
    return result


def _read_header(values: list[str], row_number: int, result: ParseResult) -> dict[int, str] | None:
    mapping: dict[int, str] = {}
    for index, raw in enumerate(values):
        if not raw:
            continue
        key = ALIASES.get(fold(raw))
        if key is None:
            continue
        if key in mapping.values():
            result.errors.append(Problem(f"Cột “{raw}” bị lặp lại ở dòng tiêu đề.", row=row_number))
            continue
        mapping[index] = key
    if "stem" not in mapping.values():
        return None
    for index, raw in enumerate(values):
        if raw and index not in mapping and fold(raw) not in IGNORED_HEADERS and ALIASES.get(fold(raw)) is None:
            result.warnings.append(Problem(f"Cột “{raw}” (cột {_col_letter(index)}) không được hỗ trợ, đã bỏ qua.",
                                           row=row_number))
    return mapping


def _row_to_question(row: _Row, result: ParseResult) -> ParsedQuestion | None:
    c = row.cells
    errors: list[str] = []

    def err(message: str) -> None:
        errors.append(message)

    for key, value in c.items():
        if looks_misencoded(value):
            err(f"Cột “{COLUMNS[key][0]}” có vẻ sai bảng mã (ví dụ “{value[:30]}”): hãy chuyển văn bản sang "
                "Unicode (UTF-8) rồi nhập lại.")

    raw_type = c.get("type", "")
    if raw_type and fold(raw_type) in UNSUPPORTED_TYPES:
        stem_preview = re.sub(r"<[^>]*>", " ", c.get("stem", ""))
        result.unsupported.append(Unsupported(
            item=f"Dòng {row.number}: {' '.join(stem_preview.split())[:60]}", type=raw_type,
            reason=f"Loại câu hỏi {UNSUPPORTED_TYPES[fold(raw_type)]} chưa được hỗ trợ; dòng này được bỏ qua."))
        return None
    qtype = TYPE_VALUES.get(fold(raw_type)) if raw_type else None
    options_present = [letter for letter in OPTION_LETTERS if c.get(f"option_{letter.lower()}")]
    answer = c.get("answer", "")
    if raw_type and qtype is None:
        err(f"Loại câu hỏi “{raw_type}” không hợp lệ (dùng: một lựa chọn, nhiều lựa chọn, đúng/sai, số, "
            "trả lời ngắn, tự luận).")
    if qtype is None and not raw_type:
        # Sensible default for hand-made sheets: several letters in the key → multiple choice.
        qtype = "multiple" if len(_split_list(answer)) > 1 and options_present else "single"
    stem = c.get("stem", "")
    if not stem:
        err("Thiếu nội dung câu hỏi.")

    # Options in column order; a gap (A, C without B) is an error: letters must mean what they say.
    last = max((OPTION_LETTERS.index(x) for x in options_present), default=-1)
    missing = [OPTION_LETTERS[i] for i in range(last + 1) if OPTION_LETTERS[i] not in options_present]
    if missing:
        err(f"Thiếu phương án {', '.join(missing)} (các phương án phải liên tiếp từ A).")
    letters = OPTION_LETTERS[:last + 1]
    options: list[ParsedOption] = []
    explicit_fractions = False
    for letter in letters:
        lo = letter.lower()
        raw_fraction = c.get(f"fraction_{lo}", "")
        fraction = Decimal("0")
        if raw_fraction:
            parsed = _parse_fraction(raw_fraction)
            if parsed is None or parsed < -1 or parsed > 1:
                err(f"Tỉ lệ điểm {letter} “{raw_fraction}” không hợp lệ (từ -100% đến 100%).")
            else:
                fraction, explicit_fractions = parsed, True
        options.append(ParsedOption(text=c.get(f"option_{lo}", ""), fraction=fraction,
                                    feedback=c.get(f"feedback_{lo}", "")))

    if qtype == "truefalse":
        options, tf_errors = _true_false(options, answer, explicit_fractions)
        errors.extend(tf_errors)
    elif qtype in ("single", "multiple"):
        errors.extend(_apply_answer_letters(qtype, options, letters, answer, explicit_fractions))
    elif qtype in ("numeric", "short"):
        # Accepted answers: typed in the answer column ("12; 12,0"), or options marked by letter, or every
        # option fully accepted when no fractions were given.
        if answer and not options:
            options = [ParsedOption(text=a, fraction=Decimal("1")) for a in re.split(r"\s*[;|]\s*", answer) if a]
        elif answer:
            errors.extend(_apply_answer_letters("multiple_any", options, letters, answer, explicit_fractions))
        elif not explicit_fractions:
            for o in options:
                o.fraction = Decimal("1")
        tol = c.get("tolerance", "") if qtype == "numeric" else ""
        if tol:
            errors.extend(_apply_tolerance(options, tol))
    elif qtype == "essay" and options:
        err("Câu tự luận không có phương án trả lời.")

    difficulty = "medium"
    if c.get("difficulty"):
        difficulty = DIFFICULTY_VALUES.get(fold(c["difficulty"]), "")
        if not difficulty:
            err(f"Độ khó “{c['difficulty']}” không hợp lệ (dùng: dễ, trung bình, khó).")
    points = Decimal("1")
    if c.get("points"):
        try:
            points = Decimal(c["points"].replace(",", "."))
        except InvalidOperation:
            err(f"Điểm “{c['points']}” không phải là số.")
    topic_path = [p.strip() for p in re.split(r"\s*(?:>|»|/)\s*", c.get("topic", "")) if p.strip()]
    tags = [t.strip() for t in re.split(r"[,;]", c.get("tags", "")) if t.strip()]

    for message in errors:
        result.errors.append(Problem(message, row=row.number))
    if errors:
        return None
    return ParsedQuestion(
        type=qtype or "single", stem=stem, options=options, explanation=c.get("explanation", ""),
        citation_document=c.get("citation_document", ""), citation_article=c.get("citation_article", ""),
        citation_clause=c.get("citation_clause", ""), topic_path=topic_path, tags=tags, difficulty=difficulty,
        points=points, row=row.number,
    )


def _apply_answer_letters(qtype: str, options: list[ParsedOption], letters: str, answer: str,
                          explicit: bool) -> list[str]:
    """Fill or check credit fractions from the "correct answer(s)" column ("A", "A,C", "AC")."""
    errors: list[str] = []
    raw = answer.upper().replace(" ", "")
    picked = list(dict.fromkeys(ch for ch in raw if ch.isalpha())) if re.fullmatch(r"[A-Z,;/]*", raw) else None
    if answer and picked is None:
        return [f"Đáp án đúng “{answer}” không hợp lệ (ví dụ: A hoặc A,C)."]
    picked = picked or []
    outside = [x for x in picked if x not in letters]
    if outside:
        return [f"Đáp án {', '.join(outside)} không có trong các phương án."]
    if not picked and not explicit:
        return ["Thiếu đáp án đúng (cột “Đáp án đúng”, ví dụ: A hoặc A,C)."]
    if qtype == "single" and len(picked) > 1:
        return [f"Câu một lựa chọn chỉ có một đáp án đúng, nhưng ghi “{answer}”."]
    if explicit:
        correct = [letters[i] for i, o in enumerate(options) if o.fraction > 0]
        if picked and sorted(picked) != sorted(correct):
            errors.append(f"Đáp án đúng “{answer}” không khớp với tỉ lệ điểm của các phương án "
                          f"({', '.join(correct) or 'không có phương án nào > 0'}).")
        return errors
    if qtype in ("single", "multiple_any"):
        for letter in picked:
            options[letters.index(letter)].fraction = Decimal("1")
        return errors
    # Multiple choice: split the credit evenly; the last correct option absorbs rounding so the sum is 1.
    share = (Decimal("1") / len(picked)).quantize(Decimal("0.00001"))
    for i, letter in enumerate(picked):
        options[letters.index(letter)].fraction = share if i < len(picked) - 1 else \
            Decimal("1") - share * (len(picked) - 1)
    return errors


def _true_false(options: list[ParsedOption], answer: str, explicit: bool) -> tuple[list[ParsedOption], list[str]]:
    if not options:
        options = [ParsedOption(text=TRUE_TEXT), ParsedOption(text=FALSE_TEXT)]
    if len(options) != 2:
        return options, ["Câu Đúng/Sai phải có đúng 2 phương án (hoặc để trống cả hai)."]
    key = fold(answer)
    if not key:
        if explicit:
            return options, []
        return options, ["Thiếu đáp án đúng (Đúng hoặc Sai)."]
    if key in ("a",) or key in TRUE_WORDS:
        index = 0
    elif key in ("b",) or key in FALSE_WORDS:
        index = 1
    else:
        return options, [f"Đáp án “{answer}” của câu Đúng/Sai không hợp lệ (dùng Đúng/Sai hoặc A/B)."]
    if explicit:
        correct = [i for i, o in enumerate(options) if o.fraction > 0]
        if correct != [index]:
            return options, [f"Đáp án “{answer}” không khớp với tỉ lệ điểm của các phương án."]
        return options, []
    for i, o in enumerate(options):
        o.fraction = Decimal("1") if i == index else Decimal("0")
    return options, []


def _apply_tolerance(options: list[ParsedOption], raw: str) -> list[str]:
    """"0.5" for every answer, or per answer: "A:0.5; B:1"."""
    text = raw.replace(",", ".")
    if ":" in text:
        for part in re.split(r"\s*;\s*", text):
            if not part:
                continue
            letter, _, value = part.partition(":")
            letter = letter.strip().upper()
            if len(letter) != 1 or letter not in OPTION_LETTERS[:len(options)]:
                return [f"Sai số “{raw}” không hợp lệ (ví dụ: 0,5 hoặc A:0,5; B:1)."]
            try:
                options[OPTION_LETTERS.index(letter)].tolerance = Decimal(value.strip())
            except InvalidOperation:
                return [f"Sai số “{raw}” không hợp lệ."]
        return []
    try:
        tol = Decimal(text.strip())
    except InvalidOperation:
        return [f"Sai số “{raw}” không phải là số."]
    for o in options:
        o.tolerance = tol
    return []

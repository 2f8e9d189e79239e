"""Write questions to the Excel template that questionbank.importers.xlsx reads (export → import round trips).

Rows are built apart from the writer (``question_rows``) from keyset-batched reads, and xlsxwriter runs in
constant-memory mode, so memory stays flat whatever the number of questions. Every text cell is written
with ``write_string`` so nothing a writer typed (e.g. "=HYPERLINK(…)") ever becomes a formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO

import xlsxwriter
from django.db.models import Prefetch, QuerySet

from questionbank.importers.xlsx import COLUMNS, OPTION_LETTERS
from questionbank.models import Question, QuestionOption, QuestionType, Topic

SHEET_NAME = "Câu hỏi"
HEADERS: list[tuple[str, str]] = [(key, header) for key, (header, _aliases) in COLUMNS.items()]
TYPE_LABELS = {
    QuestionType.SINGLE: "Một lựa chọn",
    QuestionType.MULTIPLE: "Nhiều lựa chọn",
    QuestionType.TRUE_FALSE: "Đúng/Sai",
    QuestionType.NUMERIC: "Số",
    QuestionType.SHORT_TEXT: "Trả lời ngắn",
    QuestionType.ESSAY: "Tự luận",
}
DIFFICULTY_LABELS = {"easy": "Dễ", "medium": "Trung bình", "hard": "Khó"}
NUMBER_KEYS = {"points"} | {f"fraction_{letter.lower()}" for letter in OPTION_LETTERS}
COLUMN_WIDTHS = {"stem": 60, "explanation": 40, "topic": 30, "type": 16}


def _decimal_text(value: Decimal) -> str:
    text = format(Decimal(value).normalize(), "f")
    return text


def topic_paths() -> dict[int, str]:
    """{topic id: "Luật A > Chương B"} for the whole (small) topic tree, in two queries' worth of work."""
    nodes = {pk: (name, parent) for pk, name, parent in Topic.objects.values_list("id", "name", "parent_id")}
    cache: dict[int, str] = {}

    def path(pk: int, depth: int = 0) -> str:
        if pk in cache:
            return cache[pk]
        name, parent = nodes[pk]
        value = name if parent is None or depth > 20 else f"{path(parent, depth + 1)} > {name}"
        cache[pk] = value
        return value

    return {pk: path(pk) for pk in nodes}


def iter_questions(queryset: QuerySet[Question], batch_size: int = 500) -> Iterator[Question]:
    """Keyset pagination by id with options and tags prefetched per batch (flat memory)."""
    last = 0
    base = queryset.order_by("id").prefetch_related(
        Prefetch("options", queryset=QuestionOption.objects.order_by("position", "id")), "tags")
    while True:
        batch = list(base.filter(id__gt=last)[:batch_size])
        if not batch:
            return
        yield from batch
        last = batch[-1].id


def question_row(question: Question, paths: dict[int, str]) -> dict[str, object]:
    options = list(question.options.all())
    row: dict[str, object] = {
        "type": TYPE_LABELS.get(question.type, question.type),
        "stem": question.stem,
        "explanation": question.explanation,
        "citation_document": question.citation_document,
        "citation_article": question.citation_article,
        "citation_clause": question.citation_clause,
        "topic": paths.get(question.topic_id, "") if question.topic_id else "",
        "difficulty": DIFFICULTY_LABELS.get(question.difficulty, question.difficulty),
        "points": question.default_points,
        "tags": ", ".join(sorted(t.name for t in question.tags.all())),
    }
    for letter, option in zip(OPTION_LETTERS, options, strict=False):
        lo = letter.lower()
        row[f"option_{lo}"] = option.text
        row[f"fraction_{lo}"] = option.fraction
        row[f"feedback_{lo}"] = option.feedback
    if question.type != QuestionType.ESSAY:
        row["answer"] = ",".join(letter for letter, o in zip(OPTION_LETTERS, options, strict=False)
                                 if o.fraction > 0)
    tolerances = [o.tolerance for o in options]
    if question.type == QuestionType.NUMERIC and any(t is not None for t in tolerances):
        if len(set(tolerances)) == 1:
            row["tolerance"] = _decimal_text(tolerances[0])
        else:
            row["tolerance"] = "; ".join(f"{letter}:{_decimal_text(t)}"
                                         for letter, t in zip(OPTION_LETTERS, tolerances, strict=False)
                                         if t is not None)
    return row


def question_rows(questions: Iterable[Question]) -> Iterator[dict[str, object]]:
    paths = topic_paths()
    for question in questions:
        yield question_row(question, paths)


def write_workbook(out: str | IO[bytes], rows: Iterable[dict[str, object]], *, template: bool = False) -> int:
    """Write the template sheet (and an instructions sheet) with ``rows``; returns the number of rows."""
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False, "strings_to_numbers": False})
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                "valign": "top"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    number = workbook.add_format({"num_format": "0.#####", "valign": "top"})
    sheet = workbook.add_worksheet(SHEET_NAME)
    for col, (key, header) in enumerate(HEADERS):
        sheet.set_column(col, col, COLUMN_WIDTHS.get(key, 14), wrap)
        sheet.write_string(0, col, header, bold)
    sheet.freeze_panes(1, 2)
    type_col = [k for k, _h in HEADERS].index("type")
    diff_col = [k for k, _h in HEADERS].index("difficulty")
    sheet.data_validation(1, type_col, 20000, type_col,
                          {"validate": "list", "source": list(TYPE_LABELS.values()), "ignore_blank": True})
    sheet.data_validation(1, diff_col, 20000, diff_col,
                          {"validate": "list", "source": list(DIFFICULTY_LABELS.values()), "ignore_blank": True})
    count = 0
    for r, row in enumerate(rows, start=1):
        for col, (key, _header) in enumerate(HEADERS):
            value = row.get(key)
            if value is None or value == "":
                continue
            if key in NUMBER_KEYS and isinstance(value, Decimal | int | float):
                sheet.write_number(r, col, float(value), number)
            else:
                sheet.write_string(r, col, str(value), wrap)
        count += 1
    _write_instructions(workbook, bold, wrap)
    workbook.close()
    return count


def _write_instructions(workbook: xlsxwriter.Workbook, bold: object, wrap: object) -> None:
    sheet = workbook.add_worksheet("Hướng dẫn")
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 100)
    lines = [
        ("Cột", "Cách điền"),
        ("Loại câu hỏi", "Một lựa chọn | Nhiều lựa chọn | Đúng/Sai | Số | Trả lời ngắn | Tự luận "
                         "(để trống = Một lựa chọn)."),
        ("Nội dung câu hỏi", "Bắt buộc. Có thể dùng định dạng HTML đơn giản (<b>, <i>, <br>…); mã độc bị loại bỏ."),
        ("Phương án A … H", "Các phương án theo thứ tự, liên tiếp từ A. Câu Đúng/Sai có thể để trống (mặc định "
                            "A = Đúng, B = Sai). Câu Số / Trả lời ngắn: mỗi ô là một đáp án được chấp nhận."),
        ("Tỉ lệ điểm A … H", "Không bắt buộc. 1 (hoặc 100%) = đúng hoàn toàn, 0 = sai, 0,5 = nửa số điểm; "
                             "cho phép số âm đến -100%. Nếu để trống, tính từ cột Đáp án đúng."),
        ("Phản hồi A … H", "Không bắt buộc: nhận xét hiện sau cuộc thi cho người chọn phương án."),
        ("Đáp án đúng", "Chữ cái của phương án đúng: A hoặc A,C. Câu Đúng/Sai: Đúng hoặc Sai. "
                        "Câu nhiều lựa chọn: điểm chia đều cho các phương án đúng."),
        ("Sai số", "Chỉ câu Số: một giá trị cho mọi đáp án (0,5) hoặc theo từng đáp án (A:0,5; B:1)."),
        ("Giải thích", "Lời giải thích hiện sau cuộc thi."),
        ("Văn bản / Điều / Khoản", "Căn cứ pháp lý, ví dụ: 36/2024/QH15 / 9 / 2."),
        ("Chủ đề", "Đường dẫn chủ đề, các cấp cách nhau bằng “>”: Luật Trật tự, an toàn giao thông đường bộ > "
                   "Quy tắc giao thông. Chủ đề chưa có sẽ được tạo."),
        ("Độ khó", "Dễ | Trung bình | Khó (để trống = Trung bình)."),
        ("Điểm", "Điểm mặc định của câu (để trống = 1)."),
        ("Nhãn", "Các nhãn cách nhau bằng dấu phẩy."),
        ("", ""),
        ("Lưu ý", "Tiêu đề cột tiếng Việt hoặc tiếng Anh đều được (ví dụ “Câu hỏi”, “stem”). Không dùng công "
                  "thức. Tệp được kiểm tra toàn bộ: nếu có lỗi ở bất kỳ dòng nào, không câu nào được nhập và báo "
                  "cáo liệt kê từng lỗi theo số dòng. Câu hỏi được nhập ở trạng thái “Chờ thẩm định”."),
    ]
    for r, (a, b) in enumerate(lines):
        fmt = bold if r == 0 else wrap
        sheet.write_string(r, 0, a, fmt)
        sheet.write_string(r, 1, b, fmt)


def export_questions(out: str | IO[bytes], queryset: QuerySet[Question]) -> int:
    """Export ``queryset`` (any filtering already applied) in the template format; returns the row count."""
    return write_workbook(out, question_rows(iter_questions(queryset)))


def write_template(out: str | IO[bytes]) -> int:
    return write_workbook(out, [], template=True)

"""The xlsx/CSV writers: explicit cell types, formula-like text kept as text, sheet overflow, zipped CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from exports.writers import (
    BOOL,
    BOOL_NUMBER_FORMAT,
    DATE,
    DATETIME,
    INT,
    NUMBER,
    TEXT,
    Column,
    XlsxExport,
    ZippedCsv,
    csv_safe_text,
)
from tests.exports.factories import FORMULA_TEXTS
from tests.exports.xlsx_read import ooxml_text, read_book, sheet_rows

COLUMNS = [Column("Chữ", TEXT), Column("Số nguyên", INT), Column("Số", NUMBER), Column("Lúc", DATETIME),
           Column("Ngày", DATE), Column("Đúng", BOOL)]
UTC_MOMENT = dt.datetime(2026, 3, 1, 17, 30, 5, tzinfo=dt.UTC)  # 00:30:05 on 2 March in Vietnam


def _write(rows, columns=COLUMNS):
    buffer = io.BytesIO()
    book = XlsxExport(buffer)
    sheet = book.add_sheet("Dữ liệu", columns)
    for row in rows:
        sheet.append(row)
    sheet.finish()
    book.close()
    return buffer.getvalue()


@pytest.mark.parametrize("text", [*FORMULA_TEXTS, "=cmd|' /C calc'!A0", "-", "=", "@", "+84912345678"])
def test_formula_like_text_is_a_text_cell_with_the_exact_value(text):
    book = read_book(_write([(text, -5, Decimal("-1.5"), None, None, None)]))
    cells = sheet_rows(book, "Dữ liệu")[1]
    assert cells[0].data_type == "s"
    # Control characters are stored with the OOXML _xHHHH_ escape (what Excel and LibreOffice decode);
    # openpyxl returns the raw escape, so decode it as a spreadsheet program does.
    assert ooxml_text(cells[0].value) == text
    # Negative numbers stay numbers.
    assert cells[1].data_type == "n"
    assert cells[1].value == -5
    assert cells[2].data_type == "n"
    assert cells[2].value == -1.5


def test_cell_types_and_vietnam_time():
    data = _write([("a", 3, Decimal("2.5"), UTC_MOMENT, dt.date(1990, 5, 17), True)])
    book = read_book(data)
    header, row = sheet_rows(book, "Dữ liệu")
    assert [c.value for c in header] == ["Chữ", "Số nguyên", "Số", "Lúc", "Ngày", "Đúng"]
    # Yes/no is the number 1 or 0 shown as "Có"/"Không" (a boolean cell would show TRUE/FALSE).
    assert [c.data_type for c in row] == ["s", "n", "n", "d", "d", "n"]
    assert row[3].value == dt.datetime(2026, 3, 2, 0, 30, 5)
    assert row[3].value == UTC_MOMENT.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).replace(tzinfo=None)
    assert row[4].value == dt.datetime(1990, 5, 17)
    assert row[5].value == 1
    assert row[5].number_format == BOOL_NUMBER_FORMAT == '"Có";"Có";"Không"'
    _header, no = sheet_rows(read_book(_write([("b", 1, 1, None, None, False)])), "Dữ liệu")
    assert (no[5].value, no[5].number_format) == (0, BOOL_NUMBER_FORMAT)


def test_data_sheets_print_on_a4_landscape_one_page_wide_with_the_header_repeated():
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(_write([("a", 1, 1, None, None, None)] * 3)))["Dữ liệu"]
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize in (9, "9")
    assert sheet.print_title_rows == "$1:$1"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    # One page wide (1 is the default, which the file leaves out), as many pages tall as needed.
    assert int(sheet.page_setup.fitToWidth or 1) == 1
    assert int(sheet.page_setup.fitToHeight) == 0


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        _write([("a", 1, 1, dt.datetime(2026, 1, 1), None, None)])


def test_header_is_frozen_and_filtered():
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(_write([("a", 1, 1, None, None, None)] * 3)))
    sheet = book["Dữ liệu"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:F4"
    assert sheet.column_dimensions["A"].width > 5


def test_split_sheet_continues_on_numbered_sheets():
    buffer = io.BytesIO()
    book = XlsxExport(buffer)
    answers = book.add_split_sheet("Bài làm", [Column("n", INT)], max_rows=50)
    for n in range(120):
        answers.append((n,))
    answers.finish()
    book.close()
    assert answers.data_rows == 120
    read = read_book(buffer.getvalue())
    assert read.sheetnames == ["Bài làm", "Bài làm (2)", "Bài làm (3)"]
    counted = []
    for name in read.sheetnames:
        rows = sheet_rows(read, name)
        assert rows[0][0].value == "n"  # every part repeats the header
        counted.extend(r[0].value for r in rows[1:])
    assert [len(sheet_rows(read, n)) - 1 for n in read.sheetnames] == [49, 49, 22]
    assert counted == list(range(120))


def test_sheet_names_are_made_valid_and_unique():
    book = XlsxExport(io.BytesIO())
    assert book.unique_sheet_name("Xếp hạng") == "Xếp hạng"
    assert book.unique_sheet_name("xếp HẠNG") == "xếp HẠNG (2)"
    long = book.unique_sheet_name("Đợt thi: tuần 1/2 [thử] với tên rất là dài")
    assert len(long) <= 31
    assert not set(long) & set("[]:*?/\\")
    book.close()


def test_zipped_csv_neutralises_formulas_but_not_numbers():
    buffer = io.BytesIO()
    archive = ZippedCsv(buffer, "bai-lam.csv", [Column("Chữ", TEXT), Column("Số", NUMBER), Column("Lúc", DATETIME)])
    for text in FORMULA_TEXTS:
        archive.append((text, Decimal("-2.5"), UTC_MOMENT))
    archive.append(("Nguyễn Văn A", 3, None))
    archive.close()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
        assert z.namelist() == ["bai-lam.csv"]
        text = z.read("bai-lam.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["Chữ", "Số", "Lúc"]
    assert [r[0] for r in rows[1:-1]] == ["'" + t for t in FORMULA_TEXTS]
    assert rows[1][1] == "-2.5"
    assert rows[1][2] == "2026-03-02 00:30:05"
    assert rows[-1] == ["Nguyễn Văn A", "3", ""]
    assert csv_safe_text("an toàn") == "an toàn"


def test_continuation_sheets_sit_next_to_their_first_part():
    from openpyxl import load_workbook

    buffer = io.BytesIO()
    book = XlsxExport(buffer)
    first = book.add_sheet("Xếp hạng", [Column("n", INT)])
    first.append((1,))
    first.finish()
    answers = book.add_split_sheet("Bài làm", [Column("n", INT)], max_rows=3)
    last = book.add_sheet("Đơn vị", [Column("n", INT)])
    for n in range(5):
        answers.append((n,))
    answers.finish()
    last.append((9,))
    last.finish()
    book.close()
    read = load_workbook(io.BytesIO(buffer.getvalue()))
    assert read.sheetnames == ["Xếp hạng", "Bài làm", "Bài làm (2)", "Bài làm (3)", "Đơn vị"]
    assert read["Bài làm (3)"].auto_filter.ref == "A1:A2"
    assert read["Đơn vị"]["A2"].value == 9
    assert read.active.title == "Xếp hạng"

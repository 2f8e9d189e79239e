"""File writers for exports: rows in, file out. They know cell types, nothing about contests.

Rows are built apart from the writer (``exports.selectors``/``exports.workbook``) as plain tuples and
written here through a *constant-memory* xlsxwriter workbook (see docs/exports.md for the measurement
that chose xlsxwriter over openpyxl's write-only mode).

Formula injection: every text value is written with ``write_string`` — an explicit text cell — so a
value such as ``=HYPERLINK(...)`` typed by a contestant is shown as typed and never evaluated. Numbers are
written with ``write_number``, dates with ``write_datetime``. The workbook is opened with
``strings_to_formulas=False`` (and friends) as a second line of defence should anyone call ``write``.
CSV has no cell types, so the CSV writer neutralises dangerous text with a leading apostrophe (OWASP).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any
from zoneinfo import ZoneInfo

import xlsxwriter

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_STRING = 32_767
SHEET_NAME_MAX = 31
# Text starting with one of these is a formula (or becomes one) in spreadsheet programs.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

TEXT, INT, NUMBER, DATETIME, DATE, BOOL, PERCENT = "text", "int", "number", "datetime", "date", "bool", "percent"
BOOL_NUMBER_FORMAT = '"Có";"Có";"Không"'
A4 = 9  # xlsxwriter paper code
# A naive datetime that already is Vietnam wall-clock time (converted by the database: ``AT TIME ZONE``).
LOCAL_DATETIME = "local_datetime"


# Number formats of numeric cells (Excel shows them with the reader's own separators: "9,5" in Vietnamese
# Excel). Scores keep one decimal so that no whole score can be read as a thousands group ("10,0", not
# "10."); seconds keep their milliseconds; counts are grouped; ids and ranks are not.
SCORE_FORMAT = "0.0##"
SECONDS_FORMAT = "0.000"
COUNT_FORMAT = "#,##0"
ID_FORMAT = "0"
PERCENT_FORMAT = "0.0%"
DEFAULT_NUMBER_FORMATS = {INT: ID_FORMAT, NUMBER: SCORE_FORMAT, PERCENT: PERCENT_FORMAT}


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT
    width: float = 14
    num_format: str | None = None  # numeric columns: DEFAULT_NUMBER_FORMATS[kind] when None

    @property
    def number_format(self) -> str | None:
        return self.num_format or DEFAULT_NUMBER_FORMATS.get(self.kind)


def to_vietnam_naive(value: dt.datetime) -> dt.datetime:
    """An aware datetime as the naive wall-clock time in Vietnam (Excel has no time zones)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime in an export")
    return value.astimezone(VN_TZ).replace(tzinfo=None)


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def csv_safe_text(text: str) -> str:
    """CSV cells carry no type: text that a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + text if is_formula_like(text) else text


class XlsxExport:
    """A constant-memory xlsx workbook. Sheets are written one row at a time, top to bottom.

    Use ``add_sheet(name, columns)`` → ``SheetWriter``; ``close()`` finishes the file. ``path_or_file`` may
    be a path or a binary file object.
    """

    def __init__(self, path_or_file: str | IO[bytes]) -> None:
        self.book = xlsxwriter.Workbook(path_or_file, {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_date_format": "dd/mm/yyyy hh:mm:ss",
        })
        self.header_format = self.book.add_format({"bold": True, "text_wrap": True, "valign": "top",
                                                   "bg_color": "#E8EEF7", "border": 1})
        self.datetime_format = self.book.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"})
        self.date_format = self.book.add_format({"num_format": "dd/mm/yyyy"})
        self._number_formats: dict[str, Any] = {}
        self.percent_format = self.format_for(PERCENT_FORMAT)
        # Yes/no cells are the numbers 1 and 0 shown as "Có"/"Không" (a boolean cell shows TRUE/FALSE in any
        # language); they still filter, sort and add up (=SUM counts the winners).
        self.bool_format = self.book.add_format({"num_format": BOOL_NUMBER_FORMAT, "align": "center"})
        self.title_format = self.book.add_format({"bold": True, "font_size": 14})
        self.label_format = self.book.add_format({"bold": True})
        self._names: set[str] = set()
        self._splits: list[list[SheetWriter]] = []

    def format_for(self, num_format: str) -> Any:
        """The workbook's format object for ``num_format`` (one per distinct format)."""
        found = self._number_formats.get(num_format)
        if found is None:
            found = self._number_formats[num_format] = self.book.add_format({"num_format": num_format})
        return found

    def unique_sheet_name(self, name: str) -> str:
        for bad in "[]:*?/\\":
            name = name.replace(bad, " ")
        base = name[:SHEET_NAME_MAX].strip() or "Sheet"
        candidate, n = base, 2
        while candidate.casefold() in self._names:
            suffix = f" ({n})"
            candidate = base[: SHEET_NAME_MAX - len(suffix)] + suffix
            n += 1
        self._names.add(candidate.casefold())
        return candidate

    def add_sheet(self, name: str, columns: Sequence[Column]) -> SheetWriter:
        return SheetWriter(self, self.book.add_worksheet(self.unique_sheet_name(name)), columns)

    def add_split_sheet(self, name: str, columns: Sequence[Column], *,
                        max_rows: int = EXCEL_MAX_ROWS) -> SplitSheetWriter:
        split = SplitSheetWriter(self, name, columns, max_rows=max_rows)
        self._splits.append(split.sheets)
        return split

    def add_info_sheet(self, name: str, title: str, items: Iterable[tuple[str, Any]]) -> None:
        """A title block: a title then label/value pairs (values typed like data cells)."""
        sheet = self.book.add_worksheet(self.unique_sheet_name(name))
        sheet.set_column(0, 0, 42)
        sheet.set_column(1, 1, 60)
        sheet.write_string(0, 0, title, self.title_format)
        writer = SheetWriter(self, sheet, [Column("", TEXT), Column("", TEXT)], header=False)
        writer.row = 2
        for label, value in items:
            sheet.write_string(writer.row, 0, str(label), self.label_format)
            writer.write_cell(writer.row, 1, value, cell_kind_of(value))
            writer.row += 1

    def close(self) -> None:
        self._place_continuations()
        self.book.close()

    def _place_continuations(self) -> None:
        """Continuation sheets ("Bài làm (2)"…) are created when needed, i.e. after every other sheet; move
        each group back next to its first part (xlsxwriter writes sheets in ``worksheets_objs`` order)."""
        groups = {id(parts[0].sheet): [p.sheet for p in parts[1:]] for parts in self._splits if len(parts) > 1}
        if not groups:
            return
        moved = {id(sheet) for sheets in groups.values() for sheet in sheets}
        ordered = []
        for sheet in self.book.worksheets_objs:
            if id(sheet) in moved:
                continue
            ordered.append(sheet)
            ordered.extend(groups.get(id(sheet), []))
        self.book.worksheets_objs[:] = ordered
        for index, sheet in enumerate(ordered):
            sheet.index = index


def print_setup(sheet: Any) -> None:
    """Printing a data sheet: A4 landscape, as wide as one page, the header row repeated on every page."""
    sheet.set_paper(A4)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.set_footer("&C&P / &N")


def cell_kind_of(value: Any) -> str:
    """The cell type a Python value is written as (numbers stay numbers, text stays text)."""
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int | float | Decimal):
        return NUMBER
    if isinstance(value, dt.datetime):
        return DATETIME
    if isinstance(value, dt.date):
        return DATE
    return TEXT


class SheetWriter:
    """One worksheet: header row (frozen, autofiltered), typed data rows."""

    def __init__(self, export: XlsxExport, sheet: Any, columns: Sequence[Column], *, header: bool = True) -> None:
        self.export = export
        self.sheet = sheet
        self.columns = list(columns)
        self.kinds = [c.kind for c in self.columns]
        self.row = 0
        self.data_rows = 0
        self._writers: list[Any] | None = None
        if header:
            for index, column in enumerate(self.columns):
                fmt = {DATETIME: export.datetime_format, LOCAL_DATETIME: export.datetime_format,
                       DATE: export.date_format, BOOL: export.bool_format}.get(column.kind)
                if column.number_format is not None:
                    fmt = export.format_for(column.number_format)
                sheet.set_column(index, index, column.width, fmt)
            for index, column in enumerate(self.columns):
                sheet.write_string(0, index, column.header, export.header_format)
            sheet.freeze_panes(1, 0)
            print_setup(sheet)
            self.row = 1

    def write_cell(self, row: int, col: int, value: Any, kind: str) -> None:
        if value is None or value == "":
            return
        sheet = self.sheet
        if kind == TEXT:
            text = value if isinstance(value, str) else str(value)
            sheet.write_string(row, col, text[:EXCEL_MAX_STRING])
        elif kind in (INT, NUMBER, PERCENT):
            if isinstance(value, bool):
                value = int(value)
            column = self.columns[col] if col < len(self.columns) else None
            num_format = column.number_format if column is not None and column.kind == kind else None
            if num_format is None:  # a cell typed from its value (title block, admin exports)
                num_format = PERCENT_FORMAT if kind == PERCENT else ID_FORMAT if isinstance(value, int) else \
                    SCORE_FORMAT
            sheet.write_number(row, col, float(value) if isinstance(value, Decimal) else value,
                               self.export.format_for(num_format))
        elif kind == DATETIME:
            sheet.write_datetime(row, col, to_vietnam_naive(value), self.export.datetime_format)
        elif kind == LOCAL_DATETIME:
            sheet.write_datetime(row, col, value if value.tzinfo is None else to_vietnam_naive(value),
                                 self.export.datetime_format)
        elif kind == DATE:
            sheet.write_datetime(row, col, dt.datetime(value.year, value.month, value.day),
                                 self.export.date_format)
        elif kind == BOOL:
            sheet.write_number(row, col, 1 if value else 0, self.export.bool_format)
        else:  # pragma: no cover - a programming error
            raise ValueError(kind)

    def _cell_writers(self) -> list[Any]:
        """One writer function per column, bound once (the per-cell type dispatch is the hot loop)."""
        sheet, export = self.sheet, self.export
        write_string, write_number = sheet.write_string, sheet.write_number
        write_datetime = sheet.write_datetime
        dt_format, d_format, p_format = export.datetime_format, export.date_format, export.percent_format
        b_format = export.bool_format

        def text(r: int, c: int, v: Any) -> None:
            write_string(r, c, v if v.__class__ is str else str(v))

        def numeric(fmt: Any) -> Any:
            def number(r: int, c: int, v: Any) -> None:
                write_number(r, c, float(v) if v.__class__ is Decimal else v, fmt)
            return number

        def percent(r: int, c: int, v: Any) -> None:
            write_number(r, c, float(v), p_format)

        def moment(r: int, c: int, v: Any) -> None:
            write_datetime(r, c, to_vietnam_naive(v), dt_format)

        def local_moment(r: int, c: int, v: Any) -> None:
            write_datetime(r, c, v if v.tzinfo is None else to_vietnam_naive(v), dt_format)

        def day(r: int, c: int, v: Any) -> None:
            write_datetime(r, c, dt.datetime(v.year, v.month, v.day), d_format)

        def boolean(r: int, c: int, v: Any) -> None:
            write_number(r, c, 1 if v else 0, b_format)

        table = {TEXT: text, PERCENT: percent, DATETIME: moment, DATE: day, BOOL: boolean,
                 LOCAL_DATETIME: local_moment}
        return [numeric(export.format_for(column.number_format)) if column.kind in (INT, NUMBER)
                else table[column.kind] for column in self.columns]

    def append(self, values: Sequence[Any]) -> None:
        row = self.row
        writers = self._writers
        if writers is None:
            writers = self._writers = self._cell_writers()
        for col, value in enumerate(values):
            if value is not None and value != "":
                writers[col](row, col, value)
        self.row += 1
        self.data_rows += 1

    def finish(self) -> None:
        """Autofilter over the header and data (constant-memory mode allows it at any time)."""
        last = max(self.row - 1, 0)
        self.sheet.autofilter(0, 0, last, len(self.columns) - 1)


class SplitSheetWriter:
    """A logical sheet that continues on "<name> (2)", "<name> (3)"… once ``max_rows`` rows (header
    included, so Excel's 1,048,576 by default) are used."""

    def __init__(self, export: XlsxExport, name: str, columns: Sequence[Column], *, max_rows: int) -> None:
        if max_rows < 2:
            raise ValueError("max_rows must leave room for a header and one row")
        self.export, self.name, self.columns, self.max_rows = export, name, columns, max_rows
        self.sheets: list[SheetWriter] = []
        self.current = self._new()

    def _new(self) -> SheetWriter:
        n = len(self.sheets) + 1
        name = self.name if n == 1 else f"{self.name} ({n})"
        sheet = SheetWriter(self.export, self.export.book.add_worksheet(self.export.unique_sheet_name(name)),
                            self.columns)
        self.sheets.append(sheet)
        return sheet

    def append(self, values: Sequence[Any]) -> None:
        if self.current.row >= self.max_rows:
            self.current.finish()
            self.current = self._new()
        self.current.append(values)

    def finish(self) -> None:
        self.current.finish()

    @property
    def data_rows(self) -> int:
        return sum(s.data_rows for s in self.sheets)


class ZippedCsv:
    """A zip archive holding one UTF-8 (with BOM, so Excel reads Vietnamese) CSV file, streamed."""

    def __init__(self, path_or_file: str | IO[bytes], inner_name: str, columns: Sequence[Column]) -> None:
        self.zip = zipfile.ZipFile(path_or_file, "w", compression=zipfile.ZIP_DEFLATED)
        self.raw = self.zip.open(inner_name, "w", force_zip64=True)
        self.text = io.TextIOWrapper(self.raw, encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.text)
        self.kinds = [c.kind for c in columns]
        self.writer.writerow([c.header for c in columns])
        self.data_rows = 0

    def append(self, values: Sequence[Any]) -> None:
        out = []
        for value, kind in zip(values, self.kinds, strict=True):
            if value is None:
                out.append("")
            elif kind == TEXT:
                out.append(csv_safe_text(str(value)))
            elif kind in (DATETIME, LOCAL_DATETIME):
                local = value if value.tzinfo is None else to_vietnam_naive(value)
                out.append(local.strftime("%Y-%m-%d %H:%M:%S"))
            elif kind == DATE:
                out.append(value.isoformat())
            elif kind == BOOL:
                out.append("1" if value else "0")
            else:
                out.append(str(value))
        self.writer.writerow(out)
        self.data_rows += 1

    def close(self) -> None:
        self.text.flush()
        self.text.close()
        self.zip.close()

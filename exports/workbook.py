"""The results workbook and the zipped CSV of answers: selectors' rows → writers.

Sheets, in order: "Thông tin" (title block), "Xếp hạng", "Bài làm" (continued on "Bài làm (2)"… past the
row cap), "Thống kê câu hỏi", "Thống kê đề thi" (test mean, SD, Cronbach's alpha per round), "Đơn vị", then
the sheets that apps above exports add through ``register_workbook_sheet`` (anticheat: "Cảnh báo"). Times are
Vietnam wall-clock time (stated in the headers).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.utils import timezone

from exports import selectors
from exports.parallel import item_statistics_in_background
from exports.selectors import ExportTarget
from exports.writers import (
    BOOL,
    COUNT_FORMAT,
    DATE,
    EXCEL_MAX_ROWS,
    INT,
    LOCAL_DATETIME,
    NUMBER,
    PERCENT,
    SECONDS_FORMAT,
    TEXT,
    Column,
    XlsxExport,
    ZippedCsv,
    to_vietnam_naive,
)

ProgressCallback = Callable[[int], None]
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtraSheet:
    """A sheet an app above exports adds to the internal results workbook (exports never imports it; the
    publication export never has it).

    ``columns(full_personal_data=…)`` gives the header; ``rows(target=…, full_personal_data=…)`` yields value
    tuples in that order. Values go through the same typed, formula-safe writer as every other sheet; the
    provider masks personal data itself when ``full_personal_data`` is false, like the ranking sheet does."""

    name: str
    columns: Callable[..., list[Column]]
    rows: Callable[..., Iterable[Sequence[Any]]]


_extra_sheets: dict[str, ExtraSheet] = {}


def register_workbook_sheet(sheet: ExtraSheet) -> ExtraSheet:
    _extra_sheets[sheet.name] = sheet
    return sheet


def unregister_workbook_sheet(name: str) -> None:
    _extra_sheets.pop(name, None)

SHEET_INFO = "Thông tin"
SHEET_RANKING = "Xếp hạng"
SHEET_CONTEST_RANKING = "Xếp hạng toàn cuộc thi"
SHEET_ANSWERS = "Bài làm"
SHEET_ITEMS = "Thống kê câu hỏi"
SHEET_TEST = "Thống kê đề thi"
SHEET_UNITS = "Đơn vị"


def ranking_columns(*, full_personal_data: bool) -> list[Column]:
    return [
        Column("Đợt thi", TEXT, 18),
        Column("Hạng", INT, 7),
        Column("Họ và tên", TEXT, 26),
        # A published list shows the year of birth alone: a "01/01/YYYY" date would be a false birthday.
        Column("Ngày sinh", DATE, 12) if full_personal_data else Column("Năm sinh", INT, 9),
        Column("Đơn vị", TEXT, 28),
        Column("Số điện thoại", TEXT, 14),
        Column("Số định danh cá nhân", TEXT, 16),
        Column("Điểm", NUMBER, 8),
        Column("Số câu đúng", INT, 8),
        Column("Dự đoán", INT, 10, COUNT_FORMAT),
        Column("Chênh lệch dự đoán", INT, 11, COUNT_FORMAT),
        Column("Đáp án câu hỏi dự đoán (dùng để tính chênh lệch)", INT, 12, COUNT_FORMAT),
        Column("Thời gian làm bài (giây)", NUMBER, 12, SECONDS_FORMAT),
        Column("Nộp bài lúc (giờ Việt Nam)", LOCAL_DATETIME, 20),
        Column("Mã lượt thi", INT, 11),
        Column("Lượt thứ", INT, 7),
        Column("Đoạt giải (khi kết quả đã công bố)", BOOL, 10),
        Column("Trạng thái kết quả", TEXT, 26),
    ]


CONTEST_RANKING_COLUMNS = [
    Column("Hạng", INT, 7),
    Column("Họ và tên", TEXT, 26),
    Column("Đơn vị", TEXT, 28),
    Column("Tổng điểm", NUMBER, 10),
    Column("Tổng thời gian làm bài (giây)", NUMBER, 14, SECONDS_FORMAT),
    Column("Số đợt được tính", INT, 10),
]

ANSWER_COLUMNS = [
    Column("Đợt thi", TEXT, 18),
    Column("Mã lượt thi", INT, 11),
    Column("Mã đăng ký", INT, 11),
    Column("Câu số", INT, 7),
    Column("Mã câu hỏi", INT, 10),
    Column("Loại câu hỏi", TEXT, 13),
    # Options are shuffled per attempt: a contestant who disputes a result speaks of the letters they saw.
    Column("Câu trả lời (chữ cái thí sinh thấy)", TEXT, 40),
    Column("Câu trả lời (chữ cái trong ngân hàng)", TEXT, 12),
    Column("Đáp án đúng (chữ cái thí sinh thấy)", TEXT, 12),
    Column("Đáp án đúng (chữ cái trong ngân hàng)", TEXT, 12),
    Column("Đúng", BOOL, 7),
    Column("Điểm", NUMBER, 8),
    Column("Máy chủ nhận lúc (giờ Việt Nam)", LOCAL_DATETIME, 20),
    Column("Số giây từ khi hiện câu hỏi", NUMBER, 12, SECONDS_FORMAT),
]

ITEM_COLUMNS = [
    Column("Đợt thi", TEXT, 18),
    Column("Mã câu hỏi", INT, 10),
    Column("Nội dung câu hỏi", TEXT, 50),
    Column("Loại câu hỏi", TEXT, 13),
    Column("Số lần được rút", INT, 10, COUNT_FORMAT),
    Column("Số lần đã chấm", INT, 10, COUNT_FORMAT),
    Column("Số lần bỏ trống", INT, 10, COUNT_FORMAT),
    # Every index in percent, as Moodle shows them (one unit for all: docs/question-bank.md).
    Column("Độ dễ (%)", NUMBER, 10, "0.0"),
    Column("Độ lệch chuẩn (%)", NUMBER, 10, "0.0"),
    Column("Chỉ số phân biệt (%)", NUMBER, 11, "0.0"),
    Column("Hiệu quả phân biệt (%)", NUMBER, 11, "0.0"),
    Column("Chỉ số nhóm trên – dưới 27% (%)", NUMBER, 12, "0.0"),
    Column("Phân bố lựa chọn (chữ cái trong ngân hàng)", TEXT, 40),
]

TEST_COLUMNS = [
    Column("Đợt thi", TEXT, 18),
    Column("Số lượt thi được tính", INT, 11),
    Column("Số câu hỏi", INT, 9),
    Column("Điểm trung bình", NUMBER, 11),
    Column("Độ lệch chuẩn", NUMBER, 11),
    Column("Hệ số Cronbach's alpha", NUMBER, 12),
]

UNIT_COLUMNS = [
    Column("Đơn vị", TEXT, 32),
    Column("Số người đăng ký", INT, 11, COUNT_FORMAT),
    Column("Số người dự thi", INT, 11, COUNT_FORMAT),
    Column("Số lượt thi", INT, 11, COUNT_FORMAT),
    Column("Số người thuộc đơn vị", INT, 12, COUNT_FORMAT),
    Column("Tỉ lệ tham gia", PERCENT, 11),
    Column("Số người đạt giải (kết quả đã công bố)", INT, 11, COUNT_FORMAT),
]


@dataclass
class ExportStats:
    sheets: dict[str, int] = field(default_factory=dict)
    rows: int = 0
    personal_fields: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per sheet (for bench/export.py)
    # The ranking version each round came from: [{"round_id", "version", "status"}] (version None: provisional).
    rankings: list[dict] = field(default_factory=list)


class _Progress:
    def __init__(self, callback: ProgressCallback | None, every: int) -> None:
        self.callback, self.every, self.rows, self._next = callback, max(every, 1), 0, max(every, 1)

    def tick(self) -> None:
        self.rows += 1
        if self.callback is not None and self.rows >= self._next:
            self._next += self.every
            self.callback(self.rows)

    def done(self) -> None:
        if self.callback is not None:
            self.callback(self.rows)


def progress_every() -> int:
    return int(getattr(settings, "EXPORTS_PROGRESS_EVERY", 5000))


def answers_sheet_max_rows() -> int:
    return int(getattr(settings, "EXPORTS_SHEET_MAX_ROWS", EXCEL_MAX_ROWS))


def _ranking_values(row: selectors.RankingRow) -> tuple:
    born = row.date_of_birth if row.birth_year is None else row.birth_year
    return (row.round_name, row.rank, row.full_name, born, row.unit_name, row.phone,
            row.national_id, row.score, row.correct_count, row.prediction, row.prediction_distance,
            row.prediction_target, row.duration_seconds, row.submitted_at, row.attempt_id, row.attempt_number,
            row.is_winner, row.result_state)


def results_workbook_write(*, target: ExportTarget, out: str | IO[bytes], generated_by: str,
                           full_personal_data: bool, now: dt.datetime | None = None,
                           max_rows: int | None = None, progress: ProgressCallback | None = None,
                           batch: int = selectors.DEFAULT_BATCH) -> ExportStats:
    """Write the results workbook of ``target`` to ``out``. ``max_rows`` caps rows per answers sheet
    (default ``EXPORTS_SHEET_MAX_ROWS``, Excel's limit). ``progress(rows)`` is called every
    ``EXPORTS_PROGRESS_EVERY`` data rows."""
    now = now or timezone.now()
    published = target.published
    # Started first, so it runs on the other core while the ranking and answers stream (exports.parallel).
    # A publication export has no answers and no item statistics.
    pending_statistics = None if published else item_statistics_in_background(
        round_id=target.round.pk if target.round else None, contest_id=None if target.round else target.contest.pk)
    sources = selectors.ranking_sources(target=target)
    book = XlsxExport(out)
    stats = ExportStats(rankings=[{"round_id": src.round.pk, "version": src.ranking.version if src.ranking else None,
                                   "status": src.ranking.status if src.ranking else None} for src in sources])
    tick = _Progress(progress, progress_every())
    try:
        versions = [(f"Kết quả xếp hạng — {src.round.name}" if len(sources) > 1 else "Kết quả xếp hạng",
                     selectors.ranking_source_text(src)) for src in sources]
        book.add_info_sheet(SHEET_INFO, "Kết quả cuộc thi", [
            ("Cuộc thi", target.contest.title),
            ("Đợt thi", target.round.name if target.round else selectors.round_names(target.rounds)),
            ("Bản xuất", "Bản để công bố: chỉ kết quả đã công bố, không có bài làm" if published
             else "Bản nội bộ của Ban tổ chức và Ban giám khảo"),
            *versions,
            ("Thời điểm xuất (giờ Việt Nam, UTC+7)", now),
            ("Người xuất", generated_by),
            ("Thông tin cá nhân", "Đầy đủ" if full_personal_data
             else "Đã che số điện thoại và số định danh (chỉ hiện 3 số cuối), ngày sinh chỉ hiện năm"),
            ("Ghi chú", "Thời gian ghi theo giờ Việt Nam (Asia/Ho_Chi_Minh)."),
        ])
        # Sheets are created in display order, then filled one after another (each streams to its own
        # temporary file in constant-memory mode).
        ranking = book.add_sheet(SHEET_RANKING, ranking_columns(full_personal_data=full_personal_data))
        overall = book.add_sheet(SHEET_CONTEST_RANKING, CONTEST_RANKING_COLUMNS) if target.round is None else None
        answers = (None if published else
                   book.add_split_sheet(SHEET_ANSWERS, ANSWER_COLUMNS, max_rows=max_rows or answers_sheet_max_rows()))
        items = None if published else book.add_sheet(SHEET_ITEMS, ITEM_COLUMNS)
        tests = None if published else book.add_sheet(SHEET_TEST, TEST_COLUMNS)
        units = book.add_sheet(SHEET_UNITS, UNIT_COLUMNS)
        # Working sheets of other apps (anticheat's flags) are internal: never in the publication export.
        extras = [] if published else [
            (sheet, book.add_sheet(sheet.name, sheet.columns(full_personal_data=full_personal_data)))
            for sheet in _extra_sheets.values()]

        clock = time.perf_counter
        started = clock()
        winners: Counter[int] = Counter()
        any_published = False
        for row in selectors.ranking_rows(target=target, full_personal_data=full_personal_data, batch=batch,
                                          sources=sources):
            ranking.append(_ranking_values(row))
            # A winner counts only in a published ranking (is_winner None otherwise): never guessed from ranks.
            any_published = any_published or row.is_winner is not None
            if row.is_winner and row.unit_id is not None:
                winners[row.unit_id] += 1
            tick.tick()
        ranking.finish()
        stats.seconds[SHEET_RANKING], started = clock() - started, clock()
        if overall is not None:
            for values in selectors.contest_ranking_rows(target=target):
                overall.append(values)
            overall.finish()
            stats.sheets[SHEET_CONTEST_RANKING] = overall.data_rows

        if answers is not None:
            for values in selectors.answer_rows(target=target, batch=batch):
                answers.append(values)
                tick.tick()
            answers.finish()
            stats.sheets[SHEET_ANSWERS] = answers.data_rows
        stats.seconds[SHEET_ANSWERS], started = clock() - started, clock()

        if items is not None and tests is not None:
            computed = _statistics(pending_statistics, target)
            for values in computed.items:
                items.append(values)
            items.finish()
            stats.sheets[SHEET_ITEMS] = items.data_rows
            for values in computed.tests:
                tests.append(values)
            tests.finish()
            stats.sheets[SHEET_TEST] = tests.data_rows
        stats.seconds[SHEET_ITEMS], started = clock() - started, clock()

        for unit in selectors.unit_participation(target=target, winners_by_unit=winners):
            units.append((unit.name, unit.registrations, unit.entrants, unit.attempts, unit.registered_population,
                          unit.rate, unit.winners if any_published else None))
        units.finish()
        stats.seconds[SHEET_UNITS], started = clock() - started, clock()

        for sheet, writer in extras:
            for values in sheet.rows(target=target, full_personal_data=full_personal_data):
                writer.append(values)
            writer.finish()
            stats.sheets[sheet.name] = writer.data_rows
            stats.seconds[sheet.name], started = clock() - started, clock()
    finally:
        book.close()
    stats.seconds["close"] = clock() - started
    tick.done()
    stats.sheets.update({SHEET_RANKING: ranking.data_rows, SHEET_UNITS: units.data_rows})
    stats.rows = tick.rows
    stats.personal_fields = (["full_name", "date_of_birth", "unit", "phone", "national_id"] if full_personal_data
                             else ["full_name", "birth_year", "unit", "phone_masked", "national_id_masked"])
    return stats


def _statistics(pending: Callable[[], selectors.StatisticsRows] | None,
                target: ExportTarget) -> selectors.StatisticsRows:
    if pending is not None:
        try:
            return pending()
        except Exception:
            logger.warning("item statistics process failed, computing in line", exc_info=True)
    return selectors.statistics_rows(target=target)


def answers_csv_write(*, target: ExportTarget, out: str | IO[bytes], progress: ProgressCallback | None = None,
                      batch: int = selectors.DEFAULT_BATCH) -> ExportStats:
    """The answers ("Bài làm") as one CSV in a zip archive — no row limit, for very large rounds."""
    tick = _Progress(progress, progress_every())
    archive = ZippedCsv(out, "bai-lam.csv", ANSWER_COLUMNS)
    try:
        for values in selectors.answer_rows(target=target, batch=batch):
            archive.append(values)
            tick.tick()
    finally:
        archive.close()
    tick.done()
    return ExportStats(sheets={SHEET_ANSWERS: archive.data_rows}, rows=tick.rows)


def vietnam_stamp(moment: dt.datetime) -> str:
    return to_vietnam_naive(moment).strftime("%Y%m%d-%H%M")


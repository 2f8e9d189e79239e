"""The survey workbook, in the style of exports/: a title block, typed cells through the formula-safe writer
(``exports.writers.XlsxExport``: every text is a text cell, so "=HYPERLINK(…)" typed as an answer stays text),
Vietnamese headers, frozen header row and filters. No personal data: a response code, the unit (grouped for
anonymous surveys like the results) and the day."""

from __future__ import annotations

import datetime as dt
from typing import IO

from django.utils import timezone

from exports.writers import DATE, INT, NUMBER, PERCENT, TEXT, Column, XlsxExport
from surveys import selectors
from surveys.models import QuestionKind, Survey

SUMMARY_COLUMNS = [Column("Câu số", INT, 7), Column("Câu hỏi", TEXT, 50), Column("Phương án", TEXT, 36),
                   Column("Số phiếu", INT, 10), Column("Tỉ lệ", PERCENT, 10),
                   Column("Điểm trung bình (thang 1–5)", NUMBER, 12)]
UNIT_COLUMNS = [Column("Câu số", INT, 7), Column("Đơn vị", TEXT, 32), Column("Số phiếu trả lời câu này", INT, 12),
                Column("Phương án", TEXT, 36), Column("Số phiếu", INT, 10), Column("Tỉ lệ", PERCENT, 10)]


def survey_workbook_write(*, survey: Survey, out: str | IO[bytes], generated_by: str,
                          now: dt.datetime | None = None) -> int:
    """Write the workbook of ``survey`` to ``out``; returns the number of responses written."""
    now = now or timezone.now()
    results = selectors.survey_results(survey=survey, text_limit=100_000)
    book = XlsxExport(out)
    try:
        book.add_info_sheet("Thông tin", "Kết quả khảo sát", [
            ("Khảo sát", survey.title),
            ("Đơn vị tổ chức", survey.organisation.name),
            ("Ẩn danh", "Có" if survey.anonymous else "Không"),
            ("Số phiếu trả lời", results["total"]),
            ("Thời điểm xuất (giờ Việt Nam, UTC+7)", now),
            ("Người xuất", generated_by),
            ("Ghi chú", "Không có thông tin cá nhân. Khảo sát ẩn danh: các đơn vị dưới "
                        f"{selectors.min_unit_group()} phiếu được gộp thành “Các đơn vị khác”."),
        ])
        summary = book.add_sheet("Tổng hợp", SUMMARY_COLUMNS)
        units = book.add_sheet("Theo đơn vị", UNIT_COLUMNS)
        questions = [r.question for r in results["questions"]]
        responses = book.add_sheet("Phiếu trả lời", [Column("Mã phiếu", TEXT, 10), Column("Đơn vị", TEXT, 28),
                                                     Column("Ngày trả lời", DATE, 12)] + [
            Column(f"Câu {i}. {q.text}"[:250], NUMBER if q.kind == QuestionKind.SCALE else TEXT, 30)
            for i, q in enumerate(questions, start=1)])
        for number, result in enumerate(results["questions"], start=1):
            for option in result.options:
                summary.append((number, result.question.text, option.label, option.count, option.share, None))
            if result.mean is not None:
                summary.append((number, result.question.text, "Điểm trung bình", None, None, round(result.mean, 2)))
            for text in result.texts if result.question.kind == QuestionKind.TEXT else []:
                summary.append((number, result.question.text, text, None, None, None))
            for unit_label, answered, options in result.by_unit:
                for option in options:
                    units.append((number, unit_label, answered, option.label, option.count, option.share))
        summary.finish()
        units.finish()
        written = 0
        for row in selectors.survey_response_rows(survey=survey):
            responses.append(row)
            written += 1
        responses.finish()
    finally:
        book.close()
    return written

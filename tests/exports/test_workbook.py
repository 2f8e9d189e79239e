"""The results workbook read back with openpyxl: sheets, headers, types, row counts, escaping, masking."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

from exports.selectors import export_target
from exports.workbook import ANSWER_COLUMNS, ITEM_COLUMNS, UNIT_COLUMNS, ranking_columns, results_workbook_write
from tests.exports.factories import FORMULA_NAME, FORMULA_TEXTS, make_attempt, results_round
from tests.exports.xlsx_read import ooxml_text, read_book, sheet_rows, values

pytestmark = pytest.mark.django_db

# "Cảnh báo" is added by the anticheat app through exports.workbook.register_workbook_sheet.
SHEETS = ["Thông tin", "Xếp hạng", "Bài làm", "Thống kê câu hỏi", "Thống kê đề thi", "Đơn vị", "Cảnh báo"]


def write(target, *, full=True, max_rows=None, progress=None):
    buffer = io.BytesIO()
    stats = results_workbook_write(target=target, out=buffer, generated_by="Giám khảo Thử (judge1)",
                                   full_personal_data=full, max_rows=max_rows, progress=progress,
                                   now=dt.datetime(2026, 3, 1, 17, 0, tzinfo=dt.UTC))
    return read_book(buffer.getvalue()), stats


def test_round_workbook_sheets_headers_and_counts(results):
    book, stats = write(export_target(round_id=results.round.pk))
    assert book.sheetnames == SHEETS
    ranking = sheet_rows(book, "Xếp hạng")
    assert [c.value for c in ranking[0]] == [c.header for c in ranking_columns(full_personal_data=True)]
    assert len(ranking) - 1 == len(results.attempts) == stats.sheets["Xếp hạng"]
    answers = sheet_rows(book, "Bài làm")
    assert [c.value for c in answers[0]] == [c.header for c in ANSWER_COLUMNS]
    assert len(answers) - 1 == results.answers == stats.sheets["Bài làm"]
    items = sheet_rows(book, "Thống kê câu hỏi")
    assert [c.value for c in items[0]] == [c.header for c in ITEM_COLUMNS]
    assert len(items) - 1 == 3
    units = sheet_rows(book, "Đơn vị")
    assert [c.value for c in units[0]] == [c.header for c in UNIT_COLUMNS]
    assert len(units) - 1 == 2
    assert stats.rows == len(results.attempts) + results.answers


def test_title_block_states_contest_round_time_and_author(results):
    book, _ = write(export_target(round_id=results.round.pk))
    info = {row[0]: row[1] for row in values(sheet_rows(book, "Thông tin")) if row and row[0] and len(row) > 1}
    assert info["Cuộc thi"] == results.round.contest.title
    assert info["Đợt thi"] == results.round.name
    assert info["Thời điểm xuất (giờ Việt Nam, UTC+7)"] == dt.datetime(2026, 3, 2, 0, 0)
    assert info["Người xuất"] == "Giám khảo Thử (judge1)"


def test_ranking_order_tie_breaks_and_cell_types(results):
    book, _ = write(export_target(round_id=results.round.pk))
    rows = sheet_rows(book, "Xếp hạng")[1:]
    cols = [c.header for c in ranking_columns(full_personal_data=True)]
    col = {name: i for i, name in enumerate(cols)}
    # Scores: person 0 → 3, person 1 → 2, person 2 → 2, person 3 → 1. Persons 1 and 2 tie on score; the
    # prediction target is 2: person 2 predicted 2 (distance 0), person 1 predicted 1 (distance 1).
    ranks = [(r[col["Hạng"]].value, r[col["Điểm"]].value, r[col["Chênh lệch dự đoán"]].value) for r in rows]
    assert ranks == [(1, 3, 2), (2, 2, 0), (3, 2, 1), (4, 1, 1)]
    first = rows[0]
    assert first[col["Hạng"]].data_type == "n"
    assert first[col["Điểm"]].data_type == "n"
    assert first[col["Ngày sinh"]].value == dt.datetime(1990, 3, 4)
    assert first[col["Nộp bài lúc (giờ Việt Nam)"]].data_type == "d"
    attempt = results.attempts[0]
    assert first[col["Nộp bài lúc (giờ Việt Nam)"]].value == (
        attempt.submitted_at.astimezone(dt.timezone(dt.timedelta(hours=7))).replace(tzinfo=None))
    assert first[col["Thời gian làm bài (giây)"]].value == 100
    # Phone numbers and ID numbers are text (leading zeros kept), whole for organisers and judges.
    assert first[col["Số điện thoại"]].data_type == "s"
    assert first[col["Số điện thoại"]].value == results.registrations[0].user.phone
    assert first[col["Số định danh cá nhân"]].value == "092090000000"


def test_formula_like_values_are_text(results):
    book, _ = write(export_target(round_id=results.round.pk))
    ranking = sheet_rows(book, "Xếp hạng")[1:]
    names = [r[2] for r in ranking]
    evil = next(c for c in names if c.value and c.value.startswith("=HYPERLINK"))
    assert evil.data_type == "s"
    assert evil.value == FORMULA_NAME
    answers = sheet_rows(book, "Bài làm")[1:]
    texts = [r[6] for r in answers if r[6].value and ooxml_text(r[6].value) in FORMULA_TEXTS]
    assert texts, "the formula-like short answer is exported"
    assert all(c.data_type == "s" for c in texts)
    for row in sheet_rows(book, "Bài làm") + sheet_rows(book, "Xếp hạng"):
        assert all(c.data_type != "f" for c in row)


def test_masked_for_published_lists(results):
    book, stats = write(export_target(round_id=results.round.pk), full=False)
    header = [c.value for c in sheet_rows(book, "Xếp hạng")[0]]
    assert "Năm sinh" in header
    assert "Ngày sinh" not in header
    rows = values(sheet_rows(book, "Xếp hạng"))[1:]
    phone_col, id_col = header.index("Số điện thoại"), header.index("Số định danh cá nhân")
    dob_col = header.index("Năm sinh")
    years = {r.full_name: r.date_of_birth.year for r in results.registrations}
    name_col = header.index("Họ và tên")
    phones = {r.user.phone for r in results.registrations}
    for row in rows:
        assert row[phone_col].startswith("*******")
        assert row[phone_col] not in phones
        assert row[id_col].startswith("*********")
        assert len(row[id_col]) == 12
        # The year alone, as a number: never a date such as 01/01/1990 (a false birthday in public).
        assert row[dob_col] == years[row[name_col]]
        assert isinstance(row[dob_col], int)
    assert any(row[id_col].endswith("000") for row in rows)
    assert "phone_masked" in stats.personal_fields


def test_answers_rows_types_and_elapsed_time(results):
    book, _ = write(export_target(round_id=results.round.pk))
    rows = sheet_rows(book, "Bài làm")[1:]
    header = [c.header for c in ANSWER_COLUMNS]
    first = {header[i]: c for i, c in enumerate(rows[0])}
    assert first["Mã lượt thi"].data_type == "n"
    assert (first["Đúng"].data_type, first["Đúng"].value) == ("n", 1)  # 1/0 shown as Có/Không
    assert first["Điểm"].data_type == "n"
    assert first["Máy chủ nhận lúc (giờ Việt Nam)"].data_type == "d"
    assert first["Số giây từ khi hiện câu hỏi"].value == 7  # answered 7 s after it was shown
    from contests.models import Answer

    answer = Answer.objects.get(attempt_id=first["Mã lượt thi"].value, attempt_question__position=1)
    vietnam = dt.timezone(dt.timedelta(hours=7))
    assert first["Máy chủ nhận lúc (giờ Việt Nam)"].value == answer.received_at.astimezone(vietnam).replace(tzinfo=None)
    assert first["Câu trả lời (chữ cái thí sinh thấy)"].value.startswith("A. ")  # option letter and text


def test_item_statistics_and_units(results):
    book, _ = write(export_target(round_id=results.round.pk))
    header = [c.header for c in ITEM_COLUMNS]
    items = values(sheet_rows(book, "Thống kê câu hỏi"))[1:]
    by_id = {row[1]: dict(zip(header, row, strict=False)) for row in items}
    q1, q2 = results.questions[0], results.questions[1]
    assert by_id[q1.pk]["Đợt thi"] == results.round.name
    assert by_id[q1.pk]["Số lần được rút"] == 4
    # Every index in percent: facility, SD, both discrimination measures and the 27 % index.
    assert by_id[q1.pk]["Độ dễ (%)"] == 100.0  # always right
    assert by_id[q1.pk]["Độ lệch chuẩn (%)"] == 0.0
    assert by_id[q1.pk]["Chỉ số phân biệt (%)"] is None  # no variance, no discrimination
    assert by_id[q2.pk]["Độ dễ (%)"] == 50.0
    assert by_id[q2.pk]["Chỉ số nhóm trên – dưới 27% (%)"] == 100.0  # the stronger half got it right
    assert "A (đúng): 2" in by_id[q2.pk]["Phân bố lựa chọn (chữ cái trong ngân hàng)"]
    assert by_id[q1.pk]["Nội dung câu hỏi"].startswith("Câu hỏi thử số")  # HTML stripped
    units = values(sheet_rows(book, "Đơn vị"))[1:]
    by_name = {row[0]: row for row in units}
    khe = by_name["Phường Cái Khế (thử)"]
    assert khe[1:5] == [2, 2, 2, 200]
    assert khe[5] == pytest.approx(0.01)
    assert khe[6] is None  # a provisional ranking gives no prizes: nobody is counted a winner before publication
    assert by_name["Xã Thới Lai (thử)"][5] is None  # no registered population, no rate


def test_answers_overflow_to_more_sheets_with_a_small_cap(results):
    book, stats = write(export_target(round_id=results.round.pk), max_rows=5)
    parts = [n for n in book.sheetnames if n.startswith("Bài làm")]
    assert parts == ["Bài làm", "Bài làm (2)", "Bài làm (3)"]
    counts = [len(sheet_rows(book, n)) - 1 for n in parts]
    assert counts == [4, 4, 4]
    assert sum(counts) == results.answers == stats.sheets["Bài làm"]
    assert book.sheetnames == ["Thông tin", "Xếp hạng", *parts, "Thống kê câu hỏi", "Thống kê đề thi", "Đơn vị",
                               "Cảnh báo"]


def test_contest_workbook_covers_every_round(org_a):
    data = results_round(org_a, people=2)
    from tests.contests.factories import RoundFactory

    second = RoundFactory(contest=data.round.contest, name="Tuần cuối", position=2,
                          opens_at=data.round.opens_at, closes_at=data.round.closes_at)
    make_attempt(round=second, registration=data.registrations[0], questions=data.questions,
                 correct=[True, True, True], started_at=second.opens_at, seconds=50)
    from leaderboards.services.ranking import ranking_compute

    second.closed_at = second.closes_at
    second.prediction_target_value = 0
    second.save()
    ranking_compute(round=data.round)
    ranking_compute(round=second)
    book, stats = write(export_target(contest_id=data.round.contest.pk))
    assert book.sheetnames[:3] == ["Thông tin", "Xếp hạng", "Xếp hạng toàn cuộc thi"]
    ranking = values(sheet_rows(book, "Xếp hạng"))[1:]
    assert [row[0] for row in ranking] == [data.round.name, data.round.name, "Tuần cuối"]
    assert stats.sheets["Bài làm"] == data.answers + 3
    overall = values(sheet_rows(book, "Xếp hạng toàn cuộc thi"))
    assert overall[0][:4] == ["Hạng", "Họ và tên", "Đơn vị", "Tổng điểm"]
    # Person 0 scored 3 in both rounds (6 in total), person 1 scored 2 in the first round only.
    assert [(r[0], r[1], r[3], r[5]) for r in overall[1:]] == [(1, "Trần Thị 0", 6, 2), (2, FORMULA_NAME, 2, 1)]


def test_progress_is_reported(results, settings):
    settings.EXPORTS_PROGRESS_EVERY = 5
    seen = []
    write(export_target(round_id=results.round.pk), progress=seen.append)
    assert seen == [5, 10, 15, 16]


def test_unanswered_and_pending_values_are_blank(results):
    attempt = results.attempts[0]
    answer = attempt.answers.first()
    answer.is_correct = None
    answer.points_awarded = None
    answer.save()
    book, _ = write(export_target(round_id=results.round.pk))
    header = [c.header for c in ANSWER_COLUMNS]
    row = next(r for r in sheet_rows(book, "Bài làm")[1:] if r[1].value == attempt.pk and r[3].value == 1)
    assert row[header.index("Đúng")].value is None
    assert row[header.index("Điểm")].value is None
    assert Decimal(1) == 1


def test_the_stored_official_ranking_is_exported_when_there_is_one(results):
    """The stored ranking is exported; its prizes only once it is published — before, the prize cells are
    empty and every row says the ranking is not published (a winner was counted before the official ranking)."""
    from leaderboards.models import RankingStatus
    from leaderboards.services.ranking import ranking_compute

    ranking = ranking_compute(round=results.round, prize_places=2)
    header = [c.header for c in ranking_columns(full_personal_data=True)]
    prize, state = header.index("Đoạt giải (khi kết quả đã công bố)"), header.index("Trạng thái kết quả")
    book, stats = write(export_target(round_id=results.round.pk))
    rows = values(sheet_rows(book, "Xếp hạng"))[1:]
    assert len(rows) == ranking.entry_count == stats.sheets["Xếp hạng"]
    assert [r[prize] for r in rows] == [None] * len(rows)
    assert {r[state] for r in rows} == {"Chưa công bố (phiên bản 1: Bản nháp)"}
    assert {u[6] for u in values(sheet_rows(book, "Đơn vị"))[1:]} == {None}
    ranking.status = RankingStatus.PUBLISHED
    ranking.save(update_fields=["status"])
    book, stats = write(export_target(round_id=results.round.pk))
    rows = values(sheet_rows(book, "Xếp hạng"))[1:]
    stored = list(ranking.entries.order_by("position").values_list("rank", "attempt_id", "is_winner"))
    assert [(r[header.index("Hạng")], r[header.index("Mã lượt thi")], r[prize]) for r in rows] == stored
    assert sum(1 for r in rows if r[prize]) == 2
    assert {r[state] for r in rows} == {"Chính thức (đã công bố)"}
    assert {r[header.index("Đáp án câu hỏi dự đoán (dùng để tính chênh lệch)")] for r in rows} == {2}
    units = values(sheet_rows(book, "Đơn vị"))[1:]
    assert sum(u[6] for u in units) == 2  # winners per unit come from the published ranking
    vietnam = dt.timezone(dt.timedelta(hours=7))
    first = ranking.entries.order_by("position").first()
    assert rows[0][header.index("Nộp bài lúc (giờ Việt Nam)")] == first.submitted_at.astimezone(vietnam).replace(
        tzinfo=None)


def test_the_prediction_gap_is_filled_during_the_round(results):
    """Before the close no target is stored: the gap is computed against the target as it stands (people or
    attempts with every answer right so far) and the rows say the ranking is provisional."""
    from contests.selectors import round_prediction_target

    round = results.round
    round.closed_at, round.prediction_target_value = None, None
    round.save(update_fields=["closed_at", "prediction_target_value"])
    target = round_prediction_target(round=round)
    book, _ = write(export_target(round_id=round.pk))
    header = [c.header for c in ranking_columns(full_personal_data=True)]
    rows = values(sheet_rows(book, "Xếp hạng"))[1:]
    gap, used = header.index("Chênh lệch dự đoán"), header.index("Đáp án câu hỏi dự đoán (dùng để tính chênh lệch)")
    assert all(r[gap] == abs(r[header.index("Dự đoán")] - target) for r in rows)
    assert {r[used] for r in rows} == {target}
    assert {r[header.index("Trạng thái kết quả")] for r in rows} == {"Tạm tính (chưa xếp hạng chính thức)"}


def test_answer_letters_as_the_contestant_saw_them_and_in_the_bank(results):
    """Options are shuffled per attempt: the answer is written with the letters the contestant saw, and the
    bank's letters beside it, both labelled, for the answer and for the key."""
    from contests.models import Answer

    attempt = results.attempts[0]
    aq = attempt.questions.get(position=1)
    aq.snapshot = {**aq.snapshot, "options": list(reversed(aq.snapshot["options"]))}  # D C B A on screen
    aq.save(update_fields=["snapshot"])
    answer = Answer.objects.get(attempt=attempt, attempt_question=aq)
    book, _ = write(export_target(round_id=results.round.pk))
    header = [c.header for c in ANSWER_COLUMNS]
    row = next(r for r in values(sheet_rows(book, "Bài làm"))[1:] if r[1] == attempt.pk and r[3] == 1)
    cell = {name: row[header.index(name)] for name in header}
    chosen = answer.response["options"][0]
    bank = list(aq.question.options.order_by("position", "id").values_list("id", flat=True))
    seen = [o["id"] for o in aq.snapshot["options"]]
    correct = [o.pk for o in aq.question.options.all() if o.fraction > 0]
    letters = "ABCD"
    assert cell["Câu trả lời (chữ cái thí sinh thấy)"].startswith(f"{letters[seen.index(chosen)]}. ")
    assert cell["Câu trả lời (chữ cái trong ngân hàng)"] == letters[bank.index(chosen)]
    assert cell["Đáp án đúng (chữ cái thí sinh thấy)"] == letters[seen.index(correct[0])]
    assert cell["Đáp án đúng (chữ cái trong ngân hàng)"] == letters[bank.index(correct[0])]
    assert cell["Câu trả lời (chữ cái thí sinh thấy)"][0] != cell["Câu trả lời (chữ cái trong ngân hàng)"]


@pytest.mark.django_db(transaction=True)
def test_prefetching_batches_outside_a_transaction(org_a):
    """Outside a transaction the next keyset batch is fetched by a helper thread: same rows, same order."""
    from exports import selectors

    data = results_round(org_a, people=5)
    target = export_target(round_id=data.round.pk)
    from django.db import connection

    assert not connection.in_atomic_block
    rows = list(selectors.answer_rows(target=target, batch=4))
    assert len(rows) == data.answers
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)  # answers of each attempt were created in order
    _book, stats = write(target)
    assert stats.sheets["Bài làm"] == data.answers


@pytest.mark.django_db(transaction=True)
def test_prefetch_errors_reach_the_caller():
    from exports.selectors import keyset_batches

    def query(last):
        if last >= 2:
            raise RuntimeError("mất kết nối")
        return [(last + 1,)]

    got = []

    def consume():
        for batch in keyset_batches(query, lambda b: b[-1][0], 0):
            got.extend(batch)

    with pytest.raises(RuntimeError, match="mất kết nối"):
        consume()
    assert got == [(1,), (2,)]


@pytest.mark.django_db(transaction=True)
def test_item_statistics_from_a_second_process_match_the_inline_ones(org_a, caplog):
    """Outside a transaction the statistics come from a spawned process (same database, same rows)."""
    from exports import selectors
    from exports.parallel import item_statistics_in_background

    data = results_round(org_a, people=4)
    target = export_target(round_id=data.round.pk)
    pending = item_statistics_in_background(round_id=data.round.pk, contest_id=None)
    assert pending is not None
    assert pending() == selectors.statistics_rows(target=target)
    _book, stats = write(target)
    assert stats.sheets["Thống kê câu hỏi"] == 3
    assert "computing in line" not in caplog.text


def test_numbers_are_numeric_cells_with_a_number_format(results):
    """Scores and durations are numbers with a format (a Vietnamese reader's Excel shows "47,787" s and "9,5"),
    never text such as "47.787" that reads as forty-seven thousand; every duration header names its unit."""
    book, _ = write(export_target(round_id=results.round.pk))
    expected = {"Điểm": "0.0##", "Thời gian làm bài (giây)": "0.000", "Hạng": "0", "Mã lượt thi": "0",
                "Dự đoán": "#,##0", "Số giây từ khi hiện câu hỏi": "0.000", "Số lần được rút": "#,##0",
                "Số người dự thi": "#,##0", "Tỉ lệ tham gia": "0.0%", "Độ dễ (%)": "0.0"}
    seen: dict[str, set] = {}
    numeric_cells = 0
    for name in ("Xếp hạng", "Bài làm", "Thống kê câu hỏi", "Đơn vị"):
        rows = sheet_rows(book, name)
        headers = [c.value for c in rows[0]]
        assert all("thời gian" not in h.lower() or "(giây)" in h or "giờ Việt Nam" in h for h in headers), headers
        for row in rows[1:]:
            for header, cell in zip(headers, row, strict=False):
                if cell.value is None or isinstance(cell.value, bool | dt.datetime | str):
                    if header in expected and cell.value is not None:
                        pytest.fail(f"{name} / {header}: {cell.value!r} is not a number")
                    continue
                numeric_cells += 1
                assert cell.data_type == "n"
                assert cell.number_format != "General", (name, header)
                seen.setdefault(header, set()).add(cell.number_format)
    assert numeric_cells > 50
    assert {header: formats for header, formats in seen.items() if header in expected} == {
        header: {fmt} for header, fmt in expected.items() if header in seen}
    assert set(expected) <= set(seen)


def test_test_statistics_sheet_shows_the_mean_the_sd_and_cronbachs_alpha(results):
    from contests.statistics import round_test_statistics
    from exports.workbook import TEST_COLUMNS

    book, stats = write(export_target(round_id=results.round.pk))
    rows = values(sheet_rows(book, "Thống kê đề thi"))
    assert rows[0] == [c.header for c in TEST_COLUMNS]
    expected = round_test_statistics(round_id=results.round.pk)
    assert expected.attempts == len(results.attempts) and expected.cronbach_alpha is not None  # noqa: PT018
    name, attempts, slots, mean, sd, alpha = rows[1]
    assert (name, attempts, slots) == (results.round.name, expected.attempts, expected.slots)
    assert mean == pytest.approx(expected.mean, abs=1e-9)
    assert sd == pytest.approx(expected.sd, abs=1e-9)
    assert alpha == pytest.approx(expected.cronbach_alpha, abs=1e-9)
    assert stats.sheets["Thống kê đề thi"] == 1


def test_options_are_labelled_by_their_credit():
    from decimal import Decimal
    from types import SimpleNamespace

    from exports.selectors import option_label, options_text

    assert option_label(Decimal("1.00000")) == "đúng"
    assert option_label(Decimal("0.5")) == "đúng một phần, 50 %"  # never "(đúng)" for half the credit
    assert option_label(Decimal("0.33333")) == "đúng một phần, 33,33 %"
    assert option_label(Decimal("-0.25")) == "trừ điểm, -25 %"
    assert option_label(Decimal("0")) == ""
    options = [SimpleNamespace(fraction=Decimal(f), count=c) for f, c in [("0.5", 3), ("0.5", 2), ("0", 1)]]
    assert options_text(options) == "A (đúng một phần, 50 %): 3 · B (đúng một phần, 50 %): 2 · C: 1"

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from questionbank.importers import xlsx
from questionbank.importers.base import ImportFileError
from questionbank.importers.detect import detect_format, parse_file
from questionbank.models import Question, QuestionStatus, Tag, Topic
from questionbank.services.imports import questions_import
from tests.questionbank.xlsx_helpers import VALID_ROWS, VI_HEADERS, workbook_bytes


def _row(**over):
    base = dict(zip(VI_HEADERS, VALID_ROWS[0], strict=True))
    base.update(over)
    return [base[h] for h in VI_HEADERS]


# --- Parsing (pure) ------------------------------------------------------------------------------------
def test_valid_file_parses_every_type_with_vietnamese_headers():
    result = xlsx.parse(workbook_bytes(VALID_ROWS))
    assert result.errors == []
    single, multiple, truefalse = result.questions
    assert (single.type, single.row, single.difficulty, single.points) == ("single", 2, "easy", Decimal(1))
    assert [o.fraction for o in single.options] == [1, 0, 0, 0]
    assert single.topic_path == ["Giao thông đường bộ", "Quy tắc chung"]
    assert single.tags == ["giao thông", "mũ bảo hiểm"]
    assert (single.citation_document, single.citation_article, single.citation_clause) == ("36/2024/QH15", "33", "2")
    assert multiple.type == "multiple"
    assert sum(o.fraction for o in multiple.options) == 1
    assert [o.fraction > 0 for o in multiple.options] == [True, True, False, True]
    assert [(o.text, o.fraction) for o in truefalse.options] == [("Đúng", 1), ("Sai", 0)]


def test_english_headers_and_explicit_fractions_numeric_short():
    headers = ["type", "stem", "option a", "fraction a", "option b", "fraction b", "answer", "tolerance", "level"]
    rows = [["numeric", "Độ tuổi tối thiểu để kết hôn của nam là bao nhiêu?", "20", "100%", "18", "0", "", "0",
             "medium"],
            ["short", "Luật số 36/2024/QH15 có tên là gì?", "Luật Trật tự, an toàn giao thông đường bộ", "1", "",
             "", "", "", "hard"]]
    result = xlsx.parse(workbook_bytes(rows, headers=headers))
    assert result.errors == []
    numeric, short = result.questions
    assert [(o.text, o.fraction, o.tolerance) for o in numeric.options] == [("20", 1, 0), ("18", 0, 0)]
    assert short.options[0].fraction == 1
    assert short.difficulty == "hard"


def test_every_row_error_is_reported_with_its_row_number():
    rows = [
        VALID_ROWS[0],                                                  # row 2 fine
        _row(**{"Đáp án đúng": ""}),                                    # row 3 no correct answer
        _row(**{"Loại câu hỏi": "trắc nghiệm kép"}),                    # row 4 unknown type
        _row(**{"Đáp án đúng": "F"}),                                   # row 5 answer not among options
        _row(**{"Phương án B": None}),                                  # row 6 gap in options
        _row(**{"Độ khó": "siêu khó"}),                                 # row 7 bad difficulty
        _row(**{"Loại câu hỏi": "Một lựa chọn", "Đáp án đúng": "A,B"}),  # row 8 two answers for single
        _row(**{"Nội dung câu hỏi": None}),                             # row 9 no stem
    ]
    result = xlsx.parse(workbook_bytes(rows))
    by_row = {}
    for e in result.errors:
        by_row.setdefault(e.row, []).append(e.message)
    assert set(by_row) == {3, 4, 5, 6, 7, 8, 9}
    assert "Thiếu đáp án đúng" in by_row[3][0]
    assert "trắc nghiệm kép" in by_row[4][0]
    assert "F" in by_row[5][0]
    assert "Thiếu phương án B" in by_row[6][0]
    assert "siêu khó" in by_row[7][0]
    assert "một đáp án đúng" in by_row[8][0]
    assert "Thiếu nội dung" in by_row[9][0]


@pytest.mark.django_db
def test_all_or_nothing_and_service_level_errors_keep_rows(org_a):
    rows = [VALID_ROWS[0], _row(**{"Nội dung câu hỏi": "x" * 10_001}), VALID_ROWS[1]]
    report = questions_import(organisation=org_a, result=xlsx.parse(workbook_bytes(rows)))
    assert report.imported == 0
    assert [e["row"] for e in report.errors] == [3]
    assert "quá dài" in report.errors[0]["message"]
    assert Question.objects.count() == 0
    assert Topic.objects.count() == 0


@pytest.mark.django_db
def test_valid_import_saves_in_review_with_nested_topics_and_tags(org_a):
    report = questions_import(organisation=org_a, result=xlsx.parse(workbook_bytes(VALID_ROWS)))
    assert report.errors == []
    assert report.imported == 3
    assert set(Question.objects.values_list("status", flat=True)) == {QuestionStatus.IN_REVIEW}
    q = Question.objects.get(citation_document="36/2024/QH15")
    assert q.topic.path == "Giao thông đường bộ / Quy tắc chung"
    assert q.topic.parent.parent is None
    assert set(q.tags.values_list("name", flat=True)) == {"giao thông", "mũ bảo hiểm"}
    assert q.family_id == q.pk
    assert Tag.objects.count() == 2


@pytest.mark.django_db
def test_existing_topics_only_reports_unknown_topic(org_a):
    report = questions_import(organisation=org_a, result=xlsx.parse(workbook_bytes(VALID_ROWS[:1])),
                              create_topics=False)
    assert report.imported == 0
    assert report.errors[0]["row"] == 2
    assert "chưa có" in report.errors[0]["message"]


# --- Hostile files -------------------------------------------------------------------------------------------
def test_not_a_zip():
    with pytest.raises(ImportFileError, match="không đúng định dạng nén zip"):
        xlsx.parse(b"Loai,Cau hoi\nsingle,abc\n")


def test_legacy_xls_or_encrypted():
    with pytest.raises(ImportFileError, match=r"\.xls"):
        xlsx.parse(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)


def test_corrupt_zip():
    with pytest.raises(ImportFileError, match="hỏng"):
        xlsx.parse(b"PK\x03\x04garbage" + b"\x00" * 50)


def test_zip_bomb_is_refused_before_inflating():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\x00" * (5 * 1024 * 1024))
    with pytest.raises(ImportFileError, match="bom zip"):
        xlsx.parse(out.getvalue())


def test_declared_uncompressed_total_is_capped(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_UNCOMPRESSED_BYTES", 10_000)
    with pytest.raises(ImportFileError, match="giải nén quá lớn"):
        xlsx.parse(workbook_bytes(VALID_ROWS))


def test_docx_given_as_xlsx():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(ImportFileError, match="Word"):
        xlsx.parse(out.getvalue())


def test_formula_cells_are_refused_with_their_address():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(VI_HEADERS)
    ws.append(VALID_ROWS[0])
    ws["B2"] = '=HYPERLINK("https://evil.example","Bấm vào")'
    out = io.BytesIO()
    wb.save(out)
    result = xlsx.parse(out.getvalue())
    assert any(e.row == 2 and "B2" in e.message and "công thức" in e.message for e in result.errors)


def test_too_many_rows(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 5)
    with pytest.raises(ImportFileError, match="quá nhiều dòng"):
        xlsx.parse(workbook_bytes(VALID_ROWS * 2))


def test_far_away_last_row_is_capped(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_SHEET_ROWS", 50)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(VI_HEADERS)
    ws.cell(row=5000, column=2, value="xa")
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(ImportFileError, match="quá nhiều dòng"):
        xlsx.parse(out.getvalue())


def test_no_header_row():
    with pytest.raises(ImportFileError, match="tiêu đề"):
        xlsx.parse(workbook_bytes([["a", "b"]] * 12, headers=["x", "y"]))


@pytest.mark.parametrize("garbled", [
    "Người điều khiển".encode().decode("cp1252", errors="replace"),   # UTF-8 read as Windows-1252
    "Ng\xadêi ®iÒu khiÓn xe",                                           # TCVN3 (ABC) font text
])
def test_wrong_encoding_is_an_error(garbled):
    result = xlsx.parse(workbook_bytes([_row(**{"Nội dung câu hỏi": garbled})]))
    assert result.errors
    assert result.errors[0].row == 2
    assert "bảng mã" in result.errors[0].message


def test_correct_vietnamese_is_not_flagged_as_misencoded():
    samples = ["NGÃ BA, NGÃ TƯ", "Ủy ban nhân dân xã Ông Đốc", "Điều 5 khoản 2: “tảng đá” – đúng", "Ấp Ào Ạt ẵm"]
    assert not any(xlsx.looks_misencoded(s) for s in samples)


def test_unknown_columns_warn():
    result = xlsx.parse(workbook_bytes([VALID_ROWS[0] + ["x"]], headers=[*VI_HEADERS, "Ghi chú riêng"]))
    assert result.errors == []
    assert any("Ghi chú riêng" in w.message for w in result.warnings)


def test_detect_and_dispatch(tmp_path):
    data = workbook_bytes(VALID_ROWS)
    assert detect_format(data, None) == "xlsx"
    path = tmp_path / "cau-hoi.xlsx"
    path.write_bytes(data)
    assert len(parse_file(str(path), "auto").questions) == 3
    with pytest.raises(ImportFileError, match="Không nhận ra"):
        parse_file(b"\x00\x01\x02 random bytes", "auto")
    with pytest.raises(ImportFileError):
        parse_file(b"x", "pdf")


def test_upload_size_limit(settings):
    settings.QUESTION_IMPORT_MAX_BYTES = 100
    with pytest.raises(ImportFileError, match="quá lớn"):
        parse_file(workbook_bytes(VALID_ROWS), "xlsx")


def test_essay_row_and_detection_of_the_other_formats():
    rows = [["Tự luận", "Trình bày ý nghĩa của việc đăng ký kết hôn.", None, None, None, None, None, "", "52/2014/QH13",
             "9", "", "Hôn nhân và gia đình", "Khó", 10, ""]]
    essay = xlsx.parse(workbook_bytes(rows)).questions[0]
    assert (essay.type, essay.options, essay.points) == ("essay", [], Decimal(10))
    aiken = "Tuổi kết hôn của nữ là?\nA. Đủ 18 tuổi\nB. Đủ 16 tuổi\nANSWER: A\n".encode()
    gift = "::HN1:: Nữ từ đủ bao nhiêu tuổi được kết hôn? {=18 tuổi ~16 tuổi}\n".encode()
    moodle = b'<?xml version="1.0" encoding="UTF-8"?><quiz></quiz>'
    assert detect_format(aiken, "de.txt") == "aiken"
    assert detect_format(gift, "de.txt") == "gift"
    assert detect_format(moodle, None) == "moodle-xml"
    assert parse_file(aiken, "auto").questions[0].options[0].fraction == 1
    assert parse_file(gift, "auto").questions[0].type == "single"


def _with_doctype(member: str, doctype: str, encoding: str = "utf-8") -> bytes:
    src = zipfile.ZipFile(io.BytesIO(workbook_bytes(VALID_ROWS)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == member:
                text = data.decode()
                head, _, rest = text.partition("?>")
                data = (head + "?>" + doctype + rest).encode(encoding)
            z.writestr(info.filename, data)
    return out.getvalue()


@pytest.mark.parametrize(("member", "doctype", "encoding"), [
    ("xl/worksheets/sheet1.xml", '<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>', "utf-8"),
    ("xl/workbook.xml", '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "utf-8"),
    ("xl/worksheets/sheet1.xml", '<!DOCTYPE x [<!ENTITY xxe SYSTEM "https://evil.example/x">]>', "utf-16-le"),
])
def test_xml_entities_and_dtds_are_refused(member, doctype, encoding):
    with pytest.raises(ImportFileError, match="DTD"):
        xlsx.parse(_with_doctype(member, doctype, encoding))


def test_unsupported_types_are_listed_not_errors():
    rows = [VALID_ROWS[0], _row(**{"Loại câu hỏi": "Ghép đôi", "Nội dung câu hỏi": "Nối văn bản với số hiệu"}),
            _row(**{"Loại câu hỏi": "cloze"})]
    result = xlsx.parse(workbook_bytes(rows))
    assert result.errors == []
    assert len(result.questions) == 1
    assert [(u.type, u.item.startswith("Dòng 3")) for u in result.unsupported] == [("Ghép đôi", True),
                                                                                  ("cloze", False)]
    assert "ghép đôi" in result.unsupported[0].reason

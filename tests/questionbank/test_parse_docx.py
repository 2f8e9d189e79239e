"""Word (.docx) parser: the Azota/Shub/McMIX conventions (marks, answer keys, sections, explanations, images),
every error kind with its paragraph number, and hostile packages (not a zip, zip bombs, DTDs, too many
paragraphs). Documents are built here with python-docx rather than committed as binaries."""

from __future__ import annotations

import base64
import io
import struct
import zipfile
import zlib
from decimal import Decimal

import docx
import pytest
from docx.enum.text import WD_UNDERLINE
from docx.shared import RGBColor
from hypothesis import given
from hypothesis import strategies as st

from questionbank.importers import docx as docx_parser
from questionbank.importers.base import ImportFileError

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def png(red: int) -> bytes:
    """A valid 1×1 PNG of a given red level (distinct pictures for distinct parts)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = zlib.compress(bytes([0, red, 0, 0]))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


# -- building documents ------------------------------------------------------------------------------------

def para(document, *parts):
    """Add a paragraph from parts: plain strings, (text, {"bold": True, ...}) tuples, or "<img>"."""
    paragraph = document.add_paragraph()
    for part in parts:
        if part == "<img>":
            paragraph.add_run().add_picture(io.BytesIO(PNG))
            continue
        if part == "<img2>":
            paragraph.add_run().add_picture(io.BytesIO(png(200)))
            continue
        text, fmt = (part, {}) if isinstance(part, str) else part
        run = paragraph.add_run(text)
        run.bold = fmt.get("bold")
        run.italic = fmt.get("italic")
        run.underline = fmt.get("underline")
        if fmt.get("color"):
            run.font.color.rgb = fmt["color"]
    return paragraph


B = {"bold": True}
I = {"italic": True}  # noqa: E741 - reads like the Word toolbar button
U = {"underline": True}


def save(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def lines(*items) -> bytes:
    """A document of one paragraph per item (strings or part tuples)."""
    document = docx.Document()
    for item in items:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], dict):
            para(document, item)  # one formatted part: ("B. Hai", B)
        elif isinstance(item, tuple):
            para(document, *item)
        else:
            para(document, item)
    return save(document)


def correct(q) -> list[str]:
    return [o.text for o in q.options if o.fraction > 0]


# -- a realistic paper ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def paper() -> bytes:
    d = docx.Document()
    para(d, ("SỞ TƯ PHÁP THÀNH PHỐ CẦN THƠ", B))
    para(d, "ĐỀ THI TÌM HIỂU PHÁP LUẬT NĂM 2026")
    para(d, "Thời gian làm bài: 30 phút")
    para(d, ("PHẦN I. LUẬT GIAO THÔNG ĐƯỜNG BỘ", B))
    # 1: bold letter
    para(d, ("Câu 1:", B), " Người điều khiển xe mô tô hai bánh phải đội mũ bảo hiểm khi nào?")
    para(d, "A. Chỉ khi đi trên quốc lộ")
    para(d, ("B.", B), " Khi tham gia giao thông đường bộ")
    para(d, "C. Chỉ vào ban đêm")
    para(d, "D. Không bắt buộc")
    para(d, ("Lời giải:", B), " Theo Điều 30 Luật Giao thông đường bộ 2008.")
    # 2: whole text underlined, options on one line with spaces, stem with a picture
    para(d, ("Câu 2.", B), " Biển báo trong hình có ý nghĩa gì? ", "<img>")
    para(d, "A. Cấm đi ngược chiều    ", ("B. Cấm dừng và đỗ xe", U), "    C. Đường ưu tiên    D. Hết hạn chế")
    # 3: italic letter, tab-separated options
    para(d, ("Câu 3", B), " Nồng độ cồn cho phép khi lái xe ô tô là bao nhiêu?")
    para(d, "A. 0,25 mg/l\t", ("B.", I), " Bằng 0\tC. 0,5 mg/l\tD. 0,4 mg/l")
    para(d, "Hướng dẫn giải: Luật Phòng, chống tác hại của rượu, bia 2019 nghiêm cấm.")
    para(d, "Nghị định 100/2019/NĐ-CP quy định mức phạt.")
    para(d, ("PHẦN II. LUẬT HÔN NHÂN VÀ GIA ĐÌNH", B))
    # 4: two marked options → multiple; options in a table
    para(d, "Câu 4 (0,5 điểm): Những trường hợp nào bị cấm kết hôn?")
    table = d.add_table(rows=2, cols=2)
    cells = [table.cell(0, 0), table.cell(0, 1), table.cell(1, 0), table.cell(1, 1)]
    for cell, (letter, text, fmt) in zip(cells, [("A.", "Kết hôn giả tạo", B), ("B.", "Đủ tuổi, tự nguyện", {}),
                                                 ("C.", "Tảo hôn", B), ("D.", "Có đăng ký", {})], strict=True):
        p = cell.paragraphs[0]
        r = p.add_run(letter)
        r.bold = fmt.get("bold")
        p.add_run(" " + text)
    # 5: answer only in the key at the end; red colour is not used here
    para(d, "Câu 5: Nam từ đủ bao nhiêu tuổi thì được kết hôn?")
    para(d, "A. 18 tuổi")
    para(d, "B. 20 tuổi")
    para(d, "C. 21 tuổi")
    para(d, "D. 22 tuổi")
    para(d, "Hướng dẫn chi tiết: Điểm a khoản 1 Điều 8 Luật Hôn nhân và gia đình 2014.")
    # 6: essay (no options)
    para(d, "Câu 6: Trình bày các quyền và nghĩa vụ của vợ chồng.")
    para(d, ("----------- HẾT -----------", B))
    para(d, ("ĐÁP ÁN", B))
    key = d.add_table(rows=2, cols=6)
    for col, (n, letter) in enumerate([("Câu", "Đáp án"), ("1", "B"), ("2", "B"), ("3", "b"), ("4", "A, C"),
                                       ("5", "B")]):
        key.cell(0, col).text = n
        key.cell(1, col).text = letter
    return save(d)


@pytest.fixture(scope="module")
def result(paper):
    return docx_parser.parse(paper)


class TestPaper:
    def test_no_errors_and_types(self, result):
        assert result.errors == []
        assert [q.type for q in result.questions] == ["single", "single", "single", "multiple", "single", "essay"]

    def test_answers_from_marks_and_key(self, result):
        assert [correct(q) for q in result.questions[:5]] == [
            ["Khi tham gia giao thông đường bộ"], ["Cấm dừng và đỗ xe"], ["Bằng 0"],
            ["Kết hôn giả tạo", "Tảo hôn"], ["20 tuổi"]]
        assert [o.fraction for o in result.questions[3].options] == [Decimal("0.5"), 0, Decimal("0.5"), 0]

    def test_stems_options_and_explanations(self, result):
        q1, q2, q3 = result.questions[:3]
        assert q1.stem == "Người điều khiển xe mô tô hai bánh phải đội mũ bảo hiểm khi nào?"
        assert [o.text for o in q1.options] == [
            "Chỉ khi đi trên quốc lộ", "Khi tham gia giao thông đường bộ", "Chỉ vào ban đêm", "Không bắt buộc"]
        assert q1.explanation == "Theo Điều 30 Luật Giao thông đường bộ 2008."
        assert [o.text for o in q2.options] == [
            "Cấm đi ngược chiều", "Cấm dừng và đỗ xe", "Đường ưu tiên", "Hết hạn chế"]
        assert [o.text for o in q3.options] == ["0,25 mg/l", "Bằng 0", "0,5 mg/l", "0,4 mg/l"]
        assert q3.explanation == ("Luật Phòng, chống tác hại của rượu, bia 2019 nghiêm cấm.<br>"
                                  "Nghị định 100/2019/NĐ-CP quy định mức phạt.")
        assert result.questions[4].explanation == "Điểm a khoản 1 Điều 8 Luật Hôn nhân và gia đình 2014."

    def test_sections_become_topics(self, result):
        assert [q.topic_path for q in result.questions] == [["LUẬT GIAO THÔNG ĐƯỜNG BỘ"]] * 3 + [
            ["LUẬT HÔN NHÂN VÀ GIA ĐÌNH"]] * 3

    def test_points_from_heading(self, result):
        assert [q.points for q in result.questions] == [1, 1, 1, Decimal("0.5"), 1, 1]

    def test_picture_becomes_media(self, result):
        media = result.questions[1].media
        assert len(media) == 1
        assert (media[0].content, media[0].content_type) == (PNG, "image/png")
        assert media[0].filename.endswith(".png")
        assert all(not q.media for i, q in enumerate(result.questions) if i != 1)

    def test_paragraph_numbers(self, result):
        # header 1-4; Câu 1 at 5; Câu 2 at 11; Câu 3 at 13; section 17; Câu 4 at 18
        assert [q.line for q in result.questions[:4]] == [5, 11, 13, 18]

    def test_essay_is_a_warning(self, result):
        assert [(w.line, w.message) for w in result.warnings] == [
            (result.questions[5].line, "Câu 6: không có phương án nên được nhập như câu tự luận.")]


# -- answer-key conventions ---------------------------------------------------------------------------------

def three_questions(*tail) -> bytes:
    items = []
    for n in (1, 2, 3):
        items += [f"Câu {n}: Câu hỏi số {n} về Luật Căn cước?", "A. Một", "B. Hai", "C. Ba", "D. Bốn"]
    return lines(*items, *tail)


@pytest.mark.parametrize("key", [
    ["1-A 2-B 3-C"],
    ["1.A  2.B  3.C"],
    ["1a, 2b, 3c"],
    ["1A", "2B", "3C"],
    ["Câu 1: A", "Câu 2: B", "Câu 3: C"],
    ["1. A", "2. B", "3. C"],
    ["BẢNG ĐÁP ÁN", "1-A | 2-B | 3-C"],
])
def test_answer_key_lines(key):
    result = docx_parser.parse(three_questions(*key))
    assert result.errors == []
    assert [correct(q) for q in result.questions] == [["Một"], ["Hai"], ["Ba"]]


def test_answer_key_after_het_without_heading():
    result = docx_parser.parse(three_questions("HẾT", "1-A 2-B", "3-C"))
    assert [correct(q) for q in result.questions] == [["Một"], ["Hai"], ["Ba"]]


def _with_key_table(rows: list[list[str]]) -> bytes:
    d = docx.Document()
    for n in (1, 2, 3):
        for text in (f"Câu {n}: Câu hỏi số {n}?", "A. Một", "B. Hai", "C. Ba", "D. Bốn"):
            para(d, text)
    table = d.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    return save(d)


@pytest.mark.parametrize("rows", [
    [["1", "2", "3"], ["A", "B", "C"]],                          # numbers above letters
    [["Câu", "Đáp án"], ["1", "A"], ["2", "B"], ["3", "C"]],     # one row per question
    [["1", "A", "2", "B", "3", "C"]],                            # pairs side by side
    [["1-A", "2-B", "3-C"]],                                     # key entries in cells
    [["Câu 1: A", "Câu 2: B"], ["Câu 3: C", ""]],
])
def test_answer_key_tables(rows):
    result = docx_parser.parse(_with_key_table(rows))
    assert result.errors == []
    assert [correct(q) for q in result.questions] == [["Một"], ["Hai"], ["Ba"]]


@pytest.mark.parametrize(("fmt", "where"), [
    (B, "letter"), (U, "letter"), (I, "letter"), ({"color": RGBColor(0xFF, 0, 0)}, "letter"),
    (B, "text"), (U, "text"), (I, "text"), ({"underline": WD_UNDERLINE.DOUBLE}, "text"),
])
def test_marking_conventions(fmt, where):
    marked = ("C.", fmt) if where == "letter" else ("C. Ba", fmt)
    tail = " Ba" if where == "letter" else ""
    parts = (marked, tail) if tail else (marked,)
    result = docx_parser.parse(lines("Câu 1: Câu hỏi?", "A. Một", "B. Hai", parts, "D. Bốn"))
    assert result.errors == []
    assert correct(result.questions[0]) == ["Ba"]


def test_bold_inside_the_text_is_not_a_mark():
    result = docx_parser.parse(lines("Câu 1: Câu hỏi?", "A. Một", ("B. ", "Hai ", ("rưỡi", B)), "C. Ba",
                                     "Đáp án: C"))
    assert correct(result.questions[0]) == ["Ba"]


def test_character_style_counts_as_a_mark():
    d = docx.Document()
    para(d, "Câu 1: Câu hỏi?")
    para(d, "A. Một")
    p = d.add_paragraph()
    p.add_run("B. Hai", style="Strong")
    para(d, "C. Ba")
    result = docx_parser.parse(save(d))
    assert correct(result.questions[0]) == ["Hai"]


def test_uniform_formatting_is_not_a_key():
    result = docx_parser.parse(lines("Câu 1: Câu hỏi?", (("A. Một", B),), (("B. Hai", B),), "1-B"))
    assert result.errors == []
    assert correct(result.questions[0]) == ["Hai"]


def test_inline_answer_and_choose_in_explanation():
    result = docx_parser.parse(lines(
        "Câu 1: Câu một?", "A. Một", "B. Hai", "Đáp án: B",
        "Câu 2: Câu hai?", "A. Một", "B. Hai", "Lời giải", "A. sai vì thiếu căn cứ.", "Vậy chọn A.",
    ))
    assert result.errors == []
    assert [correct(q) for q in result.questions] == [["Hai"], ["Một"]]
    # "A. sai vì…" inside the explanation is not an option
    assert len(result.questions[1].options) == 2
    assert result.questions[1].explanation == "A. sai vì thiếu căn cứ.<br>Vậy chọn A."


def test_options_on_the_stem_line():
    result = docx_parser.parse(lines(("Câu 1: Thủ đô của Việt Nam? A. Huế  ", ("B. Hà Nội", U), "  C. Đà Nẵng")))
    q = result.questions[0]
    assert q.stem == "Thủ đô của Việt Nam?"
    assert correct(q) == ["Hà Nội"]


def test_stem_ending_with_a_person_letter_is_not_split():
    result = docx_parser.parse(lines("Câu 1: Tài sản này thuộc về ông A.", "A. Đúng", ("B. Sai", B)))
    assert result.questions[0].stem == "Tài sản này thuộc về ông A."
    assert correct(result.questions[0]) == ["Sai"]


def test_bare_number_questions_and_roman_sections():
    result = docx_parser.parse(lines(
        "I. Luật Đất đai", "1. Đất đai thuộc sở hữu của ai?", "A. Cá nhân", ("B. Toàn dân", B),
        "II. Luật Căn cước", "2. Thẻ căn cước có mã QR không?", ("A. Có", B), "B. Không",
    ))
    assert [q.topic_path for q in result.questions] == [["Luật Đất đai"], ["Luật Căn cước"]]
    assert [correct(q) for q in result.questions] == [["Toàn dân"], ["Có"]]


def test_roman_under_part_nests():
    result = docx_parser.parse(lines("Phần I: Pháp luật dân sự", "I. Hợp đồng", "Câu 1: Hỏi?", ("A. x", B), "B. y"))
    assert result.questions[0].topic_path == ["Pháp luật dân sự", "Hợp đồng"]


def test_numbered_lines_inside_a_question_when_the_paper_uses_cau():
    result = docx_parser.parse(lines("Câu 1: Những hành vi sau:", "1. Đua xe", "2. Lạng lách", "Hành vi nào bị cấm?",
                                     ("A. Cả 1 và 2", B), "B. Không hành vi nào"))
    assert len(result.questions) == 1
    assert result.questions[0].stem == "Những hành vi sau:<br>1. Đua xe<br>2. Lạng lách<br>Hành vi nào bị cấm?"


def test_image_only_option_and_picture_in_explanation():
    result = docx_parser.parse(lines("Câu 1: Biển nào là biển cấm?", ("A. ", "<img>"), (("B.", B), " Biển khác"),
                                     "Lời giải", ("Xem hình ", "<img2>"), ("Lại hình ", "<img>")))
    q = result.questions[0]
    assert q.options[0].text == "(hình ảnh)"
    assert correct(q) == ["Biển khác"]
    # the explanation's picture is kept too; the same picture twice is stored once
    assert [m.content for m in q.media] == [PNG, png(200)]


# -- errors -------------------------------------------------------------------------------------------------

def test_every_error_with_question_number_and_paragraph():
    result = docx_parser.parse(lines(
        "Câu 1: Không có đáp án đúng?", "A. Một", "B. Hai",                     # 1-3
        "Câu 2: Chữ cái trùng?", ("A. Một", B), "A. Hai",                       # 4-6
        "Câu 3: Đánh dấu khác bảng đáp án?", ("A. Một", B), "B. Hai",           # 7-9
        "Câu 4: Đáp án ngoài phương án?", "A. Một", "B. Hai", "Đáp án: E",      # 10-13
        "Câu 5: Chỉ một phương án?", ("A. Một", B),                             # 14-15
        "Câu 6: Có đáp án mà không có phương án", "Đáp án: A",                  # 16-17
        "Câu 7: Hợp lệ?", "A. Một", ("B. Hai", B),                              # 18-20
        "HẾT", "3-B", "9-A", "7-B", "7-A",                                       # 21-25
    ))
    got = [(p.line, p.message) for p in result.errors]
    assert got == [
        (25, "Bảng đáp án ghi câu 7 hai lần với đáp án khác nhau (B và A)."),
        (1, "Câu 1: không có phương án đúng (chưa in đậm/gạch chân/in nghiêng đáp án đúng và không có trong "
                "bảng đáp án)."),
        (6, "Câu 2: chữ cái phương án 'A' bị trùng."),
        (7, "Câu 3: đáp án được đánh dấu trong đề (A) khác đáp án ghi riêng (B)."),
        (10, "Câu 4: đáp án E không có trong các phương án của câu."),
        (14, "Câu 5: câu hỏi trắc nghiệm cần ít nhất 2 phương án."),
        (16, "Câu 6: có đáp án (A) nhưng không có phương án A, B, C…."),
    ]
    assert [q.stem for q in result.questions] == ["Hợp lệ?"]
    assert [(w.line, w.message) for w in result.warnings] == [
        (23, "Bảng đáp án có câu 9 nhưng đề không có câu này.")]


def test_inline_answer_conflicting_with_table():
    result = docx_parser.parse(lines("Câu 1: Hỏi?", "A. Một", "B. Hai", "Đáp án: A", "HẾT", "1-B"))
    assert "khác bảng đáp án" in result.errors[0].message


def test_repeated_question_numbers_make_the_key_ambiguous():
    result = docx_parser.parse(lines("Câu 1: Một?", "A. x", "B. y", "Câu 1: Hai?", "A. x", "B. y", "ĐÁP ÁN", "1-A"))
    assert len(result.errors) == 2
    assert all("nhiều câu cùng số 1" in p.message for p in result.errors)


def test_too_long_texts():
    result = docx_parser.parse(lines("Câu 1: " + "Đ" * 10_001, "A. " + "x" * 2_001, ("B. y", B)))
    messages = [p.message for p in result.errors]
    assert messages == ["Câu 1: nội dung câu hỏi quá dài (10001 ký tự; tối đa 10000).",
                        "Câu 1: phương án A quá dài (2001 ký tự; tối đa 2000)."]
    assert [p.line for p in result.errors] == [1, 1]


def test_empty_stem():
    result = docx_parser.parse(lines("Câu 1:", "A. x", ("B. y", B)))
    assert [p.message for p in result.errors] == ["Câu 1: nội dung câu hỏi trống."]


def test_image_too_large(monkeypatch):
    monkeypatch.setattr(docx_parser, "MAX_MEDIA_BYTES", 10)
    result = docx_parser.parse(lines(("Câu 1: Hình? ", "<img>"), "A. x", ("B. y", B)))
    assert "quá lớn" in result.errors[0].message


def test_linked_picture_is_not_fetched():
    data = lines(("Câu 1: Hình? ", "<img>"), "A. x", ("B. y", B))
    # turn the embedded picture into an external link
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename == "word/document.xml":
                content = content.replace(b'r:embed="', b'r:link="')
            dst.writestr(item, content)
    result = docx_parser.parse(out.getvalue())
    assert result.questions[0].media == []
    assert "liên kết ra ngoài" in result.warnings[0].message


# -- hostile packages --------------------------------------------------------------------------------------

def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_not_a_zip():
    with pytest.raises(ImportFileError, match=r"không phải tệp Word \.docx hợp lệ"):
        docx_parser.parse(b"Cau 1: day la van ban thuong")


def test_old_doc_format():
    with pytest.raises(ImportFileError, match=r"\.doc"):
        docx_parser.parse(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)


def test_zip_bomb_total_size():
    data = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<a/>",
                 "word/media/bomb.bin": b"\0" * (51 * 1024 * 1024)})
    assert len(data) < 1024 * 1024
    with pytest.raises(ImportFileError, match="zip bomb"):
        docx_parser.parse(data)


def test_zip_bomb_ratio():
    data = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<a/>",
                 "word/media/x.bin": b"\0" * (2 * 1024 * 1024)})
    with pytest.raises(ImportFileError, match="tỉ lệ nén"):
        docx_parser.parse(data)


def test_too_many_entries():
    data = _zip({f"word/media/{i}.png": b"x" for i in range(1001)})
    with pytest.raises(ImportFileError, match="quá nhiều thành phần"):
        docx_parser.parse(data)


def test_zip_that_is_not_word():
    with pytest.raises(ImportFileError, match=r"word/document\.xml"):
        docx_parser.parse(_zip({"xl/workbook.xml": b"<workbook/>"}))


def test_xlsx_package_is_refused():
    import openpyxl

    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    with pytest.raises(ImportFileError):
        docx_parser.parse(out.getvalue())


def _rewrite_document_xml(data: bytes, change) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item)
            dst.writestr(item, change(content) if item.filename == "word/document.xml" else content)
    return out.getvalue()


def test_entity_expansion_in_document_xml():
    def add_entities(xml: bytes) -> bytes:
        head, _, rest = xml.partition(b"?>")
        return (head + b'?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                + rest.replace(b"A. x", b"&b;"))

    data = _rewrite_document_xml(lines("Câu 1: Hỏi?", "A. x", ("B. y", B)), add_entities)
    with pytest.raises(ImportFileError, match="DTD"):
        docx_parser.parse(data)


def test_corrupt_document_xml():
    data = _rewrite_document_xml(lines("Câu 1: Hỏi?"), lambda xml: xml[: len(xml) // 2])
    with pytest.raises(ImportFileError, match="Không đọc được tệp Word"):
        docx_parser.parse(data)


def test_too_many_paragraphs(monkeypatch):
    monkeypatch.setattr(docx_parser, "MAX_PARAGRAPHS", 50)
    with pytest.raises(ImportFileError, match="quá nhiều đoạn văn"):
        docx_parser.parse(lines(*["Đoạn"] * 51))
    assert docx_parser.parse(lines(*["Đoạn"] * 50)).questions == []


def test_oversized_file(monkeypatch):
    monkeypatch.setattr(docx_parser, "MAX_DOCX_BYTES", 1000)
    with pytest.raises(ImportFileError, match="quá lớn"):
        docx_parser.parse(lines("Câu 1: Hỏi?"))


def test_lying_central_directory_sizes_are_caught():
    """A document.xml whose central-directory size claims a few bytes but that inflates to far more."""
    real = lines("Câu 1: Hỏi?", "A. x", ("B. y", B))
    padded = _rewrite_document_xml(real, lambda xml: xml.replace(b"<w:body>", b"<w:body>" + b" " * 5_000_000))
    data = bytearray(padded)
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_len = int.from_bytes(data[at + 28:at + 30], "little")
        if bytes(data[at + 46:at + 46 + name_len]) == b"word/document.xml":
            data[at + 24:at + 28] = (1000).to_bytes(4, "little")  # uncompressed size: a lie
        at = data.find(b"PK\x01\x02", at + 4)
    with pytest.raises(ImportFileError):
        docx_parser.parse(bytes(data))


@given(st.binary(max_size=300))
def test_random_bytes_are_a_file_error(data):
    with pytest.raises(ImportFileError):
        docx_parser.parse(data)


def test_deleted_revisions_are_not_read_and_inserted_ones_are():
    def track_changes(xml: bytes) -> bytes:
        deleted = (b'<w:del w:id="1" w:author="x"><w:r><w:delText>C. Ba</w:delText></w:r></w:del>')
        return xml.replace(b"<w:t>B. Hai</w:t></w:r>", b"<w:t>B. Hai</w:t></w:r>" + deleted).replace(
            b"<w:r><w:t>A. M\xe1\xbb\x99t</w:t></w:r>",
            b'<w:ins w:id="2" w:author="x"><w:r><w:t>A. M\xe1\xbb\x99t</w:t></w:r></w:ins>')

    data = _rewrite_document_xml(lines("Câu 1: Hỏi?", "A. Một", "B. Hai", "1-A"), track_changes)
    q = docx_parser.parse(data).questions[0]
    assert [o.text for o in q.options] == ["Một", "Hai"]
    assert correct(q) == ["Một"]


def test_word_auto_numbering_is_warned_about():
    d = docx.Document()
    para(d, "Câu 1: Hỏi?")
    d.add_paragraph("Một", style="List Number")
    d.add_paragraph("Hai", style="List Number")
    result = docx_parser.parse(save(d))
    # a list style alone carries no w:numPr in the paragraph
    assert not [w for w in result.warnings if "đánh số tự động" in w.message]

    def number_paragraphs(xml: bytes) -> bytes:
        return xml.replace(b'<w:pStyle w:val="ListNumber"/>',
                           b'<w:pStyle w:val="ListNumber"/><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>')

    result = docx_parser.parse(_rewrite_document_xml(save(d), number_paragraphs))
    assert [w.line for w in result.warnings if "đánh số tự động" in w.message] == [2]


def test_star_before_the_letter_and_highlight_are_marks():
    from docx.enum.text import WD_COLOR_INDEX

    d = docx.Document()
    for text in ("Câu 1: Sao?", "A. Một", "*B. Hai", "Câu 2: Tô sáng?", "A. Một"):
        para(d, text)
    d.add_paragraph().add_run("B. Hai").font.highlight_color = WD_COLOR_INDEX.YELLOW
    para(d, "Câu 3: Không tô?")
    para(d, "A. Một")
    p = d.add_paragraph()
    p.add_run("B. Hai")
    p.runs[0]._r.get_or_add_rPr().append(
        docx.oxml.parse_xml('<w:highlight xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
                            'w:val="none"/>'))
    para(d, "3-A")
    result = docx_parser.parse(save(d))
    assert result.errors == []
    assert [correct(q) for q in result.questions] == [["Hai"], ["Hai"], ["Một"]]


def test_picture_pointing_at_a_non_image_part_is_skipped():
    import re

    data = lines(("Câu 1: Hình? ", "<img>"), "A. x", ("B. y", B))
    rels = zipfile.ZipFile(io.BytesIO(data)).read("word/_rels/document.xml.rels").decode()
    styles_id = re.search(r'Id="(rId\d+)"[^>]*Target="styles.xml"|Target="styles.xml"[^>]*Id="(rId\d+)"', rels)
    styles_id = (styles_id.group(1) or styles_id.group(2)).encode()
    data = _rewrite_document_xml(data, lambda xml: re.sub(rb'r:embed="rId\d+"', b'r:embed="' + styles_id + b'"', xml))
    result = docx_parser.parse(data)
    assert result.questions[0].media == []
    assert "không phải hình ảnh" in result.warnings[0].message


def test_stem_starting_with_dap_an_is_not_a_key_heading():
    result = docx_parser.parse(lines("Câu 1:", "Đáp án nào sau đây đúng", "A. Một", ("B. Hai", B)))
    assert result.questions[0].stem == "Đáp án nào sau đây đúng"
    assert correct(result.questions[0]) == ["Hai"]


@pytest.mark.parametrize("heading", ["ĐÁP ÁN", "BẢNG ĐÁP ÁN", "Đáp án:", "ĐÁP ÁN VÀ HƯỚNG DẪN GIẢI",
                                     "ĐÁP ÁN MÃ ĐỀ 101", "Bảng đáp án phần I"])
def test_key_headings(heading):
    result = docx_parser.parse(lines("Câu 1: Hỏi?", "A. Một", "B. Hai", heading, "1 B"))
    assert correct(result.questions[0]) == ["Hai"]


def test_questions_after_the_key_are_reported():
    result = docx_parser.parse(lines(
        "Câu 1: Hỏi?", "A. Một", "B. Hai", "HẾT", "ĐÁP ÁN", "1-B", "HƯỚNG DẪN GIẢI CHI TIẾT",
        "Câu 1: Hỏi?", "Lời giải: vì Điều 5.", "Câu 2: Câu thật bị đặt sai chỗ?", "A. x", "B. y"))
    assert len(result.questions) == 1
    assert [(w.line, w.message.split(" đoạn")[0]) for w in result.warnings] == [(8, "Bỏ qua 2")]


def test_word_text_is_escaped_as_html():
    result = docx_parser.parse(lines("Câu 1: Nếu x < 5 & <b>y</b>?", "A. <script>", ("B. a & b", B)))
    q = result.questions[0]
    assert q.stem == "Nếu x &lt; 5 &amp; &lt;b&gt;y&lt;/b&gt;?"
    assert [o.text for o in q.options] == ["&lt;script&gt;", "a &amp; b"]

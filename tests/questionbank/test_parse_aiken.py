"""Aiken parser: sample file, every error kind with its line number, extensions, hostile bytes."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from questionbank.importers import aiken
from questionbank.importers.base import ImportFileError

FIXTURES = Path(__file__).parent / "fixtures"


def parse(text: str):
    return aiken.parse(textwrap.dedent(text).lstrip("\n").encode("utf-8"))


def test_sample_file():
    result = aiken.parse((FIXTURES / "phap_luat_aiken.txt").read_bytes())
    assert result.errors == []
    assert result.unsupported == []
    assert [q.line for q in result.questions] == [1, 8, 13]
    first, second, third = result.questions
    assert first.type == "single"
    assert first.stem.startswith("Theo Luật Căn cước 2023")
    assert [(o.text, o.fraction) for o in first.options] == [
        ("14 tuổi", 1), ("16 tuổi", 0), ("18 tuổi", 0), ("20 tuổi", 0)]
    assert [o.text for o in second.options if o.fraction == 1] == ["Lừa dối khách hàng"]
    # no blank line between questions, and a stem over two lines
    assert third.stem == "Người sử dụng đất có quyền nào sau đây<br>(theo Luật Đất đai 2024)?"


def test_vietnamese_answer_keyword_and_several_answers():
    result = parse("""
        Những hành vi nào bị cấm?
        A. Tảo hôn
        B. Cưỡng ép kết hôn
        C. Đăng ký kết hôn
        ĐÁP ÁN: A, B
    """)
    q = result.questions[0]
    assert q.type == "multiple"
    assert [o.fraction for o in q.options] == [Decimal("0.5"), Decimal("0.5"), 0]


def test_every_error_with_its_line():
    result = parse("""
        Câu thiếu dòng đáp án
        A. Một
        B. Hai

        Câu có chữ cái trùng
        A. Một
        A. Hai
        ANSWER: A

        Đáp án không có trong phương án
        A. Một
        B. Hai
        ANSWER: D

        A. Phương án đứng trước câu hỏi
        Câu không ghi đáp án
        A. Một
        B. Hai
        ANSWER:

        Chỉ một phương án
        A. Một
        ANSWER: A

        Phương án trống
        A. Một
        B.
        ANSWER: A
        ANSWER: B
        Câu hỏi cuối cùng thiếu đáp án
        A. x
        B. y
    """)
    got = [(p.line, p.message) for p in result.errors]
    assert got == [
        (1, "Thiếu dòng 'ANSWER: …' cho câu hỏi này."),
        (7, "Chữ cái phương án 'A' bị trùng (đã có ở dòng 6)."),
        (13, "Đáp án 'D' không có trong các phương án của câu hỏi."),
        (15, "Phương án 'A.' đứng trước nội dung câu hỏi."),
        (19, "Dòng 'ANSWER:' không ghi chữ cái của đáp án đúng."),
        (21, "Câu hỏi trắc nghiệm cần ít nhất 2 phương án."),
        (25, "Phương án B trống."),
        (29, "Dòng 'ANSWER:' không thuộc câu hỏi nào."),
        (30, "Thiếu dòng 'ANSWER: …' cho câu hỏi này."),
    ]
    assert result.questions == []


def test_too_long_texts_are_errors_with_the_question_line():
    long_stem = "Đ" * 10_001
    result = parse(f"""
        Câu ngắn hợp lệ
        A. a
        B. b
        ANSWER: A

        {long_stem}
        A. {"x" * 2_001}
        B. y
        ANSWER: B
    """)
    assert [p.line for p in result.errors] == [6, 6]
    assert "quá dài" in result.errors[0].message
    assert "Phương án A quá dài" in result.errors[1].message
    assert len(result.questions) == 1


def test_invalid_answer_letter():
    result = parse("Câu\nA. x\nB. y\nANSWER: 1\n")
    assert [(p.line, p.message) for p in result.errors] == [
        (4, "Đáp án '1' không hợp lệ (phải là một chữ cái A, B, C…).")]


def test_invalid_encoding_is_a_file_error():
    with pytest.raises(ImportFileError, match="UTF-8"):
        aiken.parse("Câu\nA. Đúng\nB. Sai\nANSWER: A\n".encode("cp1258"))


def test_empty_file_gives_nothing():
    result = aiken.parse(b"\n\n")
    assert (result.questions, result.errors) == ([], [])


@given(st.lists(st.sampled_from(["Câu hỏi?", "A. x", "B) y", "A. x", "ANSWER: A", "ANSWER: B, C", "ĐÁP ÁN: Z", "",
                                 "C.", "Văn bản"]), max_size=25))
def test_any_sequence_of_lines_gives_a_result_never_a_crash(lines):
    text = "\n".join(lines)
    result = aiken.parse(text.encode())
    assert all(1 <= p.line <= len(lines) for p in result.errors)
    for q in result.questions:
        assert sum(o.fraction for o in q.options if o.fraction > 0) == 1


def test_plain_text_is_escaped_as_html():
    q = parse("Nếu x < 5 & y > 3 thì <b>?</b>\nA. <i>một</i>\nB. hai\nANSWER: A\n").questions[0]
    assert q.stem == "Nếu x &lt; 5 &amp; y &gt; 3 thì &lt;b&gt;?&lt;/b&gt;"
    assert q.options[0].text == "&lt;i&gt;một&lt;/i&gt;"


def test_options_without_a_space_after_the_letter_as_moodle_accepts():
    result = parse("""
        Cơ quan nào ban hành Hiến pháp?
        A)Quốc hội
        B.Chính phủ
        C) Tòa án nhân dân tối cao
        D. Viện kiểm sát nhân dân tối cao
        ANSWER: A
        """)
    assert result.errors == []
    [question] = result.questions
    assert [(o.text, o.fraction) for o in question.options] == [
        ("Quốc hội", 1), ("Chính phủ", 0), ("Tòa án nhân dân tối cao", 0), ("Viện kiểm sát nhân dân tối cao", 0)]

"""Moodle XML parser: sample bank, categories, every supported type, unsupported listing, per-question
errors with line numbers, embedded files, and hostile XML (DTD, entities, external references, encodings)."""

from __future__ import annotations

import base64
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from questionbank.importers import moodle_xml
from questionbank.importers.base import ImportFileError

FIXTURES = Path(__file__).parent / "fixtures"
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def quiz(body: str, declaration: str = '<?xml version="1.0" encoding="UTF-8"?>\n') -> bytes:
    return f"{declaration}<quiz>\n{body}\n</quiz>\n".encode()


def mc(name: str, *, text: str = "Nội dung?", answers: str = "", extra: str = "") -> str:
    answers = answers or ('<answer fraction="100"><text>Đúng</text></answer>'
                          '<answer fraction="0"><text>Sai</text></answer>')
    return (f'<question type="multichoice"><name><text>{name}</text></name>'
            f'<questiontext format="html"><text>{text}</text></questiontext>{extra}'
            f'<single>true</single>{answers}</question>')


@pytest.fixture(scope="module")
def sample():
    return moodle_xml.parse((FIXTURES / "phap_luat_moodle.xml").read_bytes())


class TestSample:
    def test_types_and_no_errors(self, sample):
        assert sample.errors == []
        assert [q.type for q in sample.questions] == ["single", "multiple", "truefalse", "numeric", "short", "essay"]

    def test_categories_apply_to_following_questions(self, sample):
        assert [q.topic_path for q in sample.questions] == [
            ["Bảo vệ dữ liệu cá nhân"],
            ["Luật Giao thông đường bộ", "Nồng độ cồn"],
            ["Luật Giao thông đường bộ", "Nồng độ cồn"],
            ["Luật Giao thông đường bộ", "Nồng độ cồn"],
            ["Luật Hôn nhân và gia đình"],
            ["Luật Hôn nhân và gia đình"],
        ]

    def test_multichoice_html_media_feedback_tags_points(self, sample):
        q = sample.questions[0]
        assert q.stem.startswith("<p>Dữ liệu nào sau đây là <b>dữ liệu cá nhân nhạy cảm</b>?")
        assert '@@PLUGINFILE@@/khoa.png' in q.stem  # kept; the import service maps it to the stored media
        assert [(m.filename, m.content_type, m.content) for m in q.media] == [("khoa.png", "image/png", PNG_1PX)]
        assert q.explanation == "<p>Nghị định 13/2023/NĐ-CP, Điều 2.</p>"
        assert q.points == 2
        assert q.tags == ["dữ liệu cá nhân", "Nghị định 13"]
        assert [(o.text, o.fraction, o.feedback) for o in q.options] == [
            ("Tình trạng sức khoẻ", 1, "Chính xác."), ("Họ và tên", 0, "Đây là dữ liệu cơ bản."),
            ("Số điện thoại", 0, "")]
        assert q.line == 8

    def test_multiple_with_negative_fraction(self, sample):
        assert [o.fraction for o in sample.questions[1].options] == [Decimal("0.5"), Decimal("0.5"), Decimal(-1)]

    def test_truefalse_is_normalised_true_first(self, sample):
        q = sample.questions[2]
        assert [(o.text, o.fraction, o.feedback) for o in q.options] == [
            ("Đúng", 0, "Sai: nghiêm cấm tuyệt đối."), ("Sai", 1, "Đúng.")]

    def test_numerical_with_tolerance(self, sample):
        q = sample.questions[3]
        assert [(o.text, o.fraction, o.tolerance) for o in q.options] == [
            ("40", 1, Decimal(0)), ("45", Decimal("0.5"), Decimal(5))]
        assert q.options[0].feedback == "Thông tư 38/2024/TT-BGTVT."

    def test_short_and_essay(self, sample):
        short, essay = sample.questions[4], sample.questions[5]
        assert [(o.text, o.fraction) for o in short.options] == [("UBND", 1)]
        assert (essay.options, essay.points, essay.explanation) == ([], 5, "Điều 33–35 Luật HN&GĐ 2014.")

    def test_unsupported_types_are_listed_with_reasons(self, sample):
        assert [(u.item, u.type) for u in sample.unsupported] == [
            ("CL1", "cloze"), ("MA1", "matching"), ("DD1", "ddwtos"), ("CA1", "calculated"), ("MO1", "description")]
        assert all(u.reason for u in sample.unsupported)
        assert "ghép đôi" in sample.unsupported[1].reason


def test_categories_in_any_order_and_questions_before_any_category():
    result = moodle_xml.parse(quiz("\n".join([
        mc("Q0"),
        '<question type="category"><category><text>$course$/top/B/C</text></category></question>',
        mc("Q1"),
        '<question type="category"><category><text>$course$/top/A</text></category></question>',
        mc("Q2"),
        '<question type="category"><category><text>$system$/top/B</text></category></question>',
        mc("Q3"),
        '<question type="category"><category><text>$course$/top/Luật 52//2014//QH13/Điều 8</text></category>'
        '</question>',
        mc("Q4"),
    ])))
    assert [q.topic_path for q in result.questions] == [[], ["B", "C"], ["A"], ["B"], ["Luật 52/2014/QH13", "Điều 8"]]


def test_unknown_type_is_unsupported_not_an_error():
    result = moodle_xml.parse(quiz('<question type="ordering"><name><text>Sắp xếp</text></name></question>'
                                   '<question type="foo"><name><text>Lạ</text></name></question>'))
    assert result.errors == []
    assert [(u.item, u.type) for u in result.unsupported] == [("Sắp xếp", "ordering"), ("Lạ", "foo")]
    assert "'foo'" in result.unsupported[1].reason


def test_every_problem_with_its_line():
    body = "\n".join([
        mc("Không đúng", answers='<answer fraction="0"><text>a</text></answer><answer fraction="0"><text>b</text>'
                                 '</answer>'),                                   # line 3
        mc("Phân số sai", answers='<answer fraction="abc"><text>a</text></answer>'
                                  '<answer fraction="100"><text>b</text></answer>'),  # line 4
        mc("Phân số lớn", answers='<answer fraction="150"><text>a</text></answer>'
                                  '<answer fraction="0"><text>b</text></answer>'),  # line 5
        mc("Trống", text=""),                                                      # line 6
        mc("Dài", text="x" * 10_001),                                              # line 7
        mc("Phương án dài", answers=f'<answer fraction="100"><text>{"y" * 2_001}</text></answer>'
                                    '<answer fraction="0"><text>b</text></answer>'),  # line 8
        mc("Ảnh hỏng", extra='<generalfeedback><file name="x.png" encoding="base64">@@@!!</file>'
                            '</generalfeedback>'),                                # line 9
        '<question type="truefalse"><name><text>ĐS</text></name><questiontext><text>x</text></questiontext>'
        '<answer fraction="100"><text>có</text></answer></question>',                # line 10
        '<question type="numerical"><name><text>Số</text></name><questiontext><text>x</text></questiontext>'
        '<answer fraction="100"><text>mười</text><tolerance>abc</tolerance></answer></question>',  # line 11
        mc("Điểm", extra="<defaultgrade>một</defaultgrade>"),                   # line 12
        '<question type="multichoice"><name><text>Nhiều</text></name><questiontext><text>x</text></questiontext>'
        '<single>false</single><answer fraction="50"><text>a</text></answer>'
        '<answer fraction="0"><text>b</text></answer></question>',                   # line 13
        mc("Hợp lệ"),                                                                # line 14
    ])
    result = moodle_xml.parse(quiz(body))
    got = [(p.line, p.message) for p in result.errors]
    assert [line for line, _ in got] == [3, 4, 5, 6, 7, 8, 9, 10, 10, 11, 12, 13]
    expected_parts = [
        "«Không đúng»: không có phương án đúng",
        "«Phân số sai»: tỉ lệ điểm fraction=\"abc\" không hợp lệ",
        "«Phân số lớn»: tỉ lệ điểm fraction=\"150\"",
        "«Trống»: nội dung câu hỏi trống",
        "«Dài»: nội dung câu hỏi quá dài (10001 ký tự",
        "«Phương án dài»: phương án A quá dài (2001 ký tự",
        "«Ảnh hỏng»: tệp đính kèm 'x.png' không phải dữ liệu base64",
        "«ĐS»: đáp án của câu Đúng/Sai phải là 'true' hoặc 'false'",
        "«ĐS»: câu Đúng/Sai phải có cả đáp án",
        "«Số»: sai số 'abc' không phải là số",
        "«Điểm»: điểm mặc định 'một' không phải là số",
        "«Nhiều»: tổng tỉ lệ điểm",
    ]
    for (_, message), part in zip(got, expected_parts, strict=True):
        assert part in message
    assert [q.stem for q in result.questions] == ["Nội dung?"]


def test_numeric_answer_that_is_not_a_number():
    result = moodle_xml.parse(quiz(
        '<question type="numerical"><name><text>Số</text></name><questiontext><text>x</text></questiontext>'
        '<answer fraction="100"><text>mười</text><tolerance>0</tolerance></answer></question>'))
    assert "đáp án số A không phải là số" in result.errors[0].message


def test_media_size_limit_is_5_mb():
    big = base64.b64encode(b"\0" * (5 * 1024 * 1024 + 1)).decode()
    ok = base64.b64encode(b"\0" * (5 * 1024 * 1024)).decode()
    result = moodle_xml.parse(quiz(
        mc("To", extra=f'<generalfeedback><file name="to.png" encoding="base64">{big}</file></generalfeedback>')
        + mc("Vừa",
             extra=f'<generalfeedback><file name="a/b/vua.mp3" encoding="base64">{ok}</file></generalfeedback>')))
    assert len(result.errors) == 1
    assert "quá lớn" in result.errors[0].message
    assert [(m.filename, m.content_type, len(m.content)) for m in result.questions[0].media] == [
        ("vua.mp3", "audio/mpeg", 5 * 1024 * 1024)]


def test_media_in_answers_and_feedback_are_collected_with_safe_names():
    result = moodle_xml.parse(quiz(mc("Ảnh", answers=(
        '<answer fraction="100"><text>a</text><file name="../../etc/passwd.png" encoding="base64">'
        f'{base64.b64encode(PNG_1PX).decode()}</file></answer><answer fraction="0"><text>b</text></answer>'))))
    assert [m.filename for m in result.questions[0].media] == ["passwd.png"]


def test_bom_and_single_quoted_declaration_are_fine():
    data = b"\xef\xbb\xbf" + quiz(mc("Q"), declaration="<?xml version='1.0' encoding='utf-8'?>\n")
    assert len(moodle_xml.parse(data).questions) == 1


def test_no_declaration_is_fine():
    assert len(moodle_xml.parse(quiz(mc("Q"), declaration="")).questions) == 1


class TestHostile:
    def test_billion_laughs(self):
        data = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<quiz><question type="essay"><questiontext><text>&lol3;</text></questiontext></question></quiz>"""
        with pytest.raises(ImportFileError, match=r"DTD|thực thể"):
            moodle_xml.parse(data)

    def test_external_entity(self):
        data = b"""<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<quiz><question type="essay"><questiontext><text>&xxe;</text></questiontext></question></quiz>"""
        with pytest.raises(ImportFileError, match="an toàn"):
            moodle_xml.parse(data)

    def test_plain_dtd(self):
        data = b'<?xml version="1.0"?><!DOCTYPE quiz SYSTEM "http://example.invalid/quiz.dtd"><quiz/>'
        with pytest.raises(ImportFileError, match="DTD"):
            moodle_xml.parse(data)

    def test_invalid_utf8(self):
        data = quiz(mc("Q")).replace("Nội".encode(), "N\xf4i".encode("latin-1"))
        with pytest.raises(ImportFileError, match="UTF-8") as info:
            moodle_xml.parse(data)
        assert "dòng 3" in info.value.message

    def test_declared_other_encoding(self):
        data = quiz(mc("Q"), declaration='<?xml version="1.0" encoding="ISO-8859-1"?>\n')
        with pytest.raises(ImportFileError, match="ISO-8859-1"):
            moodle_xml.parse(data)

    def test_utf16(self):
        data = quiz(mc("Q"), declaration='<?xml version="1.0" encoding="UTF-16"?>\n').decode().encode("utf-16")
        with pytest.raises(ImportFileError, match="UTF-16"):
            moodle_xml.parse(data)

    def test_malformed_xml_reports_line(self):
        with pytest.raises(ImportFileError, match="dòng 3"):
            moodle_xml.parse(b"<quiz>\n<question type='essay'>\n</quiz>")

    def test_wrong_root(self):
        with pytest.raises(ImportFileError, match="<quiz>"):
            moodle_xml.parse(b"<html><body/></html>")

    def test_oversized_file(self):
        with pytest.raises(ImportFileError, match="quá lớn"):
            moodle_xml.parse(b"<quiz>" + b" " * (20 * 1024 * 1024) + b"</quiz>")

    def test_html_is_kept_but_nothing_is_resolved(self):
        text = "<![CDATA[<script>alert(1)</script><img src='http://example.invalid/x.png'>]]>"
        result = moodle_xml.parse(quiz(mc("Q", text=text)))
        # kept verbatim for the import service to sanitise; nothing fetched, nothing executed
        assert result.questions[0].stem == "<script>alert(1)</script><img src='http://example.invalid/x.png'>"
        assert result.questions[0].media == []


@given(st.binary(max_size=200))
def test_random_bytes_give_a_file_error_or_a_result(data):
    try:
        outcome = moodle_xml.parse(data)
    except ImportFileError as exc:
        outcome = exc.message
    assert outcome


@given(st.lists(st.sampled_from([
    mc("Q"), '<question type="category"><category><text>$course$/top/A</text></category></question>',
    '<question type="truefalse"><answer fraction="x"><text>true</text></answer></question>',
    '<question type="numerical"><answer><text>1</text><tolerance>-1</tolerance></answer></question>',
    '<question type="shortanswer"/>', '<question/>', '<other/>', '<question type="essay"><defaultgrade>-2'
    '</defaultgrade></question>']), max_size=8))
def test_any_mix_of_elements_gives_a_result(parts):
    result = moodle_xml.parse(quiz("\n".join(parts)))
    assert all(p.line is not None for p in result.errors)

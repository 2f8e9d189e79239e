"""Moodle XML exporter: parse(export(x)) == x for every supported type, by example and by property; the
DB helper ``question_to_parsed``."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from questionbank.exporters import question_to_parsed
from questionbank.exporters.moodle_xml import export
from questionbank.importers import moodle_xml
from questionbank.importers._common import guess_content_type, split_evenly, truefalse_options
from questionbank.importers.base import ParsedMedia, ParsedOption, ParsedQuestion

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def round_trip(questions: list[ParsedQuestion]) -> list[ParsedQuestion]:
    result = moodle_xml.parse(export(questions))
    assert result.errors == []
    assert result.unsupported == []
    for q in result.questions:
        q.line = None
    return result.questions


def examples() -> list[ParsedQuestion]:
    return [
        ParsedQuestion(
            type="single",
            stem='<p>Theo <b>Luật Giao thông đường bộ</b>, người đủ bao nhiêu tuổi được lái xe mô tô? '
                 '<img src="@@PLUGINFILE@@/bien-bao.png"></p>',
            options=[ParsedOption("18 tuổi", Decimal(1), "Đúng: Điều 60."),
                     ParsedOption("16 tuổi", Decimal(0), "Chưa đủ tuổi."),
                     ParsedOption("14 tuổi", Decimal("-0.5"), "")],
            explanation="<p>Khoản 1 Điều 60 Luật số 23/2008/QH12.</p>",
            citation_document="23/2008/QH12", citation_article="60", citation_clause="1",
            topic_path=["Luật Giao thông đường bộ", "Độ tuổi"],
            tags=["giao thông", "mô tô"],
            difficulty="easy",
            points=Decimal("2.5"),
            media=[ParsedMedia("bien-bao.png", PNG, "image/png")],
        ),
        ParsedQuestion(
            type="multiple",
            stem="Những hành vi nào bị cấm theo Luật Hôn nhân và gia đình 2014?",
            options=[ParsedOption(text, fraction) for text, fraction in
                     zip(["Tảo hôn", "Cưỡng ép kết hôn", "Kết hôn giả tạo", "Đăng ký kết hôn"],
                         [*split_evenly(3), Decimal(-1)], strict=True)],
            topic_path=["Luật Hôn nhân và gia đình"],
            difficulty="hard",
        ),
        ParsedQuestion(type="truefalse", stem="Công dân từ đủ 14 tuổi phải làm thẻ căn cước.",
                       options=truefalse_options(correct=True, true_feedback="Đúng.", false_feedback="Sai rồi."),
                       topic_path=["Luật Căn cước"]),
        ParsedQuestion(type="numeric", stem="Tốc độ tối đa của xe gắn máy (km/h)?",
                       options=[ParsedOption("40", Decimal(1), "Chính xác", Decimal(0)),
                                ParsedOption("42.5", Decimal("0.5"), "", Decimal("2.5"))],
                       topic_path=[]),
        ParsedQuestion(type="short", stem="Viết tắt của Ủy ban nhân dân?",
                       options=[ParsedOption("UBND", Decimal(1)), ParsedOption("U.B.N.D", Decimal("0.8"))],
                       topic_path=["Luật 52/2014/QH13", "Chương 1"]),
        ParsedQuestion(type="essay", stem="Trình bày quyền của người tiêu dùng & nghĩa vụ của thương nhân <x>.",
                       explanation="Luật Bảo vệ quyền lợi người tiêu dùng 2023.", points=Decimal(10),
                       topic_path=["Luật 52/2014/QH13", "Chương 1"],
                       media=[ParsedMedia("ghi-am.mp3", b"ID3\x00binary", "audio/mpeg")]),
    ]


def test_round_trip_examples():
    questions = examples()
    assert round_trip(questions) == questions


def test_output_is_moodle_shaped():
    xml = export(examples()).decode()
    assert xml.startswith("<?xml version='1.0' encoding='utf-8'?>")
    assert '<question type="category">' in xml
    assert "$course$/top/Luật 52//2014//QH13/Chương 1" in xml
    assert '<answer fraction="-50" format="html">' in xml
    assert "<single>false</single>" in xml
    assert '<file name="bien-bao.png" path="/" encoding="base64">' in xml
    # the empty topic path after a non-empty one is written as a reset to the top category
    assert xml.count('<question type="category">') == 5
    assert "<text>$course$/top</text>" in xml


def test_category_written_only_when_the_path_changes():
    qs = [ParsedQuestion(type="essay", stem=f"Câu {i}", topic_path=["A"]) for i in range(3)]
    assert export(qs).decode().count('type="category"') == 1


def test_unknown_type_is_refused():
    with pytest.raises(ValueError, match="matching"):
        export([ParsedQuestion(type="matching", stem="x")])


def test_control_characters_are_dropped_not_written():
    q = ParsedQuestion(type="essay", stem="Điều\x0b 5\x00")
    assert round_trip([q])[0].stem == "Điều 5"


# -- property: any canonical question survives the round trip ---------------------------------------------

_CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Cn"))
_TEXT = st.text(_CHARS, min_size=1, max_size=30).map(str.strip).filter(bool)
_OPT_TEXT = st.text(_CHARS, max_size=20).map(str.strip)
_NAME = _TEXT.filter(lambda s: not s.startswith("/") and not s.endswith("/"))
_FRACTION = st.sampled_from([Decimal(0), Decimal("-1"), Decimal("-0.5"), Decimal("0.33333"), Decimal("0.1")])
_NUMBER = st.decimals(min_value=-10**6, max_value=10**6, places=3, allow_nan=False, allow_infinity=False)


@st.composite
def questions(draw):
    qtype = draw(st.sampled_from(["single", "multiple", "truefalse", "numeric", "short", "essay"]))
    texts = draw(st.lists(_TEXT, min_size=2, max_size=5, unique=True))
    feedback = st.one_of(st.just(""), _OPT_TEXT)
    if qtype == "single":
        options = [ParsedOption(texts[0], Decimal(1), draw(feedback))]
        options += [ParsedOption(t, draw(_FRACTION), draw(feedback)) for t in texts[1:]]
    elif qtype == "multiple":
        correct = draw(st.integers(min_value=2, max_value=len(texts))) if len(texts) > 2 else 2
        shares = split_evenly(correct)
        options = [ParsedOption(t, shares[i] if i < correct else draw(st.sampled_from([Decimal(0), Decimal(-1)])),
                                draw(feedback)) for i, t in enumerate(texts)]
    elif qtype == "truefalse":
        options = truefalse_options(correct=draw(st.booleans()), true_feedback=draw(feedback),
                                    false_feedback=draw(feedback))
    elif qtype == "numeric":
        options = [ParsedOption(str(draw(_NUMBER)), Decimal(1) if i == 0 else draw(_FRACTION), draw(feedback),
                                draw(st.decimals(min_value=0, max_value=100, places=2)))
                   for i in range(len(texts))]
    elif qtype == "short":
        options = [ParsedOption(t, Decimal(1) if i == 0 else draw(_FRACTION), draw(feedback))
                   for i, t in enumerate(texts)]
    else:
        options = []
    media = [ParsedMedia(name, content, guess_content_type(name)) for name, content in draw(st.lists(
        st.tuples(st.from_regex(r"[a-z0-9_-]{1,12}\.(png|jpg|mp3|gif)", fullmatch=True), st.binary(max_size=64)),
        max_size=2))]
    return ParsedQuestion(
        type=qtype,
        stem=draw(_TEXT),
        options=options,
        explanation=draw(_OPT_TEXT),
        citation_document=draw(st.one_of(st.just(""), st.from_regex(r"\d{1,3}/20\d\d/QH1\d", fullmatch=True))),
        citation_article=draw(st.one_of(st.just(""), st.integers(1, 300).map(str))),
        citation_clause=draw(st.one_of(st.just(""), st.integers(1, 20).map(str))),
        topic_path=draw(st.lists(_NAME, max_size=3)),
        tags=draw(st.lists(_TEXT, max_size=3, unique=True)),
        difficulty=draw(st.sampled_from(["easy", "medium", "hard"])),
        points=draw(st.decimals(min_value=0, max_value=100, places=2)),
        media=media,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(questions(), min_size=1, max_size=4))
def test_round_trip_property(qs):
    assert round_trip(qs) == qs


# -- DB helper --------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_question_to_parsed_reads_a_saved_question(org_a, settings, tmp_path):
    from questionbank.models import Question, QuestionMedia, QuestionOption, Tag, Topic

    settings.MEDIA_ROOT = str(tmp_path)
    root = Topic.objects.create(name="Luật Đất đai")
    child = Topic.objects.create(name="Quyền của người sử dụng đất", parent=root)
    q = Question.objects.create(organisation=org_a, type="single", stem="<p>Người sử dụng đất có quyền gì?</p>",
                                explanation="Điều 26", citation_document="31/2024/QH15", citation_article="26",
                                topic=child, difficulty="hard", default_points=Decimal("1.50"))
    QuestionOption.objects.create(question=q, position=1, text="Lấn chiếm đất", fraction=Decimal(0))
    QuestionOption.objects.create(question=q, position=0, text="Chuyển nhượng", fraction=Decimal(1),
                                  feedback="Đúng")
    q.tags.set([Tag.objects.create(name="đất đai"), Tag.objects.create(name="chuyển nhượng")])
    media = QuestionMedia(question=q, kind="image", content_type="image/png", size=len(PNG))
    media.file.save("so-do.png", ContentFile(PNG), save=True)

    parsed = question_to_parsed(q)
    assert parsed.topic_path == ["Luật Đất đai", "Quyền của người sử dụng đất"]
    assert [(o.text, o.fraction, o.feedback) for o in parsed.options] == [
        ("Chuyển nhượng", 1, "Đúng"), ("Lấn chiếm đất", 0, "")]
    assert parsed.tags == ["chuyển nhượng", "đất đai"]
    assert (parsed.points, parsed.difficulty, parsed.citation_article) == (Decimal("1.50"), "hard", "26")
    assert [(m.filename.endswith(".png"), m.content, m.content_type) for m in parsed.media] == [
        (True, PNG, "image/png")]
    # and it exports and re-imports unchanged (media filename as stored)
    parsed.media[0].content_type = guess_content_type(parsed.media[0].filename)
    assert round_trip([parsed]) == [parsed]

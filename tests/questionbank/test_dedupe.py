from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from questionbank import dedupe, selectors
from questionbank.importers.base import ParsedQuestion, ParseResult
from questionbank.models import QuestionSimilarityKey, Visibility
from questionbank.services.imports import questions_import
from tests.questionbank.factories import make_question, single_options

STEM = ("Người điều khiển xe mô tô hai bánh, xe gắn máy phải đội mũ bảo hiểm có cài quai đúng quy cách "
        "khi tham gia giao thông đường bộ trong trường hợp nào?")


def test_normalise_and_search_key():
    assert dedupe.normalise("<p>Người  ĐIỀU khiển,   xe!</p>") == "người điều khiển xe"
    assert dedupe.strip_diacritics("Đường bộ, Điều 5") == "Duong bo, Dieu 5"
    assert dedupe.search_key("Người điều khiển xe?") == dedupe.search_key("nguoi dieu khien xe")
    assert dedupe.search_key("Người điều khiển xe") != dedupe.search_key("Người điều khiển tàu")
    # NFD input (as some Word/Mac files produce) matches NFC.
    import unicodedata
    assert dedupe.normalise(unicodedata.normalize("NFD", "Điều khiển")) == "điều khiển"


def test_band_keys_are_stable_and_near_texts_collide():
    a = dedupe.fingerprint(STEM, ["Luôn luôn", "Chỉ ban ngày"])
    b = dedupe.fingerprint(STEM + " Hãy chọn", ["Luôn luôn", "Chỉ ban ngày"])
    assert a.band_keys == dedupe.fingerprint(STEM, ["Luôn luôn", "Chỉ ban ngày"]).band_keys
    assert dedupe.jaccard(a.shingles, b.shingles) >= dedupe.NEAR_THRESHOLD
    assert set(a.band_keys) & set(b.band_keys)
    unrelated = dedupe.fingerprint("Tuổi kết hôn của nam theo Luật Hôn nhân và gia đình là bao nhiêu?", [])
    assert not set(a.band_keys) & set(unrelated.band_keys)


@pytest.mark.django_db
def test_exact_and_near_duplicates_are_found(org_a):
    original = make_question(org_a, stem=STEM)
    opts = [o.text for o in original.options.all()]
    exact = selectors.question_duplicates(organisation=org_a, stem=STEM.upper().replace("Đ", "D"), option_texts=opts)
    assert [(m.question_id, m.exact) for m in exact] == [(original.pk, True)]
    near = selectors.question_duplicates(organisation=org_a, stem=STEM.replace("hai bánh, ", "hai bánh "
                                                                                "và "), option_texts=opts)
    assert near
    assert near[0].question_id == original.pk
    assert near[0].similarity >= dedupe.NEAR_THRESHOLD
    assert selectors.question_duplicates(organisation=org_a, stem="Tuổi kết hôn của nữ là bao nhiêu?",
                                         option_texts=["Đủ 18 tuổi", "Đủ 20 tuổi"]) == []


@pytest.mark.django_db
def test_private_questions_of_other_orgs_are_never_reported(org_a, org_b):
    private = make_question(org_b, stem=STEM, visibility=Visibility.PRIVATE)
    opts = [o.text for o in private.options.all()]
    assert selectors.question_duplicates(organisation=org_a, stem=STEM, option_texts=opts) == []
    assert selectors.question_duplicates(organisation=org_b, stem=STEM, option_texts=opts)


@pytest.mark.django_db
def test_import_warns_on_duplicates_never_merges(org_a):
    existing = make_question(org_a, stem=STEM)
    opts = list(existing.options.all())
    parsed = [ParsedQuestion(type="single", stem=STEM, options=[_copy(o) for o in opts], row=2),
              ParsedQuestion(type="single", stem="Một câu hỏi mới về luật đất đai năm 2024 và quyền sử dụng?",
                             options=single_options(), row=3),
              ParsedQuestion(type="single", stem="Một câu hỏi mới về luật đất đai năm 2024 và quyền sử dụng?",
                             options=single_options(), row=4)]
    parsed[2].options = [_copy_parsed(o) for o in parsed[1].options]
    report = questions_import(organisation=org_a, result=ParseResult(questions=parsed))
    assert report.errors == []
    assert report.imported == 3  # warned, not merged
    rows = {w["row"]: w["message"] for w in report.warnings}
    assert f"#{existing.pk}" in rows[2]
    assert "dòng 3" in rows[4]
    assert 3 not in rows


@pytest.mark.django_db
def test_candidate_lookup_uses_the_index_not_a_scan(org_a):
    """The prefilter cost does not grow with the bank: a constant number of queries for a whole import."""
    for _ in range(30):
        make_question(org_a)
    fps = [(None, dedupe.fingerprint(f"Câu hỏi kiểm tra số {i} về giao thông đường bộ", ["A", "B"]))
           for i in range(200)]
    with CaptureQueriesContext(connection) as ctx:
        selectors.import_duplicates(organisation=org_a, items=fps)
    assert len(ctx.captured_queries) <= 5
    assert QuestionSimilarityKey.objects.count() >= 30 * dedupe.BANDS - 5


def _copy(option):
    from questionbank.importers.base import ParsedOption
    return ParsedOption(text=option.text, fraction=option.fraction)


def _copy_parsed(option):
    from questionbank.importers.base import ParsedOption
    return ParsedOption(text=option.text, fraction=option.fraction)

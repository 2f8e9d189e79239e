"""Issue 25, point 5: a reworded question with the same cited article and the same correct answer as one in the
bank is flagged (across the organisation's and the shared bank, never another's private questions), and one
attempt never draws both."""

from __future__ import annotations

import random

import pytest

from contests.services.attempts.start import draw_questions
from questionbank.importers.base import ParsedOption
from questionbank.models import Visibility
from questionbank.selectors import question_duplicates_of
from tests.contests.factories import ContestFactory, RoundFactory
from tests.questionbank.factories import make_question

pytestmark = pytest.mark.django_db


def options(correct: str, *wrong: str) -> list[ParsedOption]:
    return [ParsedOption(text=correct, fraction=1), *(ParsedOption(text=w, fraction=0) for w in wrong)]


def bank_question(org, **kwargs):
    kwargs.setdefault("stem", "<p>Theo Điều 172 Bộ luật Dân sự 2015, ai là người có quyền chiếm hữu tài sản?</p>")
    kwargs.setdefault("options", options("Chủ sở hữu tài sản", "Người thuê", "Người mượn", "Người giữ hộ"))
    return make_question(org, citation_document="91/2015/QH13", citation_article="172", **kwargs)


def reworded(org, **kwargs):
    return bank_question(org, stem="<p>Người nào có quyền chiếm hữu tài sản theo quy định tại Điều 172?</p>",
                         options=options("Chủ sở hữu tài sản.", "Bên thuê tài sản", "Bên vay", "Ủy ban"), **kwargs)


def test_a_reworded_question_with_the_same_article_and_answer_is_flagged(org_a):
    original = bank_question(org_a)
    twin = reworded(org_a)
    (match,) = question_duplicates_of(twin)
    assert match.question_id == original.pk
    assert match.same_answer
    assert f"cùng căn cứ và cùng đáp án đúng với câu hỏi #{original.pk}" in match.message


def test_a_different_answer_or_article_is_not_a_twin(org_a):
    bank_question(org_a)
    other_answer = bank_question(org_a, stem="<p>Ai không có quyền chiếm hữu theo Điều 172?</p>",
                                 options=options("Người lạ", "Chủ sở hữu tài sản", "Người thuê"))
    other_article = make_question(org_a, stem="<p>Người nào có quyền chiếm hữu tài sản theo Điều 179?</p>",
                                  options=options("Chủ sở hữu tài sản", "Người thuê"),
                                  citation_document="91/2015/QH13", citation_article="179")
    assert question_duplicates_of(other_answer) == []
    assert question_duplicates_of(other_article) == []


def test_twins_across_the_shared_bank_but_never_another_private_one(org_a, org_b):
    shared = bank_question(org_b, visibility=Visibility.SHARED)
    mine = reworded(org_a)
    assert [m.question_id for m in question_duplicates_of(mine)] == [shared.pk]
    shared.visibility = Visibility.PRIVATE
    shared.save(update_fields=["visibility"])
    assert question_duplicates_of(mine) == []


def test_one_attempt_never_draws_both_twins(org_a):
    original = bank_question(org_a)
    twin = reworded(org_a)
    others = [make_question(org_a) for _ in range(3)]
    contest = ContestFactory(organisation=org_a, blueprint=[{"topic_id": None, "difficulty": None, "count": 4,
                                                             "points": None}])
    round = RoundFactory(contest=contest)
    seen_original = seen_twin = False
    for seed in range(40):
        drawn = {d.question_id for d in draw_questions(round=round, settings=round.settings, rng=random.Random(seed))}
        assert len(drawn) == 4
        assert not {original.pk, twin.pk} <= drawn  # before issue 25 most of these draws held both
        assert {q.pk for q in others} <= drawn
        seen_original |= original.pk in drawn
        seen_twin |= twin.pk in drawn
    assert seen_original
    assert seen_twin


def test_a_fixed_question_keeps_its_twin_out_of_the_random_draws(org_a):
    original = bank_question(org_a)
    twin = reworded(org_a)
    others = [make_question(org_a) for _ in range(2)]
    contest = ContestFactory(organisation=org_a, blueprint=[
        {"question_ids": [original.pk], "points": None},
        {"topic_id": None, "difficulty": None, "count": 2, "points": None}])
    round = RoundFactory(contest=contest)
    for seed in range(20):
        drawn = [d.question_id for d in draw_questions(round=round, settings=round.settings, rng=random.Random(seed))]
        assert drawn[0] == original.pk
        assert twin.pk not in drawn
        assert set(drawn[1:]) == {q.pk for q in others}


def test_an_import_warns_of_twins_in_the_bank_and_in_the_file(org_a):
    from questionbank.importers import xlsx
    from questionbank.services.imports import questions_import
    from tests.questionbank.xlsx_helpers import workbook_bytes

    original = bank_question(org_a)
    rows = [
        ["Một lựa chọn", "Ai có quyền chiếm hữu tài sản theo quy định tại Điều 172?", "Chủ sở hữu tài sản",
         "Người mượn", "Người thuê", "Ủy ban", "A", "", "91/2015/QH13", "172", "", "", "Dễ", 1, ""],
        ["Một lựa chọn", "Quyền chiếm hữu thuộc về ai (Điều 172 Bộ luật Dân sự)?", "Người giữ hộ",
         "Chủ sở hữu tài sản", "Bên vay", "Bên cầm cố", "B", "", "91/2015/QH13", "172", "", "", "Dễ", 1, ""],
    ]
    report = questions_import(organisation=org_a, result=xlsx.parse(workbook_bytes(rows)), dry_run=True)
    messages = [(w["row"], w["message"]) for w in report.warnings]
    expected = f"cùng căn cứ và cùng đáp án đúng với câu hỏi #{original.pk}"
    assert any(row == 2 and expected in message for row, message in messages)
    assert any(row == 3 and expected in message for row, message in messages)
    assert (3, "Câu hỏi có cùng căn cứ và cùng đáp án đúng với câu ở dòng 2 trong cùng tệp.") in messages
    assert not report.errors

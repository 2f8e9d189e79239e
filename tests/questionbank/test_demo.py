from __future__ import annotations

import io

import pytest

from questionbank import demo
from questionbank.models import Question, QuestionStatus, Visibility
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_demo_bank_loads_valid_approved_cited_questions_idempotently():
    org = OrganisationFactory(slug=demo.JUSTICE_SLUG, name="Sở Tư pháp (thử)")
    demo.load(io.StringIO())
    questions = Question.objects.filter(organisation=org)
    assert questions.count() == len(demo.QUESTIONS) >= 60
    assert set(questions.values_list("status", flat=True)) == {QuestionStatus.APPROVED}
    assert set(questions.values_list("visibility", flat=True)) == {Visibility.SHARED}
    for q in questions:
        assert q.explanation, q
        assert q.citation_document, q
        assert q.topic_id, q
        assert any(o.fraction == 1 for o in q.options.all()) or q.type == "multiple"
    assert len(set(questions.values_list("topic__parent__name", "topic__name"))) >= 8
    from questionbank.selectors import question_duplicates_of
    assert [q.pk for q in questions if question_duplicates_of(q)] == []  # no near-duplicates in the demo
    demo.load(io.StringIO())  # idempotent
    assert questions.count() == len(demo.QUESTIONS)


def test_demo_without_the_department_does_nothing():
    out = io.StringIO()
    demo.load(out)
    assert Question.objects.count() == 0
    assert "missing" in out.getvalue()

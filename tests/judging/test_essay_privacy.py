"""Essays are personal data of their author (free text can name people): the citizen's download holds every
answer with the essay's full text, and deleting the account erases the essay text while the marks stay."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.services import account_anonymise
from contests.models import Answer
from contests.services.registrations import ERASED_ESSAY_TEXT
from judging.models import EssayAssignment
from tests.judging.conftest import ESSAY, grade_all

pytestmark = pytest.mark.django_db


def download(user) -> dict:
    client = Client()
    client.force_login(user)
    response = client.post(reverse("accounts:my_data_export"))
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_data_download_holds_every_answer_with_the_essay_text(graded_round, results):
    attempt = results.attempts[0]

    data = download(attempt.user)

    (exported,) = [a for a in data["contest_attempts"] if a["number"] == attempt.number]
    answers = {a["position"]: a for a in exported["answers"]}
    assert set(answers) == set(Answer.objects.filter(attempt=attempt).values_list("attempt_question__position",
                                                                                   flat=True))
    essay = next(a for a in answers.values() if a["question_type"] == "essay")
    assert essay["text"] == ESSAY
    assert essay["question"] == "Trình bày quyền con người."
    choice = next(a for a in answers.values() if a["question_type"] == "single")
    assert len(choice["chosen_options"]) == 1
    assert choice["chosen_options"][0]
    # The download says what was answered, never what is right.
    text = json.dumps(exported, ensure_ascii=False)
    for secret in ("is_correct", "fraction", "points_awarded"):
        assert secret not in text


def test_deleting_the_account_erases_the_essay_text_and_keeps_the_marks(graded_round, results, judge_a, judge_a2):
    grade_all(graded_round, [judge_a, judge_a2], [4] * len(graded_round))
    attempt = results.attempts[0]
    others = [a.pk for a in results.attempts[1:]]

    account_anonymise(user=attempt.user, actor=attempt.user, reason="Yêu cầu xoá")

    essay = Answer.objects.get(attempt=attempt, attempt_question__snapshot__type="essay")
    assert essay.response == {"text": ERASED_ESSAY_TEXT}
    assert ESSAY not in json.dumps(list(Answer.objects.filter(attempt=attempt).values_list("response", flat=True)),
                                   ensure_ascii=False)
    assignment = EssayAssignment.objects.get(answer=essay)
    assert assignment.final_mark == 4
    # Other people's essays are untouched; short text answers of the deleted account are kept (rescoring).
    assert all(a.response == {"text": ESSAY}
               for a in Answer.objects.filter(attempt_id__in=others, attempt_question__snapshot__type="essay"))
    assert Answer.objects.filter(attempt=attempt, attempt_question__snapshot__type="short").exclude(
        response={"text": ERASED_ESSAY_TEXT}).exists()

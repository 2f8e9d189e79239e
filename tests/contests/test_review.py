"""Answer keys, explanations and citations are shown only when the rules allow it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse

from contests.selectors import attempt_review
from contests.services.attempts.answers import attempt_answer
from contests.services.attempts.finish import attempt_submit
from contests.services.attempts.start import attempt_start
from contests.services.attempts.state import attempt_state
from tests.contests.test_attempts import correct_option

pytestmark = pytest.mark.django_db


def finish(citizen, round_, now):
    attempt = attempt_start(user=citizen, round=round_, now=now)
    q = attempt.questions.get(position=1)
    attempt_answer(attempt_id=attempt.pk, user_id=citizen.pk, position=1, response={"options": [correct_option(q)]},
                   client_seq=1, now=now)
    return attempt_submit(attempt=attempt, now=now + dt.timedelta(seconds=30)), q


def test_no_review_before_close(citizen, registration, round_, now, client):
    attempt, q = finish(citizen, round_, now)
    assert attempt_review(attempt=attempt, now=now + dt.timedelta(minutes=1)) is None
    client.force_login(citizen)
    page = client.get(reverse("contests:result", kwargs={"attempt_id": attempt.pk})).content.decode()
    assert "đáp án đúng" not in page
    assert q.key["explanation"] not in page


def test_review_after_close_has_key_explanation_and_citation(citizen, registration, round_, now):
    attempt, q = finish(citizen, round_, now)
    review = attempt_review(attempt=attempt, now=round_.closes_at)
    first = review[0]
    assert [o["id"] for o in first["options"] if o["correct"]] == [correct_option(q)]
    assert first["is_correct"] is True
    assert first["explanation"] == "Giải thích theo luật."
    assert first["citation"] == "Điều 8, 52/2014/QH13"


def test_review_right_after_attempt_only_with_one_attempt(citizen, registration, round_, now):
    round_.max_attempts = 1
    round_.reveal_answers_after_attempt = True
    round_.save()
    attempt = attempt_start(user=citizen, round=round_, now=now)
    assert attempt_review(attempt=attempt, now=now) is None  # never while in progress
    attempt = attempt_submit(attempt=attempt, now=now + dt.timedelta(seconds=5))
    assert attempt_review(attempt=attempt, now=now + dt.timedelta(seconds=6)) is not None
    round_.max_attempts = 2
    round_.save()
    attempt.round.refresh_from_db()
    attempt.round.refresh_settings()
    assert attempt_review(attempt=attempt, now=now + dt.timedelta(seconds=6)) is None


def test_nothing_sent_before_close_names_the_correct_option(citizen, registration, round_, now):
    """State snapshots and answer results (everything the socket sends) never carry the key."""
    attempt = attempt_start(user=citizen, round=round_, now=now)
    qs = list(attempt.questions.order_by("position"))
    outputs = [attempt_state(attempt=attempt, now=now)]
    for q in qs:
        outputs.append(attempt_answer(attempt_id=attempt.pk, user_id=citizen.pk, position=q.position,
                                      response={"options": [correct_option(q)]}, client_seq=q.position,
                                      now=now).as_dict())
    done = attempt_submit(attempt=attempt, now=now + dt.timedelta(seconds=10))
    outputs.append(attempt_state(attempt=done, now=now + dt.timedelta(seconds=11)))
    from realtime.events import attempt_submitted_event

    outputs.append(attempt_submitted_event(done))
    # After submit the score and the number of correct answers are shown — not which options were correct.
    text = json.dumps(outputs, cls=DjangoJSONEncoder).replace('"correct_count"', "")
    for word in ("fraction", "correct", "explanation", "citation", "accepted", "feedback", "key"):
        assert word not in text
    for q in qs:  # the ids the client sent are echoed only as its own answers, never marked
        assert json.dumps({"options": [correct_option(q)]}) in text


def test_result_page_shows_review_after_close(citizen, registration, round_, now, client):
    attempt, _ = finish(citizen, round_, now)
    round_.closes_at = now + dt.timedelta(minutes=2)
    round_.save()
    from unittest import mock

    from django.utils import timezone

    client.force_login(citizen)
    with mock.patch.object(timezone, "now", return_value=now + dt.timedelta(minutes=3)):
        page = client.get(reverse("contests:result", kwargs={"attempt_id": attempt.pk})).content.decode()
    assert "đáp án đúng" in page
    assert "Giải thích theo luật." in page
    assert "Điều 8, 52/2014/QH13" in page
    assert "Trả lời đúng" in page

"""The set-based finaliser (contests/services/attempts/finalise_sql.py) gives exactly what the Python reference
(the un-batched computation, ``contests.scoring``) gives: scores, counts of correct answers, every answer's
credit, finish times and durations — on generated attempts (hypothesis), against the real PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contests.models import Answer, Attempt, AttemptQuestion, AttemptStatus, SubmitKind
from contests.services.attempts import finish
from contests.services.attempts.finalise_sql import attempts_finalise_set_based, set_based_ids
from tests.contests.factories import ContestFactory, QuestionFactory, RoundFactory, register

pytestmark = pytest.mark.django_db

FRACTIONS = ["0", "1", "1.0000000", "0.5", "0.3333333", "0.6666667", "0.25", "-0.5", "-1", "0.1000000"]
POINTS = ["1", "0", "2.50", "0.33", "7", "0.01"]

option_lists = st.lists(st.sampled_from(FRACTIONS), min_size=1, max_size=5)


@st.composite
def question_specs(draw):
    qtype = draw(st.sampled_from(["single", "truefalse", "multiple"]))
    fractions = draw(option_lists)
    points = draw(st.sampled_from(POINTS))
    n = len(fractions)
    # The response: unanswered, empty, or option indexes (with repeats, and index n = an id of no option).
    answer = draw(st.one_of(st.none(), st.lists(st.integers(min_value=0, max_value=n), min_size=0, max_size=4)))
    as_text = draw(st.booleans())  # option ids as JSON strings instead of numbers
    return {"qtype": qtype, "fractions": fractions, "points": points, "answer": answer, "as_text": as_text}


attempt_specs = st.fixed_dictionaries({
    "questions": st.lists(question_specs(), min_size=1, max_size=6),
    "partial": st.booleans(),
    "elapsed_ms": st.integers(min_value=0, max_value=3_600_000),
    "past_deadline": st.booleans(),
})


def _build(org, user, contest, question, specs, now):
    registration = register(user, contest)
    attempts = []
    for spec in specs:
        round_ = RoundFactory(contest=contest, partial_credit="fractions" if spec["partial"] else "all_or_nothing",
                              opens_at=now - dt.timedelta(days=1), closes_at=now + dt.timedelta(days=1))
        started = now - dt.timedelta(milliseconds=spec["elapsed_ms"])
        deadline = now - dt.timedelta(seconds=1) if spec["past_deadline"] else now + dt.timedelta(hours=2)
        attempt = Attempt.objects.create(round=round_, registration=registration,
                                         user=user, unit=org, number=1, started_at=started,
                                         deadline=max(deadline, started),
                                         question_count=len(spec["questions"]))
        for position, q in enumerate(spec["questions"], start=1):
            ids = [position * 100 + i for i in range(len(q["fractions"]))]
            key = {"options": {str(i): f for i, f in zip(ids, q["fractions"], strict=True)}}
            snapshot = {"type": q["qtype"], "options": [{"id": i, "text": "x"} for i in ids]}
            aq = AttemptQuestion.objects.create(attempt=attempt, position=position, question=question,
                                                snapshot=snapshot, key=key, points=Decimal(q["points"]))
            if q["answer"] is None:
                continue
            chosen = [ids[i] if i < len(ids) else 999_999 for i in q["answer"]]
            response = {"options": [str(c) for c in chosen] if q["as_text"] else chosen}
            Answer.objects.create(attempt=attempt, attempt_question=aq, response=response, client_seq=position,
                                  received_at=now)
        attempts.append(attempt)
    return attempts


def _stored(ids):
    attempts = {a.pk: (a.status, a.submit_kind, a.submitted_at, a.duration_ms, a.score, a.correct_count)
                for a in Attempt.objects.filter(pk__in=ids)}
    answers = {a.pk: (a.is_correct, a.points_awarded) for a in Answer.objects.filter(attempt_id__in=ids)}
    return attempts, answers


def _locked(ids):
    return finish._lock(Attempt.objects.filter(pk__in=ids).order_by("pk"))


class _Rollback(Exception):
    pass


@pytest.fixture
def world(org_a, citizen):
    return {"org": org_a, "user": citizen, "contest": ContestFactory(organisation=org_a),
            "question": QuestionFactory(organisation=org_a)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(specs=st.lists(attempt_specs, min_size=1, max_size=4), kind=st.sampled_from([SubmitKind.CLIENT,
                                                                                    SubmitKind.AUTO]))
def test_set_based_scores_equal_the_reference(world, specs, kind):
    now = dt.datetime(2026, 12, 7, 8, 0, 0, 123456, tzinfo=dt.UTC)
    try:
        with transaction.atomic():
            attempts = _build(world["org"], world["user"], world["contest"], world["question"], specs, now)
            ids = [a.pk for a in attempts]
            with transaction.atomic():
                reference = _locked(ids)
                finish._finalise_reference(reference, now=now, kind=kind)
                expected = _stored(ids)
                expected_objects = {a.pk: (a.score, a.correct_count, a.duration_ms, a.submitted_at) for a in reference}
                transaction.set_rollback(True)
            assert _stored(ids)[0][ids[0]][0] == AttemptStatus.IN_PROGRESS  # the reference run was undone
            locked = _locked(ids)
            assert set_based_ids(locked) == set(ids)  # the comparison is never Python against Python
            attempts_finalise_set_based(locked, now=now, kind=kind)
            assert _stored(ids) == expected
            assert {a.pk: (a.score, a.correct_count, a.duration_ms, a.submitted_at) for a in locked} == expected_objects
            raise _Rollback
    except _Rollback:
        pass


def test_other_questions_and_rules_go_to_the_reference(world, now):
    """Essays, numeric and short answers and the other scoring rules are not reproduced in SQL: those attempts
    are finalised by the reference in the same batch."""
    specs = [{"questions": [{"qtype": "single", "fractions": ["1", "0"], "points": "1", "answer": [0],
                             "as_text": False}], "partial": False, "elapsed_ms": 1000, "past_deadline": False}] * 3
    attempts = _build(world["org"], world["user"], world["contest"], world["question"], specs, now)
    AttemptQuestion.objects.filter(attempt=attempts[1]).update(snapshot={"type": "numeric"},
                                                               key={"accepted": [{"text": "1", "fraction": "1"}]})
    attempts[2].round.scoring_rule = "speed"
    attempts[2].round.save(update_fields=["scoring_rule"])
    locked = _locked([a.pk for a in attempts])
    assert set_based_ids(locked) == {attempts[0].pk}
    finish._finish_locked({SubmitKind.CLIENT: locked}, now=now, tolerate_failures=False)
    assert [a.status for a in Attempt.objects.filter(pk__in=[a.pk for a in attempts])] == [AttemptStatus.SUBMITTED] * 3

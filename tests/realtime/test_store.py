"""realtime.store.answers_store_batch must behave exactly like the contests reference
(attempt_answers_store_batch): same results, same stored rows, for generated batches of valid and invalid
answers across attempts with different rules (answer changes forbidden, one question at a time, past the
deadline, finished, someone else's)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contests.models import Answer, Attempt, AttemptQuestion, AttemptStatus
from contests.services.attempts.answers import AnswerItem, attempt_answers_store_batch
from contests.services.attempts.start import attempt_start
from questionbank.models import QuestionOption
from realtime.store import answers_store_batch
from tests.contests.factories import ContestFactory, QuestionFactory, RoundFactory, register
from tests.factories import CitizenProfileFactory

pytestmark = pytest.mark.django_db


def _bank(org):
    # Every type, so that each shape of response is exercised.
    for _ in range(2):
        QuestionFactory(organisation=org, type="single")
        QuestionFactory(organisation=org, type="multiple")
        QuestionFactory(organisation=org, type="numeric")
        QuestionFactory(organisation=org, type="short")
        q = QuestionFactory(organisation=org, type="truefalse", options=[])
        QuestionOption.objects.create(question=q, position=0, text="Đúng", fraction=1)
        QuestionOption.objects.create(question=q, position=1, text="Sai", fraction=0)


@pytest.fixture
def world(org_a):
    _bank(org_a)
    now = timezone.now()
    blueprint = [{"topic_id": None, "difficulty": None, "count": 6, "points": None}]
    contests = {
        "free": ContestFactory(organisation=org_a, blueprint=blueprint),
        "locked": ContestFactory(organisation=org_a, blueprint=blueprint, allow_answer_change=False),
        "one": ContestFactory(organisation=org_a, blueprint=blueprint, presentation="one_at_a_time"),
    }
    attempts = []
    for name, contest in contests.items():
        round_ = RoundFactory(contest=contest, opens_at=now - dt.timedelta(hours=2),
                              closes_at=now + dt.timedelta(days=1))
        for _ in range(2):
            user = CitizenProfileFactory(unit=org_a).user
            register(user, contest)
            attempts.append((name, attempt_start(user=user, round=round_, now=now - dt.timedelta(minutes=5))))
    late, finished = attempts[1][1], attempts[3][1]
    Attempt.objects.filter(pk=late.pk).update(deadline=now - dt.timedelta(seconds=30))
    Attempt.objects.filter(pk=finished.pk).update(status=AttemptStatus.SUBMITTED)
    # One-at-a-time: release question 2 of the first such attempt.
    one = attempts[4][1]
    AttemptQuestion.objects.filter(attempt=one, position=2).update(shown_at=now)
    options = {}
    for aq in AttemptQuestion.objects.filter(attempt__in=[a for _, a in attempts]):
        options[(aq.attempt_id, aq.position)] = [o["id"] for o in aq.snapshot.get("options", [])]
    return {"now": now, "attempts": [(a.pk, a.user_id) for _, a in attempts], "options": options}


def item_strategy(world):
    attempts = world["attempts"]
    all_options = sorted({o for opts in world["options"].values() for o in opts})

    @st.composite
    def item(draw):
        index = draw(st.integers(0, len(attempts)))
        if index == len(attempts):
            attempt_id, user_id = 10**9, attempts[0][1]  # no such attempt
        else:
            attempt_id, user_id = attempts[index]
            if draw(st.integers(0, 15)) == 0:
                user_id = attempts[(index + 1) % len(attempts)][1]  # someone else's
        position = draw(st.sampled_from([1, 1, 2, 2, 3, 4, 5, 6, 0, 7, "2"]))
        own = world["options"].get((attempt_id, position), [])
        response = draw(st.one_of(
            st.builds(lambda ids: {"options": ids}, st.lists(st.sampled_from(own or [1]), max_size=2)),
            st.builds(lambda i: {"options": [i]}, st.sampled_from(all_options)),
            st.builds(lambda i: {"options": [str(i)]}, st.sampled_from(own or [1])),
            st.just({"number": "12,5"}), st.just({"number": 42}), st.just({"number": "x"}),
            st.just({"text": "Quốc hội"}), st.just({"text": 5}), st.just({}), st.just(None),
            st.just({"options": [1], "text": "a"}),
        ))
        seq = draw(st.one_of(st.integers(1, 6), st.sampled_from([0, -1, 2**53, True, "3"])))
        return AnswerItem(attempt_id=attempt_id, user_id=user_id, position=position, response=response,
                          client_seq=seq)

    return st.lists(item(), min_size=1, max_size=12)


def _run(store, prefix, items, now):
    sid = transaction.savepoint()
    try:
        store(items=prefix, now=now - dt.timedelta(seconds=1))
        results = store(items=items, now=now)
        rows = sorted(Answer.objects.values_list("attempt_id", "attempt_question_id", "response", "client_seq",
                                                 "revision", "received_at"))
    finally:
        transaction.savepoint_rollback(sid)
    summary = [(r.attempt_id, r.position, r.client_seq, r.status, r.response,
                (r.error.code, r.error.message) if r.error else None) for r in results]
    return summary, rows


def test_same_results_and_rows_as_the_contests_service(world):
    strategy = item_strategy(world)

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(prefix=strategy, items=strategy)
    def check(prefix, items):
        with transaction.atomic():
            expected = _run(attempt_answers_store_batch, prefix, items, world["now"])
            actual = _run(answers_store_batch, prefix, items, world["now"])
        assert actual == expected

    check()


def test_stores_rows_like_the_reference(world):
    attempt_id, user_id = world["attempts"][0]
    position = next(p for (a, p), opts in sorted(world["options"].items()) if a == attempt_id and opts)
    option = world["options"][(attempt_id, position)][0]
    results = answers_store_batch(items=[
        AnswerItem(attempt_id=attempt_id, user_id=user_id, position=position, response={"options": [option]},
                   client_seq=3),
        AnswerItem(attempt_id=attempt_id, user_id=user_id, position=position, response={"options": [option]},
                   client_seq=2),
    ], now=world["now"])
    assert [r.status for r in results] == ["stored", "stale"]
    row = Answer.objects.get(attempt_id=attempt_id)
    assert (row.client_seq, row.revision, row.response) == (3, 1, {"options": [option]})

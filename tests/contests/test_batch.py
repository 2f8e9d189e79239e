"""attempt_answers_store_batch: many connections' answers in one transaction, constant queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contests.models import Answer
from contests.services.attempts.answers import AnswerItem, attempt_answers_store_batch
from contests.services.attempts.start import attempt_start
from tests.contests.factories import register
from tests.contests.test_attempts import correct_option, wrong_option
from tests.factories import CitizenProfileFactory

pytestmark = pytest.mark.django_db


def make_attempts(n, org, contest, round_, now):
    attempts = []
    for _ in range(n):
        user = CitizenProfileFactory(unit=org).user
        register(user, contest)
        attempt = attempt_start(user=user, round=round_, now=now)
        attempts.append((user, attempt, list(attempt.questions.order_by("position"))))
    return attempts


def items_for(attempts, seq=1):
    return [AnswerItem(attempt_id=a.pk, user_id=u.pk, position=q.position,
                       response={"options": [correct_option(q)]}, client_seq=seq + q.position)
            for u, a, qs in attempts for q in qs]


def test_mixed_batch_stores_valid_items_and_types_errors(org_a, contest, round_, now):
    (u1, a1, q1), (u2, a2, q2) = make_attempts(2, org_a, contest, round_, now)
    own_ids = {o["id"] for o in q2[0].snapshot["options"]}
    foreign_option = next(o["id"] for q in q1 for o in q.snapshot["options"] if o["id"] not in own_ids)
    items = [
        AnswerItem(a1.pk, u1.pk, 1, {"options": [correct_option(q1[0])]}, 1),       # stored
        AnswerItem(a1.pk, u2.pk, 2, {"options": [correct_option(q1[1])]}, 2),       # not u2's attempt
        AnswerItem(a2.pk, u2.pk, 9, {"options": [1]}, 3),                           # no such position
        AnswerItem(a2.pk, u2.pk, 1, {"options": [foreign_option]}, 4),              # option of another question
        AnswerItem(a2.pk, u2.pk, 2, {"options": [wrong_option(q2[1])]}, 5),         # stored
        AnswerItem(a2.pk, u2.pk, 2, {"options": [correct_option(q2[1])]}, 6),       # newer in same batch wins
        AnswerItem(a1.pk, u1.pk, 1, {"options": [correct_option(q1[0])]}, 1),       # duplicate in same batch
        AnswerItem(999_999, u1.pk, 1, {"options": [1]}, 7),                         # unknown attempt
        {"attempt_id": a1.pk, "user_id": u1.pk, "position": 3, "response": {"options": [correct_option(q1[2])]},
         "seq": 8},                                                                  # a mapping works too
    ]
    results = attempt_answers_store_batch(items=items, now=now + dt.timedelta(seconds=10))
    assert [r.status for r in results] == ["stored", "error", "error", "error", "stale", "stored", "duplicate",
                                           "error", "stored"]
    assert [r.error.code for r in results if r.error] == ["attempt_not_found", "question_not_in_attempt",
                                                          "invalid_response", "attempt_not_found"]
    assert Answer.objects.count() == 3
    a2_answer = Answer.objects.get(attempt=a2)
    assert a2_answer.client_seq == 6
    assert a2_answer.response == {"options": [correct_option(q2[1])]}
    assert results[0].as_dict() == {"attempt_id": a1.pk, "position": 1, "seq": 1, "status": "stored"}
    assert results[1].as_dict()["code"] == "attempt_not_found"


def test_batch_is_all_or_nothing_on_database_failure(org_a, contest, round_, now, monkeypatch):
    [(u1, a1, q1)] = make_attempts(1, org_a, contest, round_, now)

    def boom(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(Answer.objects, "bulk_create", boom)
    with pytest.raises(RuntimeError):
        attempt_answers_store_batch(items=items_for([(u1, a1, q1)]), now=now)
    assert not Answer.objects.exists()


@pytest.mark.parametrize("n_attempts", [1, 8])
def test_query_count_is_constant_whatever_the_batch_size(org_a, contest, round_, now, n_attempts,
                                                         django_assert_num_queries):
    attempts = make_attempts(n_attempts, org_a, contest, round_, now)
    first = items_for(attempts, seq=1)
    # savepoint, lock attempts, their rounds, questions, existing answers, upsert, release savepoint
    with django_assert_num_queries(7):
        results = attempt_answers_store_batch(items=first, now=now)
    assert all(r.status == "stored" for r in results)
    # A second batch that updates every answer and repeats some: still the same number of queries.
    second = items_for(attempts, seq=100) + first
    with django_assert_num_queries(7):
        results = attempt_answers_store_batch(items=second, now=now)
    assert [r.status for r in results].count("stored") == len(first)
    assert Answer.objects.count() == 5 * n_attempts
    assert set(Answer.objects.values_list("revision", flat=True)) == {2}


def test_attempt_rows_are_locked_while_the_batch_runs(org_a, contest, round_, now):
    [(u1, a1, q1)] = make_attempts(1, org_a, contest, round_, now)
    with CaptureQueriesContext(connection) as ctx:
        attempt_answers_store_batch(items=items_for([(u1, a1, q1)]), now=now)
    lock = next(q["sql"] for q in ctx.captured_queries if "contests_attempt" in q["sql"] and "FOR" in q["sql"])
    assert "FOR NO KEY UPDATE" in lock


def test_portable_pair_lookup_used_on_sqlite_gives_the_same_results(org_a, contest, round_, now, monkeypatch):
    """The embedded default (SQLite) looks pairs up with an OR of conditions instead of array joins."""
    from django.db import connections

    [(u1, a1, q1)] = make_attempts(1, org_a, contest, round_, now)
    monkeypatch.setattr(connections["default"], "vendor", "sqlite")
    from contests.services.attempts.answers import _pairs_q

    assert "unnest" not in str(_pairs_q([(a1.pk, 1)]))
    results = attempt_answers_store_batch(items=items_for([(u1, a1, q1)]), now=now)
    assert [r.status for r in results] == ["stored"] * 5
    assert Answer.objects.filter(attempt=a1).count() == 5

"""contests.services._common.bulk_update_rows: one UPDATE … FROM (VALUES …) on PostgreSQL, same result as
Django's bulk_update (values of every type the submit path writes, NULLs included, other rows untouched)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from contests.models import Answer, Attempt, AttemptStatus, SubmitKind
from contests.services._common import bulk_update_rows
from contests.services.attempts.answers import attempt_answer
from contests.services.attempts.start import attempt_start
from tests.contests.factories import register
from tests.factories import CitizenProfileFactory

pytestmark = pytest.mark.django_db


def started(round_, now, count):
    attempts = []
    for _ in range(count):
        user = CitizenProfileFactory().user
        register(user, round_.contest)
        attempts.append(attempt_start(user=user, round=round_, now=now))
    return attempts


def test_writes_each_rows_own_values_in_one_statement(round_, now, django_assert_num_queries):
    first, second, untouched = started(round_, now, 3)
    first.status, first.submit_kind, first.score = AttemptStatus.SUBMITTED, SubmitKind.CLIENT, Decimal("7.125")
    first.submitted_at, first.duration_ms, first.correct_count = now + dt.timedelta(seconds=61), 61_000, 7
    second.status, second.submit_kind, second.score = AttemptStatus.EXPIRED, SubmitKind.AUTO, Decimal("0")
    second.submitted_at, second.duration_ms, second.correct_count = None, None, None
    fields = ["status", "submit_kind", "submitted_at", "duration_ms", "score", "correct_count"]
    with django_assert_num_queries(1) as queries:
        bulk_update_rows([first, second], fields)
    assert queries.captured_queries[0]["sql"].startswith('UPDATE "contests_attempt" AS t SET')
    rows = {a.pk: a for a in Attempt.objects.filter(pk__in=[first.pk, second.pk, untouched.pk])}
    for expected in (first, second):
        assert [getattr(rows[expected.pk], f) for f in fields] == [getattr(expected, f) for f in fields]
    assert rows[untouched.pk].status == AttemptStatus.IN_PROGRESS
    assert rows[untouched.pk].submitted_at is None


def test_booleans_decimals_and_nothing_to_do(round_, citizen, registration, now, django_assert_num_queries):
    attempt = attempt_start(user=citizen, round=round_, now=now)
    for position in (1, 2):
        attempt_answer(attempt_id=attempt.pk, user_id=citizen.pk, position=position, response={"options": []},
                       client_seq=position, now=now)
    right, wrong = Answer.objects.filter(attempt=attempt).order_by("pk")
    right.is_correct, right.points_awarded = True, Decimal("1.5")
    wrong.is_correct, wrong.points_awarded = False, None
    bulk_update_rows([right, wrong], ["is_correct", "points_awarded"])
    assert list(Answer.objects.filter(attempt=attempt).order_by("pk").values_list("is_correct", "points_awarded")) == [
        (True, Decimal("1.500")), (False, None)]
    with django_assert_num_queries(0):
        bulk_update_rows([], ["is_correct"])


def test_a_value_too_long_for_its_column_is_refused_not_cut(round_, now):
    from django.db import DataError, transaction

    (attempt,) = started(round_, now, 1)
    attempt.submit_kind = "client-and-more"  # the column is varchar(6)
    with pytest.raises(DataError), transaction.atomic():
        bulk_update_rows([attempt], ["submit_kind"])
    assert Attempt.objects.get(pk=attempt.pk).submit_kind == ""

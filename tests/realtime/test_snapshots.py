"""realtime.snapshots builds, for many sockets at once, exactly what contests' attempt_state builds for one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from contests.models import Attempt, AttemptQuestion, AttemptStatus
from contests.services.attempts.answers import attempt_answer, attempt_set_prediction
from contests.services.attempts.finish import attempt_submit
from contests.services.attempts.state import attempt_state
from realtime.snapshots import OpenRequest, attempts_open_batch
from tests.factories import CitizenProfileFactory
from tests.realtime.conftest import make_exam

pytestmark = pytest.mark.django_db(transaction=True)


def _comparable(state):
    return {k: v for k, v in state.items() if k not in {"server_time", "server_time_ms"}}


def test_batch_equals_attempt_state_in_every_situation(org_a):
    people = [CitizenProfileFactory(unit=org_a).user for _ in range(5)]
    busy = make_exam(org_a, people[0], prediction_enabled=True)
    fresh = make_exam(org_a, people[1])
    one = make_exam(org_a, people[2], presentation="one_at_a_time")
    done = make_exam(org_a, people[3])
    late = make_exam(org_a, people[4])
    now = timezone.now()
    for position in (1, 3):
        aq = AttemptQuestion.objects.get(attempt=busy.attempt, position=position)
        result = attempt_answer(attempt_id=busy.attempt.pk, user_id=people[0].pk, position=position,
                                response={"options": [aq.snapshot["options"][1]["id"]]}, client_seq=position + 4,
                                now=now)
        assert result.ok
    attempt_set_prediction(attempt_id=busy.attempt.pk, user_id=people[0].pk, prediction=321, client_seq=9, now=now)
    AttemptQuestion.objects.filter(attempt=one.attempt, position=2).update(shown_at=now)
    attempt_submit(attempt=done.attempt, now=now)
    Attempt.objects.filter(pk=late.attempt.pk).update(deadline=now - dt.timedelta(minutes=5))

    exams = [busy, fresh, one, done, late]
    requests = [OpenRequest(attempt_id=e.attempt.pk, user_id=e.user.pk, token=f"chan-{i}") for i, e in enumerate(exams)]
    requests.append(OpenRequest(attempt_id=busy.attempt.pk, user_id=people[1].pk, token="intruder"))  # not theirs
    requests.append(OpenRequest(attempt_id=10**9, user_id=people[0].pk, token="nobody"))
    opened = attempts_open_batch(items=requests, now=now)

    for exam, result in zip(exams, opened, strict=False):
        attempt = Attempt.objects.select_related("round__contest").get(pk=exam.attempt.pk)
        assert _comparable(result.state) == _comparable(attempt_state(attempt=attempt, now=now)), exam
    assert opened[5].state is None
    assert opened[6].state is None
    assert opened[4].state["status"] == AttemptStatus.EXPIRED  # finalised on the way, like attempt_state does
    assert opened[3].attempt.status == AttemptStatus.SUBMITTED
    assert opened[0].state["answers"]["3"]["seq"] == 7
    assert opened[0].state["last_seq"] == 9


def test_claims_return_the_previous_connection(org_a, citizen):
    exam = make_exam(org_a, citizen)
    request = OpenRequest(attempt_id=exam.attempt.pk, user_id=citizen.pk, token="first")
    assert attempts_open_batch(items=[request], now=timezone.now())[0].previous == ""
    again = OpenRequest(attempt_id=exam.attempt.pk, user_id=citizen.pk, token="second")
    assert attempts_open_batch(items=[again], now=timezone.now())[0].previous == "first"

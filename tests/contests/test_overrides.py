"""Organisers' overrides and the official close of a round."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import AuditEvent
from contests import errors
from contests.models import AttemptStatus, OverrideGrant
from contests.services.attempts.answers import attempt_answer
from contests.services.attempts.finish import attempt_submit, attempts_sweep_expired
from contests.services.attempts.start import attempt_start
from contests.services.contests import round_close
from contests.services.overrides import override_extra_time, round_extend
from tests.contests.factories import register
from tests.contests.test_attempts import correct_option
from tests.factories import CitizenProfileFactory

pytestmark = pytest.mark.django_db


def test_extra_time_applies_to_the_attempt_in_progress_and_later_ones(citizen, registration, round_, now,
                                                                      organiser_a):
    attempt = attempt_start(user=citizen, round=round_, now=now)
    override_extra_time(actor=organiser_a, registration=registration, round=round_, seconds=120,
                        reason="Rớt mạng", now=now)
    override_extra_time(actor=organiser_a, registration=registration, round=round_, seconds=60,
                        reason="Rớt mạng lần hai", now=now)
    attempt.refresh_from_db()
    assert attempt.deadline == now + dt.timedelta(seconds=900 + 180)
    attempt_submit(attempt=attempt, now=now + dt.timedelta(minutes=1))
    second = attempt_start(user=citizen, round=round_, now=now + dt.timedelta(minutes=2))
    assert second.deadline == now + dt.timedelta(minutes=2, seconds=900 + 180)
    assert AuditEvent.objects.filter(action="contests.extra_time").count() == 2


def test_extra_time_is_still_capped_by_the_round_close(citizen, registration, round_, organiser_a):
    start = round_.closes_at - dt.timedelta(minutes=20)
    attempt = attempt_start(user=citizen, round=round_, now=start)
    override_extra_time(actor=organiser_a, registration=registration, round=round_, seconds=3600,
                        reason="Khiếu nại", now=start)
    attempt.refresh_from_db()
    assert attempt.deadline == round_.closes_at


def test_overrides_need_reason_role_and_valid_values(citizen, registration, round_, now, organiser_a,
                                                     organiser_b):
    with pytest.raises(errors.ReasonRequired):
        override_extra_time(actor=organiser_a, registration=registration, round=round_, seconds=60, reason=" ")
    with pytest.raises(PermissionDenied):
        override_extra_time(actor=organiser_b, registration=registration, round=round_, seconds=60, reason="x")
    with pytest.raises(errors.OverrideInvalid):
        override_extra_time(actor=organiser_a, registration=registration, round=round_, seconds=0, reason="x")
    with pytest.raises(errors.OverrideInvalid):
        round_extend(actor=organiser_a, round=round_, until=round_.closes_at - dt.timedelta(hours=1), reason="x",
                     now=now)
    assert not OverrideGrant.objects.exists()


def test_extending_a_round_moves_capped_deadlines(citizen, registration, round_, organiser_a, org_a, contest):
    start = round_.closes_at - dt.timedelta(minutes=5)
    capped = attempt_start(user=citizen, round=round_, now=start)
    assert capped.deadline == round_.closes_at
    early_user = CitizenProfileFactory(unit=org_a).user
    register(early_user, contest)
    early = attempt_start(user=early_user, round=round_, now=start - dt.timedelta(minutes=20))
    early_deadline = early.deadline
    round_extend(actor=organiser_a, round=round_, until=round_.closes_at + dt.timedelta(days=1),
                 reason="Sự cố mất điện", now=start)
    capped.refresh_from_db()
    early.refresh_from_db()
    assert capped.deadline == start + dt.timedelta(seconds=900)
    assert early.deadline == early_deadline
    event = AuditEvent.objects.get(action="contests.round_extended")
    assert event.reason == "Sự cố mất điện"


def test_reopen_after_close_lets_people_start_again(citizen, registration, round_, organiser_a):
    after = round_.closes_at + dt.timedelta(hours=1)
    with pytest.raises(errors.RoundNotOpen):
        attempt_start(user=citizen, round=round_, now=after)
    round_close(round=round_, now=after)
    round_extend(actor=organiser_a, round=round_, until=after + dt.timedelta(days=2), reason="Mở lại", now=after)
    round_.refresh_from_db()
    assert round_.closed_at is None
    attempt = attempt_start(user=citizen, round=round_, now=after + dt.timedelta(minutes=1))
    assert attempt.status == AttemptStatus.IN_PROGRESS


def test_round_close_finishes_attempts_and_computes_the_prediction_target(org_a, contest, round_, now):
    users = [CitizenProfileFactory(unit=org_a).user for _ in range(3)]
    for user in users:
        register(user, contest)
    perfect = attempt_start(user=users[0], round=round_, now=now)
    for q in perfect.questions.all():
        attempt_answer(attempt_id=perfect.pk, user_id=users[0].pk, position=q.position,
                       response={"options": [correct_option(q)]}, client_seq=q.position, now=now)
    attempt_submit(attempt=perfect, now=now + dt.timedelta(minutes=1))
    attempt_submit(attempt=attempt_start(user=users[1], round=round_, now=now), now=now + dt.timedelta(minutes=1))
    late = attempt_start(user=users[2], round=round_, now=round_.closes_at - dt.timedelta(minutes=1))
    with pytest.raises(errors.RoundNotOpen):
        round_close(round=round_, now=round_.closes_at - dt.timedelta(seconds=1))
    closed = round_close(round=round_, now=round_.closes_at + dt.timedelta(minutes=1))
    late.refresh_from_db()
    assert late.status == AttemptStatus.EXPIRED
    assert late.submitted_at == round_.closes_at
    assert closed.closed_at is not None
    assert closed.prediction_target_value == 1  # perfect attempts
    assert attempts_sweep_expired(now=round_.closes_at + dt.timedelta(hours=1)) == 0
    assert round_close(round=round_, now=round_.closes_at + dt.timedelta(hours=2)).closed_at == closed.closed_at


@pytest.mark.parametrize(("kind", "expected"), [("perfect_people", 1), ("perfect_attempts", 2), ("entrants", 2),
                                                ("attempts", 3)])
def test_prediction_target_kinds(org_a, contest, round_, now, kind, expected):
    from contests.selectors import round_prediction_target

    round_.prediction_target_kind = kind
    round_.max_attempts = 0
    round_.save()
    users = [CitizenProfileFactory(unit=org_a).user for _ in range(2)]
    for user in users:
        register(user, contest)
    for i, (user, perfect) in enumerate([(users[0], True), (users[0], True), (users[1], False)]):
        at = now + dt.timedelta(minutes=i)
        attempt = attempt_start(user=user, round=round_, now=at)
        if perfect:
            for q in attempt.questions.all():
                attempt_answer(attempt_id=attempt.pk, user_id=user.pk, position=q.position,
                               response={"options": [correct_option(q)]}, client_seq=q.position, now=at)
        attempt_submit(attempt=attempt, now=at + dt.timedelta(seconds=30))
    round_.refresh_from_db()
    assert round_prediction_target(round=round_) == expected


def test_personal_data_export_and_anonymise(citizen, registration, round_, now):
    from accounts.services import account_anonymise, personal_data_export

    attempt_submit(attempt=attempt_start(user=citizen, round=round_, now=now), now=now + dt.timedelta(seconds=9))
    data = personal_data_export(user=citizen)
    assert data["contest_registrations"][0]["full_name"] == registration.full_name
    assert data["contest_attempts"][0]["duration_ms"] == 9000
    account_anonymise(user=citizen, actor=citizen, reason="Yêu cầu xoá")
    registration.refresh_from_db()
    assert registration.full_name == "Người dùng đã xoá"
    assert registration.date_of_birth is None
    assert registration.attempts.count() == 1

"""Contests admin: tenant isolation, validation, clone and override actions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin import helpers
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from contests.models import Attempt, Contest, OverrideGrant, Registration, Round
from contests.services.attempts.start import attempt_start
from tests.contests.factories import ContestFactory, RoundFactory, bank, register, settings_form_data
from tests.factories import CitizenProfileFactory
from tests.tenancy_harness import assert_admin_closed, assert_admin_isolated

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign_setup(org_b):
    bank(org_b, 6)
    contest = ContestFactory(organisation=org_b)
    round_ = RoundFactory(contest=contest)
    user = CitizenProfileFactory(unit=org_b).user
    registration = register(user, contest)
    attempt = attempt_start(user=user, round=round_)
    return contest, round_, registration, attempt


def test_contest_admin_objects_are_isolated(client, organiser_a, foreign_setup):
    contest, round_, registration, attempt = foreign_setup
    for obj in (contest, round_, registration, attempt):
        assert_admin_isolated(client, obj, foreign_user=organiser_a)


def test_citizens_are_kept_out_of_the_admin(client, citizen, foreign_setup):
    contest, _round, _registration, attempt = foreign_setup
    for obj in (contest, attempt):
        assert_admin_closed(client, obj, user=citizen)


def contest_post(org, **overrides):
    now = timezone.localtime().replace(second=0, microsecond=0)
    data = {
        "organisation": org.pk, "title": "Cuộc thi mới", "slug": "cuoc-thi-moi", "summary": "",
        "visibility": "draft", "rules_text": "<p>Thể lệ</p><script>alert(1)</script>", "minimum_age": "",
        "one_prize_per_person": "on", "time_limit_seconds": "900",
        "blueprint": '[{"topic_id": null, "difficulty": null, "count": 5, "points": null}]',
        "max_attempts": "1", "counted_attempt": "best", "prediction_enabled": "on",
        "prediction_target_kind": "perfect_attempts", "scoring_rule": "weighted", "partial_credit": "all_or_nothing",
        "tie_break_order": '["score", "prediction", "duration", "submitted_at"]', "scoreboard_visibility": "live",
        "freeze_minutes": "0", "presentation": "all_on_one_page", "allow_answer_change": "on",
        "grace_seconds": "5",
        "rounds-TOTAL_FORMS": "1", "rounds-INITIAL_FORMS": "0", "rounds-MIN_NUM_FORMS": "0",
        "rounds-MAX_NUM_FORMS": "1000",
        "rounds-0-name": "Tuần 1", "rounds-0-position": "1",
        "rounds-0-opens_at_0": now.strftime("%Y-%m-%d"), "rounds-0-opens_at_1": now.strftime("%H:%M:%S"),
        "rounds-0-closes_at_0": (now + dt.timedelta(days=7)).strftime("%Y-%m-%d"),
        "rounds-0-closes_at_1": now.strftime("%H:%M:%S"),
        "rounds-0-prediction_enabled": "unknown", "rounds-0-allow_answer_change": "unknown",
        "rounds-0-reveal_answers_after_attempt": "unknown",
    }
    data.update(overrides)
    return settings_form_data(data)


def test_organiser_creates_contest_with_round(client, organiser_a, org_a):
    bank(org_a, 6)
    client.force_login(organiser_a)
    response = client.post(reverse("admin:contests_contest_add"), contest_post(org_a))
    assert response.status_code == 302, response.context["errors"] if response.context else response
    contest = Contest.objects.get(slug="cuoc-thi-moi")
    assert contest.organisation == org_a
    assert "<script>" not in contest.rules_text
    assert contest.rounds.count() == 1
    assert AuditEvent.objects.filter(action="contests.contest_created").exists()


def test_organiser_cannot_create_for_another_organisation(client, organiser_a, org_a, org_b):
    bank(org_a, 6)
    client.force_login(organiser_a)
    response = client.post(reverse("admin:contests_contest_add"), contest_post(org_b))
    assert response.status_code == 200
    assert not Contest.objects.exists()


@pytest.mark.parametrize(("overrides", "message"), [
    ({"rounds-0-closes_at_0": "2020-01-01"}, "kết thúc phải sau"),
    ({"blueprint": '[{"topic_id": null, "difficulty": null, "count": 50, "points": null}]'}, "chỉ có"),
    ({"scoring_rule": "speed"}, "từng câu một"),
    ({"max_attempts": "2", "reveal_answers_after_attempt": "on"}, "một lượt thi"),
    ({"rounds-0-max_attempts": "3", "reveal_answers_after_attempt": "on"}, "một lượt thi"),
    ({"rounds-0-scoring_rule": "speed"}, "từng câu một"),
])
def test_contest_validation(client, organiser_a, org_a, overrides, message):
    bank(org_a, 6)
    client.force_login(organiser_a)
    response = client.post(reverse("admin:contests_contest_add"), contest_post(org_a, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Contest.objects.exists()


def test_speed_scoring_allowed_one_at_a_time(client, organiser_a, org_a):
    bank(org_a, 6)
    client.force_login(organiser_a)
    response = client.post(reverse("admin:contests_contest_add"), contest_post(
        org_a, scoring_rule="speed", presentation="one_at_a_time"))
    assert response.status_code == 302


def test_clone_action(client, organiser_a, org_a, contest):
    round = RoundFactory(contest=contest)
    contest.allowed_units.set([org_a])
    client.force_login(organiser_a)
    url = reverse("admin:contests_contest_changelist")
    asked = client.post(url, {"action": "clone_contests", helpers.ACTION_CHECKBOX_NAME: [contest.pk], "index": "0"})
    assert asked.status_code == 200
    assert "Tên cuộc thi mới" in asked.content.decode()
    response = client.post(url, {
        "action": "clone_contests", helpers.ACTION_CHECKBOX_NAME: [contest.pk], "index": "0", "apply": "1",
        "title": "Bản sao thử", "shift": "0", "days": "", "rounds": [round.pk], "copy_round_settings": "on",
        "copy_units": "on", "copy_rules": "on"})
    assert response.status_code == 302
    copy = Contest.objects.exclude(pk=contest.pk).get()
    assert copy.visibility == "draft"
    assert copy.organisation == org_a
    assert copy.rounds.count() == 1
    assert list(copy.allowed_units.all()) == [org_a]
    assert copy.slug != contest.slug


def test_extra_time_action_recomputes_deadline_and_audits(client, organiser_a, citizen, registration, round_, now):
    attempt = attempt_start(user=citizen, round=round_, now=now)
    client.force_login(organiser_a)
    url = reverse("admin:contests_registration_changelist")
    page = client.post(url, {"action": "give_extra_time", helpers.ACTION_CHECKBOX_NAME: [registration.pk]})
    assert page.status_code == 200
    assert "Số phút thêm" in page.content.decode()
    response = client.post(url, {"action": "give_extra_time", helpers.ACTION_CHECKBOX_NAME: [registration.pk],
                                 "apply": "1", "round": round_.pk, "minutes": "10", "reason": "Mất kết nối"})
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.deadline == now + dt.timedelta(minutes=25)
    grant = OverrideGrant.objects.get()
    assert grant.reason == "Mất kết nối"
    event = AuditEvent.objects.get(action="contests.extra_time")
    assert event.actor == organiser_a
    assert event.reason == "Mất kết nối"


def test_foreign_organiser_cannot_give_extra_attempt(client, organiser_a, foreign_setup):
    _contest, round_, registration, _attempt = foreign_setup
    client.force_login(organiser_a)
    client.post(reverse("admin:contests_registration_changelist"), {
        "action": "give_extra_attempt", helpers.ACTION_CHECKBOX_NAME: [registration.pk], "apply": "1",
        "round": round_.pk, "count": "1", "reason": "x"})
    assert not OverrideGrant.objects.exists()


def test_extend_round_action(client, organiser_a, round_, now):
    client.force_login(organiser_a)
    until = timezone.localtime(round_.closes_at + dt.timedelta(days=2)).replace(microsecond=0)
    response = client.post(reverse("admin:contests_round_changelist"), {
        "action": "extend_round", helpers.ACTION_CHECKBOX_NAME: [round_.pk], "apply": "1",
        "until": until.strftime("%Y-%m-%dT%H:%M"), "reason": "Sự cố máy chủ"})
    assert response.status_code == 302
    round_.refresh_from_db()
    assert round_.extended_until is not None
    assert round_.effective_closes_at > round_.closes_at
    assert AuditEvent.objects.filter(action="contests.round_extended", reason="Sự cố máy chủ").exists()


def test_judge_sees_attempts_but_cannot_change(client, org_a, citizen, registration, round_, now):
    from tests.factories import make_staff

    attempt = attempt_start(user=citizen, round=round_, now=now)
    judge = make_staff(org_a, "judge")
    client.force_login(judge)
    assert client.get(reverse("admin:contests_attempt_change", args=[attempt.pk])).status_code == 200
    client.post(reverse("admin:contests_attempt_change", args=[attempt.pk]), {"score": "99"})
    assert Attempt.objects.get(pk=attempt.pk).score is None
    assert Registration.objects.count() == 1
    assert Round.objects.count() == 1


def test_correct_registration_action(client, organiser_a, registration, org_a):
    client.force_login(organiser_a)
    url = reverse("admin:contests_registration_changelist")
    page = client.post(url, {"action": "correct_registration", helpers.ACTION_CHECKBOX_NAME: [registration.pk]})
    assert registration.full_name in page.content.decode()
    response = client.post(url, {
        "action": "correct_registration", helpers.ACTION_CHECKBOX_NAME: [registration.pk], "apply": "1",
        "full_name": "Nguyễn Văn Đúng", "date_of_birth": "1990-05-17", "national_id": "", "unit": org_a.pk,
        "reason": "Thí sinh gửi đơn đề nghị"})
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.full_name == "Nguyễn Văn Đúng"
    event = AuditEvent.objects.get(action="contests.registration_corrected")
    assert event.data == {"fields": ["full_name"]}


def test_round_page_checks_the_blueprint(client, organiser_a, round_):
    client.force_login(organiser_a)
    url = reverse("admin:contests_round_change", args=[round_.pk])
    form = client.get(url).context["adminform"].form
    data = {name: (value if value is not None else "") for name, value in form.initial.items()
            if name in form.fields}
    data.update({
        "opens_at_0": timezone.localtime(round_.opens_at).strftime("%Y-%m-%d"),
        "opens_at_1": timezone.localtime(round_.opens_at).strftime("%H:%M:%S"),
        "closes_at_0": timezone.localtime(round_.closes_at).strftime("%Y-%m-%d"),
        "closes_at_1": timezone.localtime(round_.closes_at).strftime("%H:%M:%S"),
        "prediction_enabled": "unknown", "allow_answer_change": "unknown", "reveal_answers_after_attempt": "unknown",
        "blueprint": '[{"topic_id": null, "difficulty": "hard", "count": 3, "points": null}]',
    })
    for key in ("opens_at", "closes_at"):
        data.pop(key, None)
    response = client.post(url, settings_form_data(data))
    assert response.status_code == 200
    assert "chỉ có 0" in response.content.decode()
    round_.refresh_from_db()
    assert round_.blueprint is None
    data["blueprint"] = '[{"topic_id": null, "difficulty": "medium", "count": 3, "points": null}]'
    assert client.post(url, settings_form_data(data)).status_code == 302
    round_.refresh_from_db()
    assert round_.blueprint[0]["difficulty"] == "medium"


def test_attempt_changelist_queries_do_not_grow_with_rows(client, organiser_a, org_a, contest, round_, now):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add_attempts(n):
        for _ in range(n):
            user = CitizenProfileFactory(unit=org_a).user
            register(user, contest)
            attempt_start(user=user, round=round_, now=now)

    client.force_login(organiser_a)
    url = reverse("admin:contests_attempt_changelist")
    add_attempts(2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add_attempts(4)
    with CaptureQueriesContext(connection) as more:
        assert client.get(url).status_code == 200
    assert len(more.captured_queries) == len(few.captured_queries)

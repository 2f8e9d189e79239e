"""Disqualification: who may, reasons required, audited, one decision in force, reversible, excluded from
the official ranking; the admin add form and revoke action go through the service."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from contests.models import Attempt, AttemptStatus
from leaderboards import errors
from leaderboards.models import Disqualification
from leaderboards.services.disqualification import attempt_disqualify, disqualification_revoke, person_disqualify
from leaderboards.services.ranking import ranking_compute, round_close
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def test_rules(memory_lb, people, lb_round, org_a, org_b):
    attempt = people.attempt(1, score="9")
    with pytest.raises(errors.PermissionDenied):
        attempt_disqualify(actor=make_staff(org_b, "judge"), attempt=attempt, reason="x")
    with pytest.raises(errors.PermissionDenied):
        attempt_disqualify(actor=make_staff(org_a, "writer"), attempt=attempt, reason="x")
    judge = make_staff(org_a, "judge")
    with pytest.raises(errors.ReasonRequired):
        attempt_disqualify(actor=judge, attempt=attempt, reason="  ")
    in_progress = people.attempt(2, status=AttemptStatus.IN_PROGRESS)
    with pytest.raises(errors.AttemptNotFinished):
        attempt_disqualify(actor=judge, attempt=in_progress, reason="Gian lận")
    decision = attempt_disqualify(actor=judge, attempt=attempt, reason="Gian lận")
    with pytest.raises(errors.AlreadyDisqualified):
        attempt_disqualify(actor=judge, attempt=attempt, reason="Gian lận")
    event = AuditEvent.objects.get(action="leaderboards.attempt_disqualified")
    assert (event.actor, event.reason, event.organisation_id) == (judge, "Gian lận", org_a.pk)
    assert Attempt.objects.get(pk=attempt.pk).disqualified_reason == "Gian lận"
    disqualification_revoke(actor=judge, disqualification=decision, reason="Nhầm")
    with pytest.raises(errors.NotDisqualified):
        disqualification_revoke(actor=judge, disqualification=decision, reason="Nhầm")
    assert AuditEvent.objects.filter(action="leaderboards.disqualification_revoked").count() == 1


def test_person_disqualification_excludes_later_attempts_from_the_ranking(memory_lb, people, lb_round, org_a):
    organiser = make_staff(org_a, "organiser")
    people.attempt(1, score="9")
    kept = people.attempt(2, score="5")
    decision = person_disqualify(actor=organiser, registration=people.registration(1), reason="Khai gian")
    people.attempt(1, score="10")  # made after the decision (e.g. a second tab): still excluded
    ranking = round_close(round=lb_round)
    assert [e.attempt_id for e in ranking.entries.all()] == [kept.pk]
    disqualification_revoke(actor=organiser, disqualification=decision, reason="Đã xác minh")
    again = ranking_compute(round=lb_round, actor=organiser)
    assert again.entry_count == 2
    assert again.entries.order_by("position").first().score == 10


def test_revoking_a_person_keeps_an_attempt_decision_in_force(memory_lb, people, lb_round, org_a):
    judge = make_staff(org_a, "judge")
    attempt = people.attempt(1, score="9")
    other = people.attempt(1, score="3")
    attempt_disqualify(actor=judge, attempt=attempt, reason="Gian lận")
    person = person_disqualify(actor=judge, registration=people.registration(1), reason="Nhiều tài khoản")
    disqualification_revoke(actor=judge, disqualification=person, reason="Xác minh")
    statuses = dict(Attempt.objects.filter(pk__in=[attempt.pk, other.pk]).values_list("pk", "status"))
    assert statuses == {attempt.pk: AttemptStatus.DISQUALIFIED, other.pk: AttemptStatus.SUBMITTED}


def test_admin_add_and_revoke(client, memory_lb, people, lb_round, org_a):
    attempt = people.attempt(1, score="9")
    judge = make_staff(org_a, "judge")
    client.force_login(judge)
    response = client.post(reverse("admin:leaderboards_disqualification_add"), {
        "scope": "attempt", "attempt": attempt.pk, "registration": attempt.registration_id, "reason": "Gian lận"})
    assert response.status_code == 302, response.content.decode()[:2000]
    decision = Disqualification.objects.get()
    assert decision.created_by == judge
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.DISQUALIFIED
    changelist = reverse("admin:leaderboards_disqualification_changelist")
    response = client.post(changelist, {"action": "revoke", "_selected_action": [decision.pk], "apply": "1",
                                        "reason": "Nhầm lẫn"})
    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.revoked_by == judge
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.SUBMITTED


def test_admin_hides_other_organisations(client, memory_lb, people, lb_round, org_a, org_b):
    attempt = people.attempt(1, score="9")
    decision = attempt_disqualify(actor=make_staff(org_a, "judge"), attempt=attempt, reason="Gian lận")
    client.force_login(make_staff(org_b, "judge"))
    url = reverse("admin:leaderboards_disqualification_change", args=[decision.pk])
    assert client.get(url).status_code == 404


def test_ranking_admin_pages_and_recompute_action(client, memory_lb, people, lb_round, org_a):
    people.attempt(1, score="9")
    ranking = round_close(round=lb_round)
    organiser = make_staff(org_a, "organiser")
    client.force_login(organiser)
    changelist = reverse("admin:leaderboards_roundranking_changelist")
    assert client.get(changelist).status_code == 200
    assert client.get(reverse("admin:leaderboards_roundranking_change", args=[ranking.pk])).status_code == 200
    form = client.post(changelist, {"action": "recompute", "_selected_action": [ranking.pk]})
    assert form.status_code == 200  # the reason form
    assert "prize_places" not in form.content.decode()  # prizes are decided on the round's results page
    from judging.services.approval import ranking_prizes_set

    ranking_prizes_set(actor=organiser, ranking=ranking, prizes={"first": 1}, reason="Thể lệ")
    done = client.post(changelist, {"action": "recompute", "_selected_action": [ranking.pk], "apply": "1",
                                    "reason": "", "prize_places": "5"})
    assert done.status_code == 302
    latest = ranking.round.rankings.order_by("-version").first()
    assert (latest.version, latest.prize_places, latest.created_by) == (2, 1, organiser)  # kept, not the 5 posted
    assert latest.entries.get().is_winner

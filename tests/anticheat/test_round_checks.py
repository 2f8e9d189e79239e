"""Scripted cheaters that need a crowd around them, each flagged with the right kind by the analysis after the
round (real PostgreSQL): a copy ring of 5 accounts, a prediction farm of 20, duplicate persons, a registration
burst through the real sign-up page. The honest crowd around them is not flagged high."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from anticheat import simulate
from anticheat.models import Flag, FlagKind, Severity
from anticheat.services import round_analyse
from tests.accounts.test_signup import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowd():
    sim = simulate.round_create(questions=30, per_attempt=20, units=10, seed=21)
    people = simulate.honest_people(sim, 300, seed=22)
    simulate.people_store(sim, people, per_attempt=20, seed=23)
    return sim


def flags(sim, attempt_ids, kind):
    return {a: s for a, s in Flag.objects.filter(round=sim.round, attempt_id__in=attempt_ids, kind=kind)
            .values_list("attempt_id", "severity")}


def high_elsewhere(sim, cheaters):
    return set(Flag.objects.filter(round=sim.round, severity=Severity.HIGH).exclude(attempt_id__in=cheaters)
               .values_list("attempt_id", flat=True))


def test_a_copy_ring_of_five_is_flagged_as_answer_copying(crowd):
    ring = simulate.copy_ring(crowd, 5, per_attempt=20)
    ids = simulate.people_store(crowd, ring, per_attempt=20, seed=24)
    report = round_analyse(round=crowd.round)
    found = flags(crowd, ids, FlagKind.ANSWER_COPYING)
    assert found == {a: Severity.HIGH for a in ids}, report["copying"]
    flag = Flag.objects.get(attempt_id=ids[0], kind=FlagKind.ANSWER_COPYING)
    assert flag.evidence["identical_wrong"] == 8 and flag.evidence["p_value"] < flag.evidence["threshold"]
    assert flag.evidence["partner_count"] == 4
    assert len(set(Flag.objects.filter(attempt_id__in=ids, kind=FlagKind.ANSWER_COPYING)
                   .values_list("group_key", flat=True))) == 1  # one ring
    assert flag.settings_used["copying_alpha"] == 0.01
    assert report["copying"]["pairs_tested"] < report["copying"]["all_pairs"] / 5  # blocked, not all pairs
    assert not Flag.objects.filter(round=crowd.round, kind=FlagKind.ANSWER_COPYING).exclude(attempt_id__in=ids).exists()


def test_a_prediction_farm_of_twenty_is_flagged(crowd):
    farm = simulate.prediction_farm(crowd, 20, first=731)
    ids = simulate.people_store(crowd, farm, per_attempt=20, seed=25)
    round_analyse(round=crowd.round)
    found = flags(crowd, ids, FlagKind.PREDICTION_FARMING)
    assert set(found) == set(ids)
    assert set(found.values()) == {Severity.HIGH}
    evidence = Flag.objects.get(attempt_id=ids[0], kind=FlagKind.PREDICTION_FARMING).evidence
    assert (evidence["from"], evidence["to"], evidence["accounts"]) == (731, 750, 20)
    assert not high_elsewhere(crowd, ids)


def test_duplicate_persons_are_flagged(crowd):
    pair = simulate.duplicate_person(crowd)
    ids = simulate.people_store(crowd, pair, per_attempt=20, seed=26)
    round_analyse(round=crowd.round)
    assert flags(crowd, ids, FlagKind.DUPLICATE_PERSON) == {ids[0]: Severity.HIGH, ids[1]: Severity.HIGH}
    assert not Flag.objects.filter(round=crowd.round, kind=FlagKind.DUPLICATE_PERSON).exclude(
        attempt_id__in=ids).exists()


def test_a_registration_burst_through_the_signup_page_is_flagged(crowd, client):
    unit = crowd.units[0]
    users = []
    for i in range(12):
        response = client.post(reverse("accounts:signup"), form_data(unit, phone=f"09123400{i:02d}"),
                               REMOTE_ADDR=f"203.0.113.{20 + i}", HTTP_USER_AGENT="python-requests/2.32")
        assert response.status_code == 302, response.content.decode()[:500]
        client.logout()
        users.append(User.objects.get(phone=f"+849123400{i:02d}") if User.objects.filter(
            phone=f"+849123400{i:02d}").exists() else User.objects.get(phone=f"09123400{i:02d}"))
    people = simulate.honest_people(crowd, 12, seed=27)
    ids = simulate.people_store(crowd, people, per_attempt=20, seed=28, users=users)
    round_analyse(round=crowd.round)
    found = flags(crowd, ids, FlagKind.SIGNUP_BURST)
    assert set(found) == set(ids)
    assert set(found.values()) == {Severity.HIGH}  # one device (no cookie, one user agent) made them all
    evidence = Flag.objects.get(attempt_id=ids[0], kind=FlagKind.SIGNUP_BURST).evidence
    assert evidence["network"] == "203.0.113.0/24" and evidence["accounts_in_window"] == 12

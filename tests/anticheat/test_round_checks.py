"""Scripted cheaters that need a crowd around them, each flagged with the right kind by the analysis after the
round (real PostgreSQL): a copy ring of 5 accounts, a prediction farm of 20, duplicate persons, a registration
burst through the real sign-up page. The honest crowd around them is not flagged high."""

from __future__ import annotations

import datetime as dt
import math
import random

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
    return dict(Flag.objects.filter(round=sim.round, attempt_id__in=attempt_ids, kind=kind)
            .values_list("attempt_id", "severity"))


def high_elsewhere(sim, cheaters):
    return set(Flag.objects.filter(round=sim.round, severity=Severity.HIGH).exclude(attempt_id__in=cheaters)
               .values_list("attempt_id", flat=True))


def test_a_copy_ring_of_five_is_flagged_as_answer_copying(crowd):
    ring = simulate.copy_ring(crowd, 5, per_attempt=20)
    ids = simulate.people_store(crowd, ring, per_attempt=20, seed=24)
    report = round_analyse(round=crowd.round)
    found = flags(crowd, ids, FlagKind.ANSWER_COPYING)
    assert found == dict.fromkeys(ids, Severity.HIGH), report["copying"]
    flag = Flag.objects.get(attempt_id=ids[0], kind=FlagKind.ANSWER_COPYING)
    assert flag.evidence["identical_wrong"] == 8
    assert flag.evidence["p_value"] < flag.evidence["threshold"]
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
    assert evidence["network"] == "203.0.113.0/24"
    assert evidence["accounts_in_window"] == 12


def test_many_attempts_from_one_device_or_a_quiet_network_in_minutes_are_a_burst(crowd):
    phone = simulate.honest_people(crowd, 6, seed=31)
    home = simulate.honest_people(crowd, 30, seed=32)
    start = phone[0].started
    for i, person in enumerate(phone):  # six accounts on one phone in ten minutes
        person.started = start + dt.timedelta(minutes=1.5 * i)
        person.connections = [(0.5, f"113.22.{i}.9", f"113.22.{i}.0/24", "one-phone", False)]
    for i, person in enumerate(home):  # thirty accounts from one quiet network in five minutes
        person.started = start + dt.timedelta(hours=3, seconds=10 * i)
        person.connections = [(0.5, f"14.160.33.{i + 2}", "14.160.33.0/24", f"dev-{i}", False)]
    phone_ids = simulate.people_store(crowd, phone, per_attempt=20, seed=33)
    home_ids = simulate.people_store(crowd, home, per_attempt=20, seed=34)
    round_analyse(round=crowd.round)
    assert flags(crowd, phone_ids, FlagKind.NETWORK_BURST) == dict.fromkeys(phone_ids, Severity.HIGH)
    assert flags(crowd, home_ids, FlagKind.NETWORK_BURST) == dict.fromkeys(home_ids, Severity.WARN)
    assert not Flag.objects.filter(round=crowd.round, kind=FlagKind.NETWORK_BURST).exclude(
        attempt_id__in=[*phone_ids, *home_ids]).exists()  # the busy carrier networks of the crowd are not


def test_a_busy_carrier_network_bunching_predictions_is_not_a_farm():
    from anticheat.checks.people import PredictionRow, check_prediction_farming
    from anticheat.defaults import DEFAULTS

    rng = random.Random(41)
    # 600 people behind one carrier address range guessing log-uniformly: dense runs at small values.
    rows = [PredictionRow(i, i, int(math.exp(rng.uniform(math.log(50), math.log(50_000)))), "10.1.2.0/24",
                          f"d{i}") for i in range(600)]
    rows += [PredictionRow(10_000 + i, 10_000 + i, int(math.exp(rng.uniform(math.log(50), math.log(50_000)))),
                           f"100.{i % 250}.{i // 250}.0/24", f"e{i}") for i in range(19_400)]
    assert check_prediction_farming(rows, DEFAULTS) == []
    farm = [PredictionRow(90_000 + i, 90_000 + i, 1000 + i, "10.1.2.0/24", f"f{i}") for i in range(20)]
    found = check_prediction_farming(rows + farm, DEFAULTS)
    assert {f.attempt_id for f in found} >= {r.attempt_id for r in farm}
    assert {f.attempt_id for f in found} - {r.attempt_id for r in farm} <= set(range(600))  # none elsewhere

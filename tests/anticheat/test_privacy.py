"""Personal data of the anti-cheat evidence: disclosed in the privacy notice, in the citizen's own export,
wiped with the account, and deleted after the round's retention."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.services import account_anonymise, personal_data_export
from anticheat.evidence import network_of
from anticheat.models import AnswerEvent, ConnectionEvidence, RoundCheckSettings, SignupEvidence
from anticheat.services import evidence_purge
from tests.exports.factories import results_round

pytestmark = pytest.mark.django_db


@pytest.fixture
def evidence(org_a):
    data = results_round(org_a, people=2)
    attempt = data.attempts[0]
    ConnectionEvidence.objects.create(attempt=attempt, round_id=data.round.pk, user_id=attempt.user_id,
                                      at=attempt.started_at, address="113.161.42.7", network="113.161.42.0/24",
                                      device="abc123", user_agent="Chrome/131", replaced=False)
    AnswerEvent.objects.create(attempt=attempt, position=1, seq=1, at=attempt.started_at, status="stored")
    SignupEvidence.objects.create(user=attempt.user, at=timezone.now(), address="113.161.42.7",
                                  network="113.161.42.0/24", device="abc123")
    return data


def test_the_privacy_notice_discloses_network_and_device_evidence(client):
    html = client.get(reverse("accounts:privacy_notice")).content.decode()
    assert 'id="anti-cheat-evidence"' in html
    for word in ("địa chỉ mạng (IP)", "ce_device", "sao chép", "tải lại trang", "180 ngày"):
        assert word in html


def test_the_citizen_sees_their_evidence_and_deletion_wipes_it(evidence):
    user = evidence.attempts[0].user
    exported = personal_data_export(user=user)["anticheat"]
    assert exported["connections"][0]["address"] == "113.161.42.7"
    assert exported["signup"]["device"] == "abc123"
    account_anonymise(user=user, actor=user, reason="")
    row = ConnectionEvidence.objects.get(user_id=user.pk)
    assert (row.address, row.user_agent, row.device, row.network) == (None, "", "", "")
    assert not SignupEvidence.objects.filter(user_id=user.pk).exists()


def test_evidence_is_purged_after_the_round_retention(evidence):
    round = evidence.round
    RoundCheckSettings.objects.create(round=round, evidence_retention_days=30)
    assert evidence_purge(now=round.closes_at + dt.timedelta(days=29)) == 0
    assert ConnectionEvidence.objects.filter(round_id=round.pk).exists()
    assert evidence_purge(now=round.closes_at + dt.timedelta(days=31)) >= 2
    assert not ConnectionEvidence.objects.filter(round_id=round.pk).exists()
    assert not AnswerEvent.objects.filter(attempt__round=round).exists()
    assert RoundCheckSettings.objects.get(round=round).purged_at is not None


def test_networks_are_the_prefix_of_the_address():
    assert network_of("113.161.42.7") == "113.161.42.0/24"
    assert network_of("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert network_of("2001:db8:1:2::/64") == "2001:db8:1:2::/64"
    assert network_of("") == network_of("unknown") == ""

"""Periodic jobs of the accounts app."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.jobs import purge_expired_sms_reset_codes
from accounts.models import SmsResetCode
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_expired_sms_reset_codes_are_purged():
    user = UserFactory()
    now = timezone.now()
    expired = SmsResetCode.objects.create(user=user, code_hash="a" * 64, expires_at=now - dt.timedelta(seconds=1))
    live = SmsResetCode.objects.create(user=user, code_hash="b" * 64, expires_at=now + dt.timedelta(minutes=5))

    assert purge_expired_sms_reset_codes() == 1

    assert not SmsResetCode.objects.filter(pk=expired.pk).exists()
    assert SmsResetCode.objects.filter(pk=live.pk).exists()

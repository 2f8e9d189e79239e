"""Periodic jobs of the accounts app (run by ``manage.py run_worker``)."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import ContactChangeCode, SmsResetCode
from contest_engine.periodic import periodic


@periodic(every_seconds=15 * 60)
def purge_expired_sms_reset_codes() -> int:
    """Retention: a reset code is useless once expired, so its row (hash, tries) goes. Idempotent;
    concurrent workers delete disjoint or already-deleted rows, which is harmless."""
    deleted, _by_model = SmsResetCode.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


@periodic(every_seconds=15 * 60)
def purge_expired_contact_change_codes() -> int:
    """Retention: a pending phone/e-mail change holds the new value; once its code expired the row goes."""
    deleted, _by_model = ContactChangeCode.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted

"""Writes of the API app: creating, revoking and using tokens (the admin and the authentication call these)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation
from accounts.services import audit_record
from api.models import ApiToken, validate_scopes

TOKEN_PREFIX = "ce_"  # noqa: S105 - the public marker every token starts with, not a secret
PREFIX_SHOWN = 10  # "ce_" and 7 random characters: enough to tell tokens apart in a list, useless to log in
# last_used_at is a hint for the organiser ("is this client still calling?"), not a log: written at most this
# often so that a busy client does not turn every read into a write.
LAST_USED_PRECISION = dt.timedelta(minutes=5)
# Personal data served to a token is audited once per token, endpoint and round in this many seconds: the log
# says who could read what and since when, without 1,440 identical events a day from a portal polling each minute.
PERSONAL_DATA_AUDIT_SECONDS = 3600


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, organisation: Organisation, name: str, scopes: Iterable[str], actor: Any,
                     expires_at: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """A new token of ``organisation``; returns it and the raw token, which is stored nowhere (show it once).
    Audited (``api.token_created``: the scopes, never the token)."""
    scopes = sorted(set(scopes))
    validate_scopes(scopes)
    if not name.strip():
        raise ValidationError({"name": "Cần đặt tên cho mã truy cập."})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            organisation=organisation, name=name.strip(), key_prefix=raw[:PREFIX_SHOWN], key_digest=token_digest(raw),
            scopes=scopes, created_by=actor if getattr(actor, "pk", None) else None, expires_at=expires_at)
        audit_record(actor=actor, action="api.token_created", target=token, organisation=organisation,
                     data={"scopes": scopes, "name": token.name})
    return token, raw


def api_token_revoke(*, token: ApiToken, actor: Any, now: dt.datetime | None = None) -> bool:
    """Revoke ``token`` (idempotent: False when it was revoked already). Audited (``api.token_revoked``)."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor if getattr(actor, "pk", None) else None)
        if updated:
            audit_record(actor=actor, action="api.token_revoked", target=token, organisation=token.organisation_id)
    token.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return bool(updated)


def api_token_authenticate(*, raw: str, now: dt.datetime | None = None) -> ApiToken | None:
    """The live token ``raw`` stands for (not revoked, not expired, its organisation active), else None; notes
    when it was last used (at most every ``LAST_USED_PRECISION``)."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    now = now or timezone.now()
    token = (ApiToken.objects.select_related("organisation")
             .filter(key_digest=token_digest(raw), revoked_at__isnull=True, organisation__is_active=True).first())
    if token is None or (token.expires_at is not None and token.expires_at <= now):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_personal_data_served(*, token: ApiToken, endpoint: str, round_id: int, rows: int) -> bool:
    """Record in the audit log (``api.personal_data_read``: the token, endpoint, round and number of rows, never a
    value) that ``token`` was served unmasked personal data; at most once per ``PERSONAL_DATA_AUDIT_SECONDS``
    for one token, endpoint and round. Returns whether an event was written."""
    if rows <= 0 or not cache.add(f"api:pd-audit:{token.pk}:{endpoint}:{round_id}", 1,
                                  timeout=PERSONAL_DATA_AUDIT_SECONDS):
        return False
    audit_record(actor=None, action="api.personal_data_read", target=token, organisation=token.organisation_id,
                 data={"endpoint": endpoint, "round_id": round_id, "rows": rows, "token": token.key_prefix})
    return True

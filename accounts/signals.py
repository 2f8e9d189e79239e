"""Signals of accounts, for the apps above it (accounts never imports them).

``citizen_signed_up`` is sent by the sign-up view after the account was created (the view has what the
service does not: the request). kwargs: ``user``, ``address`` (as ``accounts.ratelimit.client_address``
reads it), ``user_agent``, ``device`` (the ``ce_device`` cookie, "" when absent), ``at``. The anticheat app
keeps them as evidence of account-creation bursts (docs/anti-cheat.md); the privacy notice says so.
"""

from __future__ import annotations

from django.dispatch import Signal

citizen_signed_up = Signal()

"""Hooks into lower apps, connected in AntiCheatConfig.ready()."""

from __future__ import annotations

import logging
from typing import Any

from anticheat.evidence import signup_record

logger = logging.getLogger(__name__)


def on_citizen_signed_up(sender: Any, user: Any, address: str = "", user_agent: str = "", device: str = "",
                         at: Any = None, **kwargs: Any) -> None:
    """Keep where an account was created from (account-creation bursts). Never fails a sign-up."""
    try:
        signup_record(user=user, address=address, user_agent=user_agent, device=device, at=at)
    except Exception:
        logger.exception("could not record the sign-up evidence of user %s", getattr(user, "pk", None))

"""Hooks into lower apps, connected in AntiCheatConfig.ready()."""

from __future__ import annotations

import logging
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from anticheat.evidence import signup_record
from anticheat.selectors import unreviewed_high_flags_count
from judging.review import ReviewFlag

logger = logging.getLogger(__name__)


def on_citizen_signed_up(sender: Any, user: Any, address: str = "", user_agent: str = "", device: str = "",
                         at: Any = None, **kwargs: Any) -> None:
    """Keep where an account was created from (account-creation bursts). Never fails a sign-up."""
    try:
        signup_record(user=user, address=address, user_agent=user_agent, device=device, at=at)
    except Exception:
        logger.exception("could not record the sign-up evidence of user %s", getattr(user, "pk", None))


def unreviewed_flags_for_approval(*, round: Any, ranking: Any) -> list[ReviewFlag]:
    """judging's approval page (``judging.review``): how many high anti-cheat flags nobody has decided on."""
    count = unreviewed_high_flags_count(round_id=round.pk)
    if not count:
        return []
    return [ReviewFlag(label=_("Cảnh báo gian lận mức nghiêm trọng chưa xem xét"), count=count,
                       url=reverse("anticheat:queue", kwargs={"round_id": round.pk}) + "?review=unreviewed")]

"""What the approval page must show besides the ranking itself: flags raised by other apps about the round's
attempts (suspected cheating and the like) that nobody has reviewed yet.

judging does not know those apps (a future ``anticheat`` app sits above it and imports it, never the other way):
an app registers a provider in its ``AppConfig.ready``::

    from judging.review import ReviewFlag, register_review_flags

    @register_review_flags
    def unreviewed_cheating_flags(*, round, ranking):
        count = Flag.objects.filter(attempt__round=round, reviewed_at__isnull=True).count()
        return [ReviewFlag(label="Nghi vấn gian lận chưa xem xét", count=count, url="/anticheat/…")] if count else []

The approval page lists every flag with its count and link, and the confirmation before approving repeats
them. Flags never block an approval by themselves: the organiser decides, having seen them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReviewFlag:
    label: str  # shown to the organiser (Vietnamese)
    count: int
    url: str = ""  # where to review them
    blocking: bool = False  # shown as an error rather than a warning


ReviewFlagsProvider = Callable[..., list[ReviewFlag]]
_providers: list[ReviewFlagsProvider] = []


def register_review_flags(provider: ReviewFlagsProvider) -> ReviewFlagsProvider:
    """Register ``provider(*, round, ranking) -> [ReviewFlag, …]`` (usable as a decorator)."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def unregister_review_flags(provider: ReviewFlagsProvider) -> None:
    if provider in _providers:
        _providers.remove(provider)


def review_flags(*, round: Any, ranking: Any) -> list[ReviewFlag]:
    """Every registered provider's unreviewed flags for ``round``. A failing provider is logged and shown as
    a flag of its own, so a broken check is never mistaken for a clean round."""
    flags: list[ReviewFlag] = []
    for provider in _providers:
        try:
            flags.extend(flag for flag in provider(round=round, ranking=ranking) if flag.count)
        except Exception:
            logger.exception("review flags provider %r failed for round %s", provider, getattr(round, "pk", None))
            from django.utils.translation import gettext as _

            flags.append(ReviewFlag(label=_("Không kiểm tra được một nguồn cảnh báo (xem nhật ký máy chủ)"),
                                    count=1, blocking=True))
    return flags

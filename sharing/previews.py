"""Link previews of a contest's public page: the Open Graph tags Facebook and Zalo read (og:title,
og:description, og:url, og:image with its size and type) and Twitter's card, always in Vietnamese (the
crawlers send no language cookie, and the people who see the preview read Vietnamese).

og:url is the contest page itself (its canonical address; the short link redirects there, so a pasted short
link previews the same), og:image the contest's generated card (``sharing:card``), versioned by what it shows
so that a crawler's cache is bypassed when the title or dates change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from contests.models import Contest
from contests.pages import MetaTag
from sharing import card
from sharing.selectors import contest_schedule, public_url

SITE_NAME = "Thi trực tuyến tìm hiểu pháp luật"
DESCRIPTION_LIMIT = 200


@dataclass(frozen=True)
class Preview:
    title: str
    description: str
    dates: str
    url: str
    image_url: str
    image_alt: str


def _shortened(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def card_version(*, contest: Contest, dates: str) -> str:
    """A short hash of what the card shows: a new one when the title, the organiser or the dates change."""
    seen = "\x1f".join((contest.title, contest.organisation.name, dates, contest.slug))
    return hashlib.sha256(seen.encode()).hexdigest()[:12]


def contest_preview(*, contest: Contest, request: Any) -> Preview:
    dates = contest_schedule(contest=contest).dates_text()
    lead = contest.summary.strip() or f"Cuộc thi do {contest.organisation.name} tổ chức."
    when = f" Thời gian: {dates[0].lower()}{dates[1:]}." if dates else ""
    description = _shortened(lead, DESCRIPTION_LIMIT - len(when)) + when
    image = reverse("sharing:card", kwargs={"slug": contest.slug}) + f"?v={card_version(contest=contest, dates=dates)}"
    return Preview(title=contest.title, description=description, dates=dates,
                   url=public_url(path=contest.get_absolute_url(), request=request),
                   image_url=public_url(path=image, request=request),
                   image_alt=f"{contest.title} — {contest.organisation.name}")


def contest_page_meta(request: Any, contest: Contest) -> list[MetaTag]:
    """The provider registered with ``contests.pages``: tags for a published contest's public page."""
    preview = contest_preview(contest=contest, request=request)
    og = [("og:type", "website"), ("og:site_name", SITE_NAME), ("og:locale", "vi_VN"),
          ("og:title", preview.title), ("og:description", preview.description), ("og:url", preview.url),
          ("og:image", preview.image_url), ("og:image:type", "image/png"),
          ("og:image:width", str(card.WIDTH)), ("og:image:height", str(card.HEIGHT)),
          ("og:image:alt", preview.image_alt)]
    twitter = [("twitter:card", "summary_large_image"), ("twitter:title", preview.title),
               ("twitter:description", preview.description), ("twitter:image", preview.image_url),
               ("twitter:image:alt", preview.image_alt)]
    return ([MetaTag("name", "description", preview.description)]
            + [MetaTag("property", key, value) for key, value in og]
            + [MetaTag("name", key, value) for key, value in twitter])

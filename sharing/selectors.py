"""Reads of the sharing app: which contest a short code names, a contest's dates, absolute public URLs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.tenancy import scope_for
from contests import errors
from contests.models import Contest, ContestVisibility
from sharing.models import ShareLink
from sharing.services import CODE_ALPHABET

SHARE_ROLES = (Role.ORGANISER,)
MAX_CODE_LENGTH = 16


def contest_by_code(*, code: str) -> Contest:
    """The published contest whose short code is ``code`` (any case). A draft's code, an unknown code and a
    malformed one are the same ``NotFound``: the link reveals nothing of a contest not yet public."""
    code = code.lower()
    if not code or len(code) > MAX_CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        raise errors.NotFound()
    link = (ShareLink.objects.select_related("contest")
            .filter(code=code, contest__visibility=ContestVisibility.PUBLISHED).first())
    if link is None:
        raise errors.NotFound()
    return link.contest


def contests_to_share(*, user: Any) -> QuerySet[Contest]:
    """The contests of the organisations where ``user`` organises, newest first."""
    return scope_for(Contest.objects.select_related("organisation"), user, SHARE_ROLES).order_by("-created_at", "-id")


@dataclass(frozen=True)
class RoundDates:
    name: str
    opens_at: dt.datetime
    closes_at: dt.datetime


@dataclass(frozen=True)
class Schedule:
    """A contest's rounds in order, in local time; ``starts``/``ends`` span them all (None without rounds)."""

    rounds: tuple[RoundDates, ...]

    @property
    def starts(self) -> dt.datetime | None:
        return min((r.opens_at for r in self.rounds), default=None)

    @property
    def ends(self) -> dt.datetime | None:
        return max((r.closes_at for r in self.rounds), default=None)

    def dates_text(self) -> str:
        """"Từ 01/03/2026 đến 31/03/2026" (a single day: "Ngày 01/03/2026"); empty without rounds."""
        if self.starts is None or self.ends is None:
            return ""
        first, last = f"{self.starts:%d/%m/%Y}", f"{self.ends:%d/%m/%Y}"
        return f"Ngày {first}" if first == last else f"Từ {first} đến {last}"

    def times_text(self) -> str:
        """"Từ 08:00 ngày 01/03/2026 đến 17:00 ngày 31/03/2026"; empty without rounds."""
        if self.starts is None or self.ends is None:
            return ""
        return f"Từ {self.starts:%H:%M} ngày {self.starts:%d/%m/%Y} đến {self.ends:%H:%M} ngày {self.ends:%d/%m/%Y}"


def contest_schedule(*, contest: Contest) -> Schedule:
    rounds = contest.rounds.order_by("position", "opens_at", "pk")
    return Schedule(rounds=tuple(
        RoundDates(name=r.name, opens_at=timezone.localtime(r.opens_at),
                   closes_at=timezone.localtime(r.effective_closes_at)) for r in rounds))


def public_url(*, path: str, request: Any = None) -> str:
    """``path`` as an absolute URL under ``PUBLIC_BASE_URL`` (the address citizens use, e.g.
    https://thi.cantho.gov.vn), else under the request's own scheme and host."""
    base = getattr(settings, "PUBLIC_BASE_URL", "").rstrip("/")
    if base:
        return base + path
    if request is None:
        raise ValueError("PUBLIC_BASE_URL is not set and there is no request to take the host from")
    return request.build_absolute_uri(path)


def short_url(*, link: ShareLink, request: Any = None) -> str:
    return public_url(path=reverse("sharing:short", kwargs={"code": link.code}), request=request)

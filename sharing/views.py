"""Sharing pages: thin — parse, call a selector or service, render.

Public: the short link (``/c/<code>/``, a redirect to a published contest's page, else 404) and the preview
card of a published contest. Staff (organisers of the contest's organisation; another organisation's contest
is a 404 like a missing one): the list of contests to share, a contest's share panel, its QR code as SVG or
PNG and its A4 poster as PDF — a draft's too, so that posters can be ready before the contest is published.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from accounts.tenancy import get_scoped_or_404, organisation_ids_for
from contests import errors
from contests.models import Contest
from contests.selectors import contest_get_public
from sharing import selectors
from sharing.card import CardText, card_png
from sharing.poster import PosterText, poster_pdf
from sharing.previews import card_version, contest_preview
from sharing.qr import qr_png, qr_svg
from sharing.services import share_link_get_or_create

CARD_CACHE_SECONDS = 24 * 60 * 60


@require_safe
def short_link(request: HttpRequest, code: str) -> HttpResponse:
    """302, not 301: a contest may be unpublished again, and a browser keeps a permanent redirect for good."""
    try:
        contest = selectors.contest_by_code(code=code)
    except errors.NotFound as exc:
        raise Http404 from exc
    response = HttpResponseRedirect(contest.get_absolute_url())
    response["Cache-Control"] = "public, max-age=300"
    return response


def _card(request: HttpRequest, contest: Contest) -> bytes:
    """The card PNG, cached by what it shows (a changed title or date draws a new one)."""
    link = share_link_get_or_create(contest=contest)
    url = selectors.short_url(link=link, request=request)
    dates = selectors.contest_schedule(contest=contest).dates_text()
    key = f"sharing:card:{contest.pk}:{card_version(contest=contest, dates=dates)}:{link.code}:{url}"
    body = cache.get(key)
    if body is None:
        body = card_png(CardText(organisation=contest.organisation.name, title=contest.title, dates=dates, url=url))
        cache.set(key, body, CARD_CACHE_SECONDS)
    return body


@require_safe
@cache_control(public=True, max_age=3600)
def card(request: HttpRequest, slug: str) -> HttpResponse:
    """The preview card (og:image) of a published contest; a draft's is a 404."""
    try:
        contest = contest_get_public(slug=slug)
    except errors.NotFound as exc:
        raise Http404 from exc
    return HttpResponse(_card(request, contest), content_type="image/png")


# --- staff ---------------------------------------------------------------------------------------------------


def _staff_contest(request: HttpRequest, contest_id: int) -> Contest:
    return get_scoped_or_404(Contest.objects.select_related("organisation"), request.user, selectors.SHARE_ROLES,
                             pk=contest_id)


def _file_name(contest: Contest, suffix: str) -> str:
    return f"{slugify(contest.slug)[:60] or contest.pk}-{suffix}"


def _private(response: HttpResponse, *, download: str = "") -> HttpResponse:
    response["Cache-Control"] = "private, max-age=300"
    if download:
        response["Content-Disposition"] = f'attachment; filename="{download}"'
    return response


@login_required
def contest_list(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser and not organisation_ids_for(request.user, selectors.SHARE_ROLES):
        raise PermissionDenied
    contests = selectors.contests_to_share(user=request.user)[:200]
    return render(request, "sharing/list.html", {"contests": contests})


@login_required
def panel(request: HttpRequest, contest_id: int) -> HttpResponse:
    contest = _staff_contest(request, contest_id)
    link = share_link_get_or_create(contest=contest)
    return render(request, "sharing/panel.html", {
        "contest": contest,
        "short_url": selectors.short_url(link=link, request=request),
        "page_url": selectors.public_url(path=contest.get_absolute_url(), request=request),
        "schedule": selectors.contest_schedule(contest=contest),
        "preview": contest_preview(contest=contest, request=request),
    })


@login_required
def qr(request: HttpRequest, contest_id: int, kind: str) -> HttpResponse:
    """The short link's QR code: ``kind`` "svg" or "png"; ``?download=1`` as a file to save."""
    contest = _staff_contest(request, contest_id)
    url = selectors.short_url(link=share_link_get_or_create(contest=contest), request=request)
    download = _file_name(contest, f"qr.{kind}") if request.GET.get("download") else ""
    if kind == "svg":
        body = qr_svg(url=url, title=_("Mã QR của cuộc thi %(title)s") % {"title": contest.title})
        return _private(HttpResponse(body, content_type="image/svg+xml"), download=download)
    return _private(HttpResponse(qr_png(url=url), content_type="image/png"), download=download)


@login_required
def staff_card(request: HttpRequest, contest_id: int) -> HttpResponse:
    """The preview card as the share panel shows it (a draft's too)."""
    contest = _staff_contest(request, contest_id)
    return _private(HttpResponse(_card(request, contest), content_type="image/png"))


@login_required
def poster(request: HttpRequest, contest_id: int) -> HttpResponse:
    contest = _staff_contest(request, contest_id)
    link = share_link_get_or_create(contest=contest)
    body = poster_pdf(PosterText(organisation=contest.organisation.name, title=contest.title,
                                 summary=contest.summary, schedule=selectors.contest_schedule(contest=contest),
                                 url=selectors.short_url(link=link, request=request)))
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{_file_name(contest, "ap-phich.pdf")}"'
    response["Cache-Control"] = "private, no-store"
    return response

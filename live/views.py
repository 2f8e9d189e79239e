"""Pages of live games: thin — scope through accounts.tenancy, call a service or selector, render.

Staff pages (list, new game, host controls, presenter screen, QR code, results) are for organisers and judges of
the game's organisation; another organisation's game is a 404 like a missing one. The join and play pages
are public (a PIN or a QR code; a login in games for registered contestants).
"""

from __future__ import annotations

import io
import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.ratelimit import client_address, ratelimit_hit
from accounts.tenancy import get_scoped_or_404, organisation_ids_for, scope_for
from live import errors, selectors
from live.forms import JoinForm, SessionForm
from live.models import LiveSession, Phase
from live.services.players import (
    TOKEN_MAX_AGE,
    cookie_name,
    player_from_token,
    player_join,
    player_token,
    session_by_pin,
)
from live.services.results import session_workbook_write
from live.services.sessions import HOST_ROLES, session_create

JOIN_LIMIT_PER_ADDRESS = (60, 60)  # loose: a school or a ward hall shares one address


def _host_session(request: HttpRequest, session_id: int) -> LiveSession:
    if not request.user.is_superuser and not organisation_ids_for(request.user, HOST_ROLES):
        raise PermissionDenied
    return get_scoped_or_404(LiveSession.objects.select_related("organisation", "contest", "result_round"),
                             request.user, HOST_ROLES, pk=session_id)


def join_url(request: HttpRequest, session: LiveSession) -> str:
    return request.build_absolute_uri(reverse("live:join") + f"?pin={session.pin}")


@login_required
def session_list(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser and not organisation_ids_for(request.user, HOST_ROLES):
        raise PermissionDenied
    sessions = scope_for(LiveSession.objects.select_related("organisation", "contest"), request.user,
                         HOST_ROLES).order_by("-created_at")[:100]
    return render(request, "live/index.html", {"sessions": sessions})


@login_required
@require_http_methods(["GET", "POST"])
def session_new(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser and not organisation_ids_for(request.user, HOST_ROLES):
        raise PermissionDenied
    form = SessionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = session_create(
                actor=request.user, organisation=data["organisation"], title=data["title"], mode=data["mode"],
                scoring=data["scoring"], streak_bonus=data["streak_bonus"],
                seconds_per_question=data["seconds_per_question"], join_policy=data["join_policy"],
                late_join=data["late_join"], contest=data.get("contest"), source_round=data.get("source_round"),
                blueprint=form.blueprint())
        except errors.LiveError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Đã tạo trò chơi. Mã PIN: %(pin)s") % {"pin": session.pin})
            return redirect("live:host", session_id=session.pk)
    return render(request, "live/new.html", {"form": form})


@login_required
def host_page(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _host_session(request, session_id)
    return render(request, "live/host.html", {"session": session, "join_url": join_url(request, session),
                                              "ws_url": f"/ws/live/{session.pk}/host/"})


@login_required
def screen_page(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _host_session(request, session_id)
    return render(request, "live/screen.html", {"session": session, "join_url": join_url(request, session),
                                                "ws_url": f"/ws/live/{session.pk}/screen/"})


@login_required
def qr_code(request: HttpRequest, session_id: int) -> HttpResponse:
    """The join link with the PIN as an SVG QR code (segno, BSD): players scan it from the projector."""
    import segno

    session = _host_session(request, session_id)
    buffer = io.BytesIO()
    segno.make(join_url(request, session), error="m").save(buffer, kind="svg", scale=10, border=2, xmldecl=False,
                                                          title=_("Mã QR tham gia trò chơi"))
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
def results_page(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _host_session(request, session_id)
    return render(request, "live/results.html", {"session": session,
                                                 "players": selectors.results_rows(session_id=session.pk)[:500]})


@login_required
def results_workbook(request: HttpRequest, session_id: int) -> FileResponse:
    session = _host_session(request, session_id)
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    session_workbook_write(session=session, out=handle, actor=request.user, now=timezone.now())
    handle.seek(0)
    name = f"tro-choi-{slugify(session.title)[:50] or session.pk}-{session.pin}.xlsx"
    response = FileResponse(handle, as_attachment=True, filename=name,
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Cache-Control"] = "private, no-store"
    return response


# --- players -------------------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    """Join by PIN (typed, or from the QR code's link): a nickname in anonymous games, the login in games for
    registered contestants."""
    form = JoinForm(request.POST or None, initial={"pin": request.GET.get("pin", "")})
    session = None
    pin = (request.POST.get("pin") if request.method == "POST" else request.GET.get("pin")) or ""
    if pin:
        try:
            session = session_by_pin(pin=pin)
        except errors.LiveError:
            session = None
    if request.method == "POST" and form.is_valid():
        if not ratelimit_hit(scope="live:join", identifier=client_address(request),
                             limit=JOIN_LIMIT_PER_ADDRESS).allowed:
            form.add_error(None, errors.TooManyJoins().message)
        elif session is None:
            form.add_error("pin", errors.SessionNotFound().message)
        else:
            try:
                player, _created = player_join(session=session, user=request.user,
                                               nickname=form.cleaned_data.get("nickname", ""))
            except errors.LiveError as exc:
                form.add_error("nickname" if exc.code.startswith("nickname") else None, exc.message)
            else:
                response = redirect("live:play", session_id=session.pk)
                response.set_cookie(cookie_name(session.pk), player_token(session_id=session.pk, player_id=player.pk),
                                    max_age=TOKEN_MAX_AGE, httponly=True, samesite="Lax",
                                    secure=request.is_secure())
                return response
    return render(request, "live/join.html", {"form": form, "session": session})


def play(request: HttpRequest, session_id: int) -> HttpResponse:
    """The player's phone page; the game arrives over the socket."""
    player_id = player_from_token(request.COOKIES.get(cookie_name(session_id)), session_id=session_id)
    session = LiveSession.objects.filter(pk=session_id).first()
    if player_id is None or session is None or not session.players.filter(pk=player_id).exists():
        return redirect("live:join")
    return render(request, "live/play.html", {"session": session, "ws_url": f"/ws/live/{session.pk}/play/",
                                              "finished": session.phase == Phase.FINISHED})

"""The project's own pages: home, health check, favicon, and the staff menu's pages (hub lists, the guide)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import markdown
import nh3
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from accounts.models import Role
from accounts.tenancy import is_staff_member, organisation_ids_for, scope_for
from contest_engine import health
from contest_engine.staff_menu import menu_for
from contests.models import Round
from contests.selectors import contest_list_public
from leaderboards import selectors as leaderboard_selectors

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    # Judges and organisers land on the public home too; it points them to their own pages first.
    staff_home = bool(organisation_ids_for(request.user, [Role.JUDGE, Role.ORGANISER])) or getattr(
        request.user, "is_superuser", False)
    # Writers and reviewers land here too: the bank is one click away.
    bank_home = bool(organisation_ids_for(request.user, [Role.WRITER, Role.REVIEWER])) or getattr(
        request.user, "is_superuser", False)
    return render(request, "home.html", {"contests": contest_list_public()[:6], "staff_home": staff_home,
                                         "bank_home": bank_home})


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers request whatever a page says: the static (cache-busted) icon."""
    return HttpResponsePermanentRedirect(static("favicon.ico"))


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process is up and serving — 200 whatever the database does (restarting every server
    process because PostgreSQL is away would only add a reconnect storm to the outage). The body says what
    it saw: ``{"status": "ok", "database": "up" | "busy" | "down"}``. Supervisors and container runtimes probe this."""
    return JsonResponse({"status": "ok", "database": health.database_state()})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: this process can serve contestants now — 200 ``{"status": "ready", "database": "up", "redis":
    "up", "tasks": "up"}``, or 503 ``{"status": "unavailable", …}`` while one of them is ``down`` (or the
    database ``busy``: every pooled connection of this process stays in use). ``"unused"``: not configured (the
    embedded default has no Redis); ``"tasks": "stalled"``: the queue answers but no worker took its next task
    for ``READYZ_TASK_STALL_SECONDS`` — reported, still 200. Each check answers within about a second and opens
    no connection while its service is up (contest_engine/health.py), so the reverse proxy and load balancers
    can probe this every second to route around a process that cannot work."""
    ready, body = health.readiness()
    return JsonResponse(body, status=200 if ready else 503)


# --- Staff pages: the menu's hubs ---------------------------------------------------------------------------

STAFF_ROUND_PURPOSES = ("leaderboards", "units", "exports")


def staff_home(request: HttpRequest) -> HttpResponse:
    """Everything the signed-in staff member's roles can use (the staff menu, as a page)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    entries = menu_for(request.user)
    if not entries:
        raise PermissionDenied
    return render(request, "staff/home.html", {"entries": entries})


def staff_rounds(request: HttpRequest, purpose: str) -> HttpResponse:
    """Pick a round (or a whole contest) for one purpose of the menu: its live and official boards, its unit
    dashboards, its judging and approval, its exports. Scoped to the organisations where the user is an
    organiser or judge."""
    if purpose not in STAFF_ROUND_PURPOSES:
        raise Http404
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    rounds = list(scope_for(Round.objects.select_related("contest__organisation"), request.user,
                            [Role.ORGANISER, Role.JUDGE]).order_by("-contest__created_at", "contest_id", "position",
                                                                   "opens_at")[:300])
    if not rounds and not request.user.is_superuser and not organisation_ids_for(
            request.user, [Role.ORGANISER, Role.JUDGE]):
        raise PermissionDenied
    # A unit's organiser follows its own participation in contests of other organisers open to it.
    unit_contests = (leaderboard_selectors.contests_open_to_units(
        unit_ids=leaderboard_selectors.units_of_staff(user=request.user)) if purpose == "units" else [])
    contests: list[dict] = []
    for round in rounds:
        if not contests or contests[-1]["contest"].pk != round.contest_id:
            contests.append({"contest": round.contest, "rounds": []})
        contests[-1]["rounds"].append(round)
    return render(request, "staff/rounds.html", {"purpose": purpose, "contests": contests,
                                                 "unit_contests": unit_contests})


GUIDE_DIR = Path(__file__).resolve().parent.parent / "docs" / "guide"


def staff_guide(request: HttpRequest, name: str = "") -> HttpResponse:
    """The organisers' guide (docs/guide/, Vietnamese Markdown with screenshots made by
    scripts/guide_screenshots.py), rendered for staff. Only the guide's own ``*.md`` pages and ``img/*.png``
    files are served."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not is_staff_member(request.user):
        raise PermissionDenied
    if re.fullmatch(r"img/[a-z0-9-]+\.png", name):
        path = GUIDE_DIR / name
        if not path.is_file():
            raise Http404
        response = FileResponse(path.open("rb"), content_type="image/png")
        response["Cache-Control"] = "private, max-age=3600"
        return response
    if name and not re.fullmatch(r"[A-Za-z0-9-]+\.md", name):
        raise Http404
    path = GUIDE_DIR / (name or "README.md")
    if not path.is_file():
        raise Http404
    html = markdown.markdown(path.read_text(encoding="utf-8"), extensions=["tables"], output_format="html")
    html = nh3.clean(html, tags={"h1", "h2", "h3", "h4", "p", "ul", "ol", "li", "a", "img", "strong", "em", "code",
                                 "pre", "table", "thead", "tbody", "tr", "th", "td", "blockquote", "br", "hr"},
                     attributes={"a": {"href"}, "img": {"src", "alt", "width", "height"}})
    title = next((line[2:].strip() for line in path.read_text(encoding="utf-8").splitlines()
                  if line.startswith("# ")), "")
    return render(request, "staff/guide.html", {"html": html, "title": title, "is_index": not name})

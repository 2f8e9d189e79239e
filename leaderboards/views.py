"""Leaderboard pages: thin — resolve the round, ask ``leaderboards.visibility`` what this viewer may see, read
the boards (selectors, live boards), render.

Public pages show masked names (family name + initials) and never phone or ID numbers; judges and
organisers of the owning organisation see full names and the live board while the public one is frozen.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, Role
from accounts.tenancy import get_scoped_or_404, has_role, is_staff_member
from contests.models import Contest, PredictionTarget, Round
from leaderboards import selectors
from leaderboards.errors import LeaderboardError
from leaderboards.models import RankingStatus
from leaderboards.services import live, populations
from leaderboards.visibility import (
    STAFF_ROLES,
    display_name,
    freeze_at,
    is_round_staff,
    round_is_over,
    viewer_visibility,
)

PAGE = 100


def _round_or_404(round_id: int, user) -> Round:
    round = get_object_or_404(Round.objects.select_related("contest__organisation"), pk=round_id)
    if not round.contest.is_published and not is_round_staff(user, round):
        raise Http404
    return round


def _page(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def round_board(request: HttpRequest, round_id: int) -> HttpResponse:
    """The live provisional board (pushed over ws/leaderboards/<id>/) and, once published, the official one."""
    round = _round_or_404(round_id, request.user)
    now = timezone.now()
    visibility = viewer_visibility(round=round, user=request.user, now=now)
    rows = []
    me = None
    if visibility.view is not None:
        rows = live.rows_payload(live.leaderboard_top(round=round, view=visibility.view, limit=PAGE),
                                 masked=not visibility.staff)
        if request.user.is_authenticated:
            found = live.leaderboard_my_rank(round=round, user_id=request.user.pk, view=visibility.view)
            me = live.rows_payload([found], masked=not visibility.staff)[0] if found else None
    ranking = selectors.ranking_latest(round=round, published_only=not visibility.staff)
    return render(request, "leaderboards/round.html", {
        "round": round, "contest": round.contest, "visibility": visibility, "rows": rows, "me": me,
        "ranking": ranking, "freeze_at": freeze_at(round), "now": now,
    })


def round_official(request: HttpRequest, round_id: int) -> HttpResponse:
    """The stored official ranking: published for everyone; the current version (any status) for staff."""
    round = _round_or_404(round_id, request.user)
    staff = is_round_staff(request.user, round)
    ranking = selectors.ranking_latest(round=round, published_only=not staff)
    if ranking is None:
        raise Http404
    page = _page(request)
    entries = selectors.ranking_entries(ranking=ranking, limit=PAGE, offset=(page - 1) * PAGE)
    for entry in entries:
        entry.display = display_name(entry.full_name, masked=not staff or
                                     ranking.status == RankingStatus.PUBLISHED)
    return render(request, "leaderboards/official.html", {
        "round": round, "contest": round.contest, "ranking": ranking, "entries": entries, "staff": staff,
        "page": page, "has_next": len(entries) == PAGE, "with_prediction": ranking.prediction_target_value is not None,
        "target_label": dict(PredictionTarget.choices).get(ranking.prediction_target_kind, ""),
    })


def contest_board(request: HttpRequest, slug: str) -> HttpResponse:
    """Contest-wide ranking (sum of rounds or best round) from the rounds' official rankings: for the public
    the published ones so far, round by round; for staff the newest version of every ranked round. The page
    lists each round and whether it counts (and why not), so an empty board says why."""
    contest = get_object_or_404(Contest.objects.select_related("organisation"), slug=slug)
    staff = has_role(request.user, contest.organisation_id, STAFF_ROLES)
    if not staff and not contest.is_published:
        raise Http404
    rankings = selectors.contest_rankings_counted(contest=contest, published_only=not staff)
    now = timezone.now()
    rounds = []
    for r in contest.rounds.all():
        r.contest = contest
        ranking = rankings.get(r.pk)
        if ranking is not None:
            state = "counted"
        elif not round_is_over(r, now):
            state = "open" if r.opens_at <= now else "upcoming"
        else:
            state = "awaiting"  # over, official ranking not computed or not published yet
        rounds.append({"round": r, "ranking": ranking, "state": state})
    page = _page(request)
    rows = selectors.contest_ranking(contest=contest, limit=PAGE, offset=(page - 1) * PAGE, rankings=rankings)
    for row in rows:
        row["display"] = display_name(row["name"], masked=not staff)
    return render(request, "leaderboards/contest.html", {
        "contest": contest, "rows": rows, "page": page, "has_next": len(rows) == PAGE, "staff": staff,
        "rounds": rounds, "provisional": staff and any(
            item["ranking"] is not None and item["ranking"].status != RankingStatus.PUBLISHED for item in rounds),
    })


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Organiser/judge dashboard: the rounds of their organisations, and the contests of any organiser that
    are open to the units they run (a ward follows its own participation in the city's contest)."""
    if not is_staff_member(request.user):
        raise PermissionDenied
    rounds = list(selectors.rounds_for_dashboard(user=request.user)[:200])
    unit_contests = selectors.contests_open_to_units(unit_ids=selectors.units_of_staff(user=request.user))
    return render(request, "leaderboards/dashboard.html", {"rounds": rounds, "unit_contests": unit_contests})


@login_required
def unit_participation(request: HttpRequest, slug: str, unit_id: int) -> HttpResponse:
    """One unit's own participation in a contest — registered, in progress, finished, attempts, rate, for the
    contest and per round, and its people with names masked — for the unit's organisers and judges when the
    contest is open to it, and for the contest's staff. Anyone else: 404."""
    contest = get_object_or_404(Contest.objects.select_related("organisation"), slug=slug)
    unit = get_object_or_404(Organisation, pk=unit_id)
    if not selectors.unit_participation_visible(user=request.user, contest=contest, unit=unit):
        raise Http404
    page = _page(request)
    people = selectors.unit_people(contest=contest, unit=unit, limit=PAGE, offset=(page - 1) * PAGE)
    figures = selectors.unit_participation(contest=contest, unit=unit)
    return render(request, "leaderboards/unit_participation.html", {
        "contest": contest, "unit": unit, "total": figures[0], "per_round": figures[1:], "people": people,
        "page": page, "has_next": len(people) == PAGE, "offset": (page - 1) * PAGE,
    })


@login_required
def unit_dashboard(request: HttpRequest, round_id: int) -> HttpResponse:
    """Collective leaderboard of a round: entrants, attempts, participation rate and winners per unit, with a
    server-rendered bar chart (no JavaScript library)."""
    round = Round.objects.select_related("contest").filter(pk=round_id).first()
    if round is not None and not has_role(request.user, round.contest.organisation_id, STAFF_ROLES):
        # A unit's organiser (not the contest's) sees only their own unit's page.
        mine = [u for u in selectors.units_of_staff(user=request.user)
                if selectors.contest_open_to_unit(contest=round.contest, unit_id=u)]
        if mine:
            return redirect("leaderboards:unit_participation", slug=round.contest.slug, unit_id=min(mine))
    round = get_scoped_or_404(Round.objects.select_related("contest"), request.user, STAFF_ROLES,
                              pk=round_id)
    order = request.GET.get("order", "entrants")
    if order not in {"entrants", "rate", "winners"}:
        order = "entrants"
    stats = selectors.unit_stats(contest=round.contest, round=round, order=order)
    top_entrants = max((s.entrants for s in stats), default=0) or 1
    for s in stats:
        s.bar = round_percent(s.entrants, top_entrants)
    return render(request, "leaderboards/units.html", {
        "round": round, "contest": round.contest, "stats": stats, "order": order,
        "ranking": selectors.ranking_latest(round=round), "now": timezone.now(),
        "refresh_seconds": _refresh_seconds(request),
        "can_set_population": has_role(request.user, round.contest.organisation_id, [Role.ORGANISER]),
    })


@login_required
def contest_unit_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    """The same collective leaderboard over every round of a contest (entrants counted once per unit)."""
    contest = Contest.objects.filter(slug=slug).first()
    if contest is not None and not has_role(request.user, contest.organisation_id, STAFF_ROLES):
        mine = [u for u in selectors.units_of_staff(user=request.user)
                if selectors.contest_open_to_unit(contest=contest, unit_id=u)]
        if mine:
            return redirect("leaderboards:unit_participation", slug=contest.slug, unit_id=min(mine))
    contest = get_scoped_or_404(Contest.objects.all(), request.user, STAFF_ROLES, slug=slug)
    order = request.GET.get("order", "entrants")
    if order not in {"entrants", "rate", "winners"}:
        order = "entrants"
    stats = selectors.unit_stats(contest=contest, order=order)
    top_entrants = max((s.entrants for s in stats), default=0) or 1
    for s in stats:
        s.bar = round_percent(s.entrants, top_entrants)
    return render(request, "leaderboards/units.html", {
        "round": None, "contest": contest, "stats": stats, "order": order, "ranking": True, "now": timezone.now(),
        "refresh_seconds": _refresh_seconds(request),
        "can_set_population": has_role(request.user, contest.organisation_id, [Role.ORGANISER])})


@login_required
def contest_unit_populations(request: HttpRequest, slug: str) -> HttpResponse:
    """The contest's population of each unit (the participation rate's denominator), typed per unit or
    pasted from a spreadsheet: organisers of the contest's organisation only (others: 404)."""
    contest = get_scoped_or_404(Contest.objects.all(), request.user, [Role.ORGANISER], slug=slug)
    problems: list[str] = []
    pasted = ""
    if request.method == "POST":
        pasted = request.POST.get("pasted", "")
        try:
            if pasted.strip():
                values: dict[int, int | None] = dict(populations.populations_parse(contest=contest, text=pasted))
            else:
                values = {}
                for unit in populations.contest_units(contest=contest):
                    raw = request.POST.get(f"pop-{unit.pk}", "").strip().replace(".", "").replace(" ", "")
                    if raw == "":
                        values[unit.pk] = None
                    elif raw.isdecimal():
                        values[unit.pk] = int(raw)
                    else:
                        problems.append(_("Số người của %(name)s phải là số nguyên.") % {"name": unit.name})
            if not problems:
                changed = populations.unit_populations_set(contest=contest, actor=request.user, values=values)
                messages.success(request, _("Đã lưu số người của %(n)s đơn vị.") % {"n": changed})
                return redirect("leaderboards:contest_units", slug=contest.slug)
        except LeaderboardError as exc:
            problems = getattr(exc, "problems", None) or [exc.message]
    current = selectors.unit_populations(contest=contest)
    rows = [{"unit": u, "value": current.get(u.pk), "fallback": u.registered_population}
            for u in populations.contest_units(contest=contest)]
    return render(request, "leaderboards/unit_populations.html", {
        "contest": contest, "rows": rows, "problems": problems, "pasted": pasted})


def _refresh_seconds(request: HttpRequest) -> int:
    """How often the units dashboard refreshes itself: 30 s, or ``?refresh=`` between 5 s and 5 min."""
    raw = request.GET.get("refresh", "")
    return min(max(int(raw), 5), 300) if raw.isdecimal() and len(raw) < 5 else 30


def round_percent(value: int, top: int) -> float:
    return round(100.0 * value / top, 1) if top else 0.0

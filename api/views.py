"""The read API, version 1 (``/api/v1/``): thin views that parse the query, call ``api.selectors`` and return the
wire format of ``api.schemas``. docs/api.md has the guide; ``docs/api/openapi.json`` is the committed schema
(``manage.py api_openapi`` writes it; a test keeps it equal to what this module generates)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Path, Query, Router
from ninja.errors import HttpError

from api import selectors
from api.auth import PUBLIC_AUTH, ProjectRateThrottle, require_scope, token_auth
from api.http import ReadApi
from api.models import Scope
from api.schemas import (
    ContestDetailOut,
    ContestPage,
    Error,
    FlagPage,
    ParticipationPage,
    ResultsPage,
    ValidationErrorOut,
)
from api.services import api_personal_data_served
from contests.models import Contest, Round

MAX_ID = 2**53  # ids are bigints; a larger number is no id (and must not reach PostgreSQL as an overflow)
SLUG = r"^[-a-zA-Z0-9_]{1,100}$"
DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET = 50, 100, 1_000_000
ERRORS = {401: Error, 404: Error, 422: ValidationErrorOut, 429: Error}
ORG_ERRORS = {**ERRORS, 403: Error}
NOT_MODIFIED = {"responses": {"304": {"description": "Not Modified: If-None-Match named the current ETag."}}}
# Public endpoints take a token too (it is then the token's rate limit that counts), or none: ninja lists the
# bearer scheme, this adds the empty requirement (OpenAPI's "or no credential"); lists are appended.
PUBLIC_EXTRA = {**NOT_MODIFIED, "security": [{}]}

read_api = ReadApi(
    title="contest-engine read API",
    version="1",
    description=("Public contests, rounds, published results (names masked) and unit participation; an "
                 "organisation's own data for its API tokens, by scope. Guide: docs/api.md."),
    urls_namespace="api-v1",
    docs_url=None,  # Swagger UI loads scripts from a CDN, which the site's Content-Security-Policy forbids
    throttle=[ProjectRateThrottle()],
)

public = Router(auth=PUBLIC_AUTH, tags=["public"])
org = Router(auth=token_auth, tags=["organisation"])


def _not_found() -> HttpError:
    return HttpError(404, "Không tìm thấy.")


def _links(request: HttpRequest, *, offset: int, limit: int, count: int) -> tuple[str | None, str | None]:
    """Next and previous page URLs of an offset page (None at either end)."""

    def url(new_offset: int) -> str:
        params = request.GET.copy()
        params["offset"], params["limit"] = str(new_offset), str(limit)
        return f"{request.path}?{params.urlencode()}"

    following = url(offset + limit) if offset + limit < count else None
    preceding = url(max(0, offset - limit)) if offset > 0 else None
    return following, preceding


CONTEST_FIELDS = ("slug", "title", "summary", "visibility", "organisation__slug", "organisation__name", "round_count",
                  "first_opens", "last_closes", "updated_at")


def _contest_url_prefix() -> str:
    """What ``Contest.get_absolute_url`` puts before the slug: reversed once per page, not once per row."""
    return reverse("contests:detail", kwargs={"slug": "0"})[:-2]


def _contest_row(row: dict[str, Any], url_prefix: str) -> dict[str, Any]:
    return {"slug": row["slug"], "title": row["title"], "summary": row["summary"], "visibility": row["visibility"],
            "organisation": {"slug": row["organisation__slug"], "name": row["organisation__name"]},
            "round_count": row["round_count"], "first_opens_at": row["first_opens"],
            "last_closes_at": row["last_closes"], "web_url": f"{url_prefix}{row['slug']}/",
            "updated_at": row["updated_at"]}


def _contest_out(contest: Contest) -> dict[str, Any]:
    row = {name: getattr(contest, name) for name in CONTEST_FIELDS if "__" not in name}
    row |= {"organisation__slug": contest.organisation.slug, "organisation__name": contest.organisation.name}
    return _contest_row(row, _contest_url_prefix())


def _contest_page(request: HttpRequest, contests: Any, total: Any, offset: int, limit: int) -> dict[str, Any]:
    """A page of an annotated contest queryset (``total``: the same contests, unannotated, to count)."""
    count = total.count()
    following, preceding = _links(request, offset=offset, limit=limit, count=count)
    prefix = _contest_url_prefix()
    return {"count": count, "next": following, "previous": preceding,
            "items": [_contest_row(row, prefix) for row in contests.values(*CONTEST_FIELDS)[offset:offset + limit]]}


def _round_out(round: Round, *, now: Any, published: set[int]) -> dict[str, Any]:
    s = round.settings
    return {"id": round.pk, "name": round.name, "position": round.position, "opens_at": round.opens_at,
            "closes_at": round.effective_closes_at, "status": selectors.round_status(round, now),
            "time_limit_seconds": s.time_limit_seconds, "question_count": round.question_total,
            "max_attempts": s.max_attempts, "prediction_enabled": s.prediction_enabled,
            "prediction_target_kind": s.prediction_target_kind,
            "prediction_target_value": selectors.round_prediction_target(round),
            "results_published": round.pk in published}


def _contest_detail(contest: Contest) -> dict[str, Any]:
    rounds = selectors.contest_rounds(contest=contest)
    published = selectors.rounds_with_published_results(round_ids=[r.pk for r in rounds])
    now = timezone.now()
    return {**_contest_out(contest), "rules_html": contest.rules_text, "minimum_age": contest.minimum_age,
            "rounds": [_round_out(r, now=now, published=published) for r in rounds]}


def _results(request: HttpRequest, round: Round, ranking: Any, *, after: int, limit: int,
             personal: bool) -> dict[str, Any]:
    rows = selectors.result_rows(ranking=ranking, after=after, limit=limit, personal=personal)
    following = None
    if len(rows) == limit and rows[-1].position < ranking.entry_count:
        params = request.GET.copy()
        params["after"], params["limit"] = str(rows[-1].position), str(limit)
        following = f"{request.path}?{params.urlencode()}"
    return {"round_id": round.pk, "contest_slug": round.contest.slug,
            "ranking": {"version": ranking.version, "status": ranking.status, "computed_at": ranking.computed_at,
                        "published_at": ranking.published_at, "entry_count": ranking.entry_count,
                        "prediction_target_value": ranking.prediction_target_value},
            "count": ranking.entry_count, "next": following, "items": [vars(row) for row in rows]}


def _participation(request: HttpRequest, contest: Contest, round_id: int | None, *, public: bool, offset: int,
                   limit: int) -> dict[str, Any]:
    round = None
    if round_id is not None:
        round = contest.rounds.filter(pk=round_id).first()
        if round is None:
            raise _not_found()
        round.contest = contest
    figures = selectors.unit_figures(contest=contest, round=round, public=public)
    following, preceding = _links(request, offset=offset, limit=limit, count=len(figures))
    return {"contest_slug": contest.slug, "round_id": round_id, "count": len(figures), "next": following,
            "previous": preceding, "items": figures[offset:offset + limit]}


Limit = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page (at most 100).")
Offset = Query(0, ge=0, le=MAX_OFFSET, description="Items to skip.")
After = Query(0, ge=0, le=MAX_ID, description="Keyset: the position of the last row of the previous page.")
RoundFilter = Query(None, ge=1, le=MAX_ID, alias="round", description="One round's figures (default: the contest).")
SlugPath = Path(..., pattern=SLUG)
RoundPath = Path(..., ge=1, le=MAX_ID)


# --- Public ----------------------------------------------------------------------------------------------------


@public.get("/contests", response={200: ContestPage, **ERRORS}, operation_id="contests_list",
            openapi_extra=PUBLIC_EXTRA)
def contests_list(request: HttpRequest, limit: int = Limit, offset: int = Offset) -> Any:
    """Published contests, newest first."""
    return _contest_page(request, selectors.contests_public(), selectors.contests_public_to_count(), offset, limit)


@public.get("/contests/{slug}", response={200: ContestDetailOut, **ERRORS}, operation_id="contest_detail",
            openapi_extra=PUBLIC_EXTRA)
def contest_detail(request: HttpRequest, slug: str = SlugPath) -> Any:
    """A published contest with its rounds. A round's prediction target is null until its official close."""
    contest = selectors.contest_public(slug=slug)
    if contest is None:
        raise _not_found()
    return _contest_detail(contest)


@public.get("/contests/{slug}/participation", response={200: ParticipationPage, **ERRORS},
            operation_id="contest_participation", openapi_extra=PUBLIC_EXTRA)
def contest_participation(request: HttpRequest, slug: str = SlugPath, round_id: int | None = RoundFilter,
                          limit: int = Limit, offset: int = Offset) -> Any:
    """Participation per unit (đơn vị dự thi) of a published contest or one of its rounds, most entrants first;
    winners counted from published results only."""
    contest = selectors.contest_public(slug=slug)
    if contest is None:
        raise _not_found()
    return _participation(request, contest, round_id, public=True, offset=offset, limit=limit)


@public.get("/rounds/{round_id}/results", response={200: ResultsPage, **ERRORS}, operation_id="round_results",
            openapi_extra=PUBLIC_EXTRA)
def round_results(request: HttpRequest, round_id: int = RoundPath, after: int = After, limit: int = Limit) -> Any:
    """The published official result of a round: names masked (family name and initials), no phone, ID number
    or date of birth. 404 while nothing is published (or after a withdrawal)."""
    round = selectors.round_public(round_id=round_id)
    ranking = selectors.ranking_public(round=round) if round is not None else None
    if ranking is None:
        raise _not_found()
    return _results(request, round, ranking, after=after, limit=limit, personal=False)


# --- The organisation's own data (a token, with a scope) -----------------------------------------------------------


@org.get("/contests", response={200: ContestPage, **ORG_ERRORS}, operation_id="org_contests_list",
         openapi_extra=NOT_MODIFIED)
def org_contests_list(request: HttpRequest, limit: int = Limit, offset: int = Offset) -> Any:
    """The token's organisation's contests, drafts included (scope ``contests:read``)."""
    token = require_scope(request, Scope.CONTESTS)
    return _contest_page(request, selectors.contests_of(organisation_id=token.organisation_id),
                         Contest.objects.filter(organisation_id=token.organisation_id), offset, limit)


@org.get("/contests/{slug}", response={200: ContestDetailOut, **ORG_ERRORS}, operation_id="org_contest_detail",
         openapi_extra=NOT_MODIFIED)
def org_contest_detail(request: HttpRequest, slug: str = SlugPath) -> Any:
    """One of the organisation's contests with its rounds (scope ``contests:read``)."""
    token = require_scope(request, Scope.CONTESTS)
    contest = selectors.contest_of(organisation_id=token.organisation_id, slug=slug)
    if contest is None:
        raise _not_found()
    return _contest_detail(contest)


@org.get("/contests/{slug}/participation", response={200: ParticipationPage, **ORG_ERRORS},
         operation_id="org_contest_participation", openapi_extra=NOT_MODIFIED)
def org_contest_participation(request: HttpRequest, slug: str = SlugPath, round_id: int | None = RoundFilter,
                              limit: int = Limit, offset: int = Offset) -> Any:
    """Participation per unit with people in an exam now and every version's winners (scope
    ``participation:read``)."""
    token = require_scope(request, Scope.PARTICIPATION)
    contest = selectors.contest_of(organisation_id=token.organisation_id, slug=slug)
    if contest is None:
        raise _not_found()
    return _participation(request, contest, round_id, public=False, offset=offset, limit=limit)


@org.get("/rounds/{round_id}/results", response={200: ResultsPage, **ORG_ERRORS}, operation_id="org_round_results",
         openapi_extra=NOT_MODIFIED)
def org_round_results(request: HttpRequest, round_id: int = RoundPath,
                      version: int | None = Query(None, ge=1, le=100_000, description="Default: the newest."),
                      after: int = After, limit: int = Limit) -> Any:
    """A version of the round's official ranking in any status (scope ``results:read``): names masked; the
    registered name, date of birth, phone and ID number with ``personal_data:read`` as well."""
    token = require_scope(request, Scope.RESULTS)
    round = selectors.round_of(organisation_id=token.organisation_id, round_id=round_id)
    ranking = selectors.ranking_for_organisation(round=round, version=version) if round is not None else None
    if ranking is None:
        raise _not_found()
    personal = token.has_scope(Scope.PERSONAL_DATA)
    page = _results(request, round, ranking, after=after, limit=limit, personal=personal)
    if personal:
        api_personal_data_served(token=token, endpoint="results", round_id=round.pk, rows=len(page["items"]))
    return page


@org.get("/rounds/{round_id}/flags", response={200: FlagPage, **ORG_ERRORS}, operation_id="org_round_flags",
         openapi_extra=NOT_MODIFIED)
def org_round_flags(request: HttpRequest, round_id: int = RoundPath,
                    severity: str | None = Query(None, pattern="^(info|warn|high)$"),
                    limit: int = Limit, offset: int = Offset) -> Any:
    """The anti-cheat flags of one of the organisation's rounds, most serious first, with the judges' decision
    (scope ``flags:read``); the contestant's full name and the evidence need ``personal_data:read``."""
    token = require_scope(request, Scope.FLAGS)
    round = selectors.round_of(organisation_id=token.organisation_id, round_id=round_id)
    if round is None:
        raise _not_found()
    flags = selectors.flags_of_round(round=round)
    if severity:
        flags = flags.filter(severity=severity)
    count = flags.count()
    personal = token.has_scope(Scope.PERSONAL_DATA)
    following, preceding = _links(request, offset=offset, limit=limit, count=count)
    items = [selectors.flag_row(f, personal=personal) for f in flags[offset:offset + limit]]
    if personal:
        api_personal_data_served(token=token, endpoint="flags", round_id=round.pk, rows=len(items))
    return {"round_id": round.pk, "count": count, "next": following, "previous": preceding, "items": items}


read_api.add_router("", public)
read_api.add_router("/org", org)


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other path under /api/v1/: the API's JSON 404, not the site's HTML page."""
    return JsonResponse({"detail": "Không tìm thấy."}, status=404)

"""The read API's rules: what the public sees (published only, names masked, no prediction target before the
close), scopes, tenancy, pagination, ETags and rate limits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from api.models import Scope
from leaderboards.visibility import display_name

pytestmark = pytest.mark.django_db

ALL_SCOPES = tuple(Scope.values)


# --- Public contests and rounds ----------------------------------------------------------------------------


def test_public_contests_list_only_published_contests(api_world, anon):
    response = anon.get("/contests")
    assert response.status_code == 200
    slugs = [c["slug"] for c in response.json()["items"]]
    assert api_world.contest.slug in slugs
    assert api_world.results_b.round.contest.slug in slugs
    assert api_world.draft.slug not in slugs
    assert anon.get(f"/contests/{api_world.draft.slug}").status_code == 404


def test_public_contest_detail_has_rounds_and_the_prediction_target_only_after_the_official_close(api_world, anon):
    open_round = RoundFactory_open(api_world.contest)
    body = anon.get(f"/contests/{api_world.contest.slug}").json()
    rounds = {r["id"]: r for r in body["rounds"]}
    closed = rounds[api_world.round.pk]
    assert closed["status"] == "closed"
    assert closed["prediction_target_value"] == 2
    assert closed["results_published"] is True
    live = rounds[open_round.pk]
    assert live["status"] == "open"
    assert live["results_published"] is False
    # The target is stored already (say by a premature write): it is still not shown before the close.
    assert open_round.prediction_target_value == 7
    assert live["prediction_target_value"] is None
    assert "blueprint" not in live
    assert "blueprint" not in body


def RoundFactory_open(contest):
    from tests.contests.factories import RoundFactory

    return RoundFactory(contest=contest, prediction_target_value=7)


def test_no_endpoint_carries_answer_keys_or_questions(api_world, bearer, make_token):
    client = bearer(make_token(api_world.contest.organisation, *ALL_SCOPES))
    texts = [client.get(path).content.decode() for path in (
        f"/contests/{api_world.contest.slug}", f"/org/contests/{api_world.contest.slug}",
        f"/org/rounds/{api_world.round.pk}/results", f"/rounds/{api_world.round.pk}/results")]
    for question in api_world.results.questions:
        for text in texts:
            assert question.stem not in text
    for text in texts:
        assert '"fraction"' not in text
        assert '"key"' not in text
        assert '"options"' not in text


# --- Published results and masking ------------------------------------------------------------------------------


def test_public_results_are_the_published_version_with_names_masked_and_no_personal_data(api_world, anon):
    response = anon.get(f"/rounds/{api_world.round.pk}/results")
    assert response.status_code == 200
    body = response.json()
    assert body["ranking"]["status"] == "published"
    assert body["ranking"]["version"] == api_world.ranking.version
    assert body["count"] == 4 == len(body["items"])
    registrations = {r.full_name: r for r in api_world.results.registrations}
    for row in body["items"]:
        assert row["full_name"] is None
        assert row["phone"] is None
        assert row["national_id"] is None
        assert row["date_of_birth"] is None
        assert row["name"] in {display_name(name, masked=True) for name in registrations}
        assert row["name"] not in registrations  # never the whole name
    text = response.content.decode()
    for registration in api_world.results.registrations:
        assert registration.national_id not in text
        assert registration.user.phone not in text
        assert registration.full_name not in text


def test_unpublished_results_are_not_public(api_world, anon):
    assert anon.get(f"/rounds/{api_world.results_b.round.pk}/results").status_code == 404


def test_a_withdrawn_result_leaves_the_public_api(api_world, anon):
    from leaderboards.models import RankingStatus, RoundRanking

    RoundRanking.objects.filter(pk=api_world.ranking.pk).update(status=RankingStatus.WITHDRAWN)
    assert anon.get(f"/rounds/{api_world.round.pk}/results").status_code == 404


def test_results_of_a_contest_taken_back_to_draft_are_not_public(api_world, anon):
    type(api_world.contest).objects.filter(pk=api_world.contest.pk).update(visibility="draft")
    assert anon.get(f"/rounds/{api_world.round.pk}/results").status_code == 404


def test_personal_data_needs_its_scope(api_world, bearer, make_token):
    org = api_world.contest.organisation
    masked = bearer(make_token(org, Scope.RESULTS)).get(f"/org/rounds/{api_world.round.pk}/results").json()
    assert all(row["full_name"] is None and row["phone"] is None for row in masked["items"])
    whole = bearer(make_token(org, Scope.RESULTS, Scope.PERSONAL_DATA)).get(
        f"/org/rounds/{api_world.round.pk}/results").json()
    by_name = {r.full_name: r for r in api_world.results.registrations}
    for row in whole["items"]:
        registration = by_name[row["full_name"]]
        assert row["national_id"] == registration.national_id
        assert row["phone"] == registration.user.phone
        assert row["date_of_birth"] == registration.date_of_birth.isoformat()
        assert row["name"] == display_name(registration.full_name, masked=True)


def test_organisation_results_include_unpublished_versions(api_world, bearer, make_token):
    client = bearer(make_token(api_world.results_b.round.contest.organisation, Scope.RESULTS))
    body = client.get(f"/org/rounds/{api_world.results_b.round.pk}/results").json()
    assert body["ranking"]["status"] == "draft"
    assert body["count"] == 2
    assert client.get(f"/org/rounds/{api_world.results_b.round.pk}/results?version=99").status_code == 404


# --- Scopes and tenancy -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "scope"), [
    ("/org/contests", Scope.CONTESTS),
    ("/org/contests/{slug}", Scope.CONTESTS),
    ("/org/contests/{slug}/participation", Scope.PARTICIPATION),
    ("/org/rounds/{round}/results", Scope.RESULTS),
    ("/org/rounds/{round}/flags", Scope.FLAGS),
])
def test_each_organisation_endpoint_needs_its_scope(api_world, bearer, make_token, anon, path, scope):
    org = api_world.contest.organisation
    url = path.format(slug=api_world.contest.slug, round=api_world.round.pk)
    others = [s for s in ALL_SCOPES if s != scope]
    assert anon.get(url).status_code == 401
    assert bearer("ce_not-a-real-token").get(url).status_code == 401
    assert bearer(make_token(org, *others)).get(url).status_code == 403
    assert bearer(make_token(org, scope)).get(url).status_code == 200


def test_organisation_b_never_sees_a_private_data(api_world, bearer, make_token):
    client = bearer(make_token(api_world.results_b.round.contest.organisation, *ALL_SCOPES))
    listed = [c["slug"] for c in client.get("/org/contests").json()["items"]]
    assert listed == [api_world.results_b.round.contest.slug]
    for path in (f"/org/contests/{api_world.contest.slug}", f"/org/contests/{api_world.draft.slug}",
                 f"/org/contests/{api_world.contest.slug}/participation",
                 f"/org/rounds/{api_world.round.pk}/results", f"/org/rounds/{api_world.round.pk}/flags",
                 f"/org/rounds/{api_world.draft_round.pk}/results"):
        response = client.get(path)
        assert response.status_code == 404, path  # like a missing object: no hint that it exists
    # A's published result is public, for B's token too — but only as the public sees it.
    public = client.get(f"/rounds/{api_world.round.pk}/results").json()
    assert all(row["full_name"] is None for row in public["items"])


def test_organisation_contests_include_drafts(api_world, bearer, make_token):
    client = bearer(make_token(api_world.contest.organisation, Scope.CONTESTS))
    items = {c["slug"]: c for c in client.get("/org/contests").json()["items"]}
    assert items[api_world.draft.slug]["visibility"] == "draft"
    assert set(items) == {api_world.contest.slug, api_world.draft.slug}
    detail = client.get(f"/org/contests/{api_world.draft.slug}").json()
    assert [r["id"] for r in detail["rounds"]] == [api_world.draft_round.pk]


def test_revoked_expired_and_inactive_tokens_are_refused(api_world, bearer, make_token):
    from accounts.models import Organisation
    from api.models import ApiToken
    from api.services import api_token_revoke

    org = api_world.contest.organisation
    raw = make_token(org, Scope.CONTESTS)
    assert bearer(raw).get("/org/contests").status_code == 200
    api_token_revoke(token=ApiToken.objects.get(organisation=org), actor=None)
    assert bearer(raw).get("/org/contests").status_code == 401
    assert bearer(raw).get("/contests").status_code == 401  # a dead token is not silently anonymous
    expired = make_token(org, Scope.CONTESTS, expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert bearer(expired).get("/org/contests").status_code == 401
    live = make_token(org, Scope.CONTESTS)
    Organisation.objects.filter(pk=org.pk).update(is_active=False)
    assert bearer(live).get("/org/contests").status_code == 401


def test_tokens_are_stored_hashed(api_world, make_token):
    from api.models import ApiToken

    raw = make_token(api_world.contest.organisation, Scope.CONTESTS)
    token = ApiToken.objects.get()
    assert raw not in (token.key_digest, token.key_prefix)
    assert raw.startswith(token.key_prefix)
    assert len(token.key_digest) == 64
    assert not ApiToken.objects.filter(key_digest__contains=raw[10:]).exists()


# --- Participation and flags -------------------------------------------------------------------------------------


def test_public_participation_counts_units_and_only_published_winners(api_world, anon, bearer, make_token):
    body = anon.get(f"/contests/{api_world.contest.slug}/participation").json()
    by_unit = {row["unit"]["name"]: row for row in body["items"]}
    assert sum(row["entrants"] for row in body["items"]) == 4
    assert sum(row["winners"] for row in body["items"]) == 2
    assert all(row["in_progress"] is None for row in body["items"])
    assert by_unit["Phường Cái Khế (thử)"]["population"] == 200
    # B's ranking is not published: the public sees no winners, B's own token sees them.
    b_slug = api_world.results_b.round.contest.slug
    public_b = anon.get(f"/contests/{b_slug}/participation?round={api_world.results_b.round.pk}").json()
    assert sum(row["winners"] for row in public_b["items"]) == 0
    own_b = bearer(make_token(api_world.results_b.round.contest.organisation, Scope.PARTICIPATION)).get(
        f"/org/contests/{b_slug}/participation").json()
    assert sum(row["winners"] for row in own_b["items"]) == 1
    assert all(row["in_progress"] == 0 for row in own_b["items"])
    assert anon.get(f"/contests/{b_slug}/participation?round={api_world.round.pk}").status_code == 404


def test_flags_are_masked_unless_personal_data(api_world, bearer, make_token):
    org = api_world.contest.organisation
    registration = api_world.results.attempts[0].registration
    masked = bearer(make_token(org, Scope.FLAGS)).get(f"/org/rounds/{api_world.round.pk}/flags").json()
    assert masked["count"] == 1
    flag = masked["items"][0]
    assert (flag["kind"], flag["severity"], flag["review_status"]) == ("fast_answers", "high", "unreviewed")
    assert flag["name"] == display_name(registration.full_name, masked=True)
    assert flag["full_name"] is None
    assert flag["evidence"] is None
    whole = bearer(make_token(org, Scope.FLAGS, Scope.PERSONAL_DATA)).get(
        f"/org/rounds/{api_world.round.pk}/flags").json()["items"][0]
    assert whole["full_name"] == registration.full_name
    assert whole["evidence"]["network"] == "203.0.113.0/24"


# --- Pagination -------------------------------------------------------------------------------------------------


def test_contest_list_pages(api_world, anon):
    from tests.contests.factories import ContestFactory

    for _ in range(3):
        ContestFactory(organisation=api_world.contest.organisation)
    first = anon.get("/contests?limit=2").json()
    assert first["count"] == 5
    assert len(first["items"]) == 2
    assert first["previous"] is None
    seen = [c["slug"] for c in first["items"]]
    page = first
    while page["next"]:
        assert page["next"].startswith("/api/v1/contests?")
        page = anon.client.get(page["next"]).json()
        seen += [c["slug"] for c in page["items"]]
    assert len(seen) == len(set(seen)) == 5
    assert page["previous"] is not None
    assert anon.get("/contests?limit=101").status_code == 422
    assert anon.get("/contests?limit=0").status_code == 422


def test_results_page_by_keyset(api_world, anon):
    first = anon.get(f"/rounds/{api_world.round.pk}/results?limit=3").json()
    assert [r["position"] for r in first["items"]] == [1, 2, 3]
    assert first["next"] == f"/api/v1/rounds/{api_world.round.pk}/results?limit=3&after=3"
    rest = anon.client.get(first["next"]).json()
    assert [r["position"] for r in rest["items"]] == [4]
    assert rest["next"] is None


# --- ETags ------------------------------------------------------------------------------------------------------


def test_conditional_get_answers_304_until_the_data_changes(api_world, anon):
    first = anon.get("/contests")
    etag = first["ETag"]
    assert etag.startswith('"')
    assert first["Cache-Control"] == "public, max-age=30"
    again = anon.get("/contests", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert anon.get("/contests", headers={"If-None-Match": f'W/{etag}'}).status_code == 304
    api_world.contest.title = "Tên mới của cuộc thi"
    api_world.contest.save()
    changed = anon.get("/contests", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_token_answers_are_private(api_world, bearer, make_token):
    response = bearer(make_token(api_world.contest.organisation, Scope.CONTESTS)).get("/org/contests")
    assert response["Cache-Control"] == "private, no-cache"
    assert "Authorization" in response["Vary"]
    assert bearer(make_token(api_world.contest.organisation, Scope.CONTESTS)).get(
        "/org/contests", headers={"If-None-Match": response["ETag"]}).status_code == 304


# --- Rate limits ------------------------------------------------------------------------------------------------


@override_settings(API_RATE_LIMIT_ANONYMOUS=(3, 60), API_RATE_LIMIT_TOKEN=(5, 60))
def test_rate_limits_per_address_and_per_token(api_world, anon, bearer, make_token):
    for _ in range(3):
        assert anon.get("/contests").status_code == 200
    limited = anon.get("/contests")
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 61
    assert "detail" in limited.json()
    # Another address has its own window; a token has its own, whatever the address.
    assert anon.get("/contests", REMOTE_ADDR="198.51.100.7").status_code == 200
    client = bearer(make_token(api_world.contest.organisation, Scope.CONTESTS))
    for _ in range(5):
        assert client.get("/org/contests").status_code == 200
    assert client.get("/contests").status_code == 429  # the same token's budget, public endpoint or not
    other = bearer(make_token(api_world.contest.organisation, Scope.CONTESTS))
    assert other.get("/org/contests").status_code == 200


def test_openapi_schema_is_served(anon):
    response = anon.get("/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/contests" in response.json()["paths"]


def test_a_staff_session_is_no_credential(api_world, client):
    from tests.factories import make_staff

    client.force_login(make_staff(api_world.contest.organisation, "organiser", "judge"))
    assert client.get("/api/v1/org/contests").status_code == 401
    body = client.get(f"/api/v1/rounds/{api_world.round.pk}/results").json()
    assert all(row["full_name"] is None for row in body["items"])


def test_personal_data_served_is_audited_once_an_hour_per_token_and_round(api_world, bearer, make_token):
    from accounts.models import AuditEvent

    org = api_world.contest.organisation
    path = f"/org/rounds/{api_world.round.pk}/results"
    bearer(make_token(org, Scope.RESULTS)).get(path)
    assert not AuditEvent.objects.filter(action="api.personal_data_read").exists()  # masked: nothing to log
    client = bearer(make_token(org, Scope.RESULTS, Scope.FLAGS, Scope.PERSONAL_DATA))
    for _ in range(3):
        assert client.get(path).status_code == 200
    client.get(f"/org/rounds/{api_world.round.pk}/flags")
    events = list(AuditEvent.objects.filter(action="api.personal_data_read").order_by("id"))
    assert [e.data["endpoint"] for e in events] == ["results", "flags"]
    assert events[0].data["rows"] == 4
    assert events[0].organisation_id == org.pk
    for registration in api_world.results.registrations:
        assert registration.national_id not in str(events[0].data)


def test_public_lists_take_a_fixed_number_of_queries(api_world, anon, django_assert_num_queries):
    from tests.contests.factories import ContestFactory, RoundFactory

    for _ in range(6):
        RoundFactory(contest=ContestFactory(organisation=api_world.contest.organisation))
    with django_assert_num_queries(2):  # the count, the page (rounds aggregated in the same statement)
        assert len(anon.get("/contests").json()["items"]) == 8
    with django_assert_num_queries(3):  # the round, the published version, the page of rows
        assert len(anon.get(f"/rounds/{api_world.round.pk}/results").json()["items"]) == 4


@override_settings(API_RATE_LIMIT_BAD_TOKEN=(2, 60))
def test_refused_tokens_are_limited_per_address_but_a_valid_token_is_not(api_world, bearer, make_token):
    dead = bearer("ce_" + "x" * 43)
    assert dead.get("/org/contests").status_code == 401
    assert dead.get("/contests").status_code == 401
    limited = dead.get("/org/contests")
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 61
    assert bearer(make_token(api_world.contest.organisation, Scope.CONTESTS)).get("/org/contests").status_code == 200
    assert dead.get("/org/contests", REMOTE_ADDR="198.51.100.9").status_code == 401  # another address


def test_web_url_is_the_contest_page(api_world, anon):
    listed = {c["slug"]: c["web_url"] for c in anon.get("/contests").json()["items"]}
    assert listed[api_world.contest.slug] == api_world.contest.get_absolute_url()
    detail = anon.get(f"/contests/{api_world.contest.slug}").json()
    assert detail["web_url"] == api_world.contest.get_absolute_url()

"""Non-negotiable 4 (bad input) — citizen URLs with foreign, wrong and hostile input.

Each case counts the rows of every model before and after: a refused request changes nothing. Refusals
are 404/403 (or a redirect carrying a Vietnamese message) and the error pages citizens see are Vietnamese.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re

import pytest
from django.apps import apps
from django.contrib.messages import get_messages
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from contests.models import Attempt, ContestVisibility
from contests.services.attempts.finish import attempt_submit
from contests.services.attempts.start import attempt_start
from tests.contests.factories import ContestFactory, RoundFactory, bank, register
from tests.factories import CitizenProfileFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

VIETNAMESE = re.compile(r"[ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ]", re.I)
HUGE_ID = 2**63 + 7  # beyond bigint: must be a 404, never a database error


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()
            if model._meta.managed and not model._meta.proxy
            and model._meta.label not in {"sessions.Session"}}


def assert_vietnamese_page(response) -> None:
    body = response.content.decode()
    assert VIETNAMESE.search(body), f"{response.status_code} page is not in Vietnamese: {body[:300]!r}"
    assert "Not Found" not in body
    assert "Forbidden" not in body
    assert "Bad Request" not in body


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def setting(org_a, org_b, citizen):
    """A published contest of A with an open round the citizen is registered for, another citizen's attempts,
    and a draft contest of B."""
    bank(org_a, 12)
    bank(org_b, 12)
    now = timezone.now()
    day = dt.timedelta(days=1)

    def window(contest, opens, closes):
        return RoundFactory(contest=contest, opens_at=now + opens, closes_at=now + closes)

    contest = ContestFactory(organisation=org_a, max_attempts=2)
    open_round = window(contest, -dt.timedelta(hours=1), day)
    future_round = window(contest, 2 * day, 3 * day)
    past_round = window(contest, -3 * day, -2 * day)
    register(citizen, contest)
    other = CitizenProfileFactory(unit=org_a).user
    register(other, contest)
    others_open = attempt_start(user=other, round=open_round)
    draft_b = ContestFactory(organisation=org_b, visibility=ContestVisibility.DRAFT)
    draft_round = window(draft_b, -dt.timedelta(hours=1), day)
    return {"contest": contest, "open": open_round, "future": future_round, "past": past_round, "other": other,
            "others_open": others_open, "draft_b": draft_b, "draft_round": draft_round}


# --- Someone else's, missing and hostile ids ----------------------------------------------------------


@pytest.mark.parametrize("view", ["contests:exam", "contests:result"])
def test_someone_elses_attempt_is_a_404(client, citizen, setting, view):
    finished = attempt_submit(attempt=Attempt.objects.get(pk=setting["others_open"].pk))
    client.force_login(citizen)
    before = row_counts()
    for attempt_id in (finished.pk, HUGE_ID, 0, 999_999_999):
        response = client.get(reverse(view, kwargs={"attempt_id": attempt_id}))
        assert response.status_code == 404, (attempt_id, response.status_code)
        assert_vietnamese_page(response)
    assert row_counts() == before


def test_someone_elses_in_progress_attempt_is_not_finalised_or_opened(client, citizen, setting):
    client.force_login(citizen)
    others = setting["others_open"]
    before = row_counts()
    for view in ("contests:exam", "contests:result"):
        assert client.get(reverse(view, kwargs={"attempt_id": others.pk})).status_code == 404
    assert row_counts() == before
    assert Attempt.objects.get(pk=others.pk).status == "in_progress"


def test_anonymous_is_sent_to_login_for_citizen_pages(client, setting):
    for url in (reverse("contests:exam", kwargs={"attempt_id": setting["others_open"].pk}),
                reverse("contests:result", kwargs={"attempt_id": setting["others_open"].pk}),
                reverse("contests:my_attempts"), reverse("accounts:profile"), reverse("accounts:my_data")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("slug_of", ["draft of B", "missing"])
def test_registering_for_an_unpublished_or_missing_contest_is_a_404(client, citizen, setting, slug_of):
    slug = setting["draft_b"].slug if slug_of == "draft of B" else "khong-ton-tai"
    client.force_login(citizen)
    before = row_counts()
    response = client.post(reverse("contests:register", kwargs={"slug": slug}))
    assert response.status_code == 404
    assert_vietnamese_page(response)
    assert row_counts() == before


def test_draft_contest_of_another_organisation_is_invisible(client, citizen, organiser_a, setting):
    draft, draft_round = setting["draft_b"], setting["draft_round"]
    for user in (None, citizen, organiser_a):
        if user is not None:
            client.force_login(user)
        for url in (reverse("contests:detail", kwargs={"slug": draft.slug}),
                    reverse("leaderboards:round", kwargs={"round_id": draft_round.pk}),
                    reverse("leaderboards:official", kwargs={"round_id": draft_round.pk}),
                    reverse("leaderboards:contest", kwargs={"slug": draft.slug}),
                    reverse("judging:published", kwargs={"round_id": draft_round.pk})):
            response = client.get(url)
            assert response.status_code == 404, (user, url, response.status_code)
        assert draft.title.encode() not in client.get(reverse("contests:list")).content
        client.logout()


@pytest.mark.parametrize("unit", ["abc", "-1", "1e9", str(HUGE_ID), "1; DROP TABLE x", "<b>"])
def test_malformed_unit_on_registration_changes_nothing_and_never_errors(client, setting, org_a, unit):
    newcomer = CitizenProfileFactory(unit=org_a).user
    client.force_login(newcomer)
    before = row_counts()
    response = client.post(reverse("contests:register", kwargs={"slug": setting["contest"].slug}), {"unit": unit})
    assert response.status_code in {302, 400}, response.status_code
    if response.status_code == 302:
        messages = flash(response)
        assert messages
        assert all(VIETNAMESE.search(m) for m in messages)
    assert row_counts() == before, "a malformed unit must not register anyone"


def test_unit_outside_the_contest_is_refused(client, setting, org_a):
    allowed = OrganisationFactory(is_unit=True)
    elsewhere = OrganisationFactory(is_unit=True)
    contest = setting["contest"]
    contest.allowed_units.set([allowed])
    newcomer = CitizenProfileFactory(unit=allowed).user
    client.force_login(newcomer)
    before = row_counts()
    response = client.post(reverse("contests:register", kwargs={"slug": contest.slug}), {"unit": elsewhere.pk})
    assert response.status_code == 302
    assert any(VIETNAMESE.search(m) for m in flash(response))
    assert row_counts() == before


# --- Starting attempts that must not start --------------------------------------------------------------


@pytest.mark.parametrize("which", ["future", "past"])
def test_starting_a_round_that_is_not_open_changes_nothing(client, citizen, setting, which):
    client.force_login(citizen)
    before = row_counts()
    response = client.post(reverse("contests:start", kwargs={"round_id": setting[which].pk}))
    assert response.status_code == 302
    assert response["Location"] == setting["contest"].get_absolute_url()
    assert flash(response) == ["Đợt thi chưa mở hoặc đã kết thúc."]
    assert row_counts() == before


def test_starting_without_registration_changes_nothing(client, setting, org_a):
    stranger = CitizenProfileFactory(unit=org_a).user
    client.force_login(stranger)
    before = row_counts()
    response = client.post(reverse("contests:start", kwargs={"round_id": setting["open"].pk}))
    assert response.status_code == 302
    assert flash(response) == ["Bạn chưa đăng ký dự thi cuộc thi này."]
    assert row_counts() == before


@pytest.mark.parametrize("round_of", ["draft of B", "missing", "huge"])
def test_starting_a_round_of_a_draft_or_missing_contest_is_a_404(client, citizen, setting, round_of):
    round_id = {"draft of B": setting["draft_round"].pk, "missing": 999_999_999, "huge": HUGE_ID}[round_of]
    client.force_login(citizen)
    before = row_counts()
    response = client.post(reverse("contests:start", kwargs={"round_id": round_id}))
    assert response.status_code == 404
    assert_vietnamese_page(response)
    assert row_counts() == before


def test_start_is_post_only(client, citizen, setting):
    client.force_login(citizen)
    before = row_counts()
    assert client.get(reverse("contests:start", kwargs={"round_id": setting["open"].pk})).status_code == 405
    assert row_counts() == before


# --- Oversized and hostile bodies ---------------------------------------------------------------------------


def test_oversized_body_is_a_400_and_changes_nothing(client, citizen, setting, settings):
    client.force_login(citizen)
    before = row_counts()
    big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post(reverse("contests:register", kwargs={"slug": setting["contest"].slug}), {"unit": big})
    assert response.status_code == 400
    assert_vietnamese_page(response)
    response = client.post(reverse("accounts:login"), {"username": big, "password": "x"})
    assert response.status_code == 400
    assert row_counts() == before


def test_too_many_fields_is_a_400(client, citizen, setting, settings):
    client.force_login(citizen)
    before = row_counts()
    fields = {f"f{i}": "1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = client.post(reverse("contests:register", kwargs={"slug": setting["contest"].slug}), fields)
    assert response.status_code == 400
    assert row_counts() == before


# --- CSRF, redirects, error pages in Vietnamese ---------------------------------------------------------------


def test_posts_without_csrf_token_are_refused_in_vietnamese(citizen, setting, org_a):
    newcomer = CitizenProfileFactory(unit=org_a).user
    client = Client(enforce_csrf_checks=True)
    client.force_login(newcomer)
    before = row_counts()
    for url in (reverse("contests:register", kwargs={"slug": setting["contest"].slug}),
                reverse("contests:start", kwargs={"round_id": setting["open"].pk}),
                reverse("accounts:account_delete"), reverse("accounts:my_data_export"),
                reverse("accounts:profile")):
        response = client.post(url, {"unit": org_a.pk, "password": "mat-khau-an-toan-1"})
        assert response.status_code == 403, url
        assert_vietnamese_page(response)
    assert row_counts() == before


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "http:evil.example",
                                    "\\\\evil.example", "javascript:alert(1)"])
def test_login_never_redirects_off_site(client, citizen, target):
    response = client.post(reverse("accounts:login") + f"?next={target}",
                           {"username": citizen.phone, "password": "mat-khau-an-toan-1", "next": target})
    assert response.status_code == 302, response.status_code
    location = response["Location"]
    assert "evil.example" not in location
    assert not location.startswith("javascript:")


def test_error_pages_are_vietnamese():
    from django.views import defaults

    request = RequestFactory().get("/khong-co/")
    assert_vietnamese_page(defaults.page_not_found(request, Exception("x")))
    assert_vietnamese_page(defaults.permission_denied(request, Exception("x")))
    assert_vietnamese_page(defaults.bad_request(request, Exception("x")))
    assert_vietnamese_page(defaults.server_error(request))


def test_citizen_facing_error_messages_are_vietnamese():
    """Every domain error a citizen can meet carries a Vietnamese default message."""
    import contests.errors

    found = []
    for module in (contests.errors,):
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Exception) and cls.__module__ == module.__name__:
                found.append(cls)
                message = str(getattr(cls, "default_message", ""))
                assert VIETNAMESE.search(message), f"{cls.__name__}: {message!r}"
    assert len(found) > 10


def test_published_results_of_a_contest_back_in_draft_are_hidden(client, world_b):
    url = reverse("judging:published", kwargs={"round_id": world_b.round.pk})
    assert client.get(url).status_code == 200  # published contest, published ranking: public
    type(world_b.contest).objects.filter(pk=world_b.contest.pk).update(visibility=ContestVisibility.DRAFT)
    assert client.get(url).status_code == 404


NUL_FORMS = [
    ("accounts:signup", {"full_name": "Nguyễn\x00Văn An", "phone": "0912345678", "password1": "x",
                         "password2": "x"}),
    ("accounts:login", {"username": "0912\x00345678", "password": "mat-khau"}),
    ("accounts:login", {"username": "0912345678", "password": "mat\x00khau"}),
    ("accounts:sms_reset_request", {"phone": "0912\x00345678"}),
    ("accounts:password_reset", {"email": "lan\x00@example.vn"}),
    ("accounts:sms_reset_verify", {"phone": "0912345678", "code": "123456", "new_password1": "a\x00b",
                                   "new_password2": "a\x00b"}),
]


@pytest.mark.parametrize(("url_name", "data"), NUL_FORMS)
def test_a_nul_byte_in_a_form_field_gets_a_vietnamese_error_and_changes_nothing(client, url_name, data):
    before = row_counts()

    response = client.post(reverse(url_name), data)

    body = response.content.decode()
    assert response.status_code == 200
    assert "Không được chứa ký tự rỗng (null)." in body
    assert "Null characters" not in body
    assert row_counts() == before

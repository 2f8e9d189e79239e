"""The short link /c/<code>/: a stable random code per contest, a redirect for a published contest, a 404 that
reveals nothing for a draft, an unknown or a malformed code."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from sharing import services
from sharing.models import ShareLink
from sharing.selectors import short_url
from sharing.services import CODE_ALPHABET, CODE_LENGTH, share_link_get_or_create
from tests.contests.factories import ContestFactory
from tests.sharing.conftest import PUBLIC_BASE

pytestmark = pytest.mark.django_db


def _without_csrf(body: bytes) -> bytes:
    """The page without its CSRF token (the language form's), which differs from one response to the next."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", body)


def test_the_code_is_made_once_and_kept(contest_a):
    link = share_link_get_or_create(contest=contest_a)
    assert len(link.code) == CODE_LENGTH
    assert set(link.code) <= set(CODE_ALPHABET)
    assert share_link_get_or_create(contest=contest_a).code == link.code
    assert ShareLink.objects.filter(contest=contest_a).count() == 1
    assert short_url(link=link) == f"{PUBLIC_BASE}/c/{link.code}/"


def test_codes_are_random_not_derived_from_the_contest(org_a):
    codes = [share_link_get_or_create(contest=ContestFactory(organisation=org_a)).code for _ in range(30)]
    assert len(set(codes)) == 30
    # Neighbouring contests share no long common prefix (a counter or a hash of the id would show one often).
    assert len({code[:3] for code in codes}) > 20


def test_a_code_already_taken_is_drawn_again(org_a, monkeypatch):
    first = ContestFactory(organisation=org_a)
    second = ContestFactory(organisation=org_a)
    drawn = iter(["aaaaaaaa", "aaaaaaaa", "bbbbbbbb"])
    monkeypatch.setattr(services, "_new_code", lambda: next(drawn))
    assert share_link_get_or_create(contest=first).code == "aaaaaaaa"
    assert share_link_get_or_create(contest=second).code == "bbbbbbbb"


def test_a_public_contest_short_link_redirects_to_its_page(client, contest_a):
    link = share_link_get_or_create(contest=contest_a)
    response = client.get(f"/c/{link.code}/")
    assert response.status_code == 302
    assert response["Location"] == reverse("contests:detail", kwargs={"slug": contest_a.slug})
    assert client.get(f"/c/{link.code.upper()}/").status_code == 302  # typed from a poster in capitals
    assert client.get(response["Location"]).status_code == 200


def test_a_draft_short_link_is_a_404_that_reveals_nothing(client, draft_a):
    link = share_link_get_or_create(contest=draft_a)
    response = client.get(f"/c/{link.code}/")
    assert response.status_code == 404
    assert "Location" not in response
    body = response.content.decode()
    assert draft_a.title not in body
    assert draft_a.slug not in body
    # Exactly what an unknown code gets (the page names its own address in the language form).
    unknown = client.get("/c/zzzzzzzz/")
    assert unknown.status_code == 404
    assert _without_csrf(unknown.content) == _without_csrf(response.content.replace(link.code.encode(), b"zzzzzzzz"))


def test_a_contest_unpublished_again_stops_redirecting(client, contest_a):
    link = share_link_get_or_create(contest=contest_a)
    assert client.get(f"/c/{link.code}/").status_code == 302
    contest_a.visibility = "draft"
    contest_a.save()
    assert client.get(f"/c/{link.code}/").status_code == 404


@pytest.mark.parametrize("code", ["0000000o", "a" * 17, "abc-defg", "%E1%BA%A1bcdefgh", "abcd'--x"])
def test_malformed_codes_are_404(client, code):
    assert client.get(f"/c/{code}/").status_code == 404


def test_the_short_link_answers_no_post(client, contest_a):
    link = share_link_get_or_create(contest=contest_a)
    assert client.post(f"/c/{link.code}/").status_code == 405

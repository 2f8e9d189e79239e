"""Link previews: the public contest page's Open Graph and Twitter tags (in Vietnamese, absolute URLs, an image
that exists and is a 1200 × 630 PNG), the card's QR code, and nothing for drafts."""

from __future__ import annotations

import io
from html.parser import HTMLParser

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from sharing.services import share_link_get_or_create
from tests.contests.factories import ContestFactory
from tests.sharing.conftest import PUBLIC_BASE, decode_qr

pytestmark = pytest.mark.django_db


class _Meta(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, str] = {}
        self.in_head = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "head":
            self.in_head = True
        if tag == "meta" and self.in_head and "content" in attrs:
            key = attrs.get("property") or attrs.get("name")
            if key:
                self.tags[key] = attrs["content"]

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False


def meta_of(response) -> dict[str, str]:
    parser = _Meta()
    parser.feed(response.content.decode())
    return parser.tags


def test_the_public_contest_page_has_open_graph_tags(client, contest_a):
    response = client.get(contest_a.get_absolute_url())
    assert response.status_code == 200
    meta = meta_of(response)
    assert meta["og:type"] == "website"
    assert meta["og:locale"] == "vi_VN"
    assert meta["og:title"] == "Cuộc thi tìm hiểu Hiến pháp năm 2026"
    assert meta["og:description"] == ("Dành cho mọi công dân từ 15 tuổi trên địa bàn thành phố. "
                                      "Thời gian: từ 01/03/2026 đến 31/03/2026.")
    assert meta["description"] == meta["og:description"]
    assert meta["og:url"] == f"{PUBLIC_BASE}/contests/hien-phap-2026/"
    assert meta["og:image"].startswith(f"{PUBLIC_BASE}/share/hien-phap-2026/card.png?v=")
    assert (meta["og:image:type"], meta["og:image:width"], meta["og:image:height"]) == ("image/png", "1200", "630")
    assert meta["og:image:alt"]
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["twitter:title"] == meta["og:title"]
    assert meta["twitter:image"] == meta["og:image"]


def test_the_og_image_exists_and_is_a_card_with_the_short_link(client, contest_a):
    from PIL import Image

    image_url = meta_of(client.get(contest_a.get_absolute_url()))["og:image"]
    response = client.get(image_url.removeprefix(PUBLIC_BASE))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "public" in response["Cache-Control"]
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size) == ("PNG", (1200, 630))
    link = share_link_get_or_create(contest=contest_a)
    assert decode_qr(response.content) == [f"{PUBLIC_BASE}/c/{link.code}/"]


def test_previews_are_vietnamese_whatever_the_visitors_language(client, contest_a):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(contest_a.get_absolute_url())
    assert '<html lang="en">' in response.content.decode()  # the page itself is in English …
    meta = meta_of(response)
    assert "Thời gian: từ 01/03/2026" in meta["og:description"]  # … its preview is not
    assert meta["og:site_name"] == "Thi trực tuyến tìm hiểu pháp luật"


def test_without_a_summary_the_description_names_the_organiser(client, org_a):
    contest = ContestFactory(organisation=org_a, summary="")
    description = meta_of(client.get(contest.get_absolute_url()))["og:description"]
    assert description == f"Cuộc thi do {org_a.name} tổ chức."


def test_tags_escape_the_contests_text(client, org_a):
    contest = ContestFactory(organisation=org_a, title='Thi "pháp luật" <script>alert(1)</script>', summary="a & b")
    response = client.get(contest.get_absolute_url())
    body = response.content.decode()
    assert "<script>alert(1)" not in body
    meta = meta_of(response)
    assert meta["og:title"] == 'Thi "pháp luật" <script>alert(1)</script>'  # escaped, read back whole
    assert meta["og:description"] == "a & b"


def test_a_long_summary_is_cut_at_a_word(client, org_a):
    contest = ContestFactory(organisation=org_a, summary=("Tìm hiểu pháp luật " * 25).strip())
    description = meta_of(client.get(contest.get_absolute_url()))["og:description"]
    assert len(description) <= 200
    assert description.endswith("…")


def test_the_card_image_changes_address_when_the_title_changes(client, contest_a):
    before = meta_of(client.get(contest_a.get_absolute_url()))["og:image"]
    contest_a.title = "Cuộc thi tìm hiểu Hiến pháp năm 2026 (đợt bổ sung)"
    contest_a.save()
    after = meta_of(client.get(contest_a.get_absolute_url()))["og:image"]
    assert before != after


def test_a_drafts_card_is_a_404(client, draft_a):
    assert client.get(reverse("sharing:card", kwargs={"slug": draft_a.slug})).status_code == 404
    assert client.get(draft_a.get_absolute_url()).status_code == 404


def test_the_tags_cost_the_contest_page_one_query(rf, contest_a, django_assert_num_queries):
    from contests.selectors import contest_get_public
    from sharing.previews import contest_page_meta

    contest = contest_get_public(slug=contest_a.slug)  # as the page has it: with its organisation
    with django_assert_num_queries(1):  # the rounds, for the dates
        tags = contest_page_meta(rf.get("/"), contest)
    assert {tag.term for tag in tags} >= {"og:title", "og:description", "og:url", "og:image", "twitter:card"}

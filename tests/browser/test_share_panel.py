"""The organiser's share panel on a phone and on a desktop: reached from the staff menu and from the contest's
admin page, the QR code shown (and decoding, as the browser drew it, to the short link), the copy-link button
(static JS under the strict CSP) putting the link on the clipboard; the short link then opens the contest."""

from __future__ import annotations

import pytest

from sharing.models import ShareLink
from tests.browser.conftest import english_left, login, page_fits, wait_for_js
from tests.contests.factories import ContestFactory, RoundFactory
from tests.factories import OrganisationFactory, make_staff
from tests.sharing.conftest import decode_qr

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_an_organiser_shares_a_contest(asgi_server, any_page):
    page = any_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=asgi_server)
    org = OrganisationFactory(name="Sở Tư pháp (thử)")
    contest = ContestFactory(organisation=org, title="Tìm hiểu Luật Giao thông đường bộ", slug="giao-thong",
                             summary="Cuộc thi cho mọi người dân.")
    RoundFactory(contest=contest, name="Tuần 1")
    organiser = make_staff(org, "organiser")
    login(page, asgi_server, organiser.username)

    page.goto(f"{asgi_server}/")
    menu = page.locator("nav.staff-menu").first
    if not menu.locator("details").get_attribute("open"):
        menu.locator("summary").click()
    menu.get_by_role("link", name="Chia sẻ cuộc thi", exact=True).click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Chia sẻ", exact=True).click()
    page.wait_for_load_state()

    code = ShareLink.objects.get(contest=contest).code
    short = f"{asgi_server}/c/{code}/"
    assert page.input_value("#share-url") == short
    assert page_fits(page)
    assert english_left(page, "main") == []

    # The QR code is shown, and what the browser drew decodes to the link.
    image = page.locator("#share-qr-image")
    image.scroll_into_view_if_needed()
    wait_for_js(page, "document.getElementById('share-qr-image').complete && "
                      "document.getElementById('share-qr-image').naturalWidth > 0")
    assert image.bounding_box()["width"] >= 200
    assert decode_qr(image.screenshot()) == [short]

    # Copy the link: the status says so and the clipboard holds it.
    page.get_by_role("button", name="Sao chép đường dẫn").click()
    wait_for_js(page, "document.getElementById('share-copy-status').textContent.length > 0")
    assert page.locator("#share-copy-status").inner_text() == "Đã sao chép đường dẫn."
    assert page.evaluate("navigator.clipboard.readText()") == short

    # The downloads are there, and the poster opens as a PDF.
    assert page.locator("#share-qr-svg").get_attribute("download") is not None
    assert page.locator("#share-qr-png").get_attribute("download") is not None
    poster = page.request.get(asgi_server + page.locator("#share-poster").get_attribute("href"))
    assert poster.status == 200
    assert poster.headers["content-type"] == "application/pdf"
    # The preview card loads too.
    wait_for_js(page, "Array.from(document.querySelectorAll('.share-preview-card img'))"
                      ".every(function (i) { return i.complete && i.naturalWidth === 1200; })")

    # From the contest's admin page, a link leads to the same panel.
    page.goto(f"{asgi_server}/admin/contests/contest/{contest.pk}/change/")
    page.locator("#contest-share").click()
    page.wait_for_load_state()
    assert page.input_value("#share-url") == short

    # The short link opens the contest's public page.
    page.goto(short)
    assert page.url == f"{asgi_server}/contests/giao-thong/"
    assert page.locator("h1").inner_text() == "Tìm hiểu Luật Giao thông đường bộ"

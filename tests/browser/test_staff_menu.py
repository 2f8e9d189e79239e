"""A signed-in organiser finds everything through the staff menu, on a phone and on a desktop: on the site's
pages and inside the admin, without typing a URL."""

from __future__ import annotations

import pytest

from tests.browser.conftest import english_left, login, page_fits
from tests.contests.factories import ContestFactory, RoundFactory, bank
from tests.factories import OrganisationFactory, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LABELS = ["Cuộc thi", "Đợt thi", "Ngân hàng câu hỏi", "Bảng xếp hạng", "Tham gia theo đơn vị",
          "Chấm thi và phê duyệt", "Xuất kết quả", "Chia sẻ cuộc thi", "Tài khoản cán bộ", "Mã truy cập API",
          "Quản trị", "Hướng dẫn"]


def open_menu(page):
    menu = page.locator("nav.staff-menu").first
    if not menu.locator("details").get_attribute("open"):
        menu.locator("summary").click()
    return menu


def test_an_organiser_reaches_every_page_of_their_role_by_menu(asgi_server, any_page):
    page = any_page
    org = OrganisationFactory(name="Sở Tư pháp (thử)")
    bank(org, 6)
    contest = ContestFactory(organisation=org, title="Tìm hiểu pháp luật giao thông")
    round = RoundFactory(contest=contest, name="Tuần 1")
    organiser = make_staff(org, "organiser")
    login(page, asgi_server, organiser.username)
    page.goto(f"{asgi_server}/")
    menu = open_menu(page)
    assert [a.inner_text() for a in menu.locator("a").all()] == LABELS
    assert page_fits(page)
    for label in LABELS:
        page.goto(f"{asgi_server}/")
        open_menu(page).get_by_role("link", name=label, exact=True).click()
        page.wait_for_load_state()
        assert page.locator("nav.staff-menu").count() == 1, label  # the menu is there again (admin too)
        assert english_left(page, "main") == [], label
    # From the admin's menu to a round's export page, by links only.
    page.goto(f"{asgi_server}/admin/")
    open_menu(page).get_by_role("link", name="Xuất kết quả", exact=True).click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Xuất kết quả đợt thi (Excel)").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/exports/round/{round.pk}/")
    assert page_fits(page)


def test_a_writer_sees_the_bank_and_the_import(asgi_server, phone_page):
    page = phone_page
    org = OrganisationFactory(name="Sở Tư pháp (thử)")
    writer = make_staff(org, "writer")
    login(page, asgi_server, writer.username)
    page.goto(f"{asgi_server}/")
    menu = open_menu(page)
    assert [a.inner_text() for a in menu.locator("a").all()] == ["Ngân hàng câu hỏi", "Nhập câu hỏi", "Quản trị",
                                                                  "Hướng dẫn"]
    menu.get_by_role("link", name="Nhập câu hỏi").click()
    page.wait_for_load_state()
    assert "/admin/questionbank/question/import/" in page.url

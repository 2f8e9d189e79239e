"""The unit picker (112 entries in the demo): grouped by kind, in Vietnamese alphabetical order, searchable on a
phone without a framework (static/js/unit-picker.js) — on the sign-up page and the contest's registration."""

from __future__ import annotations

import pytest

from accounts.models import Organisation, OrganisationKind
from tests.browser.conftest import login, page_fits
from tests.contests.factories import ContestFactory
from tests.factories import CitizenProfileFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WARDS = ["Phường Ô Môn", "Phường An Bình", "Phường Ninh Kiều", "Phường Phước Thới", "Phường Ấp Bắc", "Phường Bình Thủy",
         "Phường Cái Răng", "Phường Đằng Lâm", "Phường Ơn Nghĩa"]
COMMUNES = ["Xã Thới Lai", "Xã Đông Hiệp", "Xã Cờ Đỏ", "Xã Vĩnh Thạnh"]


def make_units():
    for i, name in enumerate(WARDS):
        Organisation.objects.create(name=name, slug=f"w{i}", kind=OrganisationKind.WARD)
    for i, name in enumerate(COMMUNES):
        Organisation.objects.create(name=name, slug=f"c{i}", kind=OrganisationKind.COMMUNE)
    Organisation.objects.create(name="Trường THPT Châu Văn Liêm", slug="s1", kind=OrganisationKind.SCHOOL)


def groups(page, select):
    return [(g.get_attribute("label"), g.locator("option").all_inner_texts())
            for g in page.locator(f"{select} optgroup").all()]


def visible(page, select):
    return page.eval_on_selector_all(f"{select} option", "os => os.filter(o => !o.hidden && o.value).map(o => o.text)")


def test_units_are_grouped_sorted_and_searchable_at_signup(asgi_server, any_page):
    page = any_page
    make_units()
    page.goto(f"{asgi_server}/accounts/signup/")
    assert groups(page, "#id_unit") == [
        ("Phường", ["Phường An Bình", "Phường Ấp Bắc", "Phường Bình Thủy", "Phường Cái Răng", "Phường Đằng Lâm",
                    "Phường Ninh Kiều", "Phường Ô Môn", "Phường Ơn Nghĩa", "Phường Phước Thới"]),
        ("Xã", ["Xã Cờ Đỏ", "Xã Đông Hiệp", "Xã Thới Lai", "Xã Vĩnh Thạnh"]),
        ("Trường học", ["Trường THPT Châu Văn Liêm"]),
    ]
    search = page.get_by_label("Tìm đơn vị (gõ tên, có dấu hoặc không dấu)")
    search.fill("ninh kieu")  # typed without diacritics, as many phones do
    assert visible(page, "#id_unit") == ["Phường Ninh Kiều"]
    assert page.locator("#id_unit option:checked").inner_text() == "Phường Ninh Kiều"
    assert page.locator(".unit-search-status").inner_text() == "Có 1 đơn vị phù hợp."
    search.fill("đ")
    assert visible(page, "#id_unit") == ["Phường Đằng Lâm", "Xã Cờ Đỏ", "Xã Đông Hiệp"]
    assert page.eval_on_selector_all("#id_unit optgroup", "gs => gs.map(g => g.hidden)") == [False, False, True]
    search.fill("khong co")
    assert visible(page, "#id_unit") == []
    assert page.locator(".unit-search-status").inner_text() == "Không có đơn vị nào phù hợp."
    search.fill("")
    assert len(visible(page, "#id_unit")) == len(WARDS) + len(COMMUNES) + 1
    assert page_fits(page)


def test_the_contest_registration_picker_too(asgi_server, phone_page):
    page = phone_page
    make_units()
    unit = Organisation.objects.get(name="Phường Ninh Kiều")
    citizen = CitizenProfileFactory(unit=unit).user
    contest = ContestFactory(organisation=unit, slug="thi-thu")
    login(page, asgi_server, citizen.phone)
    page.goto(f"{asgi_server}/contests/{contest.slug}/")
    assert [g[0] for g in groups(page, "#unit")] == ["Phường", "Xã", "Trường học"]
    assert groups(page, "#unit")[0][1][:3] == ["Phường An Bình", "Phường Ấp Bắc", "Phường Bình Thủy"]
    page.get_by_label("Tìm đơn vị (gõ tên, có dấu hoặc không dấu)").fill("thoi lai")
    assert visible(page, "#unit") == ["Xã Thới Lai"]
    assert page_fits(page)

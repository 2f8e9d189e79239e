"""The login policy in a real browser on the production server (uvicorn, ASGI middleware path): an attacker in
another browser guessing a citizen's password is refused at the site and the admin login, and the citizen on
their usual phone still logs in on the first try."""

from __future__ import annotations

import pytest

from tests.browser.conftest import VIEWPORTS, login
from tests.factories import CitizenProfileFactory, OrganisationFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BLOCKED = "Bạn đã thử quá nhiều lần"


@pytest.mark.parametrize("asgi_server", ["uvicorn"], indirect=True)
def test_an_attacker_is_refused_and_the_owner_on_their_phone_logs_in(asgi_server, chromium, phone_page):
    CitizenProfileFactory(unit=OrganisationFactory(), user__phone="0912345678")
    owner = phone_page
    login(owner, asgi_server, "0912 345 678")
    assert owner.url.rstrip("/") == asgi_server  # home
    cookies = {c["name"]: c for c in owner.context.cookies()}
    assert cookies["ce_known"]["httpOnly"]
    owner.goto(f"{asgi_server}/accounts/login/")
    owner.context.clear_cookies(name="sessionid")  # logged out, the device stays known

    attacker_context = chromium.new_context(locale="vi-VN", **VIEWPORTS["desktop"])
    try:
        attacker = attacker_context.new_page()
        statuses = []
        attacker.on("response", lambda r: statuses.append(r.status) if r.request.method == "POST" else None)
        for i in range(6):
            login(attacker, asgi_server, "0912345678", f"doan-mo-{i}")
        assert BLOCKED in attacker.content()
        assert statuses[-1] == 429
        # The admin login refuses the same account, by any spelling of the number.
        attacker.goto(f"{asgi_server}/admin/login/")
        attacker.fill("#id_username", "+84912345678")
        attacker.fill("#id_password", "mat-khau-an-toan-1")
        attacker.locator("input[type=submit]").click()
        attacker.wait_for_load_state()
        assert BLOCKED in attacker.content()
        assert statuses[-1] == 429
    finally:
        attacker_context.close()

    login(owner, asgi_server, "091234567８")  # full-width last digit, as a phone keyboard may type it
    assert owner.url.rstrip("/") == asgi_server
    assert owner.get_by_role("button", name="Đăng xuất").is_visible()
    assert BLOCKED not in owner.content()

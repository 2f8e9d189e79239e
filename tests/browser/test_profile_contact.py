"""Changing one's phone number on the profile page, in Chromium (issue 16): the page says a code went to the new
number and the account keeps the old one until the code is entered; a wrong code is refused, the right one
applies the change. The server runs in its own process, so its SMS sender writes to a file this test reads
(only the sending is replaced)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from accounts.models import User
from tests.browser.conftest import any_page, chromium, english_left, login, page_fits  # noqa: F401
from tests.factories import CitizenProfileFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class FileSmsSender:
    """Appends each SMS as a JSON line to $SMS_OUTBOX_FILE."""

    def send(self, *, phone: str, message: str) -> None:
        with open(os.environ["SMS_OUTBOX_FILE"], "a", encoding="utf-8") as out:
            out.write(json.dumps({"phone": phone, "message": message}) + "\n")


@pytest.fixture
def sms_file(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "sms.jsonl"
    monkeypatch.setenv("SMS_SENDER", "tests.browser.test_profile_contact.FileSmsSender")
    monkeypatch.setenv("SMS_OUTBOX_FILE", str(path))
    return path


def sent(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_a_new_phone_number_is_confirmed_by_the_code_sent_to_it(sms_file, asgi_server, any_page):  # noqa: F811
    page = any_page
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
    user = CitizenProfileFactory(user__phone="0934567890", user__full_name="Lê Thị Hồng Nhung").user
    login(page, asgi_server, user.phone)
    page.goto(f"{asgi_server}/accounts/profile/")
    page.fill("#id_phone", "0934 000 111")
    page.get_by_role("button", name="Lưu thay đổi").click()
    page.wait_for_load_state()
    assert "Chúng tôi vừa gửi mã xác nhận gồm 6 chữ số đến số 0934 ••• 111" in page.locator("main").inner_text()
    box = page.locator("#pending-phone")
    assert "0934000111" in box.inner_text()
    assert page.input_value("#id_phone") == "0934567890"  # the account still has the old number
    [sms] = sent(sms_file)
    assert sms["phone"] == "0934000111"
    code = re.search(r"\b(\d{6})\b", sms["message"]).group(1)

    page.fill("#id_phone-code", "000000" if code != "000000" else "111111")
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_load_state()
    assert "Mã xác nhận không đúng hoặc đã hết hạn" in page.locator("main").inner_text()
    page.fill("#id_phone-code", code)
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_load_state()
    assert "Đã đổi số điện thoại." in page.locator("main").inner_text()
    assert page.locator("#pending-phone").count() == 0
    assert page.input_value("#id_phone") == "0934000111"
    assert User.objects.get(pk=user.pk).phone == "0934000111"
    assert [s["phone"] for s in sent(sms_file)] == ["0934000111", "0934567890"]  # the old number was told
    assert page_fits(page)
    assert english_left(page, "main") == []
    assert not [e for e in console if "Content Security Policy" in e or "Refused" in e]

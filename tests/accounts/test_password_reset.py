"""Password reset by SMS code (pluggable sender) and by e-mail link."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, SmsResetCode
from accounts.services import ResetCodeError, sms_reset_code_redeem
from accounts.sms import LogSmsSender
from accounts.views import SMS_RESET_SESSION_KEY
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SMS_REQUEST = reverse("accounts:sms_reset_request")
SMS_VERIFY = reverse("accounts:sms_reset_verify")
EMAIL_REQUEST = reverse("accounts:password_reset")
LOGIN = reverse("accounts:login")
OLD_PASSWORD = "mat-khau-an-toan-1"
NEW_PASSWORD = "Song-Hau-mua-nuoc-noi"



def log_out_keeping_cookies(client) -> None:
    """Log out through the site (the session ends; the browser keeps its other cookies). The test client's own
    ``logout()`` throws every cookie away, which no browser does."""
    assert client.post(reverse("accounts:logout")).status_code == 302

def code_from(message: str) -> str:
    match = re.search(r"\b(\d{6})\b", message)
    assert match, message
    return match.group(1)


def token_of(client) -> str:
    """The secret of this browser's reset request (in its session), which the code is tied to."""
    return client.session[SMS_RESET_SESSION_KEY]["token"]


def request_code(client, phone, capture, **extra):
    with capture(execute=True):
        return client.post(SMS_REQUEST, {"phone": phone}, **extra)


def can_log_in(client, login, password) -> bool:
    response = client.post(LOGIN, {"username": login, "password": password})
    ok = response.status_code == 302
    client.logout()
    return ok


def test_sms_reset_end_to_end(client, sms_outbox, django_capture_on_commit_callbacks):
    user = UserFactory(phone="0912345678")

    response = request_code(client, "+84 912 345 678", django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response["Location"] == SMS_VERIFY
    assert len(sms_outbox) == 1
    phone, message = sms_outbox[0]
    assert phone == "0912345678"
    code = code_from(message)
    token = token_of(client)
    stored = SmsResetCode.objects.get(user=user)
    assert code not in stored.code_hash
    assert len(stored.code_hash) == 64
    # The verify page remembers the phone number from the request step.
    assert 'value="0912345678"' in client.get(SMS_VERIFY).content.decode()

    wrong = "000000" if code != "000000" else "111111"
    response = client.post(SMS_VERIFY, {"phone": "0912345678", "code": wrong,
                                        "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 200
    assert "Mã xác nhận không đúng hoặc đã hết hạn" in response.content.decode()
    stored.refresh_from_db()
    assert stored.tries == 1

    response = client.post(SMS_VERIFY, {"phone": "0912345678", "code": code,
                                        "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert can_log_in(client, "0912345678", NEW_PASSWORD)
    assert not can_log_in(client, "0912345678", OLD_PASSWORD)
    assert AuditEvent.objects.filter(action="account.password_reset", target_id=str(user.pk),
                                     data={"channel": "sms"}).exists()
    # A used code does not work twice.
    with pytest.raises(ResetCodeError):
        sms_reset_code_redeem(phone="0912345678", code=code, new_password="Another-strong-pass-9",
                              request_token=token)


def test_unknown_phone_gets_the_same_response_and_no_sms(client, sms_outbox, django_capture_on_commit_callbacks):
    UserFactory(phone="0912345678")

    known = request_code(client, "0912345678", django_capture_on_commit_callbacks)
    known_message = [str(m) for m in known.wsgi_request._messages]
    unknown = request_code(Client(), "0987654321", django_capture_on_commit_callbacks)
    unknown_message = [str(m) for m in unknown.wsgi_request._messages]

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert known_message == unknown_message
    assert [p for p, _ in sms_outbox] == ["0912345678"]


def test_expired_code_is_rejected(client, sms_outbox, django_capture_on_commit_callbacks):
    UserFactory(phone="0912345678")
    request_code(client, "0912345678", django_capture_on_commit_callbacks)
    code = code_from(sms_outbox[0][1])
    SmsResetCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    with pytest.raises(ResetCodeError):
        sms_reset_code_redeem(phone="0912345678", code=code, new_password=NEW_PASSWORD, request_token=token_of(client))


def test_code_dies_after_the_maximum_number_of_tries(client, settings, sms_outbox,
                                                     django_capture_on_commit_callbacks):
    settings.SMS_RESET_CODE_MAX_TRIES = 3
    UserFactory(phone="0912345678")
    request_code(client, "0912345678", django_capture_on_commit_callbacks)
    code = code_from(sms_outbox[0][1])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        with pytest.raises(ResetCodeError):
            sms_reset_code_redeem(phone="0912345678", code=wrong, new_password=NEW_PASSWORD,
                                  request_token=token_of(client))

    with pytest.raises(ResetCodeError):
        sms_reset_code_redeem(phone="0912345678", code=code, new_password=NEW_PASSWORD, request_token=token_of(client))
    assert SmsResetCode.objects.get().tries == 3


def test_new_code_of_the_same_request_retires_the_previous_one(client, sms_outbox, django_capture_on_commit_callbacks):
    UserFactory(phone="0912345678")
    request_code(client, "0912345678", django_capture_on_commit_callbacks)
    request_code(client, "0912345678", django_capture_on_commit_callbacks)
    first, second = (code_from(m) for _, m in sms_outbox)

    if first != second:
        with pytest.raises(ResetCodeError):
            sms_reset_code_redeem(phone="0912345678", code=first, new_password=NEW_PASSWORD,
                                  request_token=token_of(client))
    sms_reset_code_redeem(phone="0912345678", code=second, new_password=NEW_PASSWORD, request_token=token_of(client))
    assert SmsResetCode.objects.filter(used_at__isnull=True).count() == 0


def test_weak_password_keeps_the_code_usable(client, sms_outbox, django_capture_on_commit_callbacks):
    UserFactory(phone="0912345678")
    request_code(client, "0912345678", django_capture_on_commit_callbacks)
    code = code_from(sms_outbox[0][1])

    response = client.post(SMS_VERIFY, {"phone": "0912345678", "code": code,
                                        "new_password1": "0912345678", "new_password2": "0912345678"})

    assert response.status_code == 200
    assert "new_password1" in response.context["form"].errors
    sms_reset_code_redeem(phone="0912345678", code=code, new_password=NEW_PASSWORD, request_token=token_of(client))


def test_sms_sends_are_rate_limited_per_phone_whether_or_not_it_exists(client, settings, sms_outbox,
                                                                       django_capture_on_commit_callbacks):
    settings.PASSWORD_RESET_LIMIT_PER_IDENTIFIER = (2, 3600)
    UserFactory(phone="0912345678")
    for phone in ("0912345678", "0987654321"):
        for i in range(2):
            assert request_code(client, phone, django_capture_on_commit_callbacks,
                                REMOTE_ADDR=f"192.0.2.{i}").status_code == 302
        blocked = request_code(client, phone, django_capture_on_commit_callbacks, REMOTE_ADDR="192.0.2.99")
        assert blocked.status_code == 429
        assert "Bạn đã thử quá nhiều lần" in blocked.content.decode()
    assert len(sms_outbox) == 2


def test_sms_sends_are_rate_limited_per_address(client, settings, sms_outbox, django_capture_on_commit_callbacks):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = (3, 3600)
    for i in range(3):
        request_code(client, f"09111111{i:02d}", django_capture_on_commit_callbacks, REMOTE_ADDR="192.0.2.7")

    blocked = request_code(client, "0911111199", django_capture_on_commit_callbacks, REMOTE_ADDR="192.0.2.7")

    assert blocked.status_code == 429


def test_wrong_codes_are_limited_per_address_across_phones(client, settings):
    settings.LOGIN_LIMIT_PER_ADDRESS = (3, 900)
    for i in range(3):
        client.post(SMS_VERIFY, {"phone": f"09111111{i:02d}", "code": "123456",
                                 "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
                    REMOTE_ADDR="192.0.2.8")

    blocked = client.post(SMS_VERIFY, {"phone": "0911111199", "code": "123456", "new_password1": NEW_PASSWORD,
                                       "new_password2": NEW_PASSWORD}, REMOTE_ADDR="192.0.2.8")

    assert blocked.status_code == 429


def test_default_sender_writes_to_the_log(caplog):
    with caplog.at_level(logging.WARNING, logger="accounts.sms"):
        LogSmsSender().send(phone="0912345678", message="Ma 123456")

    assert "Ma 123456" in caplog.text
    assert "091*****78" in caplog.text
    assert "0912345678" not in caplog.text


def test_email_reset_end_to_end(client):
    user = UserFactory(email="lan@example.vn")

    response = client.post(EMAIL_REQUEST, {"email": "lan@example.vn"})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "Mở liên kết sau để đặt mật khẩu mới" in body
    assert mail.outbox[0].subject == "Đặt lại mật khẩu tài khoản dự thi"
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", body).group(1)

    set_password_page = client.get(link, follow=True)
    assert set_password_page.context["validlink"]
    form_url = set_password_page.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_complete")
    assert can_log_in(client, "lan@example.vn", NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="account.password_reset", target_id=str(user.pk),
                                     data={"channel": "email"}).exists()
    # The link is single-use.
    assert not client.get(link, follow=True).context["validlink"]


def test_email_reset_for_unknown_address_looks_the_same_and_sends_nothing(client):
    response = client.post(EMAIL_REQUEST, {"email": "nobody@example.vn"})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_email_reset_requests_are_rate_limited(client, settings):
    settings.PASSWORD_RESET_LIMIT_PER_IDENTIFIER = (2, 3600)
    UserFactory(email="lan@example.vn")
    for _ in range(2):
        client.post(EMAIL_REQUEST, {"email": "lan@example.vn"})

    blocked = client.post(EMAIL_REQUEST, {"email": "LAN@example.vn"})

    assert blocked.status_code == 429
    assert "Bạn đã thử quá nhiều lần" in blocked.content.decode()
    assert len(mail.outbox) == 2


def test_reset_pages_are_in_vietnamese(client):
    assert "Lấy lại mật khẩu qua tin nhắn" in client.get(SMS_REQUEST).content.decode()
    assert "Nhập mã xác nhận" in client.get(SMS_VERIFY).content.decode()
    assert "Lấy lại mật khẩu qua email" in client.get(EMAIL_REQUEST).content.decode()
    assert "Vui lòng kiểm tra email" in client.get(reverse("accounts:password_reset_done")).content.decode()


# --- Lockout abuse (issue 19 part 4): a stranger cannot use up the owner's way back ---------------------------


def wrong_code(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def verify(client, phone, code, **extra):
    return client.post(SMS_VERIFY, {"phone": phone, "code": code, "new_password1": NEW_PASSWORD,
                                    "new_password2": NEW_PASSWORD}, **extra)


def test_a_strangers_requests_and_wrong_codes_do_not_spend_the_owners_code(sms_outbox,
                                                                           django_capture_on_commit_callbacks):
    """The issue's attack: the attacker asks for a code (it goes to the victim), sends wrong codes, asks again.
    The owner's own request and code are untouched."""
    UserFactory(phone="0912345678")
    owner, attacker = Client(), Client()
    request_code(owner, "0912345678", django_capture_on_commit_callbacks, REMOTE_ADDR="192.0.2.10")
    owners_code = code_from(sms_outbox[-1][1])
    request_code(attacker, "+84 912 345 678", django_capture_on_commit_callbacks, REMOTE_ADDR="198.51.100.20")
    attackers_code = code_from(sms_outbox[-1][1])  # sent to the victim's phone, unknown to the attacker
    for i in range(8):  # wrong codes, more than a code's tries, with and without a request of their own
        guesser = attacker if i % 2 else Client()
        assert verify(guesser, "0912345678", wrong_code(owners_code),
                      REMOTE_ADDR=f"198.51.100.{30 + i}").status_code == 200
    # Even the right code of the owner's request does not work from the attacker's browser.
    assert verify(attacker, "0912345678", owners_code, REMOTE_ADDR="198.51.100.50").status_code == 200
    request_code(attacker, "0912345678", django_capture_on_commit_callbacks, REMOTE_ADDR="198.51.100.21")

    owners_row = SmsResetCode.objects.order_by("created_at").first()
    assert owners_row.tries == 0
    assert owners_row.used_at is None
    response = verify(owner, "0912345678", owners_code, REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 302
    assert can_log_in(Client(), "0912345678", NEW_PASSWORD)
    # The owner's new password voids every other pending code, the attacker's request included.
    assert verify(attacker, "0912345678", attackers_code).status_code == 200


def test_a_strangers_requests_cannot_use_up_the_owners_reset_limit(sms_outbox, django_capture_on_commit_callbacks):
    UserFactory(phone="0912345678")
    owners_phone = Client()  # the owner logged in on it before (it is known to the account)
    assert owners_phone.post(LOGIN, {"username": "0912345678", "password": OLD_PASSWORD}).status_code == 302
    log_out_keeping_cookies(owners_phone)
    attacker = Client()
    statuses = [request_code(attacker, spelling, django_capture_on_commit_callbacks,
                             REMOTE_ADDR=f"198.51.100.{i}").status_code
                for i, spelling in enumerate(["0912345678", "0912 345 678", "+84912345678", "091234567８",
                                              "０９１２３４５６７８"])]

    assert statuses == [302, 302, 302, 429, 429]  # every spelling counts against the one account
    assert len(sms_outbox) == 3
    assert request_code(Client(), "0912345678", django_capture_on_commit_callbacks).status_code == 429
    response = request_code(owners_phone, "0912345678", django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert len(sms_outbox) == 4
    assert verify(owners_phone, "0912345678", code_from(sms_outbox[-1][1])).status_code == 302


def test_a_known_device_has_its_own_reset_limit(settings, sms_outbox, django_capture_on_commit_callbacks):
    settings.PASSWORD_RESET_LIMIT_PER_KNOWN_DEVICE = (2, 3600)
    UserFactory(phone="0912345678")
    owners_phone = Client()
    assert owners_phone.post(LOGIN, {"username": "0912345678", "password": OLD_PASSWORD}).status_code == 302
    log_out_keeping_cookies(owners_phone)

    statuses = [request_code(owners_phone, "0912345678", django_capture_on_commit_callbacks).status_code
                for _ in range(3)]

    assert statuses == [302, 302, 429]


def test_a_reset_lets_the_owner_in_past_an_attackers_lockout_and_trusts_the_device(
        sms_outbox, django_capture_on_commit_callbacks):
    UserFactory(phone="0912345678")
    attacker = Client()
    for i in range(6):
        attacker.post(LOGIN, {"username": "0912345678", "password": f"doan-{i}"}, REMOTE_ADDR=f"203.0.113.{i}")
    owner = Client()
    assert owner.post(LOGIN, {"username": "0912345678", "password": OLD_PASSWORD}).status_code == 429

    request_code(owner, "0912345678", django_capture_on_commit_callbacks)
    assert verify(owner, "0912345678", code_from(sms_outbox[-1][1])).status_code == 302
    assert owner.cookies.get("ce_known")
    for i in range(6):  # the attacker goes on guessing
        attacker.post(LOGIN, {"username": "0912345678", "password": f"doan-{i}"}, REMOTE_ADDR=f"203.0.113.{i}")

    assert owner.post(LOGIN, {"username": "0912345678", "password": NEW_PASSWORD}).status_code == 302


def test_email_reset_requests_from_the_owners_device_are_not_used_up_by_others():
    UserFactory(email="lan@example.vn")
    owners_laptop = Client()
    assert owners_laptop.post(LOGIN, {"username": "lan@example.vn", "password": OLD_PASSWORD}).status_code == 302
    log_out_keeping_cookies(owners_laptop)
    for i in range(4):
        Client().post(EMAIL_REQUEST, {"email": "LAN@example.vn"}, REMOTE_ADDR=f"198.51.100.{i}")
    assert len(mail.outbox) == 3

    response = owners_laptop.post(EMAIL_REQUEST, {"email": "lan@example.vn"})

    assert response.status_code == 302
    assert len(mail.outbox) == 4

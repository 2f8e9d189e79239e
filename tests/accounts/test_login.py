"""Login by phone or e-mail, and the login rate limits: strict per account identifier, loose per address."""

from __future__ import annotations

import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.ratelimit import client_address, login_identifier
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
PASSWORD = "mat-khau-an-toan-1"  # tests.factories.UserFactory's password


def logged_in_as(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


@pytest.mark.parametrize("login", ["0912345678", "0912 345 678", "+84912345678", "84912345678", "091.234.5678"])
def test_login_by_phone_in_any_common_format(client, login):
    user = UserFactory(phone="0912345678")

    response = client.post(LOGIN, {"username": login, "password": PASSWORD})

    assert response.status_code == 302
    assert logged_in_as(client) == user.pk


@pytest.mark.parametrize("login", ["lan@example.vn", "LAN@Example.VN", "  lan@example.vn "])
def test_login_by_email_case_insensitively(client, login):
    user = UserFactory(email="lan@example.vn")

    response = client.post(LOGIN, {"username": login, "password": PASSWORD})

    assert response.status_code == 302
    assert logged_in_as(client) == user.pk


def test_wrong_password_shows_a_vietnamese_error(client):
    UserFactory(phone="0912345678")

    response = client.post(LOGIN, {"username": "0912345678", "password": "sai-mat-khau"})

    assert response.status_code == 200
    assert "Số điện thoại/email hoặc mật khẩu không đúng." in response.content.decode()
    assert logged_in_as(client) is None


def test_inactive_account_cannot_log_in(client):
    UserFactory(phone="0912345678", is_active=False)

    response = client.post(LOGIN, {"username": "0912345678", "password": PASSWORD})

    assert response.status_code == 200
    assert logged_in_as(client) is None


def test_account_is_blocked_after_too_many_failures_even_with_the_right_password(client, settings):
    settings.LOGIN_LIMIT_PER_ACCOUNT = (3, 900)
    UserFactory(phone="0912345678")
    for _ in range(3):
        assert client.post(LOGIN, {"username": "0912345678", "password": "sai"}).status_code == 200

    response = client.post(LOGIN, {"username": "0912345678", "password": PASSWORD})

    assert response.status_code == 429
    html = response.content.decode()
    minutes = re.search(r"Bạn đã thử quá nhiều lần. Vui lòng thử lại sau (\d+) phút.", html)
    assert minutes
    assert 1 <= int(minutes.group(1)) <= 15
    assert logged_in_as(client) is None


def test_per_account_limit_follows_the_account_across_addresses_and_phone_formats(client, settings):
    settings.LOGIN_LIMIT_PER_ACCOUNT = (3, 900)
    UserFactory(phone="0912345678")
    for address, login in [("198.51.100.1", "0912345678"), ("198.51.100.2", "+84912345678"),
                           ("198.51.100.3", "0912 345 678")]:
        client.post(LOGIN, {"username": login, "password": "sai"}, REMOTE_ADDR=address)

    response = client.post(LOGIN, {"username": "0912345678", "password": PASSWORD}, REMOTE_ADDR="198.51.100.4")

    assert response.status_code == 429


def test_one_address_with_many_accounts_is_not_blocked_at_the_per_account_limit(client, settings):
    """Many mobile users share one carrier address: their mistakes must not lock each other out."""
    settings.LOGIN_LIMIT_PER_ACCOUNT = (3, 900)
    settings.LOGIN_LIMIT_PER_ADDRESS = (100, 900)
    users = [UserFactory(phone=f"09800000{i:02d}") for i in range(12)]

    for user in users:
        wrong = client.post(LOGIN, {"username": user.phone, "password": "sai"}, REMOTE_ADDR="100.64.0.1")
        right = client.post(LOGIN, {"username": user.phone, "password": PASSWORD}, REMOTE_ADDR="100.64.0.1")
        assert wrong.status_code == 200
        assert right.status_code == 302
        assert logged_in_as(client) == user.pk
        client.logout()


def test_address_has_its_own_looser_limit(client, settings):
    settings.LOGIN_LIMIT_PER_ACCOUNT = (3, 900)
    settings.LOGIN_LIMIT_PER_ADDRESS = (6, 900)
    victim = UserFactory(phone="0912345678")
    for i in range(6):  # guessing across many accounts from one address
        client.post(LOGIN, {"username": f"09700000{i:02d}", "password": "sai"}, REMOTE_ADDR="203.0.113.5")

    blocked = client.post(LOGIN, {"username": victim.phone, "password": PASSWORD}, REMOTE_ADDR="203.0.113.5")
    elsewhere = client.post(LOGIN, {"username": victim.phone, "password": PASSWORD}, REMOTE_ADDR="203.0.113.6")

    assert blocked.status_code == 429
    assert elsewhere.status_code == 302


def test_successful_login_clears_the_account_counter(client, settings):
    settings.LOGIN_LIMIT_PER_ACCOUNT = (3, 900)
    UserFactory(phone="0912345678")
    for _ in range(2):
        client.post(LOGIN, {"username": "0912345678", "password": "sai"})
    assert client.post(LOGIN, {"username": "0912345678", "password": PASSWORD}).status_code == 302
    client.logout()

    for _ in range(2):
        assert client.post(LOGIN, {"username": "0912345678", "password": "sai"}).status_code == 200
    assert client.post(LOGIN, {"username": "0912345678", "password": PASSWORD}).status_code == 302


def test_client_address_header_is_used_behind_a_proxy(settings):
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")

    settings.CLIENT_IP_HEADER = ""
    assert client_address(request) == "10.0.0.2"
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    # The rightmost entry is the one our proxy added; the left ones are whatever the client sent.
    assert client_address(request) == "203.0.113.7"
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    assert client_address(request) == "203.0.113.7"


def test_ipv6_clients_are_limited_per_64_network(settings):
    factory = RequestFactory()
    one = factory.get("/", REMOTE_ADDR="2001:db8:1:2::10")
    two = factory.get("/", REMOTE_ADDR="2001:db8:1:2:ffff::1")
    other = factory.get("/", REMOTE_ADDR="2001:db8:1:3::10")

    assert client_address(one) == client_address(two) == "2001:db8:1:2::/64"
    assert client_address(other) != client_address(one)
    assert client_address(factory.get("/", REMOTE_ADDR="::ffff:203.0.113.1")) == "203.0.113.1"


def test_login_identifier_is_canonical():
    assert login_identifier(" +84 912 345 678 ") == login_identifier("0912345678") == "0912345678"
    assert login_identifier("Lan@Example.VN") == "lan@example.vn"


def test_login_page_offers_password_reset_and_signup(client):
    html = client.get(LOGIN).content.decode()

    assert reverse("accounts:sms_reset_request") in html
    assert reverse("accounts:password_reset") in html
    assert reverse("accounts:signup") in html
    assert 'autocomplete="username"' in html


def test_login_is_cheap_on_the_database(client, django_assert_max_num_queries):
    UserFactory(phone="0912345678")

    # user lookup, last_login update, session key check + insert + update (database sessions), 4 savepoint
    # statements; the rate-limit counters are in Redis, not the database.
    with django_assert_max_num_queries(9):
        response = client.post(LOGIN, {"username": "0912345678", "password": PASSWORD})

    assert response.status_code == 302

"""The one login policy (accounts.login_policy) behind every entry point, against real PostgreSQL and Redis:
the admin login is limited like the site login, an attacker's failures from other addresses and devices do not
lock the owner out of their usual device, and every spelling of a number counts against one account."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core import signing
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts import login_policy
from accounts.models import Role
from accounts.validators import normalise_phone
from tests.factories import UserFactory, make_staff

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
ADMIN_LOGIN = reverse("admin:login")
PASSWORD = "mat-khau-an-toan-1"  # tests.factories.UserFactory's password
BLOCKED = "Bạn đã thử quá nhiều lần"



def log_out_keeping_cookies(client) -> None:
    """Log out through the site (the session ends; the browser keeps its other cookies). The test client's own
    ``logout()`` throws every cookie away, which no browser does."""
    assert client.post(reverse("accounts:logout")).status_code == 302

def logged_in_as(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


def admin_login(client, username, password, **extra):
    return client.post(ADMIN_LOGIN, {"username": username, "password": password,
                                     "next": reverse("admin:index")}, **extra)


def owner_device(login: str) -> Client:
    """A browser on which the owner logged in successfully once (so it carries the ce_known cookie), logged out."""
    device = Client()
    assert device.post(LOGIN, {"username": login, "password": PASSWORD}).status_code == 302
    assert device.cookies.get(login_policy.KNOWN_DEVICE_COOKIE)
    log_out_keeping_cookies(device)
    return device


# --- Part 3: every entry point ---------------------------------------------------------------------------------


def test_twelve_wrong_passwords_at_the_admin_login_are_refused_and_then_so_is_the_right_one(org_a):
    staff = make_staff(org_a, Role.ORGANISER, username="can-bo-phuong")
    client = Client()
    statuses = [admin_login(client, staff.username, f"sai-{i}", REMOTE_ADDR=f"198.51.100.{i}").status_code
                for i in range(12)]

    right = admin_login(client, staff.username, PASSWORD, REMOTE_ADDR="198.51.100.99")

    assert statuses[:5] == [200] * 5  # wrong password, shown again
    assert statuses[5:] == [429] * 7  # the account's limit (5 per 15 minutes from unknown devices)
    assert right.status_code == 429
    assert BLOCKED in right.content.decode()
    assert int(right["Retry-After"]) > 0
    assert logged_in_as(client) is None


def test_an_account_locked_at_the_site_login_cannot_log_in_through_the_admin(org_a):
    staff = make_staff(org_a, Role.ORGANISER, phone="0912345678")
    client = Client()
    for _ in range(5):
        assert client.post(LOGIN, {"username": "0912345678", "password": "sai"}).status_code == 200
    assert client.post(LOGIN, {"username": "0912345678", "password": PASSWORD}).status_code == 429

    # Through the admin, by the internal username or the phone number in another spelling: the same account.
    by_username = admin_login(client, staff.username, PASSWORD)
    by_phone = admin_login(client, "+84 912 345 678", PASSWORD)

    assert by_username.status_code == by_phone.status_code == 429
    assert BLOCKED in by_username.content.decode()
    assert logged_in_as(client) is None


def test_the_admin_login_still_works_for_staff(org_a):
    staff = make_staff(org_a, Role.ORGANISER)
    client = Client()

    response = admin_login(client, staff.username, PASSWORD)

    assert response.status_code == 302
    assert logged_in_as(client) == staff.pk


def test_api_and_oidc_fallbacks_get_the_policy_through_authenticate(settings):
    """The documented hook: a later caller of ``authenticate`` with the request is limited the same way and
    learns why from ``login_policy.refusal_of``."""
    settings.LOGIN_LIMIT_PER_ACCOUNT = (2, 900)
    UserFactory(phone="0912345678")
    factory = RequestFactory()
    for _ in range(2):
        request = factory.post("/api/token", REMOTE_ADDR="203.0.113.40")
        assert authenticate(request, username="0912345678", password="sai") is None
        assert login_policy.refusal_of(request) is None

    request = factory.post("/api/token", REMOTE_ADDR="203.0.113.41")
    assert authenticate(request, username="0912345678", password=PASSWORD) is None
    refusal = login_policy.refusal_of(request)
    assert refusal is not None
    assert 0 < refusal.retry_after <= 901


# --- Part 4: lockout abuse ---------------------------------------------------------------------------------------


def test_an_attacker_from_other_addresses_does_not_lock_the_owner_out_of_their_usual_device():
    owner = UserFactory(phone="0912345678")
    device = owner_device("0912345678")
    attacker = Client()
    for i in range(30):  # guessing from many addresses, far past the account's limit
        attacker.post(LOGIN, {"username": "0912345678", "password": f"doan-{i}"}, REMOTE_ADDR=f"203.0.113.{i}")

    # The attacker, and any device the account has not logged in on, is refused even with the right password…
    assert attacker.post(LOGIN, {"username": "0912345678", "password": PASSWORD},
                         REMOTE_ADDR="203.0.113.200").status_code == 429
    assert Client().post(LOGIN, {"username": "0912345678", "password": PASSWORD}).status_code == 429
    # …the owner on their usual device gets in on the first try.
    response = device.post(LOGIN, {"username": "0912345678", "password": PASSWORD})
    assert response.status_code == 302
    assert logged_in_as(device) == owner.pk


def test_a_known_device_has_its_own_limit(settings):
    settings.LOGIN_LIMIT_PER_KNOWN_DEVICE = (3, 900)
    UserFactory(phone="0912345678")
    device = owner_device("0912345678")
    for _ in range(3):
        assert device.post(LOGIN, {"username": "0912345678", "password": "sai"}).status_code == 200

    assert device.post(LOGIN, {"username": "0912345678", "password": PASSWORD}).status_code == 429
    # The unknown-devices counter was not touched by the known device's mistakes.
    assert Client().post(LOGIN, {"username": "0912345678", "password": PASSWORD}).status_code == 302


def test_a_device_cookie_counts_only_for_the_accounts_it_names_and_cannot_be_forged():
    UserFactory(phone="0912345678")
    UserFactory(phone="0987654321")
    other_accounts_device = owner_device("0987654321")
    genuine = other_accounts_device.cookies[login_policy.KNOWN_DEVICE_COOKIE].value
    device_id = signing.loads(genuine, salt="accounts.login_policy.known-device")["d"]
    attacker = Client()
    for i in range(5):
        attacker.post(LOGIN, {"username": "0912345678", "password": f"doan-{i}"}, REMOTE_ADDR=f"203.0.113.{i}")

    # Another account's genuine cookie, a cookie signed with another key, and an edited one: all unknown devices.
    forged = signing.dumps({"d": device_id, "u": [1, 2, 3, 4, 5]}, key="not-the-secret-key",
                           salt="accounts.login_policy.known-device")
    for cookie in (genuine, forged, genuine[:-2] + "xx"):
        client = Client()
        client.cookies[login_policy.KNOWN_DEVICE_COOKIE] = cookie
        assert client.post(LOGIN, {"username": "0912345678", "password": PASSWORD}).status_code == 429


def test_the_device_cookie_is_http_only_and_remembers_several_accounts():
    first = UserFactory(phone="0912345678")
    second = UserFactory(phone="0987654321")
    device = owner_device("0912345678")
    assert device.post(LOGIN, {"username": "0987654321", "password": PASSWORD}).status_code == 302
    log_out_keeping_cookies(device)

    cookie = device.cookies[login_policy.KNOWN_DEVICE_COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert set(signing.loads(cookie.value, salt="accounts.login_policy.known-device")["u"]) == {first.pk, second.pk}


FULL_WIDTH = "091234567８"


@pytest.mark.parametrize("spellings", [
    ["0912345678", "0912 345 678", "+84912345678", "84912345678", FULL_WIDTH],
    [FULL_WIDTH, "０９１２３４５６７８", "＋８４ ９１２ ３４５ ６７８", "091.234.5678", "lan@example.vn"],
])
def test_every_spelling_of_the_number_counts_against_one_account(spellings):
    UserFactory(phone="0912345678", email="lan@example.vn")
    client = Client()
    for i, login in enumerate(spellings):
        assert client.post(LOGIN, {"username": login, "password": "sai"},
                           REMOTE_ADDR=f"198.51.100.{i}").status_code == 200

    # The case: full-width digits with the right password while the account is "locked".
    for login in (FULL_WIDTH, "0912345678", "LAN@example.vn"):
        assert client.post(LOGIN, {"username": login, "password": PASSWORD}).status_code == 429
    assert logged_in_as(client) is None


@pytest.mark.parametrize("login", [FULL_WIDTH, "０９１２３４５６７８", "＋８４９１２３４５６７８", "٠٩١٢٣٤٥٦٧٨"])
def test_full_width_and_other_script_digits_log_in(login):
    user = UserFactory(phone="0912345678")
    client = Client()

    assert client.post(LOGIN, {"username": login, "password": PASSWORD}).status_code == 302
    assert logged_in_as(client) == user.pk


def test_phone_spellings_normalise_to_one_number():
    for spelling in (FULL_WIDTH, "＋８４ ９１２ ３４５ ６７８", "(091) 234-5678", "84912345678", "٠٩١٢٣٤٥٦٧٨"):
        assert normalise_phone(spelling) == "0912345678"


def test_a_blocked_attempt_does_not_check_the_password(settings, django_assert_max_num_queries):
    """Refused before the hash is computed: a storm of refused guesses costs Redis reads, not CPU or SQL."""
    settings.LOGIN_LIMIT_PER_ACCOUNT = (1, 900)
    UserFactory(phone="0912345678")
    client = Client()
    client.post(LOGIN, {"username": "0912345678", "password": "sai"})

    with django_assert_max_num_queries(1):  # only the account lookup
        assert client.post(LOGIN, {"username": "0912345678", "password": PASSWORD}).status_code == 429


def test_strangers_spraying_from_the_owners_carrier_address_do_not_lock_out_the_owners_phone(settings):
    settings.LOGIN_LIMIT_PER_ADDRESS = (10, 900)
    owner = UserFactory(phone="0912345678")
    device = owner_device("0912345678")
    sprayer = Client()
    for i in range(12):  # many accounts guessed from the shared carrier address
        sprayer.post(LOGIN, {"username": f"09700000{i:02d}", "password": "sai"}, REMOTE_ADDR="100.64.0.9")

    assert Client().post(LOGIN, {"username": "0912345678", "password": PASSWORD},
                         REMOTE_ADDR="100.64.0.9").status_code == 429
    response = device.post(LOGIN, {"username": "0912345678", "password": PASSWORD}, REMOTE_ADDR="100.64.0.9")
    assert response.status_code == 302
    assert logged_in_as(device) == owner.pk

"""The production password hashers (issue 19, point 2): argon2id at OWASP's minimum first, older PBKDF2 hashes
still accepted and rehashed at the next login, and at most ``PASSWORD_HASH_CONCURRENCY`` hashes at once.

The test settings hash with MD5 for speed; these tests put the production list back explicitly.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, PBKDF2PasswordHasher, check_password, make_password
from django.urls import reverse

from accounts import hashers
from contest_engine import settings as production_settings
from tests.factories import UserFactory

LOGIN = reverse("accounts:login")
PASSWORD = "mat-khau-an-toan-1"


@pytest.fixture
def production_hashers(settings):
    settings.PASSWORD_HASHERS = production_settings.PASSWORD_HASHERS
    assert settings.PASSWORD_HASHERS[0] == "accounts.hashers.Argon2idHasher"


def test_new_passwords_are_argon2id_at_owasp_minimum(production_hashers):
    encoded = make_password(PASSWORD)

    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert check_password(PASSWORD, encoded)
    assert not check_password("sai-mat-khau", encoded)
    # A standard PHC string: Django's own argon2 hasher verifies it too.
    assert Argon2PasswordHasher().verify(PASSWORD, encoded)


@pytest.mark.django_db
def test_an_old_pbkdf2_hash_is_rehashed_with_argon2id_at_login(client, production_hashers):
    old = PBKDF2PasswordHasher().encode(PASSWORD, "oldsalt0123456789", iterations=1_000)
    user = UserFactory(phone="0912345678")
    type(user).objects.filter(pk=user.pk).update(password=old)

    response = client.post(LOGIN, {"username": "0912345678", "password": PASSWORD})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_a_wrong_password_leaves_the_old_hash_alone(client, production_hashers):
    old = PBKDF2PasswordHasher().encode(PASSWORD, "oldsalt0123456789", iterations=1_000)
    user = UserFactory(phone="0912345678")
    type(user).objects.filter(pk=user.pk).update(password=old)

    response = client.post(LOGIN, {"username": "0912345678", "password": "sai-mat-khau"})

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.password == old


@pytest.mark.parametrize("slots", [1, 2])
def test_at_most_the_configured_number_of_hashes_run_at_once(settings, production_hashers, monkeypatch, slots):
    settings.PASSWORD_HASH_CONCURRENCY = slots
    monkeypatch.setattr(hashers, "_slots", None)
    running = 0
    most = 0
    lock = threading.Lock()

    def slow_encode(self, password, salt):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return "argon2$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"

    monkeypatch.setattr(Argon2PasswordHasher, "encode", slow_encode)
    threads = [threading.Thread(target=make_password, args=(PASSWORD,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert most == slots


def test_pbkdf2_verify_inside_its_slot_does_not_wait_for_itself(settings, production_hashers, monkeypatch):
    # PBKDF2's verify calls encode: the slot is re-entrant within a thread (one slot, no deadlock).
    settings.PASSWORD_HASH_CONCURRENCY = 1
    monkeypatch.setattr(hashers, "_slots", None)
    encoded = hashers.LimitedPBKDF2Hasher().encode(PASSWORD, "salt0123456789ab", iterations=1_000)
    done = threading.Event()

    def check() -> None:
        assert hashers.LimitedPBKDF2Hasher().verify(PASSWORD, encoded)
        done.set()

    threading.Thread(target=check, daemon=True).start()
    assert done.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_a_request_waiting_for_a_hashing_slot_gives_its_database_connection_back(settings, monkeypatch):
    """A login storm: requests queued for the process's hashing slots held every pooled connection while they
    waited, so pages and the exam's other work got 503 (bench/http_load.py's storm). A thread that must wait
    returns its connection first; one that gets a slot at once, or is inside a transaction, keeps it."""
    from django.db import connection, transaction

    settings.PASSWORD_HASH_CONCURRENCY = 1
    monkeypatch.setattr(hashers, "_slots", None)
    busy, release = threading.Event(), threading.Event()

    def hold_the_slot() -> None:
        with hashers.password_hash_slot():
            busy.set()
            release.wait(10)

    def waiter(atomic: bool) -> bool:
        """In a thread of its own (its own connection): does it still hold a connection once it got the slot?"""
        out = {}

        def run() -> None:
            try:
                if atomic:
                    with transaction.atomic():
                        connection.ensure_connection()
                        with hashers.password_hash_slot():
                            out["held"] = connection.connection is not None
                else:
                    connection.ensure_connection()
                    with hashers.password_hash_slot():
                        out["held"] = connection.connection is not None
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        threading.Timer(0.3, release.set).start()
        thread.join(15)
        return out["held"]

    connection.ensure_connection()
    with hashers.password_hash_slot():  # a free slot: taken at once, the connection kept
        assert connection.connection is not None
    for atomic, kept in ((False, False), (True, True)):
        release.clear()
        busy.clear()
        holder = threading.Thread(target=hold_the_slot)
        holder.start()
        assert busy.wait(5)
        assert waiter(atomic) is kept
        holder.join(15)

"""Password hashers: argon2id at OWASP's minimum parameters, and a limit on how many hashes run at once.

Why (docs/decisions.md, "Password hashing"): Django's default PBKDF2 (1,000,000 iterations of SHA-256) costs
~0.45 s of CPU per check on this machine, so a round's start — thousands of citizens logging in within a
minute — would take every core from the exam socket. argon2id with m = 19 MiB, t = 2, p = 1 (OWASP's
minimum) costs a small fraction of that, and its memory cost is what slows an attacker's GPU. Hashes made by
an earlier hasher (PBKDF2) still verify and are rehashed with argon2id at the next successful login
(Django's ``check_password`` with a setter, which ``User.check_password`` passes).

Every hash computed by these hashers — a login's check, a sign-up, a password change or reset, the dummy
hash for an unknown login — waits for one of ``PASSWORD_HASH_CONCURRENCY`` slots per process. A hash runs in
the request's own thread (argon2-cffi and hashlib release the GIL while they compute), never on the event
loop or the exam socket's threads; the slots bound how much CPU a login storm can take from them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, PBKDF2PasswordHasher
from django.db import connections

_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()
_held = threading.local()


def _semaphore() -> threading.BoundedSemaphore:
    global _slots
    if _slots is None:
        with _slots_lock:
            if _slots is None:
                _slots = threading.BoundedSemaphore(max(1, int(getattr(settings, "PASSWORD_HASH_CONCURRENCY", 1))))
    return _slots


@contextlib.contextmanager
def password_hash_slot() -> Iterator[None]:
    """Hold one of the process's hashing slots (re-entrant within a thread: PBKDF2's ``verify`` calls
    ``encode``)."""
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    slots = _semaphore()
    if not slots.acquire(blocking=False):
        _release_database_connection()  # a storm's queue must not hold the pool's connections while it waits
        slots.acquire()
    _held.depth = 1
    try:
        yield
    finally:
        _held.depth = 0
        slots.release()


def _release_database_connection() -> None:
    """Give this thread's database connection back (to the pool) before waiting for a slot, unless it is inside
    a transaction. In a login storm the requests queued for the hashing slots held every pooled connection
    while they waited, and the pages and the other logins got 503 for a free connection (bench/http_load.py);
    a request that queries again afterwards takes a connection anew."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and not conn.in_atomic_block:
            conn.close()


class Argon2idHasher(Argon2PasswordHasher):
    """argon2id, m = 19 MiB, t = 2, p = 1 (OWASP Password Storage Cheat Sheet, the first option). The algorithm
    name stays Django's ``argon2``: the hashes are standard PHC strings that Django's own hasher verifies, and a
    hash with other parameters is rehashed at the next login (``must_update``)."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1

    def encode(self, password, salt):
        with password_hash_slot():
            return super().encode(password, salt)

    def verify(self, password, encoded):
        with password_hash_slot():
            return super().verify(password, encoded)


class LimitedPBKDF2Hasher(PBKDF2PasswordHasher):
    """Django's PBKDF2-SHA256 (hashes made before argon2id), verified within a hashing slot."""

    def encode(self, password, salt, iterations=None):
        with password_hash_slot():
            return super().encode(password, salt, iterations)

    def verify(self, password, encoded):
        with password_hash_slot():
            return super().verify(password, encoded)

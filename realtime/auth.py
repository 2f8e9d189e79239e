"""Channels' session authentication for sockets, resolved in batches off the event loop.

``channels.auth.AuthMiddleware`` loads each socket's user with ``database_sync_to_async``: ONE shared
thread for the whole process, several round trips per socket (session from the cache, maybe from the
database, then the user). In a join storm (thousands of citizens opening the exam at an announced start
time) every handshake waited for all the ones before it — ~65 connections/s — and each round trip's
wake-up waited for the busy event loop to hand back the GIL. Here the handshakes queue on a per-process
batcher (``realtime.batching.Batcher``) and a whole batch is resolved with one cache ``get_many``, one
session query for the cache misses and one user query.

The rules are Channels' ``get_user``, unchanged: the session's user id and backend, the backend among
AUTHENTICATION_BACKENDS, the backend's own ``user_can_authenticate`` (inactive users are anonymous), the
session-hash check (a mismatch flushes the session), AnonymousUser otherwise. Session engines other than
``db`` and ``cached_db`` are loaded one by one with their own ``load()``.

The session object is (re)created in the batch thread: Channels' SessionMiddleware built it inside the
connection's own async context, where Django's ``caches`` (an asgiref Local) hands every connection a NEW
cache backend — with the cached_db engine, one more Redis connection per open socket.
"""

from __future__ import annotations

import datetime as dt
from importlib import import_module
from typing import Any

from channels.auth import AuthMiddleware
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, load_backend
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.utils.crypto import constant_time_compare

from realtime.batching import Batcher, loop_batcher

BATCHED_ENGINES = ("django.contrib.sessions.backends.cached_db", "django.contrib.sessions.backends.db")


def _load_sessions(keys: list[str | None], now: dt.datetime) -> list[Any]:
    """A SessionStore per key, loaded as its engine's ``load()`` would (empty and keyless when missing)."""
    engine = import_module(settings.SESSION_ENGINE)
    stores = [engine.SessionStore(key) for key in keys]
    if settings.SESSION_ENGINE not in BATCHED_ENGINES:
        for store in stores:
            store._get_session()  # the engine's own load
        return stores
    data: dict[str, dict] = {}
    wanted = {key for key in keys if key}
    if settings.SESSION_ENGINE.endswith("cached_db") and wanted:
        prefix = engine.SessionStore.cache_key_prefix
        cached = caches[settings.SESSION_CACHE_ALIAS].get_many([prefix + key for key in wanted])
        data = {cache_key[len(prefix):]: value for cache_key, value in cached.items() if value is not None}
    missing = wanted - set(data)
    if missing:
        from django.contrib.sessions.models import Session

        decoder = engine.SessionStore()
        for session_key, session_data in Session.objects.filter(
                session_key__in=missing, expire_date__gt=now).values_list("session_key", "session_data"):
            data[session_key] = decoder.decode(session_data)
    for store, key in zip(stores, keys, strict=True):
        if key and key in data:
            store._session_cache = data[key]
        else:  # what load() does for a missing or expired session
            store._session_key = None
            store._session_cache = {}
    return stores


def users_for_scopes(*, items: list[dict], now: dt.datetime) -> list[Any]:
    """The user (or AnonymousUser) of each socket scope; replaces each scope's session object."""
    keys = [scope["cookies"].get(settings.SESSION_COOKIE_NAME) for scope in items]
    stores = _load_sessions(keys, now)
    wanted: list[tuple[int, str, str]] = []  # (index, user id, backend path)
    for index, session in enumerate(stores):
        items[index]["session"]._wrapped = session
        try:
            user_id = get_user_model()._meta.pk.to_python(session[SESSION_KEY])
            backend_path = session[BACKEND_SESSION_KEY]
        except (KeyError, ValueError):
            continue
        if backend_path in settings.AUTHENTICATION_BACKENDS:
            wanted.append((index, user_id, backend_path))
    loaded = get_user_model()._default_manager.in_bulk([user_id for _, user_id, _ in wanted])
    users: list[Any] = [AnonymousUser() for _ in items]
    for index, user_id, backend_path in wanted:
        backend = load_backend(backend_path)
        if hasattr(backend, "user_can_authenticate"):  # ModelBackend: get_user = fetch + this check
            user = loaded.get(user_id)
            user = user if user is not None and backend.user_can_authenticate(user) else None
        else:
            user = backend.get_user(user_id)
        if user is None:
            continue
        session = stores[index]
        if hasattr(user, "get_session_auth_hash"):
            session_hash = session.get(HASH_SESSION_KEY)
            if not (session_hash and constant_time_compare(session_hash, user.get_session_auth_hash())):
                session.flush()
                continue
        users[index] = user
    return users


def get_authenticator() -> Batcher:
    """The running loop's batcher of socket session checks (``users_for_scopes``)."""
    return loop_batcher("authenticator", lambda: Batcher(store_batch=users_for_scopes, name="authenticator",
                                                         max_batch=200))


class BatchedAuthMiddleware(AuthMiddleware):
    async def resolve_scope(self, scope):
        scope["user"]._wrapped = await get_authenticator().store(scope)


def AuthMiddlewareStack(inner):  # same name and shape as channels.auth.AuthMiddlewareStack
    return CookieMiddleware(SessionMiddleware(BatchedAuthMiddleware(inner)))

"""Channels' session authentication, resolved in ``realtime.db``'s thread pool instead of one shared thread.

``channels.auth.AuthMiddleware`` loads the user with ``database_sync_to_async``, which runs every such call
of the process on ONE thread: in a join storm (thousands of citizens opening the exam at an announced
start time) each handshake waited for the session and user queries of all the handshakes before it —
measured at ~65 connections/s. The lookup itself (``channels.auth.get_user``, unchanged: session key,
backend, session-hash check) now runs on the pool's threads, each with its own database connection.
"""

from __future__ import annotations

from importlib import import_module

from channels.auth import AuthMiddleware, get_user
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings

from realtime.db import db_call

# channels.auth.get_user is the synchronous function wrapped by database_sync_to_async.
_get_user_sync = get_user.func


def _resolve_user(scope):
    """Runs in the pool. The session object is re-created here first: Channels' SessionMiddleware built it
    inside the connection's own async context, where Django's ``caches`` (an asgiref Local) hands every
    connection a NEW cache backend — with the cached_db session engine that meant one more Redis
    connection per open socket (10,000 sockets → 10,000 Redis clients, Redis' default limit). Created in a
    pool thread, the session uses that thread's one cache client."""
    session = scope["session"]
    session_key = getattr(session, "session_key", None)
    scope["session"]._wrapped = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return _get_user_sync(scope)


class PooledAuthMiddleware(AuthMiddleware):
    async def resolve_scope(self, scope):
        scope["user"]._wrapped = await db_call(_resolve_user, scope=scope)


def AuthMiddlewareStack(inner):  # same name and shape as channels.auth.AuthMiddlewareStack
    return CookieMiddleware(SessionMiddleware(PooledAuthMiddleware(inner)))

"""Batched socket authentication gives exactly what channels.auth.get_user gives, socket by socket."""

from __future__ import annotations

import datetime as dt

import pytest
from channels.auth import get_user
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.utils import timezone
from django.utils.functional import LazyObject

from realtime.auth import users_for_scopes
from tests.factories import CitizenProfileFactory
from tests.realtime.conftest import session_cookie

pytestmark = pytest.mark.django_db


def _scope(cookie: str | None) -> dict:
    from importlib import import_module

    session = LazyObject()
    session._wrapped = import_module(settings.SESSION_ENGINE).SessionStore(cookie)
    return {"cookies": {settings.SESSION_COOKIE_NAME: cookie} if cookie else {}, "session": session}


def test_same_users_as_channels_get_user(org_a):
    users = [CitizenProfileFactory(unit=org_a).user for _ in range(5)]
    cookies = [session_cookie(u) for u in users]
    users[1].is_active = False  # inactive: anonymous
    users[1].save(update_fields=["is_active"])
    users[2].set_password("mat-khau-moi-2026")  # password changed elsewhere: the old session is invalid
    users[2].save(update_fields=["password"])
    # Expired in the database and gone from the cache (cached_db trusts its cache until the cache expires).
    Session.objects.filter(session_key=cookies[3]).update(expire_date=timezone.now() - dt.timedelta(minutes=1))
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX

    caches[settings.SESSION_CACHE_ALIAS].delete(KEY_PREFIX + cookies[3])
    keys = [*cookies, None, "no-such-session-key-000000000000", cookies[0]]

    expected = [get_user.func(_scope(key)) for key in keys]
    actual = users_for_scopes(items=[_scope(key) for key in keys], now=timezone.now())

    assert [getattr(u, "pk", None) for u in actual] == [getattr(u, "pk", None) for u in expected]
    assert [u.pk for u in actual if u.is_authenticated] == [users[0].pk, users[4].pk, users[0].pk]

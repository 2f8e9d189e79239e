from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import Q
from django.http import HttpRequest

from accounts.models import User
from accounts.validators import normalise_phone


def find_user_by_login(login: str) -> User | None:
    """Resolve a login identifier — phone number, e-mail or internal username — to a user."""
    login = (login or "").strip()
    if not login:
        return None
    query = Q(username=login)
    if "@" in login:
        query |= Q(email__iexact=login)
    else:
        query |= Q(phone=normalise_phone(login))
    return User.objects.filter(query).order_by("pk").first()


class PhoneOrEmailBackend(ModelBackend):
    """Log in with a phone number or an e-mail address (or the internal username, for staff)."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> User | None:
        if username is None or password is None:
            return None
        user = find_user_by_login(username)
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle for existence
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

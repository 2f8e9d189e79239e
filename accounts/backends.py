from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest

from accounts import login_policy
from accounts.models import User
from accounts.validators import ascii_digits, normalise_phone


def find_user_by_login(login: str) -> User | None:
    """Resolve a login identifier — phone number (any spelling), e-mail or internal username — to a user."""
    login = ascii_digits(login).strip()
    if not login:
        return None
    query = Q(username=login)
    if "@" in login:
        query |= Q(email__iexact=login)
    else:
        query |= Q(phone=normalise_phone(login))
    return User.objects.filter(query).order_by("pk").first()


class PhoneOrEmailBackend(ModelBackend):
    """Log in with a phone number or an e-mail address (or the internal username, for staff), under the login
    policy (accounts.login_policy): every caller of ``authenticate`` — site login, admin login, API/OIDC
    fallbacks — is limited the same way. A refused attempt raises PermissionDenied (``authenticate`` then stops
    and returns None) without checking the password; ``login_policy.refusal_of(request)`` says why."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> User | None:
        if username is None or password is None:
            return None
        user = find_user_by_login(username)
        attempt = login_policy.password_attempt_begin(request, login=username, user=user)
        if attempt.refusal is not None:
            raise PermissionDenied(attempt.refusal.message)
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle for existence
            attempt.failed()
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            attempt.succeeded()
            return user
        attempt.failed()
        return None

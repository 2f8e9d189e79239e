"""The login policy: one place that decides whether a password check or a password-reset step may go ahead.

Every entry point goes through it (docs/operations.md, "Login policy"):

* **password checks** — ``accounts.backends.PhoneOrEmailBackend`` calls ``password_attempt_begin`` before it
  checks a password and ``PasswordAttempt.failed/succeeded`` after. Every caller of
  ``django.contrib.auth.authenticate`` therefore gets the policy: the site login (/accounts/login/), the admin
  login (/admin/login/), and the API/OIDC password fallbacks when they come. **Hook for those**: call
  ``authenticate(request, username=…, password=…)`` with the request, and when it returns None and
  ``refusal_of(request)`` is set, answer 429 with ``Retry-After: refusal.retry_after`` (the
  ``LoginPolicyMiddleware`` does that for HTML pages that render a refused login with status 200).
* **reset requests** (SMS code, e-mail link) — ``reset_request_allowed`` before anything is sent;
* **reset codes** — ``reset_code_check_allowed`` / ``reset_code_failed`` around each code check; the code
  itself is tied to the request that asked for it (``accounts.services.sms_reset_code_issue``);
* **after a reset** — ``password_reset_completed`` clears the account's counter and trusts the device.

Counters (``accounts.ratelimit``, fixed windows in Redis) and what an attacker can and cannot exhaust:

* ``login:address`` — failures per client address, loose (many citizens share one carrier NAT address); it
  refuses unknown devices only.
* ``login:account`` — failures per account from devices *not known* to that account: an attacker guessing
  from other addresses fills it and then waits out the window (the per-account delay/lockout).
* ``login:device`` — failures per account and known device. A device becomes known to an account by a
  successful login or password reset on it: it then carries a signed ``ce_known`` cookie naming the account
  (OWASP "device cookies"). The owner on their usual device is never refused because of the attacker's
  failures, which land in ``login:account``; a stolen or guessed cookie is worth at most this counter's
  attempts, and cannot be forged (signed with SECRET_KEY, bound to the account ids it lists).
* ``reset:address`` / ``reset:account`` / ``reset:device`` — reset requests, split the same way, so the
  attacker's requests (unknown device) cannot use up the owner's (known device).

An account is counted by its id when the login resolves to one, so every spelling of one number
(``0912 345 678``, ``+84912345678``, full-width ``091234567８``), its e-mail address and its internal username
share one counter; a login that matches no account is counted by its canonical text (``login_identifier``),
and gets exactly the same answers.

``ce_device`` (the exam page's random browser id, read by anticheat) is not used: it is written by page
JavaScript, unsigned and readable by any script, so it proves nothing about who logged in before.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from accounts import ratelimit
from accounts.models import User
from accounts.ratelimit import Limit, RateLimitResult, client_address, login_identifier

KNOWN_DEVICE_COOKIE = "ce_known"
_KNOWN_DEVICE_SALT = "accounts.login_policy.known-device"
# How many accounts one device remembers (a family phone): the oldest is forgotten first.
KNOWN_DEVICE_MAX_ACCOUNTS = 5
_REFUSAL_ATTR = "login_policy_refusal"
_ISSUE_ATTR = "login_policy_known_device_cookie"


@dataclass(frozen=True)
class Refusal:
    """Why an attempt was refused, with the seconds until it may be tried again."""

    retry_after: int

    @property
    def retry_after_minutes(self) -> int:
        return max(1, -(-self.retry_after // 60))

    @property
    def message(self) -> str:
        return _("Bạn đã thử quá nhiều lần. Vui lòng thử lại sau %(minutes)s phút.") % {
            "minutes": self.retry_after_minutes}


def _refusal(results: list[RateLimitResult]) -> Refusal | None:
    blocked = [r for r in results if not r.allowed]
    return Refusal(retry_after=max(r.retry_after for r in blocked)) if blocked else None


def refusal_of(request: HttpRequest | None) -> Refusal | None:
    """The refusal of the last password check made with ``request`` (None when it was not refused)."""
    return getattr(request, _REFUSAL_ATTR, None)


def _remember_refusal(request: HttpRequest | None, refusal: Refusal | None) -> None:
    if request is not None and refusal is not None:
        setattr(request, _REFUSAL_ATTR, refusal)


# --- Identifiers ---------------------------------------------------------------------------------


def _account_key(*, user: User | None, identifier: str) -> str:
    return f"user:{user.pk}" if user is not None else f"login:{identifier}"


# --- Known devices ---------------------------------------------------------------------------------


def _read_device(request: HttpRequest | None) -> tuple[str, list[int]] | None:
    if request is None:
        return None
    raw = request.COOKIES.get(KNOWN_DEVICE_COOKIE, "")
    if not raw:
        return None
    try:
        value = signing.loads(raw, salt=_KNOWN_DEVICE_SALT, max_age=settings.KNOWN_DEVICE_MAX_AGE_SECONDS)
        device, users = str(value["d"]), [int(pk) for pk in value["u"]]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return device, users


def known_device(request: HttpRequest | None, user: User | None) -> str | None:
    """The id of the request's device if a successful login or reset of ``user`` happened on it, else None."""
    read = _read_device(request)
    if read is None or user is None:
        return None
    device, users = read
    return device if user.pk in users else None


def device_trust(request: HttpRequest | None, user: User) -> None:
    """Remember on this device (the ``ce_known`` cookie, written by ``LoginPolicyMiddleware``) that ``user``
    logged in or reset their password here. Called on every successful login and reset."""
    if request is None or not getattr(user, "pk", None):
        return
    read = _read_device(request)
    device, users = read if read is not None else (secrets.token_hex(16), [])
    users = [user.pk, *(pk for pk in users if pk != user.pk)][:KNOWN_DEVICE_MAX_ACCOUNTS]
    setattr(request, _ISSUE_ATTR, signing.dumps({"d": device, "u": users}, salt=_KNOWN_DEVICE_SALT))


def on_user_logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """``user_logged_in`` receiver (connected in AccountsConfig.ready): every login trusts its device."""
    device_trust(request, user)


class LoginPolicyMiddleware:
    """Writes the ``ce_known`` cookie after a successful login or reset, and turns a page that shows a refused
    login (status 200) into a 429 with ``Retry-After``. Pure (no database, no I/O): sync and async capable."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self._async:
            return self._acall(request)
        return self._finish(request, self.get_response(request))

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        return self._finish(request, await self.get_response(request))

    @staticmethod
    def _finish(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        value = getattr(request, _ISSUE_ATTR, None)
        if value:
            response.set_cookie(KNOWN_DEVICE_COOKIE, value, max_age=settings.KNOWN_DEVICE_MAX_AGE_SECONDS,
                                httponly=True, secure=settings.SESSION_COOKIE_SECURE, samesite="Lax")
        refusal = refusal_of(request)
        if refusal is not None and response.status_code == 200:
            response.status_code = 429
            response["Retry-After"] = str(refusal.retry_after)
        return response


# --- Password checks ---------------------------------------------------------------------------------


@dataclass
class PasswordAttempt:
    """One password check under the policy (``password_attempt_begin``)."""

    request: HttpRequest | None
    user: User | None
    refusal: Refusal | None
    _counters: list[tuple[str, str, Limit]] = field(default_factory=list)
    _account_counter: tuple[str, str, Limit] | None = None

    def failed(self) -> None:
        """The password was wrong (or the login unknown): count it on every counter of this attempt."""
        for scope, identifier, limit in self._counters:
            ratelimit.ratelimit_hit(scope=scope, identifier=identifier, limit=limit)

    def succeeded(self) -> None:
        """The password was right: clear the counter of this account (this device's, or the unknown devices')."""
        if self._account_counter is not None:
            scope, identifier, limit = self._account_counter
            ratelimit.ratelimit_reset(scope=scope, identifier=identifier, limit=limit)


def password_attempt_begin(request: HttpRequest | None, *, login: str, user: User | None) -> PasswordAttempt:
    """Whether a password for ``login`` (resolved to ``user``, or None) may be checked now.

    From a device known to the account only that device's counter can refuse (a failure still counts against
    the address too): neither strangers guessing this account elsewhere nor strangers spraying other accounts
    from the owner's carrier address lock the owner out of their own phone. From any other device the
    account's unknown-devices counter and the address's counter both can.
    A refused attempt must not check the password (that is what is limited); the refusal is remembered on the
    request for ``refusal_of``. Reads Redis only (no database query).
    """
    account = _account_key(user=user, identifier=login_identifier(login))
    device = known_device(request, user)
    if device is not None:
        own = ("login:device", f"{account}:{device}", settings.LOGIN_LIMIT_PER_KNOWN_DEVICE)
    else:
        own = ("login:account", account, settings.LOGIN_LIMIT_PER_ACCOUNT)
    counters = [own]
    if request is not None:
        counters.append(("login:address", client_address(request), settings.LOGIN_LIMIT_PER_ADDRESS))
    checked = [own] if device is not None else counters
    refusal = _refusal([ratelimit.ratelimit_peek(scope=s, identifier=i, limit=lim) for s, i, lim in checked])
    _remember_refusal(request, refusal)
    return PasswordAttempt(request=request, user=user, refusal=refusal, _counters=counters, _account_counter=own)


def password_reset_completed(request: HttpRequest | None, user: User) -> None:
    """After a successful password reset: the unknown-devices counter of the account starts again (the owner
    proved they hold the phone or mailbox) and this device is trusted for the account."""
    ratelimit.ratelimit_reset(scope="login:account", identifier=_account_key(user=user, identifier=""),
                              limit=settings.LOGIN_LIMIT_PER_ACCOUNT)
    device_trust(request, user)


# --- Password reset ------------------------------------------------------------------------------------


def reset_request_allowed(request: HttpRequest, *, login: str, user: User | None) -> Refusal | None:
    """Count one reset request (SMS code or e-mail link) for ``login`` (resolved to the active ``user`` or None);
    a Refusal when it must not be sent. Requests from a device known to the account have their own counter,
    so other people's requests for the account never use up the owner's."""
    account = _account_key(user=user, identifier=login_identifier(login))
    device = known_device(request, user)
    if device is not None:
        own = ("reset:device", f"{account}:{device}", settings.PASSWORD_RESET_LIMIT_PER_KNOWN_DEVICE)
    else:
        own = ("reset:account", account, settings.PASSWORD_RESET_LIMIT_PER_IDENTIFIER)
    counters = [own, ("reset:address", client_address(request), settings.PASSWORD_RESET_LIMIT_PER_ADDRESS)]
    return _refusal([ratelimit.ratelimit_hit(scope=s, identifier=i, limit=lim) for s, i, lim in counters])


def reset_code_check_allowed(request: HttpRequest) -> Refusal | None:
    """Whether this address may check one more reset code (wrong codes are limited per address here and per
    request by the code's own ``tries``)."""
    return _refusal([ratelimit.ratelimit_peek(scope="reset-verify:address", identifier=client_address(request),
                                              limit=settings.LOGIN_LIMIT_PER_ADDRESS)])


def reset_code_failed(request: HttpRequest) -> None:
    ratelimit.ratelimit_hit(scope="reset-verify:address", identifier=client_address(request),
                            limit=settings.LOGIN_LIMIT_PER_ADDRESS)

"""Logs: one JSON object per line (``LOG_FORMAT=json``) or plain text, each with the request id / attempt id of
what was being done, and never personal data (Law 91/2025: logs are processing too; docs/privacy.md).

- **Context**: ``RequestContextMiddleware`` gives every HTTP request an id (the proxy's ``X-Request-ID`` when it
  is a sane token, else a new one; sent back in the response header) and binds it, with the method, the path
  (never the query string) and, once known, the user id, for every line logged while the request is served;
  the exam socket binds ``attempt_id`` and a connection id for its task (``realtime.consumers``). The context
  lives in a ``ContextVar``: asgiref carries it into the threads of sync views, each socket's task has its own.
- **Redaction**: every line — message, arguments and traceback — is scrubbed before it is written: e-mail
  addresses, Vietnamese phone numbers (``0…``/``+84…``, 10–11 digits) and 12-digit ID numbers by pattern, and the
  exact values the request is carrying that no pattern can recognise — the signed-in user's full name,
  username, phone and e-mail, and the values of posted form fields named like personal data (``full_name``,
  ``guardian_name``…). Only what is already in memory is used: formatting a log line never queries the
  database (it may run on the event loop).

The JSON line has ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, the bound context
(``request_id``, ``method``, ``path``, ``user_id``, ``attempt_id``, ``connection_id``) and ``exception`` (the
traceback, redacted). Nothing else of the record is copied: Django's ``django.request`` lines carry the whole
request object, which must not end up in the log.

This module imports no app (contest_engine infrastructure, docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar, Token
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

_context: ContextVar[dict[str, Any]] = ContextVar("contest_engine_log_context", default={})  # noqa: B039 — never mutated
# A callable giving the personal values the current request carries (evaluated only when a line is written).
_sensitive: ContextVar[Callable[[], Iterable[str]] | None] = ContextVar("contest_engine_log_sensitive", default=None)

# The request being served, for the user id of its lines (read only if the view loaded the user).
_request: ContextVar[HttpRequest | None] = ContextVar("contest_engine_log_request", default=None)

CONTEXT_KEYS = ("request_id", "method", "path", "user_id", "attempt_id", "connection_id")
REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Vietnamese numbers: mobiles 0[35789]xxxxxxxx, landlines 02xxxxxxxxx, with +84/84 instead of the 0; spaces,
# dots or dashes between digit groups are common in typed text.
PHONE = re.compile(r"(?<![\d+])(?:\+?84|0)[\s.-]?(?:[35789](?:[\s.-]?\d){8}|2(?:[\s.-]?\d){9})(?!\d)")
NATIONAL_ID = re.compile(r"(?<!\d)\d{12}(?!\d)")
# Posted fields whose values are personal data whatever they look like.
SENSITIVE_FIELD_PARTS = ("name", "phone", "email", "national_id", "guardian", "username", "login", "identifier",
                         "contact", "address")


def bind(**fields: Any) -> Token:
    """Add ``fields`` to the context of every line logged from here on in this task/thread."""
    return _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})


def reset(token: Token) -> None:
    _context.reset(token)


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    token = bind(**fields)
    try:
        yield
    finally:
        reset(token)


def bind_sensitive(source: Callable[[], Iterable[str]]) -> None:
    """Name the personal values (``source()``, evaluated only when a line is written) to scrub from every line
    logged from here on in this task — the exam socket's signed-in user, whose name no pattern recognises."""
    _sensitive.set(source)


def current() -> dict[str, Any]:
    """The bound context (for tests and for code that passes it on to another thread)."""
    return dict(_context.get())


def redact(text: str, values: Iterable[str] = ()) -> str:
    """``text`` without the ``values`` (longest first), e-mail addresses, phone numbers and ID numbers."""
    for value in sorted({v.strip() for v in values if v and len(v.strip()) >= 3}, key=len, reverse=True):
        text = text.replace(value, "[redacted]")
    text = EMAIL.sub("[email]", text)
    text = NATIONAL_ID.sub("[id-number]", text)
    return PHONE.sub("[phone]", text)


def _sensitive_values() -> list[str]:
    source = _sensitive.get()
    if source is None:
        return []
    try:
        return [str(v) for v in source() if v]
    except Exception:  # a log line must never fail because the request is half-built
        return []


def _loaded_user(request: HttpRequest) -> Any:
    """``request.user`` if it has been loaded already (it is lazy: loading it here would query the database)."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = user.__dict__.get("_wrapped", user)  # a SimpleLazyObject keeps what it wraps there
    return None if wrapped is empty else wrapped


def request_sensitive_values(request: HttpRequest) -> list[str]:
    values: list[str] = []
    user = _loaded_user(request)
    if user is not None and getattr(user, "is_authenticated", False):
        values += [getattr(user, name, "") or "" for name in ("full_name", "username", "phone", "email")]
        profile = getattr(user, "_state", None) and user._state.fields_cache.get("profile")
        if profile is not None:
            values += [getattr(profile, name, "") or "" for name in ("national_id", "guardian_name", "guardian_phone")]
    post = request.__dict__.get("_post")  # only if the view parsed the form already
    if post is not None:
        for key, items in post.lists():
            if any(part in key.lower() for part in SENSITIVE_FIELD_PARTS):
                values += [str(item) for item in items]
    return values


class RequestContextMiddleware:
    """Binds the request id (and method, path, user id) for every line logged while serving the request;
    answers with the id in ``X-Request-ID`` so a citizen's report can be matched to the log."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = offered if _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        request.request_id = request_id
        # Restored by value, not by token: under ASGI asgiref copies contexts between the event loop and the
        # request's thread, and a token only resets the context it was made in.
        outer, outer_sensitive, outer_request = _context.get(), _sensitive.get(), _request.get()
        bind(request_id=request_id, method=request.method, path=request.path)
        _sensitive.set(lambda: request_sensitive_values(request))
        _request.set(request)  # the user id, once the view has loaded the user
        try:
            response = self.get_response(request)
        finally:
            _sensitive.set(outer_sensitive)
            _request.set(outer_request)
            _context.set(outer)
        response[REQUEST_ID_HEADER] = request_id
        return response

    def process_view(self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: dict) -> None:
        if isinstance(view_kwargs.get("attempt_id"), int):
            bind(attempt_id=view_kwargs["attempt_id"])  # until the response: __call__ restores the outer context


def _context_fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = {key: value for key, value in _context.get().items() if key in CONTEXT_KEYS}
    request = _request.get()
    if request is not None and "user_id" not in fields:
        user = _loaded_user(request)
        if user is not None and getattr(user, "is_authenticated", False):
            fields["user_id"] = user.pk
    for key in CONTEXT_KEYS:  # ``extra={"attempt_id": …}`` of a logging call counts too
        value = record.__dict__.get(key)
        if value is not None and not callable(value):
            fields[key] = value
    return fields


class PlainFormatter(logging.Formatter):
    """The plain text line (``LOG_FORMAT=plain``, the default), with the request id when there is one, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = _context_fields(record)
        if context:
            line += " [" + " ".join(f"{k}={v}" for k, v in context.items() if k != "path") + "]"
        return redact(line, _sensitive_values())


class JsonFormatter(logging.Formatter):
    """One JSON object per line (``LOG_FORMAT=json``), for log shipping (docs/deploy.md)."""

    def format(self, record: logging.LogRecord) -> str:
        values = _sensitive_values()
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage(), values),
            **_context_fields(record),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info), values)
        elif record.exc_text:
            entry["exception"] = redact(record.exc_text, values)
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info), values)
        return json.dumps(entry, ensure_ascii=False, default=str)

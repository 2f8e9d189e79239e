"""Content-Security-Policy (issue 19, part 6): every response carries the strict policy of
docs/operations.md, and no template or admin page needs an inline script or style to work.

The browser side (no violation on any page the browser tests visit) is the ``chromium`` fixture of
tests/browser/conftest.py; tests/browser/test_csp.py shows that it catches one.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse

ROOT = Path(__file__).resolve().parents[2]

EXPECTED = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'"},
    "object-src": {"'none'"},
    "base-uri": {"'self'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
    "connect-src": {"'self'", "ws://testserver"},
}

# Markup a strict CSP refuses: inline scripts (a <script> without src; JSON data blocks are not scripts), event
# handler attributes, javascript: URLs, <style> blocks and style attributes.
INLINE = {
    "inline script": re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>",
                                re.IGNORECASE),
    "event handler": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"(?:href|src|action)\s*=\s*[\"']?\s*javascript:", re.IGNORECASE),
    "<style> block": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE),
}


def policy_of(response) -> dict[str, set[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.status_code} {response.get('Content-Type')}"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = set(values)
    return directives


def inline_markup(html: str) -> list[str]:
    return [f"{kind}: {m.group(0)[:120]}" for kind, pattern in INLINE.items() for m in pattern.finditer(html)]


def test_the_policy_is_the_documented_one(client, db):
    policy = policy_of(client.get("/"))
    assert policy == EXPECTED
    header = client.get("/").headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header


@pytest.mark.parametrize("url", ["/", "/contests/", "/accounts/login/", "/admin/login/", "/healthz",
                                 "/no-such-page/", "/jsi18n/"])
def test_every_response_carries_the_policy(client, db, url):
    response = client.get(url)
    assert policy_of(response) == EXPECTED, url


def test_socket_sources_follow_the_request_host(client, db, settings):
    settings.ALLOWED_HOSTS = ["thi.example.vn"]
    policy = policy_of(client.get("/", HTTP_HOST="thi.example.vn"))
    assert policy["connect-src"] == {"'self'", "ws://thi.example.vn"}
    # A page served over TLS opens wss:// to its own host (and only that).
    policy = policy_of(client.get("/", HTTP_HOST="thi.example.vn", secure=True))
    assert policy["connect-src"] == {"'self'", "wss://thi.example.vn"}
    # A host the site does not serve gets its 400 with the policy, and no socket source of that host.
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert policy_of(response)["connect-src"] == {"'self'"}


def _template_files() -> list[Path]:
    apps = [p for p in ROOT.iterdir() if (p / "templates").is_dir() and p.name != "templates"]
    files = list((ROOT / "templates").rglob("*.html"))
    for app in apps:
        files += list((app / "templates").rglob("*.html"))
    return sorted(files)


def test_no_template_has_inline_script_or_style():
    files = _template_files()
    assert len(files) > 50
    found = {str(f.relative_to(ROOT)): inline_markup(f.read_text()) for f in files}
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_the_check_sees_inline_markup():
    """The patterns above catch what they must (a check that cannot fail is a defect)."""
    assert inline_markup('<script>alert(1)</script>')
    assert inline_markup('<p style="color:red">')
    assert inline_markup('<img src="x" onerror="alert(1)">')
    assert inline_markup('<a href="javascript:alert(1)">')
    assert inline_markup('<style>p{}</style>')
    assert not inline_markup('<script src="/static/js/exam.js" defer></script>')
    assert not inline_markup('<script id="d" type="application/json">{"a": 1}</script>')
    assert not inline_markup('<svg class="bar"><rect class="bar-fill" width="37.5" height="10"/></svg>')


def test_no_admin_page_has_inline_script_or_style(client, db):
    """Django's admin needs no nonce here: its templates load their scripts from files (data-* attributes for
    their settings); the one <style> block of change_list.html is printed only for an admin without actions
    (actions_on_top and actions_on_bottom both off), which no admin here is. Every registered admin's list and
    add page are rendered as a superuser and checked."""
    root = get_user_model().objects.create_superuser(username="csp-root", password="x-pass-1",
                                                     email="csp-root@example.invalid")
    client.force_login(root)
    pages = ["/admin/", "/admin/password_change/"]
    for model, model_admin in admin.site._registry.items():
        assert model_admin.actions_on_top or model_admin.actions_on_bottom, model._meta.label
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages.append(reverse(f"{prefix}_changelist"))
        with contextlib.suppress(NoReverseMatch):
            pages.append(reverse(f"{prefix}_add"))
    found = {}
    for url in pages:
        response = client.get(url)
        assert response.status_code in {200, 403}, url
        if response.status_code == 200:
            policy_of(response)
            hits = inline_markup(response.content.decode())
            if hits:
                found[url] = hits
    assert found == {}

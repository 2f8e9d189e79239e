"""Browser fixtures: a real Daphne server on the test database, and Debian's Chromium driven by Playwright.

pytest-django's ``live_server`` is WSGI-only (no WebSockets), so the ASGI application is served by a
``daphne`` subprocess whose DATABASE_URL names the test database pytest-django created. Tests using it
must be ``django_db(transaction=True)`` so that their data is committed and visible to the server.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection, connections

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AsgiServer(str):
    """The server's base URL (a str, so tests can format it) with ``stop()``/``start()`` on the same port —
    for tests of what the page does while the server is away."""

    proc: subprocess.Popen | None
    port: int
    env: dict
    server: str = "daphne"

    def command(self) -> list[str]:
        if self.server == "uvicorn":
            return [sys.executable, "-m", "uvicorn", "contest_engine.asgi:application", "--host", "127.0.0.1",
                    "--port", str(self.port), "--ws", "websockets-sansio", "--ws-max-size", "65536"]
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                "--websocket-max-message-size", "65536", "contest_engine.asgi:application"]

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.command(),
            cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(self + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                self.proc.kill()
                output = self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""
                pytest.fail(f"daphne did not start on {self}:\n{output[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.proc = None


@pytest.fixture
def asgi_server(transactional_db, request):
    """Daphne serving contest_engine.asgi on a free port, against this test's database. Yields its URL.
    ``@pytest.mark.parametrize("asgi_server", ["uvicorn"], indirect=True)`` serves it with uvicorn instead."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    url = f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    port = _free_port()
    env = os.environ.copy()
    env.update({
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "contest_engine.settings_test"),
        "DATABASE_URL": url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "REDIS_PREFIX": f"ce-browser-{os.getpid()}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # DEBUG serves /static/ from the source folders (WhiteNoise finders): no collectstatic needed.
        "DEBUG": "1",
        "LOG_LEVEL": "WARNING",
    })
    _clear_redis_prefix(env["REDIS_URL"], env["REDIS_PREFIX"])  # a fresh database gets a fresh cache
    server = AsgiServer(f"http://127.0.0.1:{port}")
    server.port, server.env, server.proc = port, env, None
    server.server = getattr(request, "param", "daphne")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        _wait_for_server_sessions_to_end()


def _clear_redis_prefix(url: str, prefix: str) -> None:
    """Delete what an earlier test's server left under this run's prefix (cached selectors such as the blueprint
    candidates or the practice reservation would otherwise describe rows of a flushed database)."""
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


def _wait_for_server_sessions_to_end(timeout: float = 10) -> None:
    """The server's database sessions end a moment after its process: wait, so that flushing and dropping
    the test database do not race them."""
    deadline = time.time() + timeout
    with connection.cursor() as cursor:
        while time.time() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid()")
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.1)


# Every page a browser test opens reports Content-Security-Policy violations here (docs/operations.md): the page's
# own "securitypolicyviolation" events (registered before any of its scripts run) and Chromium's console
# ("Refused to … because it violates the following Content Security Policy directive").
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  if (window.__ceCspViolation) {
    window.__ceCspViolation({directive: e.effectiveDirective || e.violatedDirective, blocked: e.blockedURI,
                             source: e.sourceFile, line: e.lineNumber, sample: e.sample, page: location.href});
  }
}, true);
"""


class CspWatchedBrowser:
    """Playwright's Browser, whose every context (``new_context``, ``new_page``) records CSP violations and
    console messages. The ``chromium`` fixture fails the test when any violation was seen; a test that provokes
    one on purpose takes it with ``take_csp_violations()``."""

    def __init__(self, browser) -> None:
        self._browser = browser
        self.csp_violations: list[dict] = []
        self.console: list[str] = []

    def __getattr__(self, name: str):
        return getattr(self._browser, name)

    def _watch_page(self, page) -> None:
        def on_console(message) -> None:
            text = message.text
            self.console.append(f"[{message.type}] {page.url}: {text}")
            if "Content Security Policy" in text or "Content-Security-Policy" in text:
                self.csp_violations.append({"console": text, "page": page.url})

        page.on("console", on_console)

    def new_context(self, **kwargs):
        context = self._browser.new_context(**kwargs)
        context.expose_binding("__ceCspViolation", lambda source, data: self.csp_violations.append(data))
        context.add_init_script(script=CSP_LISTENER)
        context.on("page", self._watch_page)
        return context

    def new_page(self, **kwargs):
        return self.new_context(**kwargs).new_page()

    def take_csp_violations(self) -> list[dict]:
        taken, self.csp_violations[:] = list(self.csp_violations), []
        return taken


@pytest.fixture
def chromium():
    """Headless Debian Chromium through Playwright. Fails (never skips) when it is missing.

    Every context opened through it watches for Content-Security-Policy violations; the test fails if a page
    reported any (CspWatchedBrowser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (apt-get install "
                    "chromium) or set CHROMIUM_PATH. Browser tests are part of the acceptance suite.")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install -e '.[dev]'")
    # Playwright's sync API runs its own event loop; Django must allow our sync DB calls meanwhile.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        watched = CspWatchedBrowser(browser)
        try:
            yield watched
            for context in browser.contexts:  # a round trip delivers what the open pages still had to report
                for open_page in context.pages:
                    with contextlib.suppress(Exception):  # a page closing or navigating has nothing more to say
                        open_page.evaluate("0")
        finally:
            browser.close()
        if watched.csp_violations:
            console = "\n".join(watched.console[-30:])
            pytest.fail(f"Content-Security-Policy violations: {watched.csp_violations}\nconsole:\n{console}")


VIEWPORTS = {
    "phone": {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True,
              "has_touch": True},
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}


def _page(chromium, kind: str):
    context = chromium.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", **VIEWPORTS[kind])
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.viewport_kind = kind
    return context, page


@pytest.fixture
def phone_page(chromium):
    """A 360-px-wide phone page, Vietnamese locale."""
    context, page = _page(chromium, "phone")
    yield page
    context.close()
    # While Playwright's loop runs, the test's ORM calls use a connection of their own context, which
    # pytest-django would not close before dropping the test database.
    connections.close_all()


@pytest.fixture(params=["phone", "desktop"])
def any_page(request, chromium):
    """The same test on a 360-px phone and on a desktop screen (Vietnamese locale); ``page.viewport_kind``."""
    context, page = _page(chromium, request.param)
    yield page
    context.close()
    connections.close_all()


def login(page, server: str, username: str, password: str = "mat-khau-an-toan-1") -> None:
    """Log in through the site's login page (staff and citizens alike)."""
    page.goto(f"{server}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def wait_for_js(page, expression: str, *, timeout: float = 15_000, interval: float = 100) -> None:
    """Wait until the JavaScript ``expression`` is truthy in ``page``.

    Playwright's ``wait_for_function`` evaluates its predicate with ``eval()`` inside the page, which the site's
    Content-Security-Policy rightly forbids (no ``'unsafe-eval'``); ``page.evaluate`` goes through the DevTools
    protocol, which the page's policy does not govern, so this polls with it."""
    from playwright.sync_api import Error, TimeoutError

    deadline = time.monotonic() + timeout / 1000
    while True:
        with contextlib.suppress(Error):  # a navigation destroyed the context: ask the next page
            if page.evaluate(expression):
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"wait_for_js: {expression!r} still false after {timeout:.0f} ms")
        page.wait_for_timeout(interval)


def page_fits(page) -> bool:
    """Nothing wider than the screen (no horizontal scroll of the whole page)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# Words of the English interface (Django's admin and forms, our own pages) that a Vietnamese page never shows.
ENGLISH_UI_WORDS = (
    "Please", "correct", "error", "errors", "below", "Save", "Delete", "History", "Filter", "Search", "results",
    "result", "Select", "Home", "Log out", "View site", "Toggle", "Today", "Now", "Choose", "Clear", "Add another",
    "required", "This field", "Enter a", "valid", "Password", "password", "Change", "Show counts", "Hide counts",
    "Topic path", "Tag names", "Reviewed at", "Created at", "Updated at", "single", "multiple", "medium", "easy",
    "hard", "truefalse", "numeric", "essay", "Yes", "No", "Unknown", "All", "Action", "Go", "selected",
    "Welcome", "Documentation", "Skip to main content", "entry", "entries", "Breadcrumbs", "Sidebar",
)


def english_left(page, selector: str = "body") -> list[str]:
    """English interface words left on a Vietnamese page (visible text only)."""
    import re

    text = page.locator(selector).inner_text()
    found = []
    for word in ENGLISH_UI_WORDS:
        if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text):
            found.append(word)
    return found

"""Browser fixtures: a real Daphne server on the test database, and Debian's Chromium driven by Playwright.

pytest-django's ``live_server`` is WSGI-only (no WebSockets), so the ASGI application is served by a
``daphne`` subprocess whose DATABASE_URL names the test database pytest-django created. Tests using it
must be ``django_db(transaction=True)`` so that their data is committed and visible to the server.
"""

from __future__ import annotations

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


@pytest.fixture
def chromium():
    """Headless Debian Chromium through Playwright. Fails (never skips) when it is missing."""
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
        try:
            yield browser
        finally:
            browser.close()


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

"""The exam-socket and browser fixtures of the other test packages, shared here."""

from tests.browser.conftest import asgi_server, chromium, phone_page  # noqa: F401
from tests.realtime.conftest import _close_asgiref_thread_connection, exam, open_client  # noqa: F401

"""Test settings: the real services. PostgreSQL and Redis at the local addresses unless overridden."""

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("REDIS_PREFIX", f"ce-test-{os.getpid()}")
# pytest-xdist's workers inherit the controller's prefix: each gets its own, or their tests clear and count one
# another's keys (rate limits, live boards). Servers a test starts inherit the worker's prefix as it is.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker and not os.environ["REDIS_PREFIX"].endswith(f"-{_worker}"):
    os.environ["REDIS_PREFIX"] = f"{os.environ['REDIS_PREFIX']}-{_worker}"
# Files the tests write (exports with personal data) go to a scratch folder, never the project's.
os.environ.setdefault("PRIVATE_MEDIA_ROOT", tempfile.mkdtemp(prefix="ce-test-private-"))

from contest_engine.settings import *  # noqa: E402, F403 — after the environment it reads

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Evidence of the exam socket is flushed by the tests themselves (realtime.evidence.flush), not every 0.5 s
# by a thread holding its own connection to the test database.
REALTIME_EVIDENCE_FLUSH_SECONDS = float(os.environ.get("REALTIME_EVIDENCE_FLUSH_SECONDS", "3600"))

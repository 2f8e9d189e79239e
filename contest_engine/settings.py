"""Settings for contest-engine.

One module, configured from the environment. With nothing set it runs the *embedded default*:
SQLite in the project folder, an in-memory channel layer and in-process caches — one process, for
demos and development. Production sets DATABASE_URL (PostgreSQL) and REDIS_URL (Redis), SECRET_KEY
and ALLOWED_HOSTS, and runs several ASGI server processes behind a reverse proxy.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# An insecure key is only acceptable for the embedded default on a developer's machine.
# Its "django-insecure-" prefix makes `check --deploy` flag it (security.W009) wherever it is left in use;
# load_demo refuses to run unless this key (or DEBUG) is in use.
EMBEDDED_SECRET_KEY = "django-insecure-embedded-default-key-change-me-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or os.environ.get("CONTEST_ENGINE_EMBEDDED", "1") == "1":
        SECRET_KEY = EMBEDDED_SECRET_KEY
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set in production.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The address citizens use (https://thi.example.gov.vn): short links, QR codes, posters and link previews
# (sharing/) are built on it, whatever host the request came through. Empty: the request's own host.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")
PORT = int(os.environ.get("PORT", "8000"))

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "import_export",
    "csp",
    "contest_engine",
    "accounts",
    "questionbank",
    "contests",
    "leaderboards",
    "realtime",
    "exports",
    "judging",
    "anticheat",
    "practice",
    "surveys",
    "live",
    "retention",
    "sharing",
    "api",
]

MIDDLEWARE = [
    "contest_engine.logs.RequestContextMiddleware",  # first: every line logged for a request has its id
    "django.middleware.security.SecurityMiddleware",
    "contest_engine.csp.ContentSecurityPolicyMiddleware",  # outermost but one: every response gets the policy
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "contest_engine.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.login_policy.LoginPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "contest_engine.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "contest_engine.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "contest_engine.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "contest_engine.staff_menu.staff_menu",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# PostgreSQL: no persistent connections (under ASGI each request runs in a thread of its own, so
# ``CONN_MAX_AGE > 0`` left one open connection per request thread: issue 19) but two psycopg pools per
# process (contest_engine/postgresql/base.py): the page pool for requests and the task worker, the exam pool
# for the exam socket's threads. A process holds at most DATABASE_POOL_MAX + DATABASE_EXAM_POOL_MAX
# connections; idle ones are closed after DATABASE_POOL_MAX_IDLE seconds down to the minimums. The budget
# over all processes is in docs/operations.md ("Connection budget").
DATABASE_POOL_MIN = int(os.environ.get("DATABASE_POOL_MIN", "2"))
DATABASE_POOL_MAX = int(os.environ.get("DATABASE_POOL_MAX", "8"))
DATABASE_EXAM_POOL_MIN = int(os.environ.get("DATABASE_EXAM_POOL_MIN", "2"))
DATABASE_EXAM_POOL_MAX = int(os.environ.get("DATABASE_EXAM_POOL_MAX", "8"))
# How long a request waits for a free connection before it answers 503 (an exam batch: at most 5 s, then its
# answers are refused and resent — and the outage, if it is one, is known; see contest_engine/postgresql/).
DATABASE_POOL_TIMEOUT = float(os.environ.get("DATABASE_POOL_TIMEOUT", "10"))
DATABASE_POOL_MAX_IDLE = float(os.environ.get("DATABASE_POOL_MAX_IDLE", "300"))
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "contest_engine.postgresql"
        DATABASES["default"].setdefault("OPTIONS", {}).update({
            "pool": {"min_size": DATABASE_POOL_MIN, "max_size": DATABASE_POOL_MAX,
                     "timeout": DATABASE_POOL_TIMEOUT, "max_idle": DATABASE_POOL_MAX_IDLE},
            "exam_pool": {"min_size": DATABASE_EXAM_POOL_MIN, "max_size": DATABASE_EXAM_POOL_MAX,
                          "timeout": min(DATABASE_POOL_TIMEOUT, 5.0), "max_idle": DATABASE_POOL_MAX_IDLE},
        })
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # WAL + a busy timeout let the worker and the server share the file.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE",
                        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- Redis: channel layer, cache, leaderboards ----------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
REDIS_PREFIX = os.environ.get("REDIS_PREFIX", "ce")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "realtime.layers.ResilientPubSubChannelLayer",  # channels-redis's, surviving restarts
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{REDIS_PREFIX}:asgi"},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"{REDIS_PREFIX}:cache",
        }
    }
    # Sessions are read on every page and every WebSocket connect: serve them from Redis, keep the
    # database as the durable copy (a Redis restart logs nobody out).
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Exam socket (realtime/) ------------------------------------------------------------------
# Group-commit writer: answers of many connections stored in one transaction (realtime/writer.py).
REALTIME_WRITER_MAX_BATCH = int(os.environ.get("REALTIME_WRITER_MAX_BATCH", "500"))
REALTIME_WRITER_LINGER_SECONDS = float(os.environ.get("REALTIME_WRITER_LINGER_SECONDS", "0"))
REALTIME_WRITER_CONCURRENCY = int(os.environ.get("REALTIME_WRITER_CONCURRENCY", "2"))
# "sql": realtime/store.py (set-based, checked against the contests service by tests); "contests": the ORM one.
REALTIME_ANSWER_STORE = os.environ.get("REALTIME_ANSWER_STORE", "sql")
# Threads (each with its own DB connection) for connect/submit/prediction calls (realtime/db.py).
REALTIME_DB_THREADS = int(os.environ.get("REALTIME_DB_THREADS", "6"))
# How often each server process re-checks its connections' presence claims (realtime/sessions.py).
REALTIME_PRESENCE_CHECK_SECONDS = float(os.environ.get("REALTIME_PRESENCE_CHECK_SECONDS", "5"))
# Freeze the objects alive after start-up out of the garbage collector's sight (realtime/apps.py).
REALTIME_GC_FREEZE = env_bool("REALTIME_GC_FREEZE", True)
# The benchmark's bare echo consumer at ws/echo/ (bench/exam_load.py). Never on in production.
BENCH_ECHO = env_bool("BENCH_ECHO", False)

# --- Live games (live/) ---------------------------------------------------------------------
# After a question's deadline the close waits this long for answer batches received in time (docs/live.md).
LIVE_CLOSE_SETTLE_SECONDS = float(os.environ.get("LIVE_CLOSE_SETTLE_SECONDS", "0.25"))

# --- Background tasks (django-tasks with the database backend; see docs/decisions.md) -------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "exports"],
    }
}
# Tasks left RUNNING by a worker that died are re-queued after this long (at-least-once).
TASK_STALE_AFTER_SECONDS = int(os.environ.get("TASK_STALE_AFTER_SECONDS", "900"))
# /readyz reports the queue "stalled" (still 200) once its next task has waited this long for a worker.
READYZ_TASK_STALL_SECONDS = float(os.environ.get("READYZ_TASK_STALL_SECONDS", "600"))

# --- Auth ----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.PhoneOrEmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
# argon2id at OWASP's minimum first; PBKDF2 stays so that older hashes verify — and are rehashed with argon2id
# at their next login (accounts/hashers.py; the figures in docs/decisions.md, "Password hashing").
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idHasher",
    "accounts.hashers.LimitedPBKDF2Hasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
# Password hashes computed at once per process (each in its request's thread, off the event loop).
PASSWORD_HASH_CONCURRENCY = int(os.environ.get("PASSWORD_HASH_CONCURRENCY", "1"))
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Citizens younger than this need a guardian's consent (Decree 356/2025).
GUARDIAN_CONSENT_AGE = int(os.environ.get("GUARDIAN_CONSENT_AGE", "16"))
PRIVACY_NOTICE_VERSION = "2026-02"  # 2026-02: network and device evidence (anti-cheat) disclosed
# The login policy (accounts/login_policy.py, docs/operations.md "Login policy"). Limits: (attempts, window
# seconds). Per account is strict and counts only devices not known to the account; a device known to it (a
# login or reset succeeded there: signed ce_known cookie) has its own counter, so strangers' failures never
# lock the owner out of their usual device. Per address is loose because many mobile users share one carrier
# address — an address is never limited alone at the account limit.
LOGIN_LIMIT_PER_ACCOUNT = (5, 15 * 60)
LOGIN_LIMIT_PER_KNOWN_DEVICE = (10, 15 * 60)
LOGIN_LIMIT_PER_ADDRESS = (100, 15 * 60)
KNOWN_DEVICE_MAX_AGE_SECONDS = 180 * 24 * 60 * 60
SIGNUP_LIMIT_PER_ADDRESS = (50, 60 * 60)
# Password reset requests (SMS code or e-mail link): per account from unknown devices, per known device of the
# account, and per client address.
PASSWORD_RESET_LIMIT_PER_IDENTIFIER = (3, 60 * 60)
PASSWORD_RESET_LIMIT_PER_KNOWN_DEVICE = (3, 60 * 60)
PASSWORD_RESET_LIMIT_PER_ADDRESS = (30, 60 * 60)
SMS_RESET_CODE_TTL_SECONDS = 10 * 60
SMS_RESET_CODE_MAX_TRIES = 5
SMS_SENDER = os.environ.get("SMS_SENDER", "accounts.sms.LogSmsSender")
# Behind a trusted reverse proxy, the client address comes from this header (e.g. X-Forwarded-For).
CLIENT_IP_HEADER = os.environ.get("CLIENT_IP_HEADER", "")

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "contest-engine@localhost")

# --- Read API (api/, docs/api.md) -------------------------------------------------------------
# Fixed windows (accounts.ratelimit): requests per token, and per client address for calls without a token.
API_RATE_LIMIT_TOKEN = (int(os.environ.get("API_RATE_LIMIT_TOKEN", "600")), 60)
API_RATE_LIMIT_ANONYMOUS = (int(os.environ.get("API_RATE_LIMIT_ANONYMOUS", "120")), 60)
# Refused tokens (wrong, revoked, expired) per client address; past it the answer is 429 instead of 401.
API_RATE_LIMIT_BAD_TOKEN = (int(os.environ.get("API_RATE_LIMIT_BAD_TOKEN", "30")), 60)

# --- I18n: Vietnamese first ------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Tiếng Việt")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
# Dates typed and shown day first, 24-hour clock (Django has no Vietnamese input formats of its own).
FORMAT_MODULE_PATH = "contest_engine.formats"
USE_I18N = True
USE_TZ = True

# --- Static and media ------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Private files (result exports with personal data) never share a folder or URL with public media.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", BASE_DIR / "private-media"))
# Where manage.py backup writes (contest_engine/backups.py); a mounted volume copied off the machine.
BACKUP_ROOT = Path(os.environ.get("BACKUP_ROOT", BASE_DIR / "backups"))
STORAGES = {
    # Media lives on shared storage in production (a mounted volume, or an S3-compatible backend
    # configured through MEDIA_STORAGE_BACKEND) so every server process sees the same files.
    "default": {"BACKEND": os.environ.get("MEDIA_STORAGE_BACKEND",
                                          "django.core.files.storage.FileSystemStorage")},
    "private": {"BACKEND": os.environ.get("PRIVATE_STORAGE_BACKEND",
                                          "django.core.files.storage.FileSystemStorage"),
                "OPTIONS": {} if os.environ.get("PRIVATE_STORAGE_BACKEND") else {"location": PRIVATE_MEDIA_ROOT}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Public media (question images and audio) is served by the application in the embedded default; in
# production the reverse proxy or the storage's own URLs serve it (SERVE_MEDIA=0).
SERVE_MEDIA = env_bool("SERVE_MEDIA", not DATABASE_URL)
WHITENOISE_USE_FINDERS = DEBUG
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security: safe by default ---------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp 4.x; docs/operations.md): no inline script or style anywhere, nothing from
# another origin; contest_engine.csp adds the request's own ws:// or wss:// origin to connect-src for the sockets.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the exam page reads no cookie; Django's CSRF form field is used
HTTPS = env_bool("HTTPS", False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is hard to undo (browsers ship the list), so it is the operator's explicit choice.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

# LOG_FORMAT=json: one JSON object per line for log shipping; plain text otherwise. Both carry the request or
# attempt id and are scrubbed of personal data (contest_engine/logs.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'plain' or 'json'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"()": "contest_engine.logs.PlainFormatter",
                             "format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
                   "json": {"()": "contest_engine.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # uvicorn configured its own loggers before Django starts; these put its lines (start-up, one per accepted
    # socket with the client address at INFO — `--log-level warning` drops those) through the same handler:
    # the same format, the same scrubbing. Their levels stay uvicorn's (its --log-level).
    "loggers": {"django.channels.server": {"level": "WARNING"}, "daphne": {"level": "WARNING"},
                **{name: {"handlers": ["console"], "propagate": False}
                   for name in ("uvicorn", "uvicorn.error", "uvicorn.access")}},
}

# Anti-cheat (docs/anti-cheat.md). ANTICHEAT_IN_EXAM=0 stops recording exam evidence (benchmarks compare
# the answer rate with and without it); the checks still run on what was recorded.
ANTICHEAT_IN_EXAM = os.environ.get("ANTICHEAT_IN_EXAM", "1") == "1"
REALTIME_EVIDENCE_FLUSH_SECONDS = float(os.environ.get("REALTIME_EVIDENCE_FLUSH_SECONDS", "0.5"))

"""Server settings of bench/practice_load.py: the production settings, except where the base settings have no
database connection pool yet (issue 19 adds one). Django's ASGI handler runs each request's sync code in a
thread of its own, so ``conn_max_age=60`` leaves one open connection per request thread until PostgreSQL
refuses new clients. Without a configured pool: Django's own pool when psycopg_pool is installed, otherwise no
persistent connections. Once the base settings pool page connections this module changes nothing."""

import importlib.util

from contest_engine.settings import *  # noqa: F403

_db = DATABASES["default"]  # noqa: F405
if not _db.get("OPTIONS", {}).get("pool"):
    _db["CONN_MAX_AGE"] = 0
    if importlib.util.find_spec("psycopg_pool") is not None:
        _db.setdefault("OPTIONS", {})["pool"] = {"min_size": 2, "max_size": 8, "timeout": 30}

"""Fail fast, with instructions, when the services `make test` needs are not running."""

import os
import socket
import sys
from urllib.parse import urlparse

DEFAULTS = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}
HOW = {
    "DATABASE_URL": (
        "PostgreSQL is not reachable at {where}.\n"
        "  Start it:  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
        "  or point DATABASE_URL at a running server (postgres://USER@HOST:PORT/DB)."
    ),
    "REDIS_URL": (
        "Redis is not reachable at {where}.\n"
        "  Start it:  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no\n"
        "  or point REDIS_URL at a running server (redis://HOST:PORT/DB)."
    ),
}


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


def main() -> int:
    failed = False
    for name, default in DEFAULTS.items():
        url = urlparse(os.environ.get(name, default))
        host = url.hostname or "127.0.0.1"
        port = url.port or (5432 if name == "DATABASE_URL" else 6379)
        if not reachable(host, port):
            print(HOW[name].format(where=f"{host}:{port}"), file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Smoke test: the embedded default (SQLite, in-memory channel layer, one process) boots and serves
a Vietnamese home page, with no DATABASE_URL or REDIS_URL in the environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_embedded_default_boots_and_serves_vietnamese(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(SQLITE_PATH=str(tmp_path / "demo.sqlite3"), STATIC_ROOT=str(tmp_path / "static"),
               DJANGO_SETTINGS_MODULE="contest_engine.settings")
    run = {"cwd": ROOT, "env": env, "check": True, "capture_output": True, "timeout": 300}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], **run)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], **run)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                               "contest_engine.asgi:application"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        body = ""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    body = response.read().decode()
                    assert response.headers["Content-Language"] == "vi"
                    break
            except OSError:
                time.sleep(0.2)
        assert 'lang="vi"' in body
        assert "Cuộc thi trực tuyến tìm hiểu pháp luật" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/site.css", timeout=5) as response:
            assert response.status == 200  # static files are served with DEBUG off
    finally:
        server.terminate()
        server.wait(timeout=10)

"""Throwaway PostgreSQL clusters and Redis servers on free loopback ports, to stop and restart under a running
engine — the building blocks of the outage tests (tests/test_outages*.py) and of the fault runs (bench/faults).

The shared servers of the machine (PostgreSQL on 5432, Redis on 6379) are never touched: each helper starts
its own server from the Debian binaries (``/usr/lib/postgresql/*/bin``, ``redis-server``) in a scratch
folder, on a port picked free, and removes everything on ``cleanup()``. No pytest here, so a bench script
can use them as well::

    with ThrowawayPostgres() as pg:          # initdb + start
        pg.createdb("ce")
        url = pg.url("ce")                   # postgres://postgres@127.0.0.1:PORT/ce
        pg.stop(mode="immediate")            # the outage (fast | immediate | smart)
        pg.start()                           # same port, same data

    with ThrowawayRedis() as redis:
        redis.restart()                      # every key lost (no persistence), same port

PostgreSQL refuses to run as root: when the caller is root, ``initdb`` and ``pg_ctl`` run as the
``postgres`` system user (``runuser``), which owns the scratch folder.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["LoggedProcess", "ThrowawayPostgres", "ThrowawayRedis", "free_port", "postgres_bin", "wait_http"]


def free_port() -> int:
    """A TCP port nobody listens on at the moment (on 127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bin(name: str) -> str:
    """Path of a PostgreSQL server binary (``initdb``, ``pg_ctl``…): the newest installed major version."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise FileNotFoundError(f"{name} not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    return found[-1]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class ThrowawayPostgres:
    """A PostgreSQL cluster of its own: ``initdb`` in a scratch folder, trust auth on 127.0.0.1, user
    ``postgres``. ``fsync`` stays on unless ``fast=True`` (tests that only need a server that can go away
    use ``fast``; the fault runs measure with fsync on). ``settings`` are appended to postgresql.conf (e.g.
    ``listen_addresses``), ``hba`` lines to pg_hba.conf (e.g. trust for a network namespace's subnet)."""

    def __init__(self, *, port: int | None = None, fast: bool = True, settings: dict[str, str] | None = None,
                 hba: list[str] | None = None) -> None:
        self.port = port or free_port()
        self.fast = fast
        self.settings = dict(settings or {})
        self.hba = list(hba or [])
        self.root = Path(tempfile.mkdtemp(prefix="ce-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._initialised = False

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> ThrowawayPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def _run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        command = list(args)
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=timeout)

    def _initdb(self) -> None:
        self._run(postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions")
        options = {"listen_addresses": "'127.0.0.1'", "port": str(self.port),
                   "unix_socket_directories": f"'{self.root}'", "max_connections": "100",
                   "shared_buffers": "32MB", "logging_collector": "off"}
        if self.fast:
            options.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        options.update(self.settings)
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("\n# contest-engine throwaway cluster (tests/services.py)\n")
            for key, value in options.items():
                conf.write(f"{key} = {value}\n")
        if self.hba:
            with open(self.data / "pg_hba.conf", "a") as hba:
                hba.write("".join(f"{line}\n" for line in self.hba))
        self._initialised = True

    def start(self, timeout: float = 30) -> None:
        """Start (or start again, on the same port and data) and wait until it accepts connections."""
        if not self._initialised:
            self._initdb()
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(int(timeout)),
                  "start")
        deadline = time.monotonic() + timeout
        while not self.is_ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL on {self.port} did not start:\n{self.server_log()[-2000:]}")
            time.sleep(0.1)

    def stop(self, *, mode: str = "fast", timeout: float = 60) -> None:
        """Stop the server (``fast``: disconnect clients and shut down cleanly; ``immediate``: like a crash,
        recovery at the next start; ``smart``: wait for clients). No-op when it is not running."""
        if self.data.exists() and (self.data / "postmaster.pid").exists():
            self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", str(int(timeout)), "stop",
                      check=False)

    def is_ready(self) -> bool:
        result = subprocess.run([postgres_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                                check=False, capture_output=True)
        return result.returncode == 0

    def cleanup(self) -> None:
        with contextlib.suppress(Exception):
            self.stop(mode="immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    # -- use ------------------------------------------------------------------------------------
    def url(self, dbname: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def psql(self, sql: str, *, dbname: str = "postgres") -> str:
        """Run ``sql`` with psql; the unaligned, tuples-only output."""
        result = subprocess.run([postgres_bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                                 "-d", dbname, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                                check=True, capture_output=True, text=True, timeout=60)
        return result.stdout.strip()

    def createdb(self, name: str) -> str:
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def server_log(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


class ThrowawayRedis:
    """A ``redis-server`` of its own on a free port, without persistence: a restart loses every key and every
    subscription, like a Redis restarted from an empty disk. ``bind``: the addresses it listens on (127.0.0.1,
    plus e.g. the data host's addresses in the fault runs' network namespaces)."""

    def __init__(self, *, port: int | None = None, bind: list[str] | None = None) -> None:
        self.port = port or free_port()
        self.bind = list(bind or ["127.0.0.1"])
        self.root = Path(tempfile.mkdtemp(prefix="ce-redis-"))
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> ThrowawayRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server not found (apt-get install redis-server)")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", *self.bind, "--protected-mode", "no",
             "--save", "", "--appendonly", "no",
             "--dir", str(self.root), "--logfile", str(self.root / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on {self.port} did not start")
            time.sleep(0.05)

    def ping(self) -> bool:
        if not _port_open(self.port):
            return False
        result = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], check=False, capture_output=True,
                                text=True)
        return result.stdout.strip() == "PONG"

    def stop(self, *, kill: bool = False, timeout: float = 10) -> None:
        """Stop the server: SIGTERM (or SIGKILL with ``kill``); wait until the port is closed."""
        if self.proc is None:
            return
        if kill:
            self.proc.kill()
        else:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)
        self.proc = None
        deadline = time.monotonic() + timeout
        while _port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self, *, kill: bool = False, down_seconds: float = 0.0) -> None:
        """Stop, stay down ``down_seconds``, start again on the same port (empty)."""
        self.stop(kill=kill)
        if down_seconds:
            time.sleep(down_seconds)
        self.start()

    def cleanup(self) -> None:
        with contextlib.suppress(Exception):
            self.stop(kill=True)
        shutil.rmtree(self.root, ignore_errors=True)


class LoggedProcess:
    """A child process (a server, a worker) whose merged output is collected line by line in a thread, so its
    pipe never fills and a test can count what it logged."""

    def __init__(self, args: list[str], *, env: dict[str, str], cwd: str | Path | None = None) -> None:
        self.args = args
        self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def count(self, text: str) -> int:
        return sum(text in line for line in list(self.lines))

    def wait_for(self, text: str, *, timeout: float) -> None:
        """Wait until a line containing ``text`` was printed; RuntimeError (with the output) if it was not."""
        deadline = time.monotonic() + timeout
        while not self.count(text):
            if not self.alive or time.monotonic() > deadline:
                raise RuntimeError(f"{text!r} not seen (exit {self.proc.poll()}):\n{self.output[-4000:]}")
            time.sleep(0.1)

    def stop(self, *, timeout: float = 15) -> None:
        """SIGTERM, then SIGKILL after ``timeout``."""
        if self.alive:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._reader.join(timeout=5)

    def kill(self) -> None:
        """SIGKILL (a crash: nothing is cleaned up)."""
        if self.alive:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._reader.join(timeout=5)


def wait_http(url: str, *, timeout: float = 30, process: LoggedProcess | None = None) -> None:
    """Wait until ``url`` answers (any status); RuntimeError if ``process`` exits or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            pass
        if (process is not None and not process.alive) or time.monotonic() > deadline:
            output = process.output[-3000:] if process is not None else ""
            raise RuntimeError(f"{url} did not answer:\n{output}")
        time.sleep(0.2)

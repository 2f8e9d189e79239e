#!/usr/bin/env python
"""Fault runs (issue 12, and the outages of issue 20): one installation per run, a fault injected mid-exam,
and afterwards every acknowledged answer compared with the database. Prints one JSON document per run.

Each run starts, on free ports, its own PostgreSQL cluster (``fsync`` on unless ``--fast``) and Redis
(tests/services.py), migrates, creates ``--citizens`` citizens each with an attempt in progress
(bench/exam_load.py's setup), starts 2 uvicorn server processes and a task worker (``manage.py run_worker``),
and runs the citizens (bench/faults/client.py: the reference client's rules, every ack recorded) in
``--clients`` processes. After ``--warmup`` seconds of answering every ``--interval`` s the fault happens;
``--after`` seconds later the citizens stop, submit (submits must work after the fault), and the run checks:

- **lost**: an acked answer whose position holds a lower seq in the database (or nothing);
- **changed**: a stored answer that is not what the citizen sent with that seq (or a seq it never sent);
- **duplicated**: two answer rows for one attempt question;
- every attempt told ``attempt.submitted`` is finished in the database, and no deadline moved;
- **client-visible errors**: error frames that are not "kept and resent" (``storage_unavailable``,
  ``rate_limited``, ``server_error``), closes with a code the reference client does not reconnect after
  (4001 unasked, 44xx), submits never confirmed;
- **time to recover**: per citizen, its first ack after the fault (after the repair, where there is one).

Runs (``--run``):

==================  ================================================================================
kill-server         SIGKILL one of the 2 server processes; its citizens reconnect to the other
redis-restart       Redis killed, down ``--down`` s, started empty; then a sample of citizens opens its
                    attempt on the other process ("the newer connection wins"), a sample gets a push,
                    the live board must be rebuilt
postgres-restart    ``pg_ctl restart -m immediate``, then PostgreSQL stopped (fast) for ``--down`` s;
                    /healthz and /readyz probed throughout, outage log lines counted, offline attempts
                    falling due during the outage must be finalised by the worker afterwards
worker-ranking      after the submits the round closes; the worker is SIGKILLed inside the ranking's
                    transaction (held at its INSERT by a table lock); two new workers must rank it once
reconnect-storm     every socket aborted at once (client side); all must be back and answering
rolling-release     SIGTERM and restart each server process in turn (same port)
network-hosts       two app hosts in network namespaces (veth), the data host (PostgreSQL, Redis, the
                    worker, the citizens) in the root namespace; one app host's link is cut
all                 every run in turn, each JSON written to ``--out``
==================  ================================================================================

Example (the full size; takes 2–3 minutes a run)::

    .venv/bin/python bench/faults/run.py --run kill-server --citizens 1000 > bench/results/2026-12-07/kill-server.json
    .venv/bin/python bench/faults/run.py --run all --citizens 1000 --out bench/results/2026-12-07/
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import multiprocessing as mp
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "bench" / "faults")]

from client import MAX_FAULTS, RETRY_LATER, Control, client_process  # noqa: E402

from tests.services import LoggedProcess, ThrowawayPostgres, ThrowawayRedis, free_port, wait_http  # noqa: E402

RUNS = ["kill-server", "redis-restart", "postgres-restart", "worker-ranking", "reconnect-storm", "rolling-release",
        "network-hosts"]
# docs/operations.md, "PostgreSQL settings for exam days": a transaction of an app host that lost its network
# must not hold its row locks for ever (the other hosts' answer writers queue behind them). Without these, the
# network-hosts run stalls every host (bench/README.md); override with --pg-setting KEY=VALUE.
PRODUCTION_PG = {"idle_in_transaction_session_timeout": "'10s'", "tcp_user_timeout": "10000",
                 "tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5", "tcp_keepalives_count": "3"}
OUTAGE_LINES = {"unavailable": " unavailable (", "still_unavailable": "still unavailable",
                "available_again": "available again", "traceback": "Traceback"}


def log(message: str) -> None:
    print(f"[faults {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------
# Network namespaces: two app hosts, one data host
# ---------------------------------------------------------------------------------------------------
class Hosts:
    """Two namespaces ``<tag>a1``/``<tag>a2`` (the app hosts), each joined to the root namespace (the data host)
    by one veth pair: root side 10.N.k.1, host side 10.N.k.2. ``cut(k)`` takes the root side of k's link
    down — the host keeps running but reaches nothing and nobody reaches it."""

    def __init__(self) -> None:
        suffix = os.getpid() % 10_000
        self.tag = f"cef{suffix}"
        self.net = 100 + os.getpid() % 100
        self.made: list[str] = []

    @staticmethod
    def ip(*args: str) -> None:
        result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")

    def ns(self, k: int) -> str:
        return f"{self.tag}a{k}"

    def host_ip(self, k: int) -> str:
        return f"10.{self.net}.{k}.2"

    def data_ip(self, k: int) -> str:
        return f"10.{self.net}.{k}.1"

    def root_link(self, k: int) -> str:
        return f"{self.tag}h{k}"

    def setup(self) -> None:
        for k in (1, 2):
            ns, outer, inner = self.ns(k), self.root_link(k), f"{self.tag}n{k}"
            self.ip("netns", "add", ns)
            self.made.append(ns)
            self.ip("link", "add", outer, "type", "veth", "peer", "name", inner)
            self.ip("link", "set", inner, "netns", ns)
            self.ip("addr", "add", f"{self.data_ip(k)}/24", "dev", outer)
            self.ip("link", "set", outer, "up")
            self.ip("netns", "exec", ns, "ip", "addr", "add", f"{self.host_ip(k)}/24", "dev", inner)
            self.ip("netns", "exec", ns, "ip", "link", "set", inner, "up")
            self.ip("netns", "exec", ns, "ip", "link", "set", "lo", "up")

    def cut(self, k: int) -> None:
        self.ip("link", "set", self.root_link(k), "down")

    def cleanup(self) -> None:
        for k in (1, 2):
            with contextlib.suppress(RuntimeError):
                self.ip("link", "del", self.root_link(k))
        for ns in self.made:
            with contextlib.suppress(RuntimeError):
                self.ip("netns", "del", ns)


# ---------------------------------------------------------------------------------------------------
# The installation
# ---------------------------------------------------------------------------------------------------
class Installation:
    def __init__(self, args: argparse.Namespace, *, hosts: Hosts | None = None) -> None:
        self.args = args
        self.hosts = hosts
        settings = {"max_connections": "300", **PRODUCTION_PG, **dict(kv.split("=", 1) for kv in args.pg_setting)}
        self.pg_settings = settings
        hba: list[str] = []
        redis_bind = ["127.0.0.1"]
        if hosts is not None:
            settings["listen_addresses"] = "'" + ",".join(["127.0.0.1", hosts.data_ip(1), hosts.data_ip(2)]) + "'"
            hba = [f"host all all 10.{hosts.net}.0.0/16 trust"]
            redis_bind += [hosts.data_ip(1), hosts.data_ip(2)]
        self.pg = ThrowawayPostgres(fast=args.fast, settings=settings, hba=hba)
        self.redis = ThrowawayRedis(bind=redis_bind)
        self.servers: list[LoggedProcess | None] = []
        self.stopped: list[tuple[str, LoggedProcess]] = []  # (name, process) of processes stopped by the run
        self.ports: list[int] = []
        self.workers: list[LoggedProcess] = []
        self.db_url = ""
        self.prefix = f"ce-faults-{os.getpid()}"

    def env(self, host: int | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        db_url, redis_url = self.db_url, self.redis.url
        allowed = ["127.0.0.1", "localhost"]
        if self.hosts is not None:
            allowed += [self.hosts.host_ip(1), self.hosts.host_ip(2)]
            if host is not None:
                db_url = db_url.replace("127.0.0.1", self.hosts.data_ip(host))
                redis_url = redis_url.replace("127.0.0.1", self.hosts.data_ip(host))
        env.update({"DATABASE_URL": db_url, "REDIS_URL": redis_url, "REDIS_PREFIX": self.prefix, "DEBUG": "0",
                    "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": ",".join(allowed), "CONTEST_ENGINE_EMBEDDED": "1",
                    "PYTHONUNBUFFERED": "1"})
        return env

    def start(self) -> None:
        self.pg.start()
        self.db_url = self.pg.createdb("ce")
        self.redis.start()
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=self.env(),
                       check=True, timeout=600)
        # The parent's own Django (setup, checks) speaks to this installation.
        os.environ.update({"DATABASE_URL": self.db_url, "REDIS_URL": self.redis.url, "REDIS_PREFIX": self.prefix,
                           "DJANGO_SETTINGS_MODULE": "contest_engine.settings", "CONTEST_ENGINE_EMBEDDED": "1"})
        import django

        django.setup()

    def server_host(self, i: int) -> str:
        return self.hosts.host_ip(i + 1) if self.hosts is not None else "127.0.0.1"

    def urls(self) -> list[str]:
        return [f"ws://{self.server_host(i)}:{port}/" for i, port in enumerate(self.ports)]

    def start_server(self, i: int) -> LoggedProcess:
        if i >= len(self.ports):
            self.ports.append(free_port())
            self.servers.append(None)
        host, port = self.server_host(i), self.ports[i]
        command = [sys.executable, "-m", "uvicorn", "contest_engine.asgi:application", "--host", host, "--port",
                   str(port), "--backlog", "4096", "--ws", "websockets-sansio", "--ws-max-size", "65536",
                   "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--lifespan", "off",
                   "--log-level", "warning", "--timeout-graceful-shutdown", "10"]
        if self.hosts is not None:
            command = ["ip", "netns", "exec", self.hosts.ns(i + 1), *command]
        proc = LoggedProcess(command, cwd=ROOT, env=self.env(host=i + 1 if self.hosts else None))
        wait_http(f"http://{host}:{port}/healthz", process=proc, timeout=60)
        self.servers[i] = proc
        return proc

    def stop_server(self, i: int, *, kill: bool = False) -> None:
        proc = self.servers[i]
        if proc is None:
            return
        if kill:
            proc.kill()
        else:
            proc.stop(timeout=20)
        self.stopped.append((f"server{i}-stopped{len(self.stopped)}", proc))
        self.servers[i] = None

    def start_worker(self) -> LoggedProcess:
        proc = LoggedProcess([sys.executable, "manage.py", "run_worker"], cwd=ROOT, env=self.env())
        self.workers.append(proc)
        return proc

    def all_processes(self) -> list[tuple[str, LoggedProcess]]:
        named = [(f"server{i}", p) for i, p in enumerate(self.servers) if p is not None]
        named += [(f"worker{i}", p) for i, p in enumerate(self.workers)]
        return named + self.stopped

    def log_lines(self) -> dict[str, dict[str, int]]:
        return {name: {key: proc.count(text) for key, text in OUTAGE_LINES.items()}
                for name, proc in self.all_processes()}

    def tracebacks(self, *, keep: int = 2) -> dict[str, dict[str, Any]]:
        """Per process: how many log records came with a traceback, by logger, and the first ``keep`` of them
        (the log line and the last lines: the error). A chained exception is one record."""
        out: dict[str, dict[str, Any]] = {}
        for name, proc in self.all_processes():
            lines = list(proc.lines)
            by_logger: dict[str, int] = {}
            first: list[str] = []
            record, counted = "", True
            for i, line in enumerate(lines):
                if re.match(r"\d{4}-\d\d-\d\d ", line):
                    record, counted = line, False
                elif "Traceback" in line and not counted:
                    counted = True
                    parts = record.split()
                    logger_name = parts[3] if len(parts) > 3 else "?"
                    by_logger[logger_name] = by_logger.get(logger_name, 0) + 1
                    if len(first) < keep:
                        end = i + 1
                        while end < len(lines) and not re.match(r"\d{4}-\d\d-\d\d |[A-Z]+: ", lines[end]):
                            end += 1
                        frames = [x.strip() for x in lines[i + 1:end] if x.startswith('  File "')]
                        ours = [x for x in frames if "site-packages" not in x][-4:]
                        first.append("\n".join([record, *ours, *frames[-1:], *lines[max(i + 1, end - 1):end]]))
            if by_logger:
                out[name] = {"records": sum(by_logger.values()), "by_logger": by_logger, "first": first}
        return out

    def cleanup(self) -> None:
        for _, proc in self.all_processes():
            with contextlib.suppress(Exception):
                proc.stop(timeout=10)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        self.redis.cleanup()
        self.pg.cleanup()


# ---------------------------------------------------------------------------------------------------
# Probes (threads of the parent)
# ---------------------------------------------------------------------------------------------------
class HealthProbe(threading.Thread):
    """GET /healthz and /readyz of every live server process every ``every`` s; records what came back."""

    def __init__(self, inst: Installation, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.inst, self.every = inst, every
        self.samples: list[dict[str, Any]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            for i, port in enumerate(self.inst.ports):
                if self.inst.servers[i] is None:
                    continue
                for path in ("/healthz", "/readyz"):
                    self.samples.append({"t": time.time(), "path": path,
                                         **_get(f"http://{self.inst.server_host(i)}:{port}{path}")})
            self.halt.wait(self.every)

    def summary(self, windows: list[tuple[float, float]] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for path in ("/healthz", "/readyz"):
            rows = [s for s in self.samples if s["path"] == path]
            statuses: dict[str, int] = {}
            for s in rows:
                statuses[str(s["status"])] = statuses.get(str(s["status"]), 0) + 1
            inside = [s for s in rows if windows and any(a <= s["t"] <= b for a, b in windows)]
            out[path] = {"probes": len(rows), "statuses": statuses,
                         "not_json": sum(1 for s in rows if not s["json"]),
                         "traceback": sum(1 for s in rows if s["traceback"]),
                         "during_outage": sorted({f"{s['status']} {s['database']}" for s in inside})}
        return out


def _get(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 — http:// URLs built here
            status, kind, body = response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        status, kind, body = error.code, error.headers.get("Content-Type", ""), error.read()
    except OSError as exc:
        return {"status": type(exc).__name__, "json": True, "traceback": False, "database": ""}
    text = body.decode(errors="replace")
    try:
        database = json.loads(text).get("database", "")
        is_json = kind.startswith("application/json")
    except ValueError:
        database, is_json = "", False
    return {"status": status, "json": is_json, "traceback": "Traceback" in text, "database": database}


# ---------------------------------------------------------------------------------------------------
# Citizens
# ---------------------------------------------------------------------------------------------------
class Citizens:
    def __init__(self, specs: list[dict[str, Any]], urls: list[str], args: argparse.Namespace,
                 *, watchdog: float) -> None:
        ctx = mp.get_context("spawn")
        self.ctl = Control(start_at=ctx.Value("d", 0.0, lock=False), stop=ctx.Value("i", 0, lock=False),
                           storm=ctx.Value("i", 0, lock=False), switch=ctx.Value("i", 0, lock=False),
                           faults=ctx.Array("d", MAX_FAULTS, lock=False), ready=ctx.Semaphore(0))
        self.out = ctx.Queue()
        self.nfaults = 0
        self.procs = []
        for k in range(args.clients):
            job = {"specs": specs[k::args.clients], "urls": urls, "origin": "http://127.0.0.1",
                   "interval": args.interval, "submit": True, "submit_timeout": args.submit_timeout,
                   "watchdog": watchdog, "open_timeout": 10, "join_timeout": 180,
                   "switch_every": args.switch_every, "amplify": args.amplify}
            proc = ctx.Process(target=client_process, args=(job, self.ctl, self.out), daemon=True)
            proc.start()
            self.procs.append(proc)

    def start(self) -> float:
        for _ in self.procs:
            self.ctl.ready.acquire()
        self.ctl.start_at.value = time.time() + 0.5
        return self.ctl.start_at.value

    def fault(self) -> float:
        at = time.time()
        self.ctl.faults[self.nfaults] = at
        self.nfaults += 1
        return at

    def finish(self, timeout: float) -> list[dict[str, Any]]:
        self.ctl.stop.value = 1
        results = [self.out.get(timeout=timeout) for _ in self.procs]
        for proc in self.procs:
            proc.join(timeout=10)
        fatal = [r for r in results if "fatal" in r]
        if fatal:
            raise RuntimeError(f"a client process failed: {fatal}")
        return results


def merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {"citizens": [], "storms": []}
    for r in results:
        for key, value in r.items():
            if key in ("citizens", "storms"):
                merged[key] += value
            elif isinstance(value, dict):
                bucket = merged.setdefault(key, {})
                for k, v in value.items():
                    bucket[k] = bucket.get(k, 0 if not isinstance(v, list) else []) + v
            elif isinstance(value, list):
                merged[key] = merged.get(key, []) + value
            else:
                merged[key] = merged.get(key, 0) + value
    return merged


def pcts(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    values = sorted(values)

    def p(q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))], 2)

    return {"n": len(values), "p50": p(0.5), "p95": p(0.95), "max": round(values[-1], 2),
            "mean": round(statistics.fmean(values), 2)}


def recovery(merged: dict[str, Any], index: int, since: float, *, only: set[int] | None = None) -> dict[str, Any]:
    """Seconds from ``since`` (the fault, or its repair) to each citizen's first ack after fault ``index``."""
    waits, never = [], 0
    for c in merged["citizens"]:
        if only is not None and c["attempt_id"] not in only:
            continue
        first = c["first_ack_after"][index]
        if first is None:
            never += 1
        else:
            waits.append(max(0.0, first - since))
    return {"citizens_acked_again": len(waits), "never_acked_again": never, "seconds": pcts(waits)}


# ---------------------------------------------------------------------------------------------------
# The database check
# ---------------------------------------------------------------------------------------------------
def db_check(merged: dict[str, Any], deadlines_before: dict[int, Any]) -> dict[str, Any]:
    from django.db import connections
    from django.db.models import Count

    from contests.models import FINISHED_STATUSES, Answer, Attempt

    connections.close_all()  # the parent's connection may predate a PostgreSQL restart
    ids = [c["attempt_id"] for c in merged["citizens"]]
    stored: dict[tuple[int, int], tuple[int, Any]] = {}
    for start in range(0, len(ids), 2000):
        rows = Answer.objects.filter(attempt_id__in=ids[start:start + 2000]).values_list(
            "attempt_id", "attempt_question__position", "client_seq", "response")
        for attempt_id, position, seq, response in rows:
            stored[(attempt_id, position)] = (seq, response)
    by_attempt: dict[int, list[tuple[int, int, Any]]] = {}
    for (attempt_id, position), (seq, response) in stored.items():
        by_attempt.setdefault(attempt_id, []).append((position, seq, response))
    lost = changed = checked = stored_not_acked = 0
    lost_examples: list[str] = []
    for c in merged["citizens"]:
        a = c["attempt_id"]
        sent = {int(s): v for s, v in c["sent"].items()}
        for position, seq in c["acked"].items():
            checked += 1
            row = stored.get((a, int(position)))
            if row is None or row[0] < seq:
                lost += 1
                if len(lost_examples) < 5:
                    lost_examples.append(f"attempt {a} position {position}: acked seq {seq}, stored {row and row[0]}")
        for position, seq, response in by_attempt.get(a, []):
            what = sent.get(seq)
            if what is None or what[0] != position or (response or {}).get("options") != [what[1]]:
                changed += 1
            if c["acked"].get(str(position), 0) < seq:
                stored_not_acked += 1  # its ack was lost in the fault: allowed, the client resent it
    duplicated = (Answer.objects.filter(attempt_id__in=ids).values("attempt_id", "attempt_question_id")
                  .annotate(n=Count("id")).filter(n__gt=1).count())
    told = {c["attempt_id"] for c in merged["citizens"] if c["submitted"]}
    finished = set(Attempt.objects.filter(pk__in=ids, status__in=FINISHED_STATUSES).values_list("pk", flat=True))
    after = dict(Attempt.objects.filter(pk__in=ids).values_list("pk", "deadline"))
    return {
        "acked_answers_checked": checked, "lost": lost, "changed": changed, "duplicated": duplicated,
        "stored_but_ack_lost": stored_not_acked, "lost_examples": lost_examples,
        "submitted_told": len(told), "submitted_not_finished_in_db": len(told - finished),
        "finished_in_db": len(finished),
        "deadlines_moved_in_db": sum(1 for pk, d in deadlines_before.items() if after.get(pk) != d),
        "citizens_seeing_two_deadlines": sum(1 for c in merged["citizens"] if len(c["deadlines"]) > 1),
    }


def client_summary(merged: dict[str, Any]) -> dict[str, Any]:
    errors = merged.get("errors", {})
    refused = {k: v for k, v in merged.get("connect_refused", {}).items() if k not in RETRY_LATER}
    visible = dict(merged.get("visible", {}))
    for code, n in errors.items():
        if code not in RETRY_LATER:
            visible[f"error:{code}"] = visible.get(f"error:{code}", 0) + n
    for code, n in refused.items():
        visible[f"connect_refused:{code}"] = n
    return {
        "citizens": len(merged["citizens"]),
        "answers_sent": merged.get("answers_sent", 0), "acks": merged.get("acks", 0),
        "submitted": sum(1 for c in merged["citizens"] if c["submitted"]),
        "pending_left": sum(c["pending_left"] for c in merged["citizens"]),
        "client_visible_errors": sum(visible.values()), "visible": visible,
        "error_frames": errors, "retried_refusals": {k: v for k, v in errors.items() if k in RETRY_LATER},
        "closes": merged.get("closes", {}), "connect_failed": merged.get("connect_failed", {}),
        "connect_refused": merged.get("connect_refused", {}), "watchdog_aborts": merged.get("watchdog_aborts", 0),
        "reconnect_s": pcts([x for c in merged["citizens"] for x in c["reconnect_s"]]),
        "reconnects": sum(len(c["reconnect_s"]) for c in merged["citizens"]),
        "max_ack_gap_s": pcts([c["max_ack_gap"] for c in merged["citizens"]]),
        "submit_s": pcts(merged.get("submit_s", [])),
    }


# ---------------------------------------------------------------------------------------------------
# One run
# ---------------------------------------------------------------------------------------------------
def setup_citizens(args: argparse.Namespace) -> tuple[list[dict[str, Any]], Any, dict[int, Any]]:
    from exam_load import make_attempts, settle_database

    from contests.models import Attempt

    specs = make_attempts(args.citizens, tag="f")
    for i, spec in enumerate(specs):
        spec["index"] = i
    settle_database()
    attempt = Attempt.objects.select_related("round__contest").get(pk=specs[0]["attempt_id"])
    deadlines = dict(Attempt.objects.filter(pk__in=[s["attempt_id"] for s in specs]).values_list("pk", "deadline"))
    return specs, attempt.round, deadlines


def run_one(name: str, args: argparse.Namespace) -> dict[str, Any]:
    hosts = Hosts() if name == "network-hosts" else None
    report: dict[str, Any] = {"run": name, "citizens": args.citizens, "servers": 2, "fsync": not args.fast,
                              "interval_s": args.interval, "started_utc": dt.datetime.now(dt.UTC).isoformat(
                                  timespec="seconds"), "load_average_start": [round(x, 2) for x in os.getloadavg()]}
    if hosts is not None:
        try:
            hosts.setup()
        except RuntimeError as exc:
            hosts.cleanup()
            report["error"] = f"network namespaces unavailable: {exc}"
            return report
    inst = Installation(args, hosts=hosts)
    probe: HealthProbe | None = None
    try:
        t0 = time.time()
        inst.start()
        specs, round_, deadlines = setup_citizens(args)
        report["setup_s"] = round(time.time() - t0, 1)
        report["pg_settings"] = inst.pg_settings
        for i in range(2):
            inst.start_server(i)
        inst.start_worker()
        citizens = Citizens(specs, inst.urls(), args, watchdog=args.watchdog)
        probe = HealthProbe(inst)
        probe.start()
        started = citizens.start()
        log(f"{name}: {args.citizens} citizens answering")
        fault: dict[str, Any] = {}
        scenario = SCENARIOS[name]
        extra = scenario(inst, citizens, args, fault, round_, specs)
        results = citizens.finish(timeout=args.submit_timeout + 120)
        probe.halt.set()
        merged = merge(results)
        report["fault"] = fault
        report["clients"] = client_summary(merged)
        report["db_check"] = db_check(merged, deadlines)
        report["recovery"] = {}
        for i, point in enumerate(fault.get("points", [])):
            if point.get("after_answering"):
                continue  # the fault came after the citizens had finished (worker-ranking)
            entry = {"what": point["what"], "from_fault": recovery(merged, i, point["at"])}
            if point.get("repaired_at"):
                entry["from_repair"] = recovery(merged, i, point["repaired_at"])
            if point.get("affected"):
                entry["affected_only"] = recovery(merged, i, point["at"], only=set(point["affected"]))
                point["affected"] = len(point["affected"])
            report["recovery"][point["what"]] = entry
        if extra:
            report.update(extra(merged) if callable(extra) else extra)
        report["health"] = probe.summary(fault.get("windows"))
        report["log_lines"] = inst.log_lines()
        report["tracebacks"] = inst.tracebacks()
        if args.log_tail:
            report["log_tail"] = {n: p.lines[-args.log_tail:] for n, p in inst.all_processes()}
        report["processes_alive_at_end"] = {n: p.alive for n, p in inst.all_processes()
                                            if (n, p) not in inst.stopped}
        report["run_s"] = round(time.time() - started, 1)
        report["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        check = report["db_check"]
        report["summary"] = {
            "acked": report["clients"]["acks"], "acked_answers_checked": check["acked_answers_checked"],
            "lost": check["lost"], "changed": check["changed"], "duplicated": check["duplicated"],
            "client_visible_errors": report["clients"]["client_visible_errors"],
            "submitted": f"{report['clients']['submitted']}/{args.citizens}",
            # Per citizen: its first ack after the fault (after the repair: PostgreSQL / Redis back, a server
            # process restarted). Includes up to one answer interval (a citizen answers every --interval s).
            "recover_s_from_fault_max": max((e["from_fault"]["seconds"].get("max", 0.0)
                                             for e in report["recovery"].values()), default=None),
            "recover_s_from_repair_max": max((e["from_repair"]["seconds"].get("max", 0.0)
                                              for e in report["recovery"].values() if "from_repair" in e),
                                             default=None),
            "never_acked_again": sum(e["from_fault"]["never_acked_again"] for e in report["recovery"].values()),
        }
    finally:
        if probe is not None:
            probe.halt.set()
        inst.cleanup()
        if hosts is not None:
            hosts.cleanup()
    return report


def point(citizens: Citizens, what: str, **extra: Any) -> dict[str, Any]:
    return {"what": what, "at": citizens.fault(), **extra}


def on_server(specs: list[dict[str, Any]], i: int, servers: int = 2) -> list[int]:
    return [s["attempt_id"] for s in specs if s["index"] % servers == i]


# -- scenarios: each injects its fault(s) into ``fault``, returns extra report fields (or a function of the
#    merged client results giving them) --------------------------------------------------------------
def kill_server(inst, citizens, args, fault, round_, specs):
    time.sleep(args.warmup)
    p = point(citizens, "server0 SIGKILL", affected=on_server(specs, 0))
    inst.stop_server(0, kill=True)
    fault["points"] = [p]
    time.sleep(args.after)


def reconnect_storm(inst, citizens, args, fault, round_, specs):
    time.sleep(args.warmup)
    p = point(citizens, "every socket aborted")
    citizens.ctl.storm.value += 1
    fault["points"] = [p]
    time.sleep(args.after)

    def extra(merged):
        storms = merged["storms"]
        back = [x for c in merged["citizens"] for x in c["reconnect_s"]]
        return {"storm": {"sockets_dropped": sum(s["dropped"] for s in storms),
                          "reconnected_within_5s": sum(1 for x in back if x <= 5.0), "reconnect_s": pcts(back)}}
    return extra


def rolling_release(inst, citizens, args, fault, round_, specs):
    time.sleep(args.warmup)
    fault["points"] = []
    for i in range(2):
        p = point(citizens, f"server{i} restarted", affected=on_server(specs, i))
        inst.stop_server(i)
        inst.start_server(i)
        p["repaired_at"] = time.time()
        p["restart_s"] = round(p["repaired_at"] - p["at"], 2)
        fault["points"].append(p)
        time.sleep(args.after / 2)


def postgres_restart(inst, citizens, args, fault, round_, specs):
    from django.db import connections
    from exam_load import make_attempts

    from contests.models import Attempt

    # Citizens who went offline: nobody will submit their attempts, whose deadline + grace passes while
    # PostgreSQL is down — the worker must finalise them after the outage.
    offline = [s["attempt_id"] for s in make_attempts(args.offline, tag="o")]
    grace = Attempt.objects.select_related("round__contest").get(pk=offline[0]).round.settings.grace
    time.sleep(args.warmup)
    fault["points"], fault["windows"] = [], []
    p = point(citizens, "pg_ctl restart -m immediate")
    inst.pg.stop(mode="immediate")
    inst.pg.start()
    p["repaired_at"] = time.time()
    fault["points"].append(p)
    fault["windows"].append((p["at"], p["repaired_at"]))
    time.sleep(args.after / 2)
    connections.close_all()
    due = time.time() + 2 + args.down / 2
    Attempt.objects.filter(pk__in=offline).update(deadline=dt.datetime.fromtimestamp(due, dt.UTC) - grace)
    connections.close_all()
    p = point(citizens, f"PostgreSQL stopped (fast) for {args.down:g} s")
    inst.pg.stop(mode="fast")
    time.sleep(args.down)
    inst.pg.start()
    p["repaired_at"] = time.time()
    fault["points"].append(p)
    fault["windows"].append((p["at"], p["repaired_at"]))
    time.sleep(args.after / 2)
    deadline = time.time() + 60
    while True:
        connections.close_all()
        rows = list(Attempt.objects.filter(pk__in=offline).values_list("status", "submitted_at", "deadline"))
        done = [r for r in rows if r[0] in ("submitted", "expired")]
        if len(done) == len(offline) or time.time() > deadline:
            break
        time.sleep(1)
    fault["offline_attempts_due_during_outage"] = {
        "attempts": len(offline), "finalised_after": len(done),
        "finished_at_their_deadline": sum(1 for r in done if r[1] == r[2]),
        "finalised_within_s_of_repair": round(time.time() - p["repaired_at"], 1),
    }
    fault["worker_alive"] = all(w.alive for w in inst.workers)


def redis_restart(inst, citizens, args, fault, round_, specs):
    from leaderboards.services.boards import get_board
    from leaderboards.services.live import leaderboard_count
    from realtime import events

    leaderboard_count(round=round_)  # the live board exists before the restart
    board = get_board()
    time.sleep(args.warmup)
    p = point(citizens, f"Redis killed, down {args.down:g} s, started empty")
    inst.redis.restart(kill=True, down_seconds=args.down)
    p["repaired_at"] = time.time()
    fault["points"] = [p]
    fault["windows"] = [(p["at"], p["repaired_at"])]
    rebuilt_at = None
    while time.time() - p["repaired_at"] < 60:
        with contextlib.suppress(Exception):
            if board.is_ready(round_.pk):
                rebuilt_at = time.time()
                break
        time.sleep(0.5)
    fault["live_board_rebuilt_s_after_restart"] = round(rebuilt_at - p["repaired_at"], 1) if rebuilt_at else None
    time.sleep(max(0.0, args.settle - (time.time() - p["repaired_at"])))
    # "The newer connection wins" across processes after the restart (issue 20, point 2).
    switch_at = time.time()
    citizens.ctl.switch.value += 1
    time.sleep(2)
    # Pushes recover: an "attempt changed" push to a sample; each of them must resync (a fresh snapshot).
    sample = [s["attempt_id"] for s in specs if s["index"] % args.switch_every == args.switch_every // 2]
    push_at = time.time()
    events.group_push_many_now_unsafe([(events.attempt_group(a), events.event(events.ATTEMPT_CHANGED,
                                                                              attempt_id=a)) for a in sample])
    time.sleep(max(5.0, args.after - (time.time() - p["repaired_at"])))

    def extra(merged):
        from django.db import connections

        from accounts.models import AuditEvent

        connections.close_all()
        got = [min(t for t in c["pushes"] if t >= push_at) - push_at for c in merged["citizens"]
               if c["attempt_id"] in sample and any(t >= push_at for t in c["pushes"])]
        switch = merged["switch"]
        audited = AuditEvent.objects.filter(action=events.SESSION_REPLACED_AUDIT_ACTION,
                                            at__gte=dt.datetime.fromtimestamp(switch_at, dt.UTC)).count()
        finished = sum(1 for c in merged["citizens"] if c["submitted"])
        count = None
        with contextlib.suppress(Exception):
            count = board.count(round_.pk, "live") if board.is_ready(round_.pk) else None
        return {"newer_connection_wins": {
                    "second_devices_opened": switch["opened"], "refused": switch["new_refused"],
                    "older_closed_4001": switch["old_closed_4001"], "both_live_after_15s": switch["both_live_15s"],
                    "told_s": pcts(switch["told_s"]), "audited": audited},
                "pushes_after_restart": {"sent": len(sample), "received": len(got), "seconds": pcts(got)},
                "live_board_after_submits": {"ready": count is not None, "entries": count,
                                             "finished_attempts": finished}}
    return extra


def worker_ranking(inst, citizens, args, fault, round_, specs):
    """Answering, then everybody submits; then the round's close: the worker is killed inside the ranking."""
    import psycopg
    from django.db import connections

    from contests.models import FINISHED_STATUSES, Attempt, Round
    from leaderboards.models import RankingEntry, RoundRanking

    time.sleep(args.warmup)
    citizens.ctl.stop.value = 1  # submit now; the results are collected after the scenario
    ids = [s["attempt_id"] for s in specs]
    deadline = time.time() + args.submit_timeout
    while Attempt.objects.filter(pk__in=ids, status__in=FINISHED_STATUSES).count() < len(ids):
        if time.time() > deadline:
            break
        time.sleep(1)
    table = RankingEntry._meta.db_table
    holder = psycopg.connect(inst.db_url, autocommit=False)
    watcher = psycopg.connect(inst.db_url, autocommit=True)
    try:
        # The lock is held while this session waits: not for PostgreSQL's idle-in-transaction timeout to end.
        holder.execute("SET idle_in_transaction_session_timeout = 0")
        holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        # The round's close has passed (beyond the worker's margin): its next run closes and ranks it.
        Round.objects.filter(pk=round_.pk).update(opens_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2),
                                                  closes_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3))
        connections.close_all()
        query = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
                 "AND query ILIKE %s")
        pid = None
        until = time.time() + 90
        while pid is None and time.time() < until:
            row = watcher.execute(query, [f"%INSERT INTO {table}%"]).fetchone()
            pid = row[0] if row else None
            time.sleep(0.2)
        if pid is None:
            fault["error"] = "the worker never reached the ranking's INSERT"
            return None
        p = point(citizens, "worker SIGKILL inside the ranking's transaction", after_answering=True)
        killed = inst.workers.pop(0)
        killed.kill()
        inst.stopped.append(("worker0-killed", killed))
        holder.rollback()
        while watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]:
            time.sleep(0.2)
        closed_at = Round.objects.get(pk=round_.pk).closed_at
        fault["after_kill"] = {"round_closed": closed_at is not None,
                               "rankings": RoundRanking.objects.filter(round_id=round_.pk).count()}
        inst.start_worker()
        inst.start_worker()
        ranked_at = None
        until = time.time() + 120
        while time.time() < until:
            if RoundRanking.objects.filter(round_id=round_.pk).exists():
                ranked_at = time.time()
                break
            time.sleep(0.5)
        time.sleep(5)  # both new workers' close runs are over
        rankings = list(RoundRanking.objects.filter(round_id=round_.pk).values_list("pk", "version", "entry_count"))
        finished = Attempt.objects.filter(round_id=round_.pk, status__in=FINISHED_STATUSES).count()
        fault["points"] = [p]
        fault["ranking"] = {
            "rankings": len(rankings), "versions": [r[1] for r in rankings],
            "entry_count": [r[2] for r in rankings],
            "entries_stored": RankingEntry.objects.filter(ranking_id__in=[r[0] for r in rankings]).count(),
            "finished_attempts": finished,
            "ranked_s_after_kill": round(ranked_at - p["at"], 1) if ranked_at else None,
            "closed_once": Round.objects.get(pk=round_.pk).closed_at == closed_at,
        }
    finally:
        holder.close()
        watcher.close()
    return None


def network_hosts(inst, citizens, args, fault, round_, specs):
    time.sleep(args.warmup)
    p = point(citizens, "app host 1's link cut", affected=on_server(specs, 0))
    inst.hosts.cut(1)
    fault["points"] = [p]
    fault["topology"] = {"app_hosts": [inst.hosts.ns(1), inst.hosts.ns(2)],
                         "data_host": "root namespace (PostgreSQL, Redis, worker, citizens)",
                         "links": [f"{inst.hosts.data_ip(k)} <-> {inst.hosts.host_ip(k)}" for k in (1, 2)]}
    # What PostgreSQL sees of each host once the cut host's sockets went silent: a transaction of the cut host
    # still open (its row locks held) stalls the other host's writers behind it.
    time.sleep(min(12.0, args.after / 2))
    fault["pg_sessions_after_cut"] = pg_sessions(inst)
    time.sleep(max(0.0, args.after - min(12.0, args.after / 2)))
    fault["pg_sessions_at_end"] = pg_sessions(inst)


def pg_sessions(inst) -> list[dict[str, Any]]:
    import psycopg

    with psycopg.connect(inst.db_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT host(client_addr), state, coalesce(wait_event_type, ''), coalesce(wait_event, ''), count(*), "
            "round(extract(epoch FROM max(now() - xact_start))::numeric, 1) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY 1, 2, 3, 4 ORDER BY 1, 2"
        ).fetchall()
    return [{"client": r[0], "state": r[1], "wait": f"{r[2]}:{r[3]}".strip(":"), "sessions": r[4],
             "oldest_transaction_s": float(r[5]) if r[5] is not None else None} for r in rows]


SCENARIOS = {"kill-server": kill_server, "redis-restart": redis_restart, "postgres-restart": postgres_restart,
             "worker-ranking": worker_ranking, "reconnect-storm": reconnect_storm,
             "rolling-release": rolling_release, "network-hosts": network_hosts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", choices=[*RUNS, "all"], required=True)
    ap.add_argument("--citizens", type=int, default=1000)
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between a citizen's answers")
    ap.add_argument("--warmup", type=float, default=15.0, help="seconds of answering before the fault")
    ap.add_argument("--after", type=float, default=30.0, help="seconds of answering after the fault")
    ap.add_argument("--down", type=float, default=10.0, help="PostgreSQL / Redis outage (s)")
    ap.add_argument("--settle", type=float, default=8.0, help="redis-restart: seconds before the device switch")
    ap.add_argument("--offline", type=int, default=20, help="postgres-restart: attempts due during the outage")
    ap.add_argument("--switch-every", type=int, default=10, help="redis-restart: every N-th citizen switches device")
    ap.add_argument("--watchdog", type=float, default=10.0, help="client: abort a silent connection after S s (0: off)")
    ap.add_argument("--amplify", action="store_true",
                    help="client: resend everything on every refusal (exam.js before the fix: see the README)")
    ap.add_argument("--submit-timeout", type=float, default=90.0)
    ap.add_argument("--clients", type=int, default=2, help="load-client processes")
    ap.add_argument("--fast", action="store_true", help="PostgreSQL without fsync (smoke tests)")
    ap.add_argument("--out", default="", help="with --run all: write <run>.json here")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--pg-setting", action="append", default=[], metavar="KEY=VALUE",
                    help="a postgresql.conf setting of the run's cluster (repeatable)")
    ap.add_argument("--log-tail", type=int, default=0, help="report the last N log lines of every process")
    args = ap.parse_args()
    random.seed(args.seed)
    if args.run == "all":
        # Each run in its own process: Django is set up once per process, on that run's database.
        out = Path(args.out or ".")
        out.mkdir(parents=True, exist_ok=True)
        passthrough = list(sys.argv[1:])
        i = passthrough.index("--run")
        del passthrough[i:i + 2]
        for name in RUNS:
            log(f"run {name}")
            result = subprocess.run([sys.executable, __file__, "--run", name, *passthrough], capture_output=True,
                                    text=True, check=False)
            sys.stderr.write(result.stderr[-2000:])
            failed = json.dumps({"run": name, "error": result.stderr[-3000:]})
            (out / f"{name}.json").write_text(result.stdout or failed)
        return
    print(json.dumps(run_one(args.run, args), indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Load benchmark of the exam socket: N simulated citizens over real WebSockets.

One run, same server processes, three phases:

1. **echo** — ``--sat-conns`` connections to the bare Channels echo consumer (``ws/echo/``, routed only with
   ``BENCH_ECHO=1``), each sending as soon as its previous reply arrived: the ceiling in messages/s;
2. **saturation** — the same number of exam connections (one attempt each) answering as fast as acks
   return: durable answers/s, and its ratio to the echo ceiling;
3. **paced** — ``--citizens`` connections opened at once (join storm), each answering every ``--interval``
   seconds (random phase) for ``--duration`` seconds, then submitting: ack latency p50/p95/p99, errors,
   attempts/s (submissions acknowledged by ``attempt.submitted``), connect time, server memory;
   or, with ``--submit-storm``, **storm** instead — ``--citizens`` connections each store
   ``--storm-answers`` answers and then ALL submit within the same ``--storm-window`` second: submits/s,
   submit-ack p50/p95/p99, errors, and ``submits_share_of_durable_answers`` (submits/s over the saturation
   phase's durable answers/s of the same run).

Afterwards the database is checked against what the clients were told: an answer acked with seq S must be
stored with ``client_seq >= S`` (else *lost*); two rows for one attempt question are *duplicated*; an
attempt told ``attempt.submitted`` must be finished in the database. After the storm every attempt told
``attempt.submitted`` is also re-scored by the contests' Python reference and compared with what is stored
(``score_check``), and a submit told twice counts as *duplicated*.

The load generator runs in ``--clients`` processes (uvloop, ``gc.freeze()`` after connecting) so it is not the
bottleneck; with ``--pin`` the servers are pinned to CPU 0 and the clients to CPU 1. It prints one JSON
document. Example::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ce_bench REDIS_URL=redis://127.0.0.1:6379/6 \\
      .venv/bin/python bench/exam_load.py --server uvicorn --citizens 1000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import multiprocessing as mp
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-mat-khau-1"


# ---------------------------------------------------------------------------------------------------
# Fixtures in the database (Django in the parent process only)
# ---------------------------------------------------------------------------------------------------
def clear_redis_keys(url: str, prefix: str) -> int:
    """Delete the benchmark's keys (``<prefix>:*``: live boards, presence, cache) — with ``--fresh-db`` the
    new database reuses ids, and old boards or presence claims would otherwise stand for the new rows."""
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=10_000))
    for start in range(0, len(keys), 10_000):
        client.delete(*keys[start:start + 10_000])
    return len(keys)


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contest_engine.settings")
    import django

    django.setup()


def migrate() -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True,
                   env=os.environ.copy())


def ensure_database(url: str, *, fresh: bool = False) -> None:
    """Create the benchmark database if it does not exist (``postgres://…/<name>``); ``fresh``: drop it first
    (every run adds ~100 MB at 10,000 citizens; a fresh database makes runs comparable)."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def make_attempts(count: int, *, tag: str) -> list[dict[str, Any]]:
    """``count`` citizens, each logged in (a session row) with one attempt in progress.

    The first attempt goes through ``attempt_start`` (blueprint draw and snapshot); the others are bulk
    copies of it with their own users, registrations and sessions — the benchmark measures answering,
    not setting up. Returns [{attempt_id, session_key}]; clients learn the questions from the snapshot.
    """
    import datetime as dt

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import CitizenProfile, Organisation, OrganisationKind, User
    from contests.models import Attempt, AttemptQuestion, Contest, ContestVisibility, Registration, Round
    from contests.services.attempts.start import attempt_start
    from contests.services.registrations import registration_create
    from questionbank.models import Question, QuestionOption, QuestionStatus, QuestionType

    now = timezone.now()
    org, _ = Organisation.objects.get_or_create(slug="bench-org", defaults={
        "name": "Phường Benchmark", "kind": OrganisationKind.WARD})
    if Question.objects.filter(organisation=org).count() < 20:
        for i in range(20):
            q = Question.objects.create(organisation=org, type=QuestionType.SINGLE, stem=f"Câu hỏi thử {i}",
                                        status=QuestionStatus.APPROVED, family_id=10_000_000 + i)
            for j in range(4):
                QuestionOption.objects.create(question=q, position=j, text=f"Phương án {j}",
                                              fraction=1 if j == 0 else 0)
    contest = Contest.objects.create(
        organisation=org, title=f"Benchmark {tag}", slug=f"bench-{tag}-{int(time.time() * 1000)}",
        visibility=ContestVisibility.PUBLISHED, time_limit_seconds=3 * 3600,
        blueprint=[{"topic_id": None, "difficulty": None, "count": 10, "points": None}],
        max_attempts=1, prediction_enabled=False,
    )
    round_ = Round.objects.create(contest=contest, name="Đợt 1", opens_at=now - dt.timedelta(hours=1),
                                  closes_at=now + dt.timedelta(days=1))
    password = make_password(PASSWORD)
    stamp = int(time.time() * 1000) % 10**9
    users = User.objects.bulk_create([
        User(username=f"b{tag}{stamp}u{i}", full_name=f"Thí sinh {i}", password=password,
             phone=None, email=None) for i in range(count)
    ], batch_size=2000)
    CitizenProfile.objects.bulk_create([
        CitizenProfile(user=u, date_of_birth=dt.date(1990, 1, 1), unit=org, privacy_consent_at=now,
                       privacy_notice_version="2026-01") for u in users
    ], batch_size=2000)
    # The template attempt, drawn by the real service.
    first_user = users[0]
    registration_create(user=first_user, contest=contest, now=now)
    template = attempt_start(user=first_user, round=round_, now=now)
    template_questions = list(AttemptQuestion.objects.filter(attempt=template).order_by("position"))
    template_registration = template.registration
    with transaction.atomic():
        registrations = Registration.objects.bulk_create([
            Registration(user=u, contest=contest, unit=org, full_name=u.full_name,
                         date_of_birth=dt.date(1990, 1, 1), frozen_at=now) for u in users[1:]
        ], batch_size=2000)
        attempts = Attempt.objects.bulk_create([
            Attempt(round=round_, registration=r, user_id=r.user_id, unit=org, number=1,
                    started_at=template.started_at, deadline=template.deadline,
                    question_count=template.question_count) for r in registrations
        ], batch_size=2000)
        AttemptQuestion.objects.bulk_create([
            AttemptQuestion(attempt=a, position=q.position, question_id=q.question_id, snapshot=q.snapshot,
                            key=q.key, points=q.points)
            for a in attempts for q in template_questions
        ], batch_size=5000)
    del template_registration
    all_attempts = [template, *attempts]
    sessions = []
    specs = []
    for user, attempt in zip(users, all_attempts, strict=True):
        store = SessionStore()
        key = store._get_new_session_key()
        data = {SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: "accounts.backends.PhoneOrEmailBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash()}
        sessions.append(Session(session_key=key, session_data=store.encode(data),
                                expire_date=now + dt.timedelta(days=1)))
        specs.append({"attempt_id": attempt.pk, "session_key": key})
    Session.objects.bulk_create(sessions, batch_size=2000)
    return specs


def settle_database() -> None:
    """Flush the setup's writes before measuring: the bulk setup dirties hundreds of MB (users, sessions,
    attempt questions); without a checkpoint here PostgreSQL writes them out during the measured phases and
    every commit's fsync waits behind that (p99 spikes that belong to the setup, not to answering)."""
    from django.db import connection, connections

    with connection.cursor() as cursor:
        for statement in ("ANALYZE", "CHECKPOINT"):
            try:
                cursor.execute(statement)
            except Exception as exc:  # CHECKPOINT needs a superuser or pg_checkpoint; the run goes on
                print(f"note: {statement} failed: {exc}", file=sys.stderr)
    connections.close_all()


def verify(acked: dict[tuple[int, int], int], submitted: set[int]) -> dict[str, int]:
    """Compare the clients' acks with the database."""
    from django.db.models import Count

    from contests.models import FINISHED_STATUSES, Answer, Attempt

    attempt_ids = {a for a, _ in acked} | submitted
    stored: dict[tuple[int, int], int] = {}
    for chunk_start in range(0, len(attempt_ids), 2000):
        chunk = list(attempt_ids)[chunk_start:chunk_start + 2000]
        for attempt_id, position, seq in Answer.objects.filter(attempt_id__in=chunk).values_list(
                "attempt_id", "attempt_question__position", "client_seq"):
            stored[(attempt_id, position)] = seq
    lost = sum(1 for key, seq in acked.items() if stored.get(key, -1) < seq)
    duplicated = (Answer.objects.filter(attempt_id__in=list(attempt_ids)).values("attempt_id", "attempt_question_id")
                  .annotate(n=Count("id")).filter(n__gt=1).count()) if attempt_ids else 0
    not_finished = Attempt.objects.filter(pk__in=list(submitted)).exclude(status__in=FINISHED_STATUSES).count()
    return {"acked_answers_checked": len(acked), "lost": lost, "duplicated": duplicated,
            "submitted_told": len(submitted), "submitted_not_finished_in_db": not_finished}


def verify_scores(submitted: set[int]) -> dict[str, int]:
    """Re-score every finished attempt of ``submitted`` with the contests' Python reference (the un-batched
    computation) and compare with the stored score and count of correct answers."""
    from contests.models import Attempt
    from contests.scoring import get_strategy
    from contests.services.attempts.finish import attempt_score_inputs

    checked = mismatched = 0
    ids = sorted(submitted)
    for start in range(0, len(ids), 1000):
        attempts = list(Attempt.objects.select_related("round__contest").filter(pk__in=ids[start:start + 1000]))
        inputs, _ = attempt_score_inputs(attempts)
        for attempt in attempts:
            rules = attempt.round.settings
            outcome = get_strategy(rules.scoring_rule).score(inputs.get(attempt.pk, []),
                                                             partial=rules.partial_credit == "fractions",
                                                             time_limit_seconds=rules.time_limit_seconds)
            checked += 1
            mismatched += (outcome.score, outcome.correct_count) != (attempt.score, attempt.correct_count)
    return {"rescored": checked, "score_mismatch": mismatched}


# ---------------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_servers(kind: str, count: int, *, pin: bool, env: dict[str, str],
                  app: str = "contest_engine.asgi:application") -> tuple[list[subprocess.Popen], list[int]]:
    procs, ports = [], []
    for _ in range(count):
        port = free_port()
        if kind == "daphne":
            # Daphne drops handshakes not finished within --websocket_connect_timeout (5 s by default): a
            # 10,000-socket join storm needs longer.
            cmd = [sys.executable, "-m", "daphne", "-v", "0", "--websocket_connect_timeout", "90",
                   "-e", f"tcp:port={port}:interface=127.0.0.1:backlog=4096",
                   "--websocket-max-message-size", "65536", app]
        else:
            cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1",
                   "--port", str(port), "--backlog", "4096", "--ws", "websockets-sansio", "--ws-max-size", "65536",
                   "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--lifespan", "off",
                   "--log-level", "warning"]
        if pin:
            cmd = ["taskset", "-c", "0", *cmd]
        # stdout (access logs) would corrupt the JSON report; errors still reach stderr.
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL))
        ports.append(port)
    deadline = time.time() + 60
    for port in ports:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                stop_servers(procs)
                raise SystemExit(f"server on port {port} did not start")
            time.sleep(0.2)
    return procs, ports


def stop_servers(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)


def servers_cpu_seconds(procs: list[subprocess.Popen]) -> float:
    """User + system CPU time used so far by the server processes (and their children)."""
    import psutil

    total = 0.0
    for p in procs:
        try:
            proc = psutil.Process(p.pid)
            for q in [proc, *proc.children(recursive=True)]:
                times = q.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            pass
    return round(total, 2)


def servers_rss_mb(procs: list[subprocess.Popen]) -> float:
    import psutil

    total = 0
    for p in procs:
        try:
            proc = psutil.Process(p.pid)
            total += proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
        except psutil.Error:
            pass
    return round(total / 2**20, 1)


# ---------------------------------------------------------------------------------------------------
# Load clients (separate processes, no Django)
# ---------------------------------------------------------------------------------------------------
def client_process(job: dict[str, Any], out: Any, ready: Any, start_at: Any) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        result = asyncio.run(_client_main(job, ready, start_at))
    except Exception as exc:  # report rather than hang the parent
        result = {"fatal": repr(exc)}
    out.put(result)


async def _wait_start(start_at: Any) -> float:
    # Set by the parent once every client is connected (shared memory: no asyncio.Event across processes).
    while start_at.value == 0.0:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    delay = start_at.value - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
    return start_at.value


async def _client_main(job: dict[str, Any], ready: Any, start_at: Any) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    phase = job["phase"]
    res: dict[str, Any] = {"latencies": [], "errors": {}, "connect_ms": [], "connect_failed": 0, "messages": 0,
                           "acked": {}, "submitted": [], "submit_ms": [], "submit_window": [],
                           "submit_told_twice": 0, "late_for_storm": 0}
    headers_base = {"Origin": job["origin"]}

    def err(code: str) -> None:
        res["errors"][code] = res["errors"].get(code, 0) + 1

    async def open_one(url: str, cookie: str | None) -> Any:
        headers = dict(headers_base)
        if cookie:
            headers["Cookie"] = f"sessionid={cookie}"
        t0 = time.perf_counter()
        try:
            ws = await connect(url, additional_headers=headers, compression=None, ping_interval=None,
                               open_timeout=90, close_timeout=5, max_size=2**20, max_queue=64)
        except Exception:
            res["connect_failed"] += 1
            return None, None
        snapshot = None
        if cookie:
            try:
                snapshot = json.loads(await asyncio.wait_for(ws.recv(), 90))
            except Exception:
                res["connect_failed"] += 1
                await ws.close()
                return None, None
            if snapshot.get("type") != "attempt.snapshot":
                err("no_snapshot:" + str(snapshot.get("code")))
                await ws.close()
                return None, None
        res["connect_ms"].append((time.perf_counter() - t0) * 1000)
        return ws, snapshot

    conns = job["conns"]
    storm_t0 = time.perf_counter()
    if phase == "echo":
        opened = await asyncio.gather(*(open_one(job["urls"][i % len(job["urls"])] + "ws/echo/", None)
                                        for i in range(len(conns))))
    else:
        opened = await asyncio.gather(*(open_one(job["urls"][c["attempt_id"] % len(job["urls"])]
                                                 + f"ws/attempts/{c['attempt_id']}/", c["session_key"])
                                        for c in conns))
    res["storm_seconds"] = time.perf_counter() - storm_t0
    live = [(ws, snap, c) for (ws, snap), c in zip(opened, conns, strict=True) if ws is not None]
    gc.collect()
    gc.freeze()
    ready.release()
    t_start = await _wait_start(start_at)
    t_end = t_start + job["seconds"]

    async def until_type(ws: Any, wanted: set[str]) -> dict[str, Any]:
        while True:
            msg = json.loads(await ws.recv())
            if msg.get("type") in wanted:
                return msg

    async def echo_loop(ws: Any) -> None:
        frame = json.dumps({"type": "answer", "seq": 1, "position": 1, "response": {"options": [1]}})
        while time.time() < t_end:
            t0 = time.perf_counter()
            await ws.send(frame)
            await ws.recv()
            res["latencies"].append((time.perf_counter() - t0) * 1000)
            res["messages"] += 1

    def question_choices(snapshot: dict[str, Any]) -> list[tuple[int, list[int]]]:
        return [(q["position"], [o["id"] for o in q.get("options", [])]) for q in snapshot["questions"]]

    async def answer_once(ws: Any, attempt_id: int, seq: int, position: int, option: int) -> bool:
        t0 = time.perf_counter()
        await ws.send(json.dumps({"type": "answer", "seq": seq, "position": position,
                                  "response": {"options": [option]}}))
        msg = await until_type(ws, {"ack", "error", "attempt.submitted", "session.replaced"})
        if msg["type"] == "ack" and msg.get("seq") == seq:
            res["latencies"].append((time.perf_counter() - t0) * 1000)
            res["messages"] += 1
            key = f"{attempt_id}:{position}"
            if res["acked"].get(key, 0) < seq:
                res["acked"][key] = seq
            return True
        err(msg.get("code") or msg["type"])
        return False

    async def sat_loop(ws: Any, snapshot: dict[str, Any], spec: dict[str, Any]) -> None:
        choices = question_choices(snapshot)
        seq = snapshot.get("last_seq", 0)
        i = 0
        while time.time() < t_end:
            position, options = choices[i % len(choices)]
            i += 1
            seq += 1
            if not await answer_once(ws, spec["attempt_id"], seq, position, random.choice(options)):
                await asyncio.sleep(0.05)

    async def paced_loop(ws: Any, snapshot: dict[str, Any], spec: dict[str, Any]) -> None:
        choices = question_choices(snapshot)
        seq = snapshot.get("last_seq", 0)
        interval = job["interval"]
        await asyncio.sleep(random.random() * interval)
        i = 0
        next_at = time.time()
        while next_at < t_end:
            position, options = choices[i % len(choices)]
            i += 1
            seq += 1
            await answer_once(ws, spec["attempt_id"], seq, position, random.choice(options))
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.time()))
        if job.get("submit") and random.random() < job.get("submit_fraction", 1.0):
            await submit_once(ws, spec, seq + 1)

    async def submit_once(ws: Any, spec: dict[str, Any], seq: int) -> None:
        t0 = time.perf_counter()
        submit_sent_at = time.time()
        await ws.send(json.dumps({"type": "submit", "seq": seq}))
        try:
            msg = await asyncio.wait_for(until_type(ws, {"attempt.submitted", "error"}), 60)
        except Exception:
            err("submit_timeout")
            return
        if msg["type"] != "attempt.submitted":
            err("submit:" + str(msg.get("code")))
            return
        res["submitted"].append(spec["attempt_id"])
        res["submit_ms"].append((time.perf_counter() - t0) * 1000)
        res["submit_window"].append((submit_sent_at, time.time()))
        # The server closes with 4410 right after; a second attempt.submitted before the close is a duplicate.
        with contextlib.suppress(Exception):
            while True:
                extra = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if extra.get("type") == "attempt.submitted":
                    res["submit_told_twice"] += 1

    async def storm_loop(ws: Any, snapshot: dict[str, Any], spec: dict[str, Any]) -> None:
        """Store a few answers (acked), then submit at the storm's moment: everybody within one window."""
        choices = question_choices(snapshot)[:job["storm_answers"]]
        seq = snapshot.get("last_seq", 0)
        await asyncio.sleep(random.random() * job["answer_spread"])
        for position, options in choices:
            seq += 1
            await answer_once(ws, spec["attempt_id"], seq, position, random.choice(options))
        delay = t_start + job["storm_at"] + random.random() * job["storm_window"] - time.time()
        if delay < 0:
            res["late_for_storm"] += 1
        await asyncio.sleep(max(0.0, delay))
        await submit_once(ws, spec, seq + 1)

    async def guarded(coro: Any) -> None:
        try:
            await coro
        except Exception as exc:
            err("exception:" + type(exc).__name__)

    if phase == "echo":
        await asyncio.gather(*(guarded(echo_loop(ws)) for ws, _, _ in live))
    elif phase == "sat":
        await asyncio.gather(*(guarded(sat_loop(ws, snap, c)) for ws, snap, c in live))
    elif phase == "storm":
        await asyncio.gather(*(guarded(storm_loop(ws, snap, c)) for ws, snap, c in live))
    else:
        await asyncio.gather(*(guarded(paced_loop(ws, snap, c)) for ws, snap, c in live))
    res["finished_at"] = time.time()
    await asyncio.gather(*(ws.close() for ws, _, _ in live), return_exceptions=True)
    return res


def run_phase(phase: str, conns: list[dict[str, Any]], *, clients: int, urls: list[str], origin: str,
              seconds: float, interval: float = 5.0, submit: bool = False, pin: bool = False,
              on_ready: Any = None, submit_fraction: float = 1.0, **extra_job: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    ready = ctx.Semaphore(0)
    start_at = ctx.Value("d", 0.0)
    procs = []
    t0 = time.time()
    for k in range(clients):
        job = {"phase": phase, "conns": conns[k::clients], "urls": urls, "origin": origin, "seconds": seconds,
               "interval": interval, "submit": submit, "submit_fraction": submit_fraction, **extra_job}
        p = ctx.Process(target=client_process, args=(job, out, ready, start_at), daemon=True)
        p.start()
        if pin:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(p.pid, {1})
        procs.append(p)
    for _ in procs:
        ready.acquire()
    join_seconds = time.time() - t0
    extra = on_ready() if on_ready else {}
    start_at.value = time.time() + 0.5
    results = [out.get(timeout=seconds + 300) for _ in procs]
    for p in procs:
        p.join(timeout=10)
    fatal = [r["fatal"] for r in results if "fatal" in r]
    if fatal:
        raise SystemExit(f"client failed: {fatal}")
    lat = sorted(x for r in results for x in r["latencies"])
    conn_ms = sorted(x for r in results for x in r["connect_ms"])
    errors: dict[str, int] = {}
    for r in results:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    acked: dict[tuple[int, int], int] = {}
    for r in results:
        for key, seq in r["acked"].items():
            a, q = key.split(":")
            acked[(int(a), int(q))] = max(seq, acked.get((int(a), int(q)), 0))
    messages = sum(r["messages"] for r in results)
    submitted = [a for r in results for a in r["submitted"]]
    finished = max(r["finished_at"] for r in results)
    windows = [w for r in results for w in r["submit_window"]]
    submit_span = (max(w[1] for w in windows) - min(w[0] for w in windows)) if windows else 0.0
    return {
        "connections": len(conns),
        "connected": len(conn_ms),
        "connect_failed": sum(r["connect_failed"] for r in results),
        "join_seconds": round(join_seconds, 2),
        "connect_ms": _pcts(conn_ms),
        "messages": messages,
        "per_second": round(messages / seconds, 1),
        "latency_ms": _pcts(lat),
        "errors": errors,
        "submitted": len(submitted),
        "submit_ms": _pcts(sorted(x for r in results for x in r["submit_ms"])),
        "submit_seconds": round(submit_span, 2),
        "attempts_per_second": round(len(submitted) / submit_span, 1) if submit_span else 0.0,
        "submit_told_twice": sum(r["submit_told_twice"] for r in results),
        "late_for_storm": sum(r["late_for_storm"] for r in results),
        "run_seconds": round(finished - start_at.value, 2),
        "_acked": acked,
        "_submitted": set(submitted),
        **extra,
    }


def _pcts(values: list[float]) -> dict[str, float]:
    if not values:
        return {}

    def p(q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))], 2)

    return {"p50": p(0.50), "p95": p(0.95), "p99": p(0.99), "max": round(values[-1], 2),
            "mean": round(statistics.fmean(values), 2)}


# ---------------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", choices=["daphne", "uvicorn"], default="uvicorn")
    ap.add_argument("--servers", type=int, default=1, help="server processes (one port each)")
    ap.add_argument("--citizens", type=int, default=1000)
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between a citizen's answers")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of paced answering")
    ap.add_argument("--sat-conns", type=int, default=500)
    ap.add_argument("--sat-seconds", type=float, default=15.0)
    ap.add_argument("--clients", type=int, default=2, help="load-client processes")
    ap.add_argument("--pin", action="store_true", help="servers on CPU 0, clients on CPU 1")
    ap.add_argument("--skip", default="", help="comma list of phases to skip: echo,sat,paced")
    ap.add_argument("--url", default="", help="use a running server (http://host:port/) instead of starting one")
    ap.add_argument("--app", default="contest_engine.asgi:application", help="ASGI application to serve")
    ap.add_argument("--fresh-db", action="store_true", help="drop and re-create the benchmark database first")
    ap.add_argument("--no-submit", action="store_true", help="paced phase: do not submit at the end")
    ap.add_argument("--submit-fraction", type=float, default=1.0,
                    help="paced phase: share of citizens that submit at the end (the others just leave)")
    ap.add_argument("--submit-storm", action="store_true",
                    help="instead of the paced phase: --citizens store --storm-answers answers, then all submit "
                         "within the same --storm-window seconds")
    ap.add_argument("--storm-answers", type=int, default=5, help="submit storm: answers stored before submitting")
    ap.add_argument("--storm-window", type=float, default=1.0, help="submit storm: seconds the submits spread over")
    ap.add_argument("--storm-at", type=float, default=0.0,
                    help="submit storm: seconds after the start at which the window opens (0: long enough for "
                         "the answers, citizens × answers / 2,000 + 3)")
    args = ap.parse_args()

    db_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ce_bench")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/6")
    os.environ["DATABASE_URL"] = db_url
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("REDIS_PREFIX", "ce-bench")
    skip = set(filter(None, args.skip.split(",")))
    ensure_database(db_url, fresh=args.fresh_db)
    if args.fresh_db:
        clear_redis_keys(redis_url, os.environ["REDIS_PREFIX"])
    migrate()
    django_setup()

    report: dict[str, Any] = {"server": args.server, "servers": args.servers, "citizens": args.citizens,
                              "interval_s": args.interval, "duration_s": args.duration, "clients": args.clients,
                              "pinned": args.pin}
    t = time.time()
    sat_specs = make_attempts(args.sat_conns, tag="s") if "sat" not in skip else []
    paced_specs = make_attempts(args.citizens, tag="p") if "paced" not in skip else []
    if args.submit_storm:
        skip.add("paced")
        paced_specs = make_attempts(args.citizens, tag="t")
    report["setup_seconds"] = round(time.time() - t, 1)
    settle_database()

    env = os.environ.copy()
    env.update({"BENCH_ECHO": "1", "DEBUG": "0", "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "127.0.0.1,localhost"})
    procs: list[subprocess.Popen] = []
    if args.url:
        urls = [args.url.replace("http", "ws", 1)]
    else:
        procs, ports = start_servers(args.server, args.servers, pin=args.pin, env=env, app=args.app)
        urls = [f"ws://127.0.0.1:{p}/" for p in ports]
    origin = "http://127.0.0.1"
    try:
        report["server_rss_mb_idle"] = servers_rss_mb(procs)
        common = {"clients": args.clients, "urls": urls, "origin": origin, "pin": args.pin}
        if "echo" not in skip:
            cpu = servers_cpu_seconds(procs)
            echo = run_phase("echo", [{}] * args.sat_conns, seconds=args.sat_seconds, **common)
            report["echo"] = {k: v for k, v in echo.items() if not k.startswith("_")}
            report["echo"]["server_cpu_s"] = round(servers_cpu_seconds(procs) - cpu, 2)
        if "sat" not in skip:
            cpu = servers_cpu_seconds(procs)
            sat = run_phase("sat", sat_specs, seconds=args.sat_seconds, **common)
            report["saturation"] = {k: v for k, v in sat.items() if not k.startswith("_")}
            report["saturation"]["server_cpu_s"] = round(servers_cpu_seconds(procs) - cpu, 2)
            report["saturation"]["db_check"] = verify(sat["_acked"], set())
            if "echo" in report:
                report["durable_answers_share_of_echo"] = round(sat["per_second"] / report["echo"]["per_second"], 3)
        if "paced" not in skip:
            cpu_before = servers_cpu_seconds(procs)
            paced = run_phase("paced", paced_specs, seconds=args.duration, interval=args.interval,
                              submit=not args.no_submit, submit_fraction=args.submit_fraction, **common,
                              on_ready=lambda: {"server_rss_mb_connected": servers_rss_mb(procs),
                                                "server_cpu_s_join": round(servers_cpu_seconds(procs) - cpu_before, 2)})
            paced["server_cpu_s_total"] = round(servers_cpu_seconds(procs) - cpu_before, 2)
            report["paced"] = {k: v for k, v in paced.items() if not k.startswith("_")}
            report["paced"]["db_check"] = verify(paced["_acked"], paced["_submitted"])
        if args.submit_storm:
            storm_at = args.storm_at or round(args.citizens * args.storm_answers / 2000 + 3, 1)
            cpu_before = servers_cpu_seconds(procs)
            storm = run_phase("storm", paced_specs, seconds=storm_at + args.storm_window + 60, **common,
                              storm_answers=args.storm_answers, storm_window=args.storm_window, storm_at=storm_at,
                              answer_spread=max(0.0, storm_at - 3 - args.citizens * args.storm_answers / 4000),
                              on_ready=lambda: {"server_rss_mb_connected": servers_rss_mb(procs),
                                                "server_cpu_s_join": round(servers_cpu_seconds(procs) - cpu_before, 2)})
            storm["server_cpu_s_total"] = round(servers_cpu_seconds(procs) - cpu_before, 2)
            report["storm"] = {k: v for k, v in storm.items()
                               if not k.startswith("_") and k not in ("per_second", "run_seconds")}
            report["storm"]["storm_at_s"] = storm_at
            report["storm"]["answer_ack_ms"] = report["storm"].pop("latency_ms")
            report["storm"]["answers_acked"] = report["storm"].pop("messages")
            db_check = verify(storm["_acked"], storm["_submitted"])
            db_check["submits_duplicated"] = storm["submit_told_twice"]
            db_check["submits_lost"] = db_check["submitted_not_finished_in_db"]
            report["storm"]["db_check"] = db_check
            report["storm"]["score_check"] = verify_scores(storm["_submitted"])
            report["storm"]["submits_per_second"] = storm["attempts_per_second"]
            if "saturation" in report:
                durable = report["saturation"]["per_second"]
                report["storm"]["durable_answers_per_second"] = durable
                report["submits_share_of_durable_answers"] = (
                    round(storm["attempts_per_second"] / durable, 3) if durable else None)
            p99 = report["storm"]["submit_ms"].get("p99")
            report["storm"]["target"] = {
                "share_ge_0_5": (report.get("submits_share_of_durable_answers") or 0) >= 0.5,
                "p99_le_3000ms": p99 is not None and p99 <= 3000,
                "none_lost_or_duplicated": not (db_check["lost"] or db_check["duplicated"] or db_check["submits_lost"]
                                                or db_check["submits_duplicated"]),
                "all_submitted": storm["submitted"] == args.citizens,
            }
        report["server_rss_mb_end"] = servers_rss_mb(procs)
    finally:
        stop_servers(procs)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Load benchmark of the web pages around the exam: N concurrent clients per page, and a login storm, while
exam sockets answer — against real server processes (the production settings, ``DEBUG=0``), PostgreSQL and
Redis on this machine.

Phases, one after another on the same server processes:

1. **pages** (``--pages``): for each page, ``--concurrency`` clients, each on its own keep-alive connection,
   sending its next request as soon as the previous answer arrived, for ``--seconds`` s:

   | page | request | expected |
   |---|---|---|
   | ``contests`` | ``GET /contests/`` (anonymous) | 200 |
   | ``contest`` | ``GET /contests/<slug>/`` | 200 |
   | ``login_page`` | ``GET /accounts/login/`` | 200 |
   | ``login`` | ``POST /accounts/login/`` (phone + password; each client its own citizens) | 302 |
   | ``signup`` | ``POST /accounts/signup/`` (a new phone number each time) | 302 |
   | ``result`` | ``GET /contests/attempts/<id>/result/`` (the citizen's session, a submitted attempt) | 200 |
   | ``leaderboard_round`` | ``GET /leaderboards/rounds/<id>/`` | 200 |
   | ``leaderboard_contest`` | ``GET /leaderboards/contests/<slug>/`` | 200 |

   Reported per page: requests/s, latency p50/p99/max, errors (any other status, a failed connection),
   database connections of the benchmark database (``pg_stat_activity``, sampled every 0.1 s: max and mean),
   server CPU, and the exam sockets' ack latency in the same seconds;
2. **storm** (``--storm-logins`` within ``--storm-seconds``): citizens arrive evenly spread over the window,
   each on a connection of its own: ``GET /accounts/login/``, then ``POST`` the phone and password (argon2id
   checks, docs/decisions.md). Reported: logins completed, errors, the POST's latency, when the last login
   finished, the database connections and the exam ack latency during the storm; ``target.met`` is 0 errors,
   every login done by ``--storm-seconds`` + 2 s (the server kept up) and exam p99 ≤ 100 ms.

Throughout, ``--exam-citizens`` exam sockets (``bench/exam_load.py``'s setup: one attempt each) answer every
``--exam-interval`` s in a load-client process of their own. Clients send ``X-Forwarded-For`` with their own
address and the servers run with ``CLIENT_IP_HEADER=X-Forwarded-For``, as behind nginx (per-address limits see
many addresses, as they would). Prints one JSON document. Example::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ce_bench_http REDIS_URL=redis://127.0.0.1:6379/8 \\
      .venv/bin/python bench/http_load.py --fresh-db --concurrency 1000 --storm-logins 2000 --pin
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
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import exam_load as common  # noqa: E402 - the servers, database and Redis helpers of the exam benchmark

PAGES = ("contests", "contest", "login_page", "login", "signup", "result", "leaderboard_round",
         "leaderboard_contest")
EXPECTED = {"login": 302, "signup": 302}
PASSWORD = common.PASSWORD
LOGIN_PHONE_BASE = 900_000_000  # citizens who log in: 0900000000, 0900000001, …
SIGNUP_PHONE_BASE = 980_000_000  # new accounts: 098… (each client its own range of 2,000)


# ---------------------------------------------------------------------------------------------------
# Fixtures in the database (Django in the parent process only)
# ---------------------------------------------------------------------------------------------------
def make_login_citizens(count: int) -> list[str]:
    """``count`` citizens with phone numbers and the benchmark password (one argon2id hash, made by the
    production hasher, shared: each check still costs a full verification). Returns their phone numbers."""
    import datetime as dt

    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import CitizenProfile, Organisation, User

    org = Organisation.objects.get(slug="bench-org")
    phones = [f"0{LOGIN_PHONE_BASE + i}" for i in range(count)]
    existing = set(User.objects.filter(phone__in=phones).values_list("phone", flat=True))
    password = make_password(PASSWORD)
    now = timezone.now()
    users = User.objects.bulk_create([
        User(username=f"login{phone}", full_name="Công dân thử", phone=phone, password=password)
        for phone in phones if phone not in existing], batch_size=2000)
    CitizenProfile.objects.bulk_create([
        CitizenProfile(user=u, date_of_birth=dt.date(1990, 1, 1), unit=org, privacy_consent_at=now,
                       privacy_notice_version="2026-02") for u in users], batch_size=2000)
    return phones


def make_results(count: int) -> dict[str, Any]:
    """``count`` citizens with a submitted attempt each (submitted by ``attempt_submit``) and a session; the
    round and contest for the result and leaderboard pages."""
    from django.utils import timezone

    from accounts.models import Organisation
    from contests.models import Attempt
    from contests.services.attempts.finish import attempt_submit

    specs = common.make_attempts(count, tag="r")
    Organisation.objects.filter(slug="bench-org").update(is_unit=True, is_active=True)  # chosen at sign-up
    now = timezone.now()
    attempts = Attempt.objects.select_related("round__contest").in_bulk([s["attempt_id"] for s in specs])
    for spec in specs:
        attempt_submit(attempt=attempts[spec["attempt_id"]], now=now)
    any_attempt = attempts[specs[0]["attempt_id"]]
    return {"results": [[s["attempt_id"], s["session_key"]] for s in specs], "round_id": any_attempt.round_id,
            "contest_slug": any_attempt.round.contest.slug, "unit_id": any_attempt.unit_id}


# ---------------------------------------------------------------------------------------------------
# Database connections, sampled in a thread of the parent
# ---------------------------------------------------------------------------------------------------
class ConnectionSampler:
    def __init__(self, url: str) -> None:
        import psycopg

        self.dbname = url.rsplit("/", 1)[1]
        self.conn = psycopg.connect(url, autocommit=True)
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                                     "AND pid <> pg_backend_pid()", [self.dbname]).fetchone()[0])

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                self.samples.append((time.time(), self.count()))
            time.sleep(0.1)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def between(self, start: float, end: float) -> dict[str, float]:
        values = [n for t, n in self.samples if start <= t <= end]
        if not values:
            return {}
        return {"max": max(values), "mean": round(sum(values) / len(values), 1), "samples": len(values)}


# ---------------------------------------------------------------------------------------------------
# Load clients (separate processes, no Django)
# ---------------------------------------------------------------------------------------------------
def _client_setup() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[bytes, bytes], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        if b":" in line:
            name, value = line.split(b":", 1)
            name = name.strip().lower()
            # Set-Cookie comes once per cookie: keep them all.
            headers[name] = headers[name] + b"\n" + value.strip() if name in headers else value.strip()
    length = int(headers.get(b"content-length", b"0"))
    body = await reader.readexactly(length) if length else b""
    return status, headers, body


def _request(method: str, path: str, *, address: str, cookies: dict[str, str] | None = None,
             form: dict[str, str] | None = None) -> bytes:
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"X-Forwarded-For: {address}",
            "Accept: text/html", "User-Agent: ce-http-load"]
    if cookies:
        head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()))
    body = b""
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
        head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class RequestMaker:
    """The requests of one page for one client, in turn (each client its own citizens, phones, address)."""

    def __init__(self, job: dict[str, Any], client: int) -> None:
        self.job = job
        self.page = job["page"]
        self.client = client
        self.n = 0
        self.address = f"10.{job['process'] % 250}.{client // 250 % 250}.{client % 250 + 1}"
        self.csrf = secrets.token_hex(16)  # a 32-character secret: cookie and form field (Django compares them)

    def next(self) -> bytes:
        self.n += 1
        job, page = self.job, self.page
        if page == "contests":
            return _request("GET", "/contests/", address=self.address)
        if page == "contest":
            return _request("GET", f"/contests/{job['contest_slug']}/", address=self.address)
        if page == "login_page":
            return _request("GET", "/accounts/login/", address=self.address)
        if page == "leaderboard_round":
            return _request("GET", f"/leaderboards/rounds/{job['round_id']}/", address=self.address)
        if page == "leaderboard_contest":
            return _request("GET", f"/leaderboards/contests/{job['contest_slug']}/", address=self.address)
        if page == "result":
            results = job["results"]
            attempt_id, session_key = results[(self.client * 7919 + self.n) % len(results)]
            return _request("GET", f"/contests/attempts/{attempt_id}/result/", address=self.address,
                            cookies={"sessionid": session_key})
        if page == "login":
            phones = job["phones"]
            phone = phones[(self.client * job["clients_total"] + self.n) % len(phones)]
            return _request("POST", "/accounts/login/", address=self.address, cookies={"csrftoken": self.csrf},
                            form={"csrfmiddlewaretoken": self.csrf, "username": phone, "password": PASSWORD})
        if page == "signup":
            serial = self.client * 2_000 + self.n % 2_000  # clients are numbered across the processes
            # Each sign-up from an address of its own: the per-address sign-up limit is 50 an hour.
            key = self.client * 4096 + self.n % 4096
            address = f"11.{key >> 16 & 255}.{key >> 8 & 255}.{key & 255}"
            return _request("POST", "/accounts/signup/", address=address, cookies={"csrftoken": self.csrf},
                            form={"csrfmiddlewaretoken": self.csrf, "full_name": "Người Đăng Ký",
                                  "date_of_birth": "1990-01-01", "unit": str(job["unit_id"]),
                                  "phone": f"0{SIGNUP_PHONE_BASE + job['signup_offset'] + serial}",
                                  "password1": "mat-khau-moi-2026", "password2": "mat-khau-moi-2026",
                                  "privacy_consent": "on"})
        raise ValueError(page)


def pages_process(job: dict[str, Any], out: Any, start_at: Any) -> None:
    _client_setup()
    try:
        result = asyncio.run(_pages_main(job, start_at))
    except Exception as exc:  # report rather than hang the parent
        result = {"fatal": repr(exc)}
    out.put(result)


async def _pages_main(job: dict[str, Any], start_at: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"latencies": [], "errors": {}, "requests": 0}
    expected = EXPECTED.get(job["page"], 200)
    ports = job["ports"]

    def err(code: str) -> None:
        res["errors"][code] = res["errors"].get(code, 0) + 1

    async def client(number: int) -> None:
        maker = RequestMaker(job, number)
        port = ports[number % len(ports)]
        while start_at.value == 0.0:  # noqa: ASYNC110 - set by the parent once every process is ready
            await asyncio.sleep(0.01)
        await asyncio.sleep(max(0.0, start_at.value - time.time()))
        end = start_at.value + job["seconds"]
        reader = writer = None
        while time.time() < end:
            request = maker.next()
            sent = time.perf_counter()
            try:
                if writer is None or reader.at_eof():
                    if writer is not None:
                        writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                await writer.drain()
                status, headers, _ = await asyncio.wait_for(_read_response(reader), 120)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                err("connection:" + type(exc).__name__)
                writer = None
                await asyncio.sleep(0.1)
                continue
            res["latencies"].append((time.perf_counter() - sent) * 1000)
            res["requests"] += 1
            if status != expected:
                err(f"http_{status}")
            elif expected == 302 and b"/accounts/" in headers.get(b"location", b""):
                err("redirected_to_accounts")  # a failed login or sign-up re-renders; a 302 here would be odd
            if headers.get(b"connection", b"").lower() == b"close":
                writer.close()
                writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(client(job["first_client"] + i) for i in range(job["concurrency"])))
    return res


def storm_process(job: dict[str, Any], out: Any, start_at: Any) -> None:
    _client_setup()
    try:
        result = asyncio.run(_storm_main(job, start_at))
    except Exception as exc:
        result = {"fatal": repr(exc)}
    out.put(result)


async def _storm_main(job: dict[str, Any], start_at: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"post_ms": [], "total_ms": [], "errors": {}, "logged_in": 0, "done_at": []}
    ports = job["ports"]

    def err(code: str) -> None:
        res["errors"][code] = res["errors"].get(code, 0) + 1

    async def citizen(index: int, phone: str) -> None:
        at = start_at.value + index * job["spacing"]
        await asyncio.sleep(max(0.0, at - time.time()))
        address = f"10.{200 + index // 62500 % 50}.{index // 250 % 250}.{index % 250 + 1}"
        csrf = secrets.token_hex(16)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", ports[index % len(ports)])
            writer.write(_request("GET", "/accounts/login/", address=address))
            await writer.drain()
            status, _, _ = await asyncio.wait_for(_read_response(reader), 120)
            if status != 200:
                err(f"login_page_http_{status}")
            posted = time.perf_counter()
            writer.write(_request("POST", "/accounts/login/", address=address, cookies={"csrftoken": csrf},
                                  form={"csrfmiddlewaretoken": csrf, "username": phone, "password": PASSWORD}))
            await writer.drain()
            status, headers, _ = await asyncio.wait_for(_read_response(reader), 120)
            writer.close()
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            err("connection:" + type(exc).__name__)
            return
        now = time.time()
        res["post_ms"].append((time.perf_counter() - posted) * 1000)
        res["total_ms"].append((now - at) * 1000)
        res["done_at"].append(now)
        if status == 302 and b"sessionid=" in headers.get(b"set-cookie", b""):
            res["logged_in"] += 1
        else:
            err(f"login_http_{status}")

    while start_at.value == 0.0:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    await asyncio.gather(*(citizen(i, phone) for i, phone in job["citizens"]))
    return res


def exam_process(job: dict[str, Any], out: Any, ready: Any, stop: Any) -> None:
    _client_setup()
    try:
        result = asyncio.run(_exam_main(job, ready, stop))
    except Exception as exc:
        result = {"fatal": repr(exc)}
    out.put(result)


async def _exam_main(job: dict[str, Any], ready: Any, stop: Any) -> dict[str, Any]:
    """Exam sockets answering every ``interval`` s until ``stop``; each ack as (sent at, latency ms)."""
    from websockets.asyncio.client import connect

    res: dict[str, Any] = {"acks": [], "errors": [], "connect_failed": 0}

    async def citizen(spec: dict[str, Any], connected: asyncio.Queue) -> None:
        url = job["urls"][spec["attempt_id"] % len(job["urls"])] + f"ws/attempts/{spec['attempt_id']}/"
        try:
            ws = await connect(url, additional_headers={"Origin": "http://127.0.0.1",
                                                        "Cookie": f"sessionid={spec['session_key']}"},
                               compression=None, ping_interval=None, open_timeout=90, max_size=2**20)
            snapshot = json.loads(await asyncio.wait_for(ws.recv(), 90))
            assert snapshot.get("type") == "attempt.snapshot", snapshot
        except Exception:
            res["connect_failed"] += 1
            await connected.put(False)
            return
        await connected.put(True)
        while job["go"].value == 0.0:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        choices = [(q["position"], [o["id"] for o in q.get("options", [])]) for q in snapshot["questions"]]
        seq = snapshot.get("last_seq", 0)
        await asyncio.sleep(random.random() * job["interval"])
        next_at = time.time()
        while not stop.value:
            position, options = choices[seq % len(choices)]
            seq += 1
            sent, t0 = time.time(), time.perf_counter()
            await ws.send(json.dumps({"type": "answer", "seq": seq, "position": position,
                                      "response": {"options": [random.choice(options)]}}))
            try:
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 60))
                    if msg.get("seq") == seq or msg.get("type") in {"session.replaced", "attempt.submitted"}:
                        break
            except Exception as exc:
                res["errors"].append([sent, "exception:" + type(exc).__name__])
                break
            if msg.get("type") == "ack":
                res["acks"].append([sent, (time.perf_counter() - t0) * 1000])
            else:
                res["errors"].append([sent, msg.get("code") or msg.get("type")])
            next_at += job["interval"]
            await asyncio.sleep(max(0.0, next_at - time.time()))
        await ws.close()

    connected: asyncio.Queue = asyncio.Queue()
    tasks = [asyncio.create_task(citizen(spec, connected)) for spec in job["specs"]]
    for _ in tasks:
        await connected.get()
    gc.collect()
    gc.freeze()
    ready.release()
    await asyncio.gather(*tasks, return_exceptions=True)
    return res


# ---------------------------------------------------------------------------------------------------
# Phases (parent)
# ---------------------------------------------------------------------------------------------------
def _spawn(target: Any, jobs: list[dict[str, Any]], pin: bool, *extra: Any) -> tuple[list[Any], Any]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = []
    for job in jobs:
        proc = ctx.Process(target=target, args=(job, out, *extra), daemon=True)
        proc.start()
        if pin:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(proc.pid, {1})
        procs.append(proc)
    return procs, out


def _collect(procs: list[Any], out: Any, timeout: float) -> list[dict[str, Any]]:
    results = [out.get(timeout=timeout) for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
    fatal = [r["fatal"] for r in results if "fatal" in r]
    if fatal:
        raise SystemExit(f"load client failed: {fatal}")
    return results


def _merge_errors(results: list[dict[str, Any]]) -> dict[str, int]:
    errors: dict[str, int] = {}
    for r in results:
        for code, n in r["errors"].items():
            errors[code] = errors.get(code, 0) + n
    return errors


def run_page(page: str, *, fixtures: dict[str, Any], ports: list[int], concurrency: int, seconds: float,
             clients: int, pin: bool, signup_offset: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    start_at = ctx.Value("d", 0.0)
    jobs = []
    per = [concurrency // clients + (1 if k < concurrency % clients else 0) for k in range(clients)]
    first = 0
    for k, n in enumerate(per):
        jobs.append({"page": page, "ports": ports, "concurrency": n, "first_client": first, "process": k,
                     "seconds": seconds, "clients_total": concurrency, "signup_offset": signup_offset,
                     **fixtures})
        first += n
    procs, out = _spawn(pages_process, [j for j in jobs if j["concurrency"]], pin, start_at)
    time.sleep(1.5)  # let the client processes start (spawn imports)
    start_at.value = time.time() + 0.5
    results = _collect(procs, out, seconds + 300)
    latencies = sorted(v for r in results for v in r["latencies"])
    requests = sum(r["requests"] for r in results)
    return {"concurrency": concurrency, "seconds": seconds, "requests": requests,
            "requests_per_second": round(requests / seconds, 1), "latency_ms": common._pcts(latencies),
            "errors": _merge_errors(results), "_window": (start_at.value, start_at.value + seconds)}


def run_storm(phones: list[str], *, ports: list[int], seconds: float, clients: int, pin: bool) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    start_at = ctx.Value("d", 0.0)
    spacing = seconds / max(1, len(phones))
    indexed = list(enumerate(phones))
    jobs = [{"citizens": indexed[k::clients], "ports": ports, "spacing": spacing} for k in range(clients)]
    procs, out = _spawn(storm_process, [j for j in jobs if j["citizens"]], pin, start_at)
    time.sleep(1.5)
    start_at.value = time.time() + 0.5
    results = _collect(procs, out, seconds + 300)
    done = [t for r in results for t in r["done_at"]]
    logged_in = sum(r["logged_in"] for r in results)
    errors = _merge_errors(results)
    all_done = round(max(done) - start_at.value, 2) if done else None
    return {"logins": len(phones), "arrivals_over_s": seconds, "logged_in": logged_in, "errors": errors,
            "logins_per_second": round(logged_in / max(all_done or seconds, 1e-9), 1),
            "all_done_after_s": all_done,
            "post_latency_ms": common._pcts(sorted(v for r in results for v in r["post_ms"])),
            "arrival_to_logged_in_ms": common._pcts(sorted(v for r in results for v in r["total_ms"])),
            "_window": (start_at.value, max(done) if done else start_at.value + seconds)}


def exam_between(exam: dict[str, Any], start: float, end: float) -> dict[str, Any]:
    acks = sorted(ms for t, ms in exam["acks"] if start <= t <= end)
    errors: dict[str, int] = {}
    for t, code in exam["errors"]:
        if start <= t <= end:
            errors[code] = errors.get(code, 0) + 1
    return {"acks": len(acks), "ack_ms": common._pcts(acks), "errors": errors}


def _budget(env: dict[str, str]) -> dict[str, Any]:
    """The connection budget of one server process as the production settings compute it."""
    code = ("import django, json; django.setup(); from django.conf import settings as s; "
            "d = s.DATABASES['default']; o = d.get('OPTIONS', {}); "
            "print(json.dumps({'engine': d['ENGINE'], 'conn_max_age': d.get('CONN_MAX_AGE'), "
            "'page_pool': o.get('pool'), 'exam_pool': o.get('exam_pool'), "
            "'password_hashers': s.PASSWORD_HASHERS[:1], 'password_hash_concurrency': s.PASSWORD_HASH_CONCURRENCY}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=False)
    try:
        info = json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": result.stderr[-300:]}
    pools = [p for p in (info.get("page_pool"), info.get("exam_pool")) if isinstance(p, dict)]
    info["connections_per_process_max"] = sum(p.get("max_size", 0) for p in pools) or None
    return info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", type=int, default=1, help="uvicorn processes (clients spread over them)")
    ap.add_argument("--concurrency", type=int, default=1000, help="concurrent clients per page")
    ap.add_argument("--seconds", type=float, default=15.0, help="seconds per page")
    ap.add_argument("--pages", default=",".join(PAGES), help="comma list of pages ('' for none): " + ",".join(PAGES))
    ap.add_argument("--storm-logins", type=int, default=2000, help="citizens of the login storm (0: no storm)")
    ap.add_argument("--storm-seconds", type=float, default=60.0, help="the storm's arrivals are spread over this")
    ap.add_argument("--exam-citizens", type=int, default=500, help="exam sockets answering throughout")
    ap.add_argument("--exam-interval", type=float, default=2.0, help="seconds between an exam socket's answers")
    ap.add_argument("--results", type=int, default=200, help="citizens with a submitted attempt (result page)")
    ap.add_argument("--clients", type=int, default=2, help="load-client processes for the pages and the storm")
    ap.add_argument("--pin", action="store_true", help="servers on CPU 0, clients on CPU 1")
    ap.add_argument("--fresh-db", action="store_true", help="drop and re-create the benchmark database first")
    args = ap.parse_args()
    pages = [p for p in args.pages.split(",") if p]
    unknown = set(pages) - set(PAGES)
    if unknown:
        raise SystemExit(f"unknown pages: {sorted(unknown)}")

    db_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ce_bench_http")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8")
    os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = db_url, redis_url
    os.environ.setdefault("REDIS_PREFIX", "ce-bench-http")
    common.ensure_database(db_url, fresh=args.fresh_db)
    if args.fresh_db:
        common.clear_redis_keys(redis_url, os.environ["REDIS_PREFIX"])
    common.migrate()
    common.django_setup()

    report: dict[str, Any] = {"servers": args.servers, "concurrency": args.concurrency, "seconds": args.seconds,
                              "clients": args.clients, "pinned": args.pin, "exam_citizens": args.exam_citizens,
                              "exam_interval_s": args.exam_interval}
    started = time.time()
    exam_specs = common.make_attempts(args.exam_citizens, tag="x") if args.exam_citizens else []
    fixtures = make_results(max(1, args.results))
    login_count = max(args.storm_logins, 200 if "login" in pages else 0)
    phones = make_login_citizens(login_count)
    fixtures["phones"] = phones[:max(1, min(len(phones), 5000))]
    report["setup_seconds"] = round(time.time() - started, 1)
    common.settle_database()

    env = os.environ.copy()
    static_root = tempfile.mkdtemp(prefix="ce-bench-static-")
    env.update({"DEBUG": "0", "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "STATIC_ROOT": static_root, "DJANGO_SETTINGS_MODULE": "contest_engine.settings",
                "CLIENT_IP_HEADER": "X-Forwarded-For"})
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    report["database"] = _budget(env)
    sampler = ConnectionSampler(db_url)
    procs, ports = common.start_servers("uvicorn", args.servers, pin=args.pin, env=env)
    exam_procs: list[Any] = []
    exam_out: Any = None
    ctx = mp.get_context("spawn")
    stop, go = ctx.Value("b", 0), ctx.Value("d", 0.0)
    try:
        sampler.start()
        report["server_rss_mb_idle"] = common.servers_rss_mb(procs)
        if exam_specs:
            ready = ctx.Semaphore(0)
            exam_job = {"specs": exam_specs, "urls": [f"ws://127.0.0.1:{p}/" for p in ports],
                        "interval": args.exam_interval, "go": go}
            exam_procs, exam_out = _spawn(exam_process, [exam_job], args.pin, ready, stop)
            ready.acquire()
        go.value = time.time()
        time.sleep(min(3.0, 2 * args.exam_interval))  # the sockets settle into their pace
        quiet_from = time.time()
        time.sleep(3.0)
        report["idle"] = {"_window": (quiet_from, time.time())}
        phases: dict[str, dict[str, Any]] = {}
        signup_offset = random.randrange(0, 7_000_000)  # the database may hold the phones of an earlier run
        for page in pages:
            cpu = common.servers_cpu_seconds(procs)
            phases[page] = run_page(page, fixtures=fixtures, ports=ports, concurrency=args.concurrency,
                                    seconds=args.seconds, clients=args.clients, pin=args.pin,
                                    signup_offset=signup_offset)
            phases[page]["server_cpu_s"] = round(common.servers_cpu_seconds(procs) - cpu, 2)
            time.sleep(1.0)
        if args.storm_logins:
            cpu = common.servers_cpu_seconds(procs)
            storm = run_storm(phones[:args.storm_logins], ports=ports, seconds=args.storm_seconds,
                              clients=args.clients, pin=args.pin)
            storm["server_cpu_s"] = round(common.servers_cpu_seconds(procs) - cpu, 2)
        stop.value = 1
        exam = _collect(exam_procs, exam_out, 120)[0] if exam_procs else {"acks": [], "errors": [],
                                                                            "connect_failed": 0}
        report["server_rss_mb_end"] = common.servers_rss_mb(procs)
        time.sleep(2.0)
        report["database_connections_after"] = sampler.count()
    finally:
        stop.value = 1
        common.stop_servers(procs)
        sampler.stop()
        shutil.rmtree(static_root, ignore_errors=True)

    report["exam_connect_failed"] = exam["connect_failed"]
    idle_window = report["idle"].pop("_window")
    report["idle"].update({"database_connections": sampler.between(*idle_window),
                           "exam": exam_between(exam, *idle_window)})
    report["pages"] = {}
    for page, phase in phases.items():
        window = phase.pop("_window")
        phase["database_connections"] = sampler.between(*window)
        phase["exam"] = exam_between(exam, *window)
        report["pages"][page] = phase
    if args.storm_logins:
        window = storm.pop("_window")
        storm["database_connections"] = sampler.between(*window)
        storm["exam"] = exam_between(exam, *window)
        exam_p99 = storm["exam"]["ack_ms"].get("p99")
        storm["target"] = {
            "logins": args.storm_logins, "within_s": args.storm_seconds, "errors": 0, "exam_p99_ms_max": 100,
            "met": (not storm["errors"] and storm["logged_in"] == args.storm_logins
                    and storm["all_done_after_s"] is not None and storm["all_done_after_s"] <= args.storm_seconds + 2
                    and (exam_p99 is None or exam_p99 <= 100) and not storm["exam"]["errors"]),
        }
        report["storm"] = storm
    budget = (report["database"].get("connections_per_process_max") or 0) * args.servers
    peak = max((n for _, n in sampler.samples), default=0)
    report["database_connections_peak"] = peak
    report["database_connections_budget"] = budget
    report["database_connections_within_budget"] = bool(budget) and peak <= budget
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Load benchmark of the read API's public contests list (``GET /api/v1/contests``) against real server
processes (uvicorn, the production settings with ``DEBUG=0``), PostgreSQL and Redis on this machine.

Setup: ``--contests`` published contests of one organisation, each with ``--rounds`` rounds (bulk-created).
Then, on the same server processes, two phases of ``--seconds`` s each, ``--concurrency`` clients (each on its
own keep-alive connection, sending its next request when the previous answer arrived), spread over
``--clients`` load-client processes:

- ``plain``: ``GET /api/v1/contests?limit=<--limit>`` (anonymous) — expected 200;
- ``conditional``: the same with ``If-None-Match`` naming the current ETag — expected 304 (the body is still
  built on the server, then not sent: what a polling portal costs).

Reported per phase: requests, requests/s, latency p50/p95/p99/max (ms), status counts and errors. The
anonymous rate limit is raised for the run (``API_RATE_LIMIT_ANONYMOUS``) so that the numbers measure the
endpoint: its counter is still incremented in Redis on every request, as in production. Prints one JSON
document. Example::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ce_bench_api REDIS_URL=redis://127.0.0.1:6379/8 \\
      .venv/bin/python bench/api_load.py --fresh-db --contests 200 --concurrency 50 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import exam_load as common  # noqa: E402 - the servers, database and Redis helpers of the exam benchmark

PATH = "/api/v1/contests"


def make_contests(count: int, rounds: int) -> int:
    """``count`` published contests with ``rounds`` rounds each (bulk), of the benchmark organisation."""
    import datetime as dt

    from django.utils import timezone

    from accounts.models import Organisation, OrganisationKind
    from contests.models import Contest, ContestVisibility, Round

    org, _ = Organisation.objects.get_or_create(slug="bench-api-org", defaults={
        "name": "Sở Tư pháp (benchmark)", "kind": OrganisationKind.DEPARTMENT})
    have = Contest.objects.filter(organisation=org).count()
    now = timezone.now()
    stamp = int(time.time() * 1000)
    contests = Contest.objects.bulk_create([
        Contest(organisation=org, title=f"Cuộc thi tìm hiểu pháp luật {i}", slug=f"bench-api-{stamp}-{i}",
                summary="Cuộc thi benchmark", visibility=ContestVisibility.PUBLISHED,
                blueprint=[{"topic_id": None, "difficulty": None, "count": 10, "points": None}])
        for i in range(max(0, count - have))], batch_size=1000)
    Round.objects.bulk_create([
        Round(contest=c, name=f"Tuần {r + 1}", position=r + 1, opens_at=now + dt.timedelta(days=7 * r - 3),
              closes_at=now + dt.timedelta(days=7 * r + 4)) for c in contests for r in range(rounds)],
        batch_size=2000)
    return Contest.objects.filter(visibility=ContestVisibility.PUBLISHED).count()


# ---------------------------------------------------------------------------------------------------
# Load clients (separate processes, no Django)
# ---------------------------------------------------------------------------------------------------
def _request(path: str, etag: str | None) -> bytes:
    head = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Accept: application/json", "User-Agent: ce-api-load"]
    if etag:
        head.append(f"If-None-Match: {etag}")
    return ("\r\n".join(head) + "\r\n\r\n").encode()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status, length


def client_process(job: dict[str, Any], out: Any, start_at: Any) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    try:
        result = asyncio.run(_client_main(job, start_at))
    except Exception as exc:
        result = {"fatal": repr(exc)}
    out.put(result)


async def _client_main(job: dict[str, Any], start_at: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"latencies": [], "statuses": {}, "errors": {}}
    request = _request(job["path"], job["etag"])
    ports = job["ports"]

    def err(code: str) -> None:
        res["errors"][code] = res["errors"].get(code, 0) + 1

    async def client(number: int) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", ports[number % len(ports)])
        except OSError as exc:
            err("connect:" + type(exc).__name__)
            return
        while time.time() < start_at.value:  # noqa: ASYNC110 - waiting for a wall-clock start time
            await asyncio.sleep(0.005)
        end = start_at.value + job["seconds"]
        while time.time() < end:
            sent = time.perf_counter()
            try:
                writer.write(request)
                await writer.drain()
                status, _ = await asyncio.wait_for(_read_response(reader), 60)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                err("connection:" + type(exc).__name__)
                return
            res["latencies"].append((time.perf_counter() - sent) * 1000)
            res["statuses"][str(status)] = res["statuses"].get(str(status), 0) + 1
            if status != job["expected"]:
                err(f"http_{status}")
        writer.close()

    while start_at.value == 0.0:  # noqa: ASYNC110 - a shared value set by the parent, not an event
        await asyncio.sleep(0.01)
    await asyncio.gather(*(client(job["first"] + i) for i in range(job["concurrency"])))
    return res


def run_phase(*, ports: list[int], path: str, etag: str | None, expected: int, concurrency: int, seconds: float,
              clients: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    start_at = ctx.Value("d", 0.0)
    shares = [concurrency // clients + (1 if i < concurrency % clients else 0) for i in range(clients)]
    procs, first = [], 0
    for share in shares:
        job = {"ports": ports, "path": path, "etag": etag, "expected": expected, "concurrency": share,
               "first": first, "seconds": seconds}
        first += share
        proc = ctx.Process(target=client_process, args=(job, out, start_at))
        proc.start()
        procs.append(proc)
    time.sleep(1.0)  # the clients import and connect
    start_at.value = time.time() + 0.5
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
    fatal = [r["fatal"] for r in results if "fatal" in r]
    latencies = sorted(v for r in results for v in r.get("latencies", []))
    statuses: dict[str, int] = {}
    errors: dict[str, int] = {}
    for r in results:
        for key, n in r.get("statuses", {}).items():
            statuses[key] = statuses.get(key, 0) + n
        for key, n in r.get("errors", {}).items():
            errors[key] = errors.get(key, 0) + n
    if fatal:
        errors["fatal"] = len(fatal)
    return {"requests": len(latencies), "requests_per_second": round(len(latencies) / seconds, 1),
            "latency_ms": common._pcts(latencies), "statuses": statuses, "errors": errors}


def fetch(port: int, path: str) -> tuple[int, str, int]:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        body = response.read()
        return response.status, response.headers["ETag"], len(body)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contests", type=int, default=200, help="published contests in the database")
    ap.add_argument("--rounds", type=int, default=4, help="rounds per contest")
    ap.add_argument("--limit", type=int, default=50, help="page size asked for (at most 100)")
    ap.add_argument("--concurrency", type=int, default=50, help="concurrent clients")
    ap.add_argument("--seconds", type=float, default=10.0, help="seconds per phase")
    ap.add_argument("--servers", type=int, default=1, help="uvicorn processes (clients spread over them)")
    ap.add_argument("--clients", type=int, default=1, help="load-client processes")
    ap.add_argument("--pin", action="store_true", help="servers on CPU 0")
    ap.add_argument("--fresh-db", action="store_true", help="drop and re-create the benchmark database first")
    args = ap.parse_args()

    db_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ce_bench_api")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8")
    os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = db_url, redis_url
    os.environ.setdefault("REDIS_PREFIX", "ce-bench-api")
    common.ensure_database(db_url, fresh=args.fresh_db)
    if args.fresh_db:
        common.clear_redis_keys(redis_url, os.environ["REDIS_PREFIX"])
    common.migrate()
    common.django_setup()
    started = time.time()
    published = make_contests(args.contests, args.rounds)
    report: dict[str, Any] = {"published_contests": published, "rounds_per_contest": args.rounds,
                              "page_size": args.limit, "concurrency": args.concurrency, "seconds": args.seconds,
                              "servers": args.servers, "clients": args.clients, "pinned": args.pin,
                              "setup_seconds": round(time.time() - started, 1)}
    common.settle_database()

    env = os.environ.copy()
    env.update({"DEBUG": "0", "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "STATIC_ROOT": tempfile.mkdtemp(prefix="ce-bench-static-"),
                "DJANGO_SETTINGS_MODULE": "contest_engine.settings", "API_RATE_LIMIT_ANONYMOUS": str(10**9)})
    procs, ports = common.start_servers("uvicorn", args.servers, pin=args.pin, env=env)
    path = f"{PATH}?limit={args.limit}"
    try:
        status, etag, size = fetch(ports[0], path)
        report["response"] = {"status": status, "body_bytes": size, "etag": etag}
        phases = {}
        for name, tag, expected in (("plain", None, 200), ("conditional", etag, 304)):
            cpu = common.servers_cpu_seconds(procs)
            phases[name] = run_phase(ports=ports, path=path, etag=tag, expected=expected,
                                     concurrency=args.concurrency, seconds=args.seconds, clients=args.clients)
            phases[name]["server_cpu_s"] = round(common.servers_cpu_seconds(procs) - cpu, 2)
        report["phases"] = phases
        report["server_rss_mb"] = common.servers_rss_mb(procs)
    finally:
        common.stop_servers(procs)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

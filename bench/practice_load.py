#!/usr/bin/env python
"""Load benchmark of practice answers: N citizens practising at once over HTTP, against real server processes,
PostgreSQL and Redis on this machine.

Each citizen holds one keep-alive connection (a phone), a logged-in session and a practice session of
``--questions`` questions, and answers one question every ``--interval`` seconds (random phase) for
``--duration`` seconds: ``POST /practice/sessions/<id>/answer/`` exactly as the page's form sends it, and waits
for the feedback (``--accept html``: the feedback page the citizen sees; ``json``: the same feedback as JSON).
Reported: the answer round trip p50/p95/p99/max, answers/s, errors, server CPU and memory — and a check of the
database against what the clients were told: every answer acknowledged with 200 must be stored once
(``lost``, ``duplicated`` must be 0).

The design choice (HTTP, not a socket) is in docs/decisions.md. Example::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ce_bench_practice REDIS_URL=redis://127.0.0.1:6379/7 \\
      .venv/bin/python bench/practice_load.py --fresh-db --citizens 1000
"""

from __future__ import annotations

import argparse
import asyncio
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
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import exam_load as common  # noqa: E402 - the servers, database and Redis helpers of the exam benchmark


def make_citizens(count: int, *, questions: int) -> list[dict[str, Any]]:
    """``count`` citizens, each logged in (a session row) with one practice session of ``questions`` questions
    drawn by the real service; the first session's items are copied for the others (setup is not measured)."""
    import datetime as dt

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from accounts.models import CitizenProfile, Organisation, OrganisationKind, User
    from practice.models import PracticeItem, PracticeSession
    from practice.services import practice_session_start
    from questionbank.models import Question, QuestionOption, QuestionStatus, QuestionType, Topic, Visibility

    now = timezone.now()
    org, _ = Organisation.objects.get_or_create(slug="bench-practice-org", defaults={
        "name": "Sở Tư pháp Benchmark", "kind": OrganisationKind.DEPARTMENT})
    topic, _ = Topic.objects.get_or_create(name="Benchmark luyện tập", parent=None)
    have = Question.objects.filter(organisation=org).count()
    for i in range(have, max(questions, 20)):
        q = Question.objects.create(organisation=org, type=QuestionType.SINGLE, stem=f"<p>Câu hỏi luyện tập {i}?</p>",
                                    status=QuestionStatus.APPROVED, visibility=Visibility.SHARED, topic=topic,
                                    explanation="<p>Giải thích theo điều luật.</p>", citation_document="52/2014/QH13",
                                    citation_article="8", family_id=20_000_000 + i)
        QuestionOption.objects.bulk_create([QuestionOption(question=q, position=j, text=f"Phương án {j}",
                                                           fraction=1 if j == 0 else 0) for j in range(4)])
    password = make_password(common.PASSWORD)
    stamp = int(time.time() * 1000) % 10**9
    users = User.objects.bulk_create([User(username=f"bp{stamp}u{i}", full_name=f"Người học {i}", password=password)
                                      for i in range(count)], batch_size=2000)
    CitizenProfile.objects.bulk_create([CitizenProfile(user=u, date_of_birth=dt.date(1990, 1, 1), unit=org,
                                                       privacy_consent_at=now, privacy_notice_version="2026-01")
                                        for u in users], batch_size=2000)
    count_choice = 20 if questions >= 20 else 10 if questions >= 10 else 5
    template = practice_session_start(user=users[0], mode="topic", topic_id=topic.pk, count=count_choice, now=now)
    items = list(PracticeItem.objects.filter(session=template).order_by("position"))
    sessions = PracticeSession.objects.bulk_create([
        PracticeSession(user=u, mode="topic", topic=topic, started_at=now, question_count=len(items),
                        draw_seed=template.draw_seed) for u in users[1:]], batch_size=2000)
    PracticeItem.objects.bulk_create([
        PracticeItem(session=s, position=i.position, question_id=i.question_id, family_id=i.family_id,
                     user_id=s.user_id, topic_id=i.topic_id, unit_id=org.pk, option_order=i.option_order)
        for s in sessions for i in items], batch_size=5000)
    specs, rows = [], []
    for user, session in zip(users, [template, *sessions], strict=True):
        store = SessionStore()
        key = store._get_new_session_key()
        data = {SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: "accounts.backends.PhoneOrEmailBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash()}
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=now + dt.timedelta(days=1)))
        specs.append({"session_id": session.pk, "cookie": key,
                      "answers": [(i.position, i.option_order[0]) for i in items]})
    Session.objects.bulk_create(rows, batch_size=2000)
    return specs


def verify(acked: dict[int, set[int]]) -> dict[str, int]:
    """Every answer acknowledged with 200 is stored (answered) exactly once; nothing else is answered."""
    from django.db.models import Count

    from practice.models import PracticeItem

    session_ids = list(acked)
    stored: dict[int, set[int]] = {}
    for session_id, position in (PracticeItem.objects.filter(session_id__in=session_ids, answered_at__isnull=False)
                                 .values_list("session_id", "position")):
        stored.setdefault(session_id, set()).add(position)
    lost = sum(len(positions - stored.get(s, set())) for s, positions in acked.items())
    duplicated = (PracticeItem.objects.filter(session_id__in=session_ids).values("session_id", "position")
                  .annotate(n=Count("id")).filter(n__gt=1).count())
    return {"acked_answers_checked": sum(len(p) for p in acked.values()), "lost": lost, "duplicated": duplicated,
            "stored_not_acked": sum(len(stored.get(s, set()) - p) for s, p in acked.items())}


# --- Load clients (separate processes, no Django) ----------------------------------------------------------


def client_process(job: dict[str, Any], out: Any, start_at: Any) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        result = asyncio.run(_client_main(job, start_at))
    except Exception as exc:  # report rather than hang the parent
        result = {"fatal": repr(exc)}
    out.put(result)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _client_main(job: dict[str, Any], start_at: Any) -> dict[str, Any]:
    host, ports = job["host"], job["ports"]
    res: dict[str, Any] = {"latencies": [], "errors": {}, "acked": {}, "connect_failed": 0, "answers": 0,
                           "reconnects": 0}
    csrf = secrets.token_hex(16)  # a 32-character secret: cookie and header (Django's CSRF check compares them)
    accept = "application/json" if job["accept"] == "json" else "text/html"

    def err(code: str) -> None:
        res["errors"][code] = res["errors"].get(code, 0) + 1

    async def citizen(spec: dict[str, Any]) -> None:
        port = ports[spec["session_id"] % len(ports)]
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            res["connect_failed"] += 1
            return
        while start_at.value == 0.0:  # noqa: ASYNC110 - set by the parent once every client is ready
            await asyncio.sleep(0.01)
        begin = start_at.value
        await asyncio.sleep(max(0.0, begin - time.time()) + random.random() * job["interval"])
        path = f"/practice/sessions/{spec['session_id']}/answer/"
        answers = list(spec["answers"])
        acked = res["acked"].setdefault(spec["session_id"], [])
        while answers and time.time() < begin + job["duration"]:
            position, option = answers.pop(0)
            body = f"position={position}&option={option}".encode()
            request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {accept}\r\n"
                       f"Cookie: sessionid={spec['cookie']}; csrftoken={csrf}\r\nX-CSRFToken: {csrf}\r\n"
                       "Content-Type: application/x-www-form-urlencoded\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            sent = time.perf_counter()
            status = payload = None
            # A phone reconnects when the server closed its idle keep-alive connection, and sends again (an answer
            # is idempotent). The reconnect is inside the measured round trip, as it is for the person.
            for attempt in range(2):
                try:
                    if reader.at_eof() or attempt:
                        writer.close()
                        reader, writer = await asyncio.open_connection(host, port)
                        res["reconnects"] += 1
                    writer.write(request)
                    await writer.drain()
                    status, payload = await asyncio.wait_for(_read_response(reader), 30)
                    break
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                    continue
            if status is None:
                err("connection")
                continue
            res["latencies"].append((time.perf_counter() - sent) * 1000)
            if status == 200 and (job["accept"] != "json" or b'"saved": true' in payload):
                acked.append(position)
                res["answers"] += 1
            else:
                err(f"http_{status}")
            await asyncio.sleep(max(0.0, job["interval"] - (time.perf_counter() - sent)))
        writer.close()

    await asyncio.gather(*(citizen(spec) for spec in job["specs"]))
    return res


def run_paced(specs: list[dict[str, Any]], *, clients: int, host: str, ports: list[int], interval: float,
              duration: float, accept: str, pin: bool) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    start_at = ctx.Value("d", 0.0)
    procs = []
    for n in range(clients):
        job = {"specs": specs[n::clients], "host": host, "ports": ports, "interval": interval,
               "duration": duration, "accept": accept}
        proc = ctx.Process(target=client_process, args=(job, out, start_at))
        proc.start()
        if pin:
            os.sched_setaffinity(proc.pid, {1})
        procs.append(proc)
    time.sleep(2.0 + len(specs) / 2000)  # let every client connect
    start_at.value = time.time() + 0.5
    results = [out.get(timeout=duration + 120) for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
    fatal = [r["fatal"] for r in results if "fatal" in r]
    if fatal:
        raise SystemExit(f"load client failed: {fatal}")
    latencies = sorted(v for r in results for v in r["latencies"])
    errors: dict[str, int] = {}
    for r in results:
        for code, n in r["errors"].items():
            errors[code] = errors.get(code, 0) + n
    acked: dict[int, set[int]] = {}
    for r in results:
        for session_id, positions in r["acked"].items():
            acked.setdefault(int(session_id), set()).update(positions)
    answers = sum(r["answers"] for r in results)
    return {"citizens": len(specs), "answers": answers, "per_second": round(answers / duration, 1),
            "latency_ms": common._pcts(latencies), "errors": errors,
            "connect_failed": sum(r["connect_failed"] for r in results),
            "reconnects": sum(r["reconnects"] for r in results), "_acked": acked}


def _connection_mode(env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-c", "from django.conf import settings; import django; django.setup(); "
                          "d = settings.DATABASES['default']; print('pool' if d.get('OPTIONS', {}).get('pool') "
                          "else f\"conn_max_age={d.get('CONN_MAX_AGE')}\")"], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=False)
    return out.stdout.strip() or out.stderr.strip()[-200:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", choices=["daphne", "uvicorn"], default="uvicorn")
    ap.add_argument("--servers", type=int, default=1, help="server processes (citizens spread over them)")
    ap.add_argument("--citizens", type=int, default=1000)
    ap.add_argument("--interval", type=float, default=15.0,
                    help="seconds between a citizen's answers (reading the question, then the explanation)")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of answering")
    ap.add_argument("--questions", type=int, default=20, help="questions per practice session (5, 10 or 20)")
    ap.add_argument("--accept", choices=["html", "json"], default="html")
    ap.add_argument("--clients", type=int, default=2, help="load-client processes")
    ap.add_argument("--pin", action="store_true", help="servers on CPU 0, clients on CPU 1")
    ap.add_argument("--fresh-db", action="store_true", help="drop and re-create the benchmark database first")
    args = ap.parse_args()

    db_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ce_bench_practice")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7")
    os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = db_url, redis_url
    os.environ.setdefault("REDIS_PREFIX", "ce-bench-practice")
    common.ensure_database(db_url, fresh=args.fresh_db)
    if args.fresh_db:
        common.clear_redis_keys(redis_url, os.environ["REDIS_PREFIX"])
    common.migrate()
    common.django_setup()
    report: dict[str, Any] = {"server": args.server, "servers": args.servers, "citizens": args.citizens,
                              "interval_s": args.interval, "duration_s": args.duration, "accept": args.accept,
                              "clients": args.clients,
                              "pinned": args.pin, "transport": "HTTP/1.1 keep-alive, one connection per citizen"}
    started = time.time()
    specs = make_citizens(args.citizens, questions=args.questions)
    report["setup_seconds"] = round(time.time() - started, 1)
    common.settle_database()
    env = os.environ.copy()
    # Production settings: the pages need the hashed static files' manifest (collectstatic), in a scratch folder.
    static_root = tempfile.mkdtemp(prefix="ce-bench-static-")
    env.update({"DEBUG": "0", "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "STATIC_ROOT": static_root, "DJANGO_SETTINGS_MODULE": "contest_engine.settings"})
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    procs, ports = common.start_servers(args.server, args.servers, pin=args.pin, env=env)
    try:
        report["server_rss_mb_idle"] = common.servers_rss_mb(procs)
        report["database_connections"] = _connection_mode(env)
        cpu = common.servers_cpu_seconds(procs)
        paced = run_paced(specs, clients=args.clients, host="127.0.0.1", ports=ports, interval=args.interval,
                          duration=args.duration, accept=args.accept, pin=args.pin)
        paced["server_cpu_s"] = round(common.servers_cpu_seconds(procs) - cpu, 2)
        report["server_rss_mb_end"] = common.servers_rss_mb(procs)
        report["paced"] = {k: v for k, v in paced.items() if not k.startswith("_")}
        report["paced"]["db_check"] = verify(paced["_acked"])
        p99 = report["paced"]["latency_ms"].get("p99")
        report["target"] = {"p99_ms_max": 50, "met": p99 is not None and p99 <= 50}
    finally:
        common.stop_servers(procs)
        shutil.rmtree(static_root, ignore_errors=True)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Load benchmark of live games: N players in ONE game, over real WebSockets, against real server processes
(uvicorn by default, ``--servers`` of them), PostgreSQL (fsync on) and Redis, all on this machine.

One run:

1. **setup** — a game of ``--questions`` bank questions, ``--players`` players created in bulk (with their signed
   player cookies), a host with a login session;
2. **join** — every player's socket opens (spread over the servers, round robin) and reads its snapshot;
3. **game** — a host process drives it: for each question it records the moment it sends ``next``; every player
   records when the question arrived (**question latency** = arrival − "next"), answers once at a random moment
   within ``--answer-window`` seconds, and records its ack (**ack latency**) and when its reveal arrived
   (**reveal latency** = arrival − the moment the question closed: its server deadline, or the last ack when
   everybody answered and the game moved on at once); ``--silent`` players never answer (so the deadline, not
   "everybody answered", closes the questions);
4. **check** — the database against what the clients were told: every acknowledged answer stored exactly once,
   nothing stored that was not acknowledged, each question's stored count equal to the count its close
   folded in (``LiveQuestion.answered``), every player's score equal to the replay from the answers.

Targets (issue 11, 10,000 players, 2 server processes): the question reaches 99% of players within 500 ms of
"next"; 10,000 answers within a 10-s window all acked and counted exactly once; distribution and ranks out
within 1 s of the deadline; memory quoted. The load clients (``--clients`` processes, a minimal hand-written
WebSocket client on uvloop, so that the measuring side costs less CPU than the ``websockets`` library) run on the
same cores as the servers: their own work is inside every latency measured here. Prints one JSON document::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ce_bench_live REDIS_URL=redis://127.0.0.1:6379/7 \\
      .venv/bin/python bench/live_load.py --fresh-db --players 10000 --servers 2
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import json
import multiprocessing as mp
import os
import random
import resource
import struct
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import exam_load as base

ROOT = base.ROOT
PCTS = base._pcts


# ---------------------------------------------------------------------------------------------------
# Setup (Django, parent process)
# ---------------------------------------------------------------------------------------------------
def make_game(*, players: int, questions: int, seconds: int, scoring: str) -> dict[str, Any]:
    import datetime as dt

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from accounts.models import Membership, Organisation, OrganisationKind, Role, User
    from live.models import LivePlayer
    from live.services.players import cookie_name, player_token
    from live.services.sessions import session_create
    from questionbank.models import Question, QuestionOption, QuestionStatus, QuestionType

    now = timezone.now()
    org, _ = Organisation.objects.get_or_create(slug="bench-live-org", defaults={
        "name": "Phường Benchmark trực tiếp", "kind": OrganisationKind.WARD})
    have = Question.objects.filter(organisation=org).count()
    for i in range(have, max(questions, 20)):
        q = Question.objects.create(organisation=org, type=QuestionType.SINGLE, stem=f"<p>Câu hỏi thử {i}?</p>",
                                    status=QuestionStatus.APPROVED, family_id=20_000_000 + i,
                                    explanation="Giải thích.", citation_article="8", citation_document="52/2014/QH13")
        for j in range(4):
            QuestionOption.objects.create(question=q, position=j, text=f"Phương án {j}", fraction=1 if j == 0 else 0)
    stamp = int(time.time() * 1000) % 10**9
    host = User.objects.create_user(username=f"bench-host-{stamp}", password=base.PASSWORD, full_name="Người dẫn",
                                    email=f"bench-host-{stamp}@example.invalid")
    Membership.objects.create(user=host, organisation=org, role=Role.ORGANISER)
    session = session_create(actor=host, organisation=org, title=f"Benchmark {stamp}", scoring=scoring,
                             seconds_per_question=seconds, late_join="open",
                             blueprint=[{"topic_id": None, "difficulty": None, "count": questions, "points": None}])
    created = LivePlayer.objects.bulk_create([
        LivePlayer(session=session, display_name=f"Người chơi {i}", name_key=f"nguoi choi {i}", first_position=1,
                   joined_at=now) for i in range(players)], batch_size=5000)
    store = SessionStore()
    store[SESSION_KEY], store[BACKEND_SESSION_KEY] = str(host.pk), "accounts.backends.PhoneOrEmailBackend"
    store[HASH_SESSION_KEY] = host.get_session_auth_hash()
    store.set_expiry(dt.timedelta(days=1))
    store.create()
    name = cookie_name(session.pk)
    return {"session_id": session.pk, "host_cookie": f"sessionid={store.session_key}",
            "players": [(p.pk, f"{name}={player_token(session_id=session.pk, player_id=p.pk)}") for p in created]}


def db_check(session_id: int, acked: dict[int, set[int]]) -> dict[str, Any]:
    """The database against the clients' acks, question by question."""
    from live.models import LiveAnswer, LivePlayer, LiveQuestion
    from live.services.game import session_replay

    out: dict[str, Any] = {}
    for question in LiveQuestion.objects.filter(session_id=session_id, closed_at__isnull=False).order_by("position"):
        stored = set(LiveAnswer.objects.filter(session_id=session_id, position=question.position)
                     .values_list("player_id", flat=True))
        mine = acked.get(question.position, set())
        out[str(question.position)] = {
            "acked": len(mine), "stored": len(stored), "counted_by_close": question.answered,
            "acked_not_stored": len(mine - stored), "stored_not_acked": len(stored - mine),
        }
    replay = session_replay(session_id=session_id)
    out["scores_differing_from_replay"] = sum(
        1 for p in LivePlayer.objects.filter(session_id=session_id).only("id", "score", "time_ms", "correct_count")
        if (replay[p.pk].score, replay[p.pk].time_ms, replay[p.pk].correct_count) != (p.score, p.time_ms,
                                                                                       p.correct_count))
    return out


# ---------------------------------------------------------------------------------------------------
# A minimal WebSocket client (no Django, no websockets library): handshake, unmasked server frames,
# client frames masked with a zero key (valid per RFC 6455, and the XOR costs nothing).
# ---------------------------------------------------------------------------------------------------
def _frame(text: str, opcode: int = 0x1) -> bytes:
    payload = text.encode() if isinstance(text, str) else text
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + b"\x00\x00\x00\x00" + payload


class Player(asyncio.Protocol):
    __slots__ = ("buf", "client", "done", "opened", "pid", "silent", "transport", "upgraded", "waiting")

    def __init__(self, client: Client, pid: int, silent: bool) -> None:
        self.client, self.pid, self.silent = client, pid, silent
        self.buf = bytearray()
        self.upgraded = False
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.waiting: dict[int, float] = {}  # position -> when the answer was sent
        self.done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_result(False)
        if not self.done:
            self.client.lost += 1

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.transport.close()  # type: ignore[union-attr]
                return
            del buf[:end + 4]
            self.upgraded = True
        while len(buf) >= 2:
            opcode, n = buf[0] & 0x0F, buf[1] & 0x7F
            start = 2
            if n == 126:
                if len(buf) < 4:
                    return
                n, start = struct.unpack_from("!H", buf, 2)[0], 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n, start = struct.unpack_from("!Q", buf, 2)[0], 10
            if len(buf) < start + n:
                return
            payload = bytes(buf[start:start + n])
            del buf[:start + n]
            if opcode == 0x1:
                self.client.on_text(self, payload, now)
            elif opcode == 0x9:
                self.transport.write(_frame(payload, 0xA))  # type: ignore[union-attr]
            elif opcode == 0x8:
                self.done = True
                self.transport.close()  # type: ignore[union-attr]

    def send(self, message: dict[str, Any]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_frame(json.dumps(message, separators=(",", ":"))))


class Client:
    """One load-client process's players and what they were told."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.job = job
        self.lost = 0
        self.q_recv: dict[int, list[float]] = {}
        self.deadlines: dict[int, float] = {}
        self.sent: dict[int, list[float]] = {}
        self.ack_ms: dict[int, list[float]] = {}
        self.acked: dict[int, list[int]] = {}
        self.statuses: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        self.last_ack: dict[int, float] = {}
        self.reveal_recv: dict[int, list[float]] = {}
        self.reveal_personal: dict[int, int] = {}
        self.finished = 0
        self.snapshots = 0
        self.window = job["answer_window"]

    def on_text(self, player: Player, payload: bytes, now: float) -> None:
        head = payload[:40]
        if b'"live.question"' in head:
            msg = json.loads(payload)
            position = msg["position"]
            self.q_recv.setdefault(position, []).append(now)
            self.deadlines[position] = msg["deadline_ms"] / 1000
            if not player.silent:
                latest = msg["deadline_ms"] / 1000 - now - 0.3
                delay = random.uniform(0.05, max(0.1, min(self.window, latest)))
                option = random.choice(msg["question"]["options"])["id"]
                asyncio.get_running_loop().call_later(delay, self.answer, player, position, option)
        elif b'"live.ack"' in head:
            msg = json.loads(payload)
            position = msg["position"]
            sent = player.waiting.pop(position, None)
            if sent is not None:
                self.ack_ms.setdefault(position, []).append((now - sent) * 1000)
            self.statuses[msg["status"]] = self.statuses.get(msg["status"], 0) + 1
            self.acked.setdefault(position, []).append(player.pid)
            self.last_ack[position] = max(now, self.last_ack.get(position, 0.0))
        elif b'"live.reveal"' in head:
            position = int(payload[payload.index(b'"position":') + 11:].split(b",", 1)[0])
            self.reveal_recv.setdefault(position, []).append(now)
            if b'"you":{' in payload[-400:]:
                self.reveal_personal[position] = self.reveal_personal.get(position, 0) + 1
        elif b'"live.finished"' in head:
            self.finished += 1
        elif b'"live.snapshot"' in head:
            self.snapshots += 1
            if not player.opened.done():
                player.opened.set_result(True)
        elif b'"error"' in head:
            msg = json.loads(payload)
            self.errors[msg.get("code", "?")] = self.errors.get(msg.get("code", "?"), 0) + 1
            if "position" in msg:
                player.waiting.pop(msg["position"], None)

    def answer(self, player: Player, position: int, option: int) -> None:
        now = time.time()
        player.waiting[position] = now
        self.sent.setdefault(position, []).append(now)
        player.send({"type": "answer", "position": position, "options": [option]})


async def _open(client: Client, host: str, port: int, path: str, cookie: str, pid: int, silent: bool,
                gate: asyncio.Semaphore) -> tuple[Player | None, float]:
    loop = asyncio.get_running_loop()
    async with gate:
        t0 = time.perf_counter()
        try:
            _transport, player = await loop.create_connection(lambda: Player(client, pid, silent), host, port)
        except OSError:
            return None, 0.0
        key = base64.b64encode(os.urandom(16)).decode()
        player.transport.write((  # type: ignore[union-attr]
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1\r\n"
            f"Cookie: {cookie}\r\n\r\n").encode())
        try:
            ok = await asyncio.wait_for(player.opened, 120)
        except TimeoutError:
            ok = False
        return (player if ok else None), (time.perf_counter() - t0) * 1000


def client_process(job: dict[str, Any], out: Any, ready: Any, finished_at: Any) -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        result = asyncio.run(_client_main(job, ready, finished_at))
    except Exception as exc:
        result = {"fatal": repr(exc)}
    out.put(result)


async def _client_main(job: dict[str, Any], ready: Any, finished_at: Any) -> dict[str, Any]:
    import psutil

    client = Client(job)
    gate = asyncio.Semaphore(job["connect_concurrency"])
    ports = job["ports"]
    t0 = time.time()
    opened = await asyncio.gather(*(
        _open(client, "127.0.0.1", ports[index % len(ports)], job["path"], cookie, pid, pid in job["silent"], gate)
        for index, (pid, cookie) in job["players"]))
    players = [p for p, _ in opened if p is not None]
    connect_ms = sorted(ms for p, ms in opened if p is not None)
    join_seconds = time.time() - t0
    gc.collect()
    gc.freeze()
    ready.release()
    # Wait until the host has ended the game (and the final frames had time to arrive).
    while finished_at.value == 0.0 or time.time() < finished_at.value + 3:  # noqa: ASYNC110 - another process
        await asyncio.sleep(0.2)
    rss = psutil.Process().memory_info().rss / 2**20
    for p in players:
        p.done = True
        if p.transport is not None:
            p.transport.close()
    return {"connected": len(players), "failed": len(opened) - len(players), "connect_ms": connect_ms,
            "join_seconds": join_seconds, "lost": client.lost, "q_recv": client.q_recv, "sent": client.sent,
            "deadlines": client.deadlines, "ack_ms": client.ack_ms, "acked": client.acked,
            "statuses": client.statuses, "errors": client.errors, "last_ack": client.last_ack,
            "reveal_recv": client.reveal_recv, "reveal_personal": client.reveal_personal,
            "finished": client.finished, "rss_mb": round(rss, 1)}


# ---------------------------------------------------------------------------------------------------
# The host (its own process): next, wait for the reveal, pause, … end
# ---------------------------------------------------------------------------------------------------
def host_process(job: dict[str, Any], next_at: Any, reveal_seen: Any, finished_at: Any, go: Any, out: Any) -> None:
    try:
        out.put(asyncio.run(_host_main(job, next_at, reveal_seen, finished_at, go)))
    except Exception as exc:
        finished_at.value = time.time()
        out.put({"fatal": repr(exc)})


async def _host_main(job: dict[str, Any], next_at: Any, reveal_seen: Any, finished_at: Any, go: Any) -> dict:
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{job['ports'][0]}{job['path']}"
    async with connect(url, additional_headers={"Origin": "http://127.0.0.1", "Cookie": job["cookie"]},
                       max_size=2**24, ping_interval=None, open_timeout=60) as ws:
        async def until(kind: str, within: float, **fields: Any) -> dict:
            end = time.time() + within
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, end - time.time())))
                if msg["type"] == kind and all(msg.get(k) == v for k, v in fields.items()):
                    return msg

        await until("live.snapshot", 30)
        while not go.value:  # noqa: ASYNC110 - set by the parent process
            await asyncio.sleep(0.1)
        closes = {}
        for position in range(1, job["questions"] + 1):
            next_at[position - 1] = time.time()
            await ws.send(json.dumps({"type": "start" if position == 1 else "next"}))
            question = await until("live.question", 30, position=position)
            reveal = await until("live.reveal", job["seconds"] + 60, position=position)
            reveal_seen[position - 1] = time.time()
            closes[position] = {"deadline": question["deadline_ms"] / 1000, "answered": reveal["answered"],
                                "in_game": reveal["in_game"]}
            await asyncio.sleep(job["pause"])
        await ws.send(json.dumps({"type": "end"}))
        await until("live.finished", 60)
        finished_at.value = time.time()
        return {"closes": closes}


# ---------------------------------------------------------------------------------------------------
def summarise(results: list[dict], host: dict, next_at: list[float], questions: int,
              players: int) -> tuple[dict[str, Any], dict[int, set[int]]]:
    report: dict[str, Any] = {}
    connect_ms = sorted(x for r in results for x in r["connect_ms"])
    report["join"] = {"connected": sum(r["connected"] for r in results), "failed": sum(r["failed"] for r in results),
                      "all_connected_after_s": round(max(r["join_seconds"] for r in results), 2),
                      "connect_ms": PCTS(connect_ms)}
    acked: dict[int, set[int]] = {}
    per_q = {}
    for position in range(1, questions + 1):
        key = position  # JSON-free: results come through a multiprocessing queue (ints stay ints)
        recv = sorted(t for r in results for t in r["q_recv"].get(key, []))
        latency = [(t - next_at[position - 1]) * 1000 for t in recv]
        sent = sorted(t for r in results for t in r["sent"].get(key, []))
        ack_ms = sorted(x for r in results for x in r["ack_ms"].get(key, []))
        mine = {pid for r in results for pid in r["acked"].get(key, [])}
        acked[position] = mine
        close = host["closes"][position]
        last_ack = max((r["last_ack"].get(key, 0.0) for r in results), default=0.0)
        everybody = close["answered"] >= close["in_game"]
        # The moment the question could close: its deadline, or the last ack when everybody had answered.
        closed_at = min(close["deadline"], last_ack) if everybody and last_ack else close["deadline"]
        reveal = sorted((t - closed_at) * 1000 for r in results for t in r["reveal_recv"].get(key, []))
        per_q[str(position)] = {
            "question_reached": len(recv),
            "question_latency_ms": PCTS(latency),
            "share_within_500ms": round(sum(1 for x in latency if x <= 500) / max(players, 1), 4),
            "answers_sent": len(sent),
            "answers_acked": len(ack_ms),
            "answer_window_s": round(sent[-1] - sent[0], 2) if sent else 0,
            "ack_latency_ms": PCTS(ack_ms),
            "closed_by": "everybody answered" if everybody and last_ack and last_ack < close["deadline"]
            else "deadline",
            "reveal_latency_ms": PCTS(reveal),
            "reveals_received": len(reveal),
            "personal_reveals": sum(r["reveal_personal"].get(key, 0) for r in results),
        }
    report["questions"] = per_q
    statuses: dict[str, int] = {}
    errors: dict[str, int] = {}
    for r in results:
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    report["ack_statuses"], report["errors"] = statuses, errors
    report["connections_lost"] = sum(r["lost"] for r in results)
    report["finished_frames"] = sum(r["finished"] for r in results)
    report["client_rss_mb"] = [r["rss_mb"] for r in results]
    return report, acked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--players", type=int, default=1000)
    ap.add_argument("--questions", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=12, help="time limit of each question")
    ap.add_argument("--answer-window", type=float, default=10.0, help="players answer within this many seconds")
    ap.add_argument("--silent", type=int, default=0, help="players who never answer (the deadline closes)")
    ap.add_argument("--scoring", choices=["plain", "speed"], default="speed")
    ap.add_argument("--pause", type=float, default=2.0, help="seconds between a reveal and the next question")
    ap.add_argument("--server", choices=["daphne", "uvicorn"], default="uvicorn")
    ap.add_argument("--servers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=2, help="load-client processes")
    ap.add_argument("--connect-concurrency", type=int, default=400, help="handshakes in flight per client")
    ap.add_argument("--fresh-db", action="store_true")
    args = ap.parse_args()

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    db_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ce_bench_live")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7")
    os.environ.update(DATABASE_URL=db_url, REDIS_URL=redis_url)
    os.environ.setdefault("REDIS_PREFIX", "ce-bench-live")
    base.ensure_database(db_url, fresh=args.fresh_db)
    if args.fresh_db:
        base.clear_redis_keys(redis_url, os.environ["REDIS_PREFIX"])
    base.migrate()
    base.django_setup()

    t = time.time()
    game = make_game(players=args.players + args.silent, questions=args.questions, seconds=args.seconds,
                     scoring=args.scoring)
    report: dict[str, Any] = {"players": args.players + args.silent, "answering_players": args.players,
                              "silent": args.silent, "questions": args.questions, "seconds": args.seconds,
                              "scoring": args.scoring, "server": args.server, "servers": args.servers,
                              "clients": args.clients, "setup_seconds": round(time.time() - t, 1)}
    base.settle_database()
    env = os.environ.copy()
    env.update({"DEBUG": "0", "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "127.0.0.1,localhost"})
    procs, ports = base.start_servers(args.server, args.servers, pin=False, env=env)
    try:
        report["server_rss_mb_idle"] = base.servers_rss_mb(procs)
        ctx = mp.get_context("spawn")
        out, host_out = ctx.Queue(), ctx.Queue()
        ready = ctx.Semaphore(0)
        finished_at = ctx.Value("d", 0.0)
        go = ctx.Value("b", 0)
        next_at = ctx.Array("d", args.questions)
        reveal_seen = ctx.Array("d", args.questions)
        players = list(enumerate(game["players"]))
        silent = {pid for _, (pid, _) in players[args.players:]}
        path = f"/ws/live/{game['session_id']}"
        clients = []
        for k in range(args.clients):
            job = {"players": players[k::args.clients], "silent": silent, "ports": ports, "path": f"{path}/play/",
                   "answer_window": args.answer_window, "connect_concurrency": args.connect_concurrency}
            proc = ctx.Process(target=client_process, args=(job, out, ready, finished_at), daemon=True)
            proc.start()
            clients.append(proc)
        host_job = {"ports": ports, "path": f"{path}/host/", "cookie": game["host_cookie"],
                    "questions": args.questions, "seconds": args.seconds, "pause": args.pause}
        host = ctx.Process(target=host_process, args=(host_job, next_at, reveal_seen, finished_at, go, host_out),
                           daemon=True)
        host.start()
        cpu0 = base.servers_cpu_seconds(procs)
        for _ in clients:
            ready.acquire()
        report["server_rss_mb_connected"] = base.servers_rss_mb(procs)
        report["server_cpu_s_join"] = round(base.servers_cpu_seconds(procs) - cpu0, 2)
        cpu1 = base.servers_cpu_seconds(procs)
        go.value = 1
        host_result = host_out.get(timeout=args.questions * (args.seconds + args.pause + 90) + 120)
        if "fatal" in host_result:
            raise SystemExit(f"host failed: {host_result['fatal']}")
        results = [out.get(timeout=120) for _ in clients]
        fatal = [r["fatal"] for r in results if "fatal" in r]
        if fatal:
            raise SystemExit(f"client failed: {fatal}")
        report["server_cpu_s_game"] = round(base.servers_cpu_seconds(procs) - cpu1, 2)
        report["server_rss_mb_end"] = base.servers_rss_mb(procs)
        summary, acked = summarise(results, host_result, list(next_at), args.questions, args.players + args.silent)
        report.update(summary)
        connected = report["join"]["connected"] or 1
        report["server_kb_per_connection"] = round(
            (report["server_rss_mb_connected"] - report["server_rss_mb_idle"]) * 1024 / connected, 1)
        for proc in [*clients, host]:
            proc.join(timeout=10)
    finally:
        base.stop_servers(procs)
    report["db_check"] = db_check(game["session_id"], acked)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Smoke tests of the embedded default (SQLite, in-memory channel layer, one process) with no DATABASE_URL
or REDIS_URL in the environment: it boots, serves a Vietnamese home page, and a citizen can take the demo
exam over a real WebSocket to the end."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websockets

ROOT = Path(__file__).resolve().parents[2]

START_DEMO_ATTEMPT = """
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
from accounts.models import User
from contests.models import Contest
from contests.services.attempts.start import attempt_start
from contests.services.registrations import registration_create

user = User.objects.get(phone="0912345678")
contest = Contest.objects.get(slug="demo-tim-hieu-phap-luat")
round_ = contest.rounds.order_by("position").first()
registration_create(user=user, contest=contest)
attempt = attempt_start(user=user, round=round_)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "accounts.backends.PhoneOrEmailBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print("RESULT", session.session_key, attempt.pk)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def embedded_server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("embedded")
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(SQLITE_PATH=str(tmp_path / "demo.sqlite3"), STATIC_ROOT=str(tmp_path / "static"),
               MEDIA_ROOT=str(tmp_path / "media"), PRIVATE_MEDIA_ROOT=str(tmp_path / "private-media"),
               DJANGO_SETTINGS_MODULE="contest_engine.settings")
    run = {"cwd": ROOT, "env": env, "check": True, "capture_output": True, "timeout": 300, "text": True}
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput", "-v0"], ["load_demo"]):
        subprocess.run([sys.executable, "manage.py", *command], **run)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                               "contest_engine.asgi:application"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        yield {"port": port, "env": env, "run": run}
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
        # A server error or a crashed consumer is a failure, even if the client side looked fine.
        for sign in ("Internal Server Error", "Exception inside application"):
            assert sign not in output, output[-4000:]


@pytest.mark.slow
def test_embedded_default_serves_vietnamese_pages(embedded_server):
    port = embedded_server["port"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
        body = response.read().decode()
        assert response.headers["Content-Language"] == "vi"
    assert 'lang="vi"' in body
    assert "Cuộc thi trực tuyến tìm hiểu pháp luật" in body
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/site.css", timeout=5) as response:
        assert response.status == 200  # static files are served with DEBUG off


@pytest.mark.slow
def test_embedded_default_serves_public_media_but_never_private_files(embedded_server):
    port, env = embedded_server["port"], embedded_server["env"]
    media, private = Path(env["MEDIA_ROOT"]), Path(env["PRIVATE_MEDIA_ROOT"])
    (media / "questions").mkdir(parents=True, exist_ok=True)
    (media / "questions" / "hinh.txt").write_text("ảnh minh hoạ")
    private.mkdir(parents=True, exist_ok=True)
    (private / "ket-qua.xlsx").write_text("dữ liệu cá nhân")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/media/questions/hinh.txt", timeout=5) as response:
        assert response.read().decode() == "ảnh minh hoạ"
    for path in ("/media/../private-media/ket-qua.xlsx", "/media/%2e%2e/private-media/ket-qua.xlsx",
                 "/private-media/ket-qua.xlsx"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5)
        assert refused.value.code in {400, 404}  # Django's static serve answers 400 to a traversal


@pytest.mark.slow
def test_embedded_default_runs_a_whole_exam_over_websocket(embedded_server):
    port, run = embedded_server["port"], embedded_server["run"]
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", START_DEMO_ATTEMPT], **run).stdout
    session_key, attempt_id = out.split("RESULT", 1)[1].split()

    async def take_exam() -> list[dict]:
        frames = []
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/ws/attempts/{attempt_id}/",
            additional_headers={"Cookie": f"sessionid={session_key}"},
            origin=f"http://127.0.0.1:{port}",
        ) as ws:
            snapshot = json.loads(await asyncio.wait_for(ws.recv(), 10))
            frames.append(snapshot)
            assert snapshot["type"] == "attempt.snapshot", snapshot
            for seq, question in enumerate(snapshot["questions"], start=1):
                response = ({"options": [question["options"][0]["id"]]} if question.get("options")
                            else {"text": "1"})
                await ws.send(json.dumps({"type": "answer", "seq": seq, "position": question["position"],
                                          "response": response}))
                ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
                frames.append(ack)
                assert (ack["type"], ack["seq"], ack["status"]) == ("ack", seq, "stored"), ack
            await ws.send(json.dumps({"type": "submit", "seq": len(snapshot["questions"]) + 1}))
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                frames.append(frame)
                if frame["type"] == "attempt.submitted":
                    return frames

    frames = asyncio.run(take_exam())
    assert frames[-1]["status"] == "submitted"
    check = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         f"from contests.models import Attempt; a = Attempt.objects.get(pk={attempt_id}); "
         f"print('STATE', a.status, a.answers.count(), a.question_count)"], **run).stdout
    status, answers, questions = check.split("STATE", 1)[1].split()
    assert status == "submitted"
    assert answers == questions != "0"


OPEN_DEMO_GAME = """
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
from accounts.models import User
from live.models import LiveSession, LiveQuestion
from live.services.players import cookie_name, player_join, player_token

game = LiveSession.objects.get(title="Rung chuông vàng — trò chơi thử", phase="lobby")
host = User.objects.get(username="btc.stp")
session = SessionStore()
session[SESSION_KEY] = str(host.pk)
session[BACKEND_SESSION_KEY] = "accounts.backends.PhoneOrEmailBackend"
session[HASH_SESSION_KEY] = host.get_session_auth_hash()
session.create()
cookies = []
for name in ("Ánh", "Bảo"):
    player, _ = player_join(session=game, nickname=name)
    cookies.append(cookie_name(game.pk) + "=" + player_token(session_id=game.pk, player_id=player.pk))
right = [list(q.correct_ids) for q in LiveQuestion.objects.filter(session=game).order_by("position")]
import json
print("RESULT", json.dumps({"game": game.pk, "host": session.session_key, "players": cookies, "right": right}))
"""

SAVE_REGISTERED_GAME = """
from accounts.models import User
from contests.models import Attempt, Contest, Registration
from contests.services.registrations import registration_create
from live.models import LiveQuestion
from live.services import game as svc
from live.services.answers import AnswerItem, answers_store_batch
from live.services.players import player_join
from live.services.results import session_results_save
from live.services.sessions import session_create
from django.utils import timezone

host = User.objects.get(username="btc.stp")
citizen = User.objects.get(phone="0912345678")
contest = Contest.objects.get(slug="demo-tim-hieu-phap-luat")
if not Registration.objects.filter(user=citizen, contest=contest).exists():
    registration_create(user=citizen, contest=contest)
game = session_create(actor=host, organisation=contest.organisation, title="Thử lưu kết quả", contest=contest,
                      join_policy="registered", scoring="speed", streak_bonus=True,
                      blueprint=[{"topic_id": None, "difficulty": None, "count": 3, "points": None}])
player, _ = player_join(session=game, user=citizen)
for position in (1, 2, 3):
    svc.question_next(session_id=game.pk, actor=host)
    right = list(LiveQuestion.objects.get(session=game, position=position).correct_ids)
    answers_store_batch(items=[AnswerItem(game.pk, player.pk, position, right, timezone.now())])
    svc.question_close(session_id=game.pk, actor=host, force=True)
svc.game_end(session_id=game.pk, actor=host)
round = session_results_save(session_id=game.pk)
attempt = Attempt.objects.get(round=round)
player.refresh_from_db()
print("STATE", attempt.score == player.score, attempt.answers.count(), round.rankings.count(), player.rank)
"""


@pytest.mark.slow
def test_embedded_default_runs_a_live_game_over_websocket(embedded_server):
    port, run = embedded_server["port"], embedded_server["run"]
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", OPEN_DEMO_GAME], **run).stdout
    setup = json.loads(out.split("RESULT", 1)[1])
    base = f"ws://127.0.0.1:{port}/ws/live/{setup['game']}"
    origin = f"http://127.0.0.1:{port}"

    async def play() -> list[dict]:
        async def recv(ws, kind: str) -> dict:
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if frame["type"] == kind:
                    return frame

        async with websockets.connect(f"{base}/host/", origin=origin,
                                      additional_headers={"Cookie": f"sessionid={setup['host']}"}) as host:
            await recv(host, "live.snapshot")
            players = [await websockets.connect(f"{base}/play/", origin=origin, additional_headers={"Cookie": c})
                       for c in setup["players"]]
            for ws in players:
                await recv(ws, "live.snapshot")
            await host.send(json.dumps({"type": "start"}))
            for ws in players:
                await recv(ws, "live.question")
            for ws, options in zip(players, (setup["right"][0], [1]), strict=True):
                await ws.send(json.dumps({"type": "answer", "position": 1, "options": options}))
            assert (await recv(players[0], "live.ack"))["status"] == "stored"
            assert (await recv(players[1], "error"))["code"] == "invalid_response"  # not an option of it
            await host.send(json.dumps({"type": "reveal"}))
            reveals = [await recv(ws, "live.reveal") for ws in players]
            await host.send(json.dumps({"type": "end"}))
            finals = [await recv(ws, "live.finished") for ws in players]
            for ws in players:
                await ws.close()
            return reveals + finals

    frames = asyncio.run(play())
    assert frames[0]["you"]["ok"] is True
    assert frames[1]["you"]["ok"] is None
    assert [f["you"]["rank"] for f in frames[2:]] == [1, 2]
    saved = subprocess.run([sys.executable, "manage.py", "shell", "-c", SAVE_REGISTERED_GAME], **run).stdout
    assert saved.split("STATE", 1)[1].split() == ["True", "3", "1", "1"]


# A copy of the demo contest whose rounds ended 400 days ago: past the default retention (365 days).
MAKE_CONTEST_PAST_RETENTION = """
import datetime as dt
from accounts.models import User
from contests.models import Contest
from contests.services.contests import contest_clone
demo = Contest.objects.order_by("pk").first()
old = contest_clone(actor=User.objects.filter(is_superuser=True).first(), contest=demo, title="Cuộc thi năm cũ",
                    shift=dt.timedelta(days=-800))
print("RESULT", old.pk)
"""


@pytest.mark.slow
def test_embedded_default_finds_the_contests_past_their_retention(embedded_server):
    """The retention job's selection on SQLite: it multiplied an interval by a column, which SQLite cannot
    ("Invalid arguments for operator *"), so the worker's hourly job failed on every run of `make demo`."""
    run = embedded_server["run"]
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", MAKE_CONTEST_PAST_RETENTION], **run).stdout
    old_id = int(out.split("RESULT", 1)[1].split()[0])
    report = subprocess.run([sys.executable, "manage.py", "retention_run", "--dry-run", "--json"], **run).stdout
    due = [json.loads(line) for line in report.splitlines() if line.startswith("{")]
    assert [item["contest_id"] for item in due] == [old_id]
    assert due[0]["dry_run"] is True

"""Live games end to end over WebSocket in one process: Origin check → session auth → consumers → hub →
batchers → PostgreSQL, broadcasts through the Redis channel layer."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from live.models import LiveAnswer, LivePlayer, LiveSession, Phase
from live.protocol import CLOSE_FORBIDDEN, CLOSE_NOT_AUTHENTICATED, CLOSE_REPLACED
from tests.factories import CitizenProfileFactory, make_staff
from tests.live.conftest import join, make_game, right_and_wrong, staff_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

# Keys that would tell the answer; none may carry a value in a frame before the question's reveal.
KEY_FIELDS = {"correct", "correct_ids", "explanation", "citation", "key", "fraction", "fractions", "ok",
              "is_correct", "feedback", "accepted", "distribution", "points"}


def key_fields_with_values(value, found=None) -> set[str]:
    found = set() if found is None else found
    if isinstance(value, dict):
        for k, v in value.items():
            if k in KEY_FIELDS and v not in (None, {}, []):
                found.add(k)
            key_fields_with_values(v, found)
    elif isinstance(value, list):
        for v in value:
            key_fields_with_values(v, found)
    return found


@pytest.fixture
def setup(org_a, host):
    session = make_game(org_a, host, count=3)
    return session, join(session, "An"), join(session, "Bình")


def paths(session):
    return {role: f"/ws/live/{session.pk}/{role}/" for role in ("play", "host", "screen")}


async def test_whole_game_host_screen_two_players(setup, host, live_client):
    session, a, b = setup
    path = paths(session)
    log: list[dict] = []
    host_ws = await live_client(path["host"], await sync_to_async(staff_cookie)(host), log=log)
    screen = await live_client(path["screen"], await sync_to_async(staff_cookie)(host), log=log)
    pa = await live_client(path["play"], a.cookie, log=log)
    pb = await live_client(path["play"], b.cookie, log=log)
    snap = await host_ws.recv_type("live.snapshot")
    assert snap["role"] == "host"
    assert snap["phase"] == "lobby"
    assert snap["players"] == 2
    assert snap["pin"] == session.pin
    assert (await screen.recv_type("live.snapshot"))["role"] == "screen"
    you_a = (await pa.recv_type("live.snapshot"))["you"]
    assert you_a["name"] == "An"
    assert you_a["score"] == "0.000"
    assert you_a["rank"] is None
    await pb.recv_type("live.snapshot")
    assert not key_fields_with_values(log)

    scores = {"An": 0, "Bình": 0}
    for position in (1, 2, 3):
        mark = len(log)  # frames from here to this question's reveal must not name its answer
        await host_ws.send({"type": "start" if position == 1 else "next"})
        # The broadcast may reach the host's socket before the reply to its command.
        got = {(await host_ws.recv_type("live.done", "live.question", "error"))["type"] for _ in range(2)}
        assert got == {"live.done", "live.question"}
        questions = [await c.recv_type("live.question") for c in (pa, pb, screen)]
        assert {q["position"] for q in questions} == {position}
        assert questions[0]["deadline_ms"] - questions[0]["opened_ms"] == session.seconds_per_question * 1000
        # Before the reveal no frame of anybody names the answer.
        assert not key_fields_with_values(log[mark:]), key_fields_with_values(log[mark:])
        right, wrong = await sync_to_async(right_and_wrong)(session, position)
        await pa.send({"type": "answer", "position": position, "options": right})
        ack = await pa.recv_type("live.ack", "error")
        assert ack == {**ack, "type": "live.ack", "position": position, "status": "stored"}
        await pb.send({"type": "answer", "position": position, "options": wrong if position != 2 else right})
        assert (await pb.recv_type("live.ack"))["status"] == "stored"
        scores["An"] += 1
        scores["Bình"] += 1 if position == 2 else 0
        assert not key_fields_with_values(log[mark:])
        # Both answered: the game moves to the reveal without waiting for the deadline.
        reveal_a = await pa.recv_type("live.reveal")
        reveal_b = await pb.recv_type("live.reveal")
        reveal_screen = await screen.recv_type("live.reveal")
        assert reveal_a["correct"] == right
        assert reveal_a["explanation"]
        assert reveal_a["citation"]
        assert reveal_a["distribution"][str(right[0])] >= 1
        assert reveal_a["you"]["ok"] is True
        assert reveal_a["you"]["score"] == f"{scores['An']}.000"
        assert reveal_b["you"]["ok"] is (position == 2)
        assert reveal_a["you"]["rank"] == 1
        assert "you" not in reveal_screen
        assert reveal_screen["top"][0]["name"] == "An"
        assert reveal_a["v"] == reveal_b["v"] == reveal_screen["v"]
        await host_ws.recv_type("live.reveal")
    await host_ws.send({"type": "next"})
    assert (await host_ws.recv_type("error"))["code"] == "no_more_questions"
    await host_ws.send({"type": "end"})
    final_a = await pa.recv_type("live.finished")
    final_b = await pb.recv_type("live.finished")
    assert final_a["you"]["rank"] == 1
    assert final_b["you"]["rank"] == 2
    assert [row["name"] for row in final_a["top"]] == ["An", "Bình"]
    await screen.recv_type("live.finished")
    session = await sync_to_async(LiveSession.objects.get)(pk=session.pk)
    assert session.phase == Phase.FINISHED
    assert await sync_to_async(LiveAnswer.objects.filter(session_id=session.pk).count)() == 6


async def test_deadline_closes_and_late_answer_is_refused(org_a, host, live_client):
    session = await sync_to_async(make_game)(org_a, host, count=2, seconds_per_question=5)
    a, b = await sync_to_async(join)(session, "An"), await sync_to_async(join)(session, "Bình")
    path = paths(session)
    host_ws = await live_client(path["host"], await sync_to_async(staff_cookie)(host))
    pa = await live_client(path["play"], a.cookie)
    await pa.recv_type("live.snapshot")
    await host_ws.send({"type": "start"})
    question = await pa.recv_type("live.question")
    right, _ = await sync_to_async(right_and_wrong)(session, 1)
    await pa.send({"type": "answer", "position": 1, "options": right})
    await pa.recv_type("live.ack")
    # Bình never answers: the server closes at its deadline by itself.
    reveal = await pa.recv_type("live.reveal", wait=10)
    assert reveal["position"] == 1
    assert reveal["answered"] == 1
    assert reveal["in_game"] == 2
    closed_at = await sync_to_async(lambda: session.questions.get(position=1).closed_at)()
    assert closed_at >= dt.datetime.fromtimestamp(question["deadline_ms"] / 1000, dt.UTC)
    pb = await live_client(path["play"], b.cookie)
    await pb.recv_type("live.snapshot")
    await pb.send({"type": "answer", "position": 1, "options": right})
    late = await pb.recv_type("error", "live.ack")
    assert late["type"] == "error"
    assert late["code"] == "deadline_passed"
    assert late["position"] == 1
    assert "hết giờ" in late["message"]
    assert await sync_to_async(LiveAnswer.objects.filter(player_id=b.player.pk).count)() == 0


async def test_reconnect_keeps_score_and_state(setup, host, live_client):
    session, a, _b = setup
    path = paths(session)
    host_ws = await live_client(path["host"], await sync_to_async(staff_cookie)(host))
    pa = await live_client(path["play"], a.cookie)
    await pa.recv_type("live.snapshot")
    await host_ws.send({"type": "start"})
    await pa.recv_type("live.question")
    right, _ = await sync_to_async(right_and_wrong)(session, 1)
    await pa.send({"type": "answer", "position": 1, "options": right})
    await pa.recv_type("live.ack")
    await host_ws.send({"type": "reveal"})
    await pa.recv_type("live.reveal")
    await pa.close()
    await host_ws.send({"type": "next"})
    await host_ws.recv_where("live.question", position=2)
    again = await live_client(path["play"], a.cookie)
    snap = await again.recv_type("live.snapshot")
    assert snap["phase"] == "question"
    assert snap["position"] == 2
    assert snap["question"]["position"] == 2
    assert snap["you"]["score"] == "1.000"
    assert snap["you"]["rank"] == 1
    assert snap["you"]["answered"] is None
    right, _ = await sync_to_async(right_and_wrong)(session, 2)
    await again.send({"type": "answer", "position": 2, "options": right})
    await again.recv_type("live.ack")
    # A reload in the middle of a question: the answer given is in the snapshot (its outcome is not).
    third = await live_client(path["play"], a.cookie)
    snap = await third.recv_type("live.snapshot")
    assert snap["you"]["answered"] == right
    assert snap["you"]["ok"] is None
    # The newer connection wins: the older one is told and closed with 4001.
    replaced = await again.recv_type("session.replaced")
    assert replaced["message"]
    assert await again.closed_code() == CLOSE_REPLACED


async def test_player_cannot_drive_host_controls(setup, host, live_client):
    session, a, _b = setup
    path = paths(session)
    pa = await live_client(path["play"], a.cookie)
    await pa.recv_type("live.snapshot")
    for control in ({"type": "start"}, {"type": "next"}, {"type": "end"}, {"type": "rescue", "kind": "best",
                                                                           "count": 1}):
        await pa.send(control)
        error = await pa.recv_type("error")
        assert error["code"] == "not_host"
    assert (await sync_to_async(LiveSession.objects.get)(pk=session.pk)).phase == Phase.LOBBY
    # Without a login the host socket says so; a citizen's login is not a host's.
    anonymous = await live_client(path["host"], a.cookie)
    assert (await anonymous.recv_type("error"))["code"] == "not_authenticated"
    assert await anonymous.closed_code() == CLOSE_NOT_AUTHENTICATED
    citizen = await sync_to_async(lambda: CitizenProfileFactory(unit=session.organisation).user)()
    as_citizen = await live_client(path["host"], await sync_to_async(staff_cookie)(citizen))
    assert (await as_citizen.recv_type("error"))["code"] == "session_not_found"
    assert await as_citizen.closed_code() == CLOSE_FORBIDDEN
    # The presenter screen of a host cannot drive the game either.
    screen = await live_client(path["screen"], await sync_to_async(staff_cookie)(host))
    await screen.recv_type("live.snapshot")
    await screen.send({"type": "start"})
    assert (await screen.recv_type("error"))["code"] == "read_only"
    assert (await sync_to_async(LiveSession.objects.get)(pk=session.pk)).phase == Phase.LOBBY


async def test_foreign_organisation_host_cannot_open_the_session(setup, org_b, live_client):
    session, _a, _b = setup
    foreign = await sync_to_async(make_staff)(org_b, "organiser", "judge")
    for role in ("host", "screen"):
        ws = await live_client(paths(session)[role], await sync_to_async(staff_cookie)(foreign))
        error = await ws.recv_type("error")
        assert error["code"] == "session_not_found"
        assert await ws.closed_code() == CLOSE_FORBIDDEN
    # A forged or foreign player cookie is no player either.
    other = await sync_to_async(make_game)(session.organisation, session.created_by, bank_size=3)
    stranger = await sync_to_async(join)(other, "Lạ")
    ws = await live_client(paths(session)["play"], stranger.cookie.replace(f"ce_live_{other.pk}",
                                                                          f"ce_live_{session.pk}"))
    assert (await ws.recv_type("error"))["code"] == "player_not_found"
    assert await ws.closed_code() == CLOSE_FORBIDDEN


async def test_elimination_over_sockets_with_rescue(org_a, host, live_client):
    session = await sync_to_async(make_game)(org_a, host, count=3, mode="elimination", late_join="lobby")
    a, b = await sync_to_async(join)(session, "An"), await sync_to_async(join)(session, "Bình")
    path = paths(session)
    host_ws = await live_client(path["host"], await sync_to_async(staff_cookie)(host))
    pa, pb = await live_client(path["play"], a.cookie), await live_client(path["play"], b.cookie)
    await pa.recv_type("live.snapshot")
    await pb.recv_type("live.snapshot")
    await host_ws.send({"type": "start"})
    await pb.recv_type("live.question")
    right, wrong = await sync_to_async(right_and_wrong)(session, 1)
    await pa.send({"type": "answer", "position": 1, "options": right})
    await pb.send({"type": "answer", "position": 1, "options": wrong})
    reveal = await pb.recv_type("live.reveal")
    assert reveal["you"]["status"] == "eliminated"
    assert reveal["you"]["eliminated_at"] == 1
    assert reveal["active"] == 1
    await host_ws.send({"type": "next"})
    await pb.recv_type("live.question")
    await pb.send({"type": "answer", "position": 2, "options": right})
    assert (await pb.recv_type("error"))["code"] == "eliminated"
    await host_ws.send({"type": "rescue", "kind": "question", "position": 1})
    assert (await host_ws.recv_type("error"))["code"] == "wrong_phase"  # not while a question is open
    await host_ws.send({"type": "reveal"})
    await pb.recv_type("live.reveal")
    await host_ws.send({"type": "rescue", "kind": "question", "position": 1})
    rescued = await pb.recv_type("live.rescued")
    assert rescued["you"] == {"status": "active", "rescued": True}
    assert rescued["rescued"] == 1
    other = await pa.recv_type("live.rescued")
    assert "you" not in other
    assert await sync_to_async(lambda: LivePlayer.objects.get(pk=b.player.pk).status)() == "active"


async def test_bad_frames_get_typed_errors(setup, live_client):
    session, a, _b = setup
    pa = await live_client(paths(session)["play"], a.cookie)
    await pa.recv_type("live.snapshot")
    await pa.comm.send_to(text_data="not json")
    assert (await pa.recv_type("error"))["code"] == "malformed"
    await pa.send({"type": "answer", "position": 1, "options": "A"})
    assert (await pa.recv_type("error"))["code"] == "invalid_field"
    await pa.send({"type": "answer", "position": 1, "options": [1]})
    assert (await pa.recv_type("error"))["code"] == "question_not_open"
    await pa.send({"type": "ping", "t": 5})
    pong = await pa.recv_type("pong")
    assert pong["t"] == 5
    assert abs(pong["server_time_ms"] - timezone.now().timestamp() * 1000) < 5000
    await pa.send({"type": "resync"})
    assert (await pa.recv_type("live.snapshot"))["you"]["name"] == "An"
    await asyncio.sleep(0)


async def test_socket_errors_speak_the_chosen_language(setup, live_client):
    session, a, _b = setup
    pa = await live_client(paths(session)["play"], a.cookie + "; django_language=en")
    await pa.recv_type("live.snapshot")
    await pa.send({"type": "answer", "position": 1, "options": [1]})  # built in the batcher's thread
    error = await pa.recv_type("error")
    assert error["code"] == "question_not_open"
    assert error["message"] == "This question is not open, or no longer takes answers."
    await pa.send({"type": "next"})
    assert (await pa.recv_type("error"))["message"].startswith("Only the organisers or judges")
    again = await live_client(paths(session)["play"], a.cookie + "; django_language=en")
    await again.recv_type("live.snapshot")
    replaced = await pa.recv_type("session.replaced")
    assert replaced["message"].startswith("The game was opened in another window")

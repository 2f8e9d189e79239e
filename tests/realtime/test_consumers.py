"""The exam socket end to end: WebsocketCommunicator → Origin check → session auth → ExamConsumer →
group-commit writer → PostgreSQL; broadcasts through the Redis channel layer."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.models import AuditEvent
from contests.models import Answer, Attempt, AttemptQuestion, AttemptStatus, SubmitKind
from contests.services.attempts.finish import attempts_sweep_expired
from realtime import events, protocol
from tests.realtime.conftest import make_exam

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@sync_to_async
def stored(attempt_id: int, position: int) -> Answer | None:
    return Answer.objects.filter(attempt_id=attempt_id, attempt_question__position=position).first()


@sync_to_async
def option_ids(attempt_id: int, position: int) -> list[int]:
    aq = AttemptQuestion.objects.get(attempt_id=attempt_id, position=position)
    return [o["id"] for o in aq.snapshot["options"]]


@sync_to_async
def reload(attempt: Attempt) -> Attempt:
    return Attempt.objects.get(pk=attempt.pk)


@sync_to_async
def move_deadline(attempt: Attempt, seconds_from_now: float) -> None:
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() + dt.timedelta(seconds=seconds_from_now))


async def test_full_attempt(exam, open_client):
    client = await open_client(exam.attempt.pk, exam.cookie)
    snapshot = await client.recv()
    assert snapshot["type"] == events.ATTEMPT_SNAPSHOT
    assert snapshot["status"] == "in_progress"
    assert snapshot["protocol"] == protocol.PROTOCOL_VERSION
    assert isinstance(snapshot["v"], int)
    assert isinstance(snapshot["server_time_ms"], int)
    assert dt.datetime.fromisoformat(snapshot["deadline"]) == exam.attempt.deadline
    assert [q["position"] for q in snapshot["questions"]] == [1, 2, 3, 4, 5]
    assert snapshot["answers"] == {}

    for seq, question in enumerate(snapshot["questions"], start=1):
        choice = question["options"][seq % 4]["id"]
        await client.send({"type": "answer", "seq": seq, "position": question["position"],
                           "response": {"options": [choice]}})
        ack = await client.recv()
        assert ack["type"] == "ack", ack
        assert (ack["seq"], ack["position"], ack["status"]) == (seq, question["position"], "stored")
        # Acknowledged means committed: the row is visible to another connection right now.
        row = await stored(exam.attempt.pk, question["position"])
        assert row is not None
        assert row.client_seq == seq
        assert row.response == {"options": [choice]}

    await client.send({"type": "ping", "t": 123})
    pong = await client.recv()
    assert pong["type"] == "pong"
    assert pong["t"] == 123
    assert abs(pong["server_time_ms"] - protocol.server_time_ms()) < 5000

    await client.send({"type": "submit", "seq": 99})
    done = await client.recv()
    assert done["type"] == events.ATTEMPT_SUBMITTED
    assert done["status"] == AttemptStatus.SUBMITTED
    assert done["seq"] == 99
    assert done["result_url"] == f"/contests/attempts/{exam.attempt.pk}/result/"
    assert await client.closed_code() == protocol.CLOSE_ATTEMPT_FINISHED
    attempt = await reload(exam.attempt)
    assert attempt.status == AttemptStatus.SUBMITTED
    assert attempt.submit_kind == SubmitKind.CLIENT
    assert attempt.score is not None


async def test_resume_after_disconnect_snapshot_has_answers(exam, open_client):
    first = await open_client(exam.attempt.pk, exam.cookie)
    snapshot = await first.recv()
    q1, q2 = snapshot["questions"][:2]
    await first.send({"type": "answer", "seq": 1, "position": 1, "response": {"options": [q1["options"][2]["id"]]}})
    await first.send({"type": "answer", "seq": 2, "position": 2, "response": {"options": [q2["options"][0]["id"]]}})
    assert (await first.recv())["type"] == "ack"
    assert (await first.recv())["type"] == "ack"
    await first.close()

    second = await open_client(exam.attempt.pk, exam.cookie)
    again = await second.recv()
    assert again["type"] == events.ATTEMPT_SNAPSHOT
    assert again["answers"] == {
        "1": {"response": {"options": [q1["options"][2]["id"]]}, "seq": 1},
        "2": {"response": {"options": [q2["options"][0]["id"]]}, "seq": 2},
    }
    assert again["last_seq"] == 2
    assert again["deadline"] == snapshot["deadline"]  # the timer continues, it does not restart


async def test_duplicate_answer_acked_twice_stored_once(exam, open_client):
    client = await open_client(exam.attempt.pk, exam.cookie)
    snapshot = await client.recv()
    option = snapshot["questions"][0]["options"][1]["id"]
    frame = {"type": "answer", "seq": 7, "position": 1, "response": {"options": [option]}}
    await client.send(frame)
    first = await client.recv()
    await client.send(frame)  # e.g. resent after a reconnect because the ack was lost
    second = await client.recv()
    assert (first["type"], first["status"]) == ("ack", "stored")
    assert (second["type"], second["status"], second["seq"]) == ("ack", "duplicate", 7)
    # An older seq never overwrites a newer answer.
    await client.send({"type": "answer", "seq": 3, "position": 1, "response": {"options": [option + 0]}})
    assert (await client.recv())["status"] == "stale"
    count = await sync_to_async(Answer.objects.filter(attempt=exam.attempt).count)()
    row = await stored(exam.attempt.pk, 1)
    assert count == 1
    assert row.client_seq == 7
    assert row.revision == 1


async def test_answer_after_deadline_is_rejected_and_not_stored(exam, open_client):
    client = await open_client(exam.attempt.pk, exam.cookie)
    snapshot = await client.recv()
    await move_deadline(exam.attempt, -60)  # deadline + grace (5 s) is well past
    option = snapshot["questions"][0]["options"][0]["id"]
    await client.send({"type": "answer", "seq": 1, "position": 1, "response": {"options": [option]}})
    error = await client.recv()
    assert error["type"] == "error"
    assert error["code"] == "deadline_passed"
    assert error["seq"] == 1
    assert "hết giờ" in error["message"].lower()
    assert await stored(exam.attempt.pk, 1) is None


async def test_answer_within_grace_is_stored(exam, open_client):
    client = await open_client(exam.attempt.pk, exam.cookie)
    snapshot = await client.recv()
    await move_deadline(exam.attempt, -2)  # past the deadline, inside the 5 s grace for network latency
    option = snapshot["questions"][0]["options"][0]["id"]
    await client.send({"type": "answer", "seq": 1, "position": 1, "response": {"options": [option]}})
    assert (await client.recv())["type"] == "ack"


async def test_answer_to_question_not_in_attempt(exam, open_client):
    client = await open_client(exam.attempt.pk, exam.cookie)
    snapshot = await client.recv()
    await client.send({"type": "answer", "seq": 1, "position": 99, "response": {"options": [1]}})
    error = await client.recv()
    assert (error["type"], error["code"], error["seq"]) == ("error", "question_not_in_attempt", 1)
    # An option that belongs to another question of the attempt is not a valid response here.
    other_option = snapshot["questions"][1]["options"][0]["id"]
    await client.send({"type": "answer", "seq": 2, "position": 1, "response": {"options": [other_option]}})
    error = await client.recv()
    assert (error["code"], error["seq"]) == ("invalid_response", 2)
    assert await sync_to_async(Answer.objects.filter(attempt=exam.attempt).count)() == 0


async def test_malformed_json_and_unknown_type_are_typed_errors(exam, open_client):
    client = await open_client(exam.attempt.pk, exam.cookie)
    await client.recv()
    await client.send_raw("{not json")
    error = await client.recv()
    assert (error["type"], error["code"]) == ("error", "malformed")
    assert error["message"]
    await client.send_raw("[1, 2]")
    assert (await client.recv())["code"] == "not_an_object"
    await client.send({"type": "cheat", "seq": 5})
    error = await client.recv()
    assert (error["code"], error["seq"]) == ("unknown_type", 5)
    await client.send({"type": "answer", "seq": "one", "position": 1, "response": {}})
    assert (await client.recv())["code"] == "invalid_field"
    await client.send_raw(data=b"\x00\x01")
    assert (await client.recv())["code"] == "binary_not_supported"
    # The connection is still usable.
    await client.send({"type": "ping", "t": 1})
    assert (await client.recv())["type"] == "pong"


async def test_oversized_frame_is_refused(exam, open_client):
    client = await open_client(exam.attempt.pk, exam.cookie)
    snapshot = await client.recv()
    huge = json.dumps({"type": "answer", "seq": 1, "position": 1,
                       "response": {"options": [snapshot["questions"][0]["options"][0]["id"]]},
                       "padding": "x" * protocol.MAX_FRAME_BYTES})
    await client.send_raw(huge)
    error = await client.recv()
    assert (error["type"], error["code"]) == ("error", "frame_too_large")
    # Multi-byte text is measured in bytes, not characters.
    await client.send_raw(json.dumps({"type": "ping", "pad": "ệ" * (protocol.MAX_FRAME_BYTES // 3 + 10)},
                                     ensure_ascii=False))
    assert (await client.recv())["code"] == "frame_too_large"
    assert await stored(exam.attempt.pk, 1) is None
    await client.send({"type": "ping", "t": 2})
    assert (await client.recv())["type"] == "pong"


async def test_rate_limit_then_close_on_abuse(exam, open_client):
    client = await open_client(exam.attempt.pk, exam.cookie)
    await client.recv()
    for i in range(protocol.RATE_BURST + protocol.MAX_VIOLATIONS + 5):
        await client.send({"type": "ping", "t": i})
    kinds = []
    while True:
        frame = await client.recv()
        if frame["type"] == "<closed>":
            break
        kinds.append(frame.get("code") or frame["type"])
    assert kinds.count("pong") >= protocol.RATE_BURST
    assert kinds.count("rate_limited") == protocol.MAX_VIOLATIONS
    assert client.close_code == protocol.CLOSE_POLICY_VIOLATION


async def test_someone_elses_attempt_is_refused(exam, other_citizen, open_client):
    from tests.realtime.conftest import session_cookie

    cookie = await sync_to_async(session_cookie)(other_citizen)
    client = await open_client(exam.attempt.pk, cookie)
    error = await client.recv()
    assert (error["type"], error["code"]) == ("error", "attempt_not_found")
    assert await client.closed_code() == protocol.CLOSE_FORBIDDEN
    assert not any(f["type"] == events.ATTEMPT_SNAPSHOT for f in client.frames)
    # A missing attempt looks exactly the same.
    missing = await open_client(exam.attempt.pk + 10_000, cookie)
    assert (await missing.recv())["code"] == "attempt_not_found"
    assert await missing.closed_code() == protocol.CLOSE_FORBIDDEN


async def test_anonymous_is_refused(exam, open_client):
    client = await open_client(exam.attempt.pk, None)
    assert (await client.recv())["code"] == "not_authenticated"
    assert await client.closed_code() == protocol.CLOSE_NOT_AUTHENTICATED


async def test_foreign_origin_is_rejected_at_handshake(exam, open_client):
    await open_client(exam.attempt.pk, exam.cookie, origin=b"https://evil.example", expect_connected=False)


async def test_second_connection_replaces_the_first(exam, open_client):
    older = await open_client(exam.attempt.pk, exam.cookie)
    await older.recv()
    newer = await open_client(exam.attempt.pk, exam.cookie)
    assert (await newer.recv())["type"] == events.ATTEMPT_SNAPSHOT
    told = await older.recv()
    assert told["type"] == events.SESSION_REPLACED
    assert "khác" in told["message"]
    assert await older.closed_code() == protocol.CLOSE_SESSION_REPLACED
    # The newer one keeps working.
    await newer.send({"type": "ping", "t": 5})
    assert (await newer.recv())["type"] == "pong"

    @sync_to_async
    def audited() -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(action=events.SESSION_REPLACED_AUDIT_ACTION,
                                              target_id=str(exam.attempt.pk)))

    for _ in range(50):  # recorded by the older consumer after it closed
        found = await audited()
        if found:
            break
        await newer.nothing(0.05)
    assert len(found) == 1
    assert found[0].actor_id == exam.user.pk


async def test_sweeper_auto_submit_reaches_the_connected_client(exam, open_client):
    client = await open_client(exam.attempt.pk, exam.cookie)
    snapshot = await client.recv()
    option = snapshot["questions"][0]["options"][0]["id"]
    await client.send({"type": "answer", "seq": 1, "position": 1, "response": {"options": [option]}})
    assert (await client.recv())["type"] == "ack"
    await move_deadline(exam.attempt, -30)
    swept = await sync_to_async(attempts_sweep_expired)()
    assert swept == 1
    pushed = await client.recv_type(events.ATTEMPT_SUBMITTED)
    assert pushed["status"] == AttemptStatus.EXPIRED
    assert pushed["kind"] == SubmitKind.AUTO
    assert await client.closed_code() == protocol.CLOSE_ATTEMPT_FINISHED
    attempt = await reload(exam.attempt)
    assert attempt.submitted_at == attempt.deadline  # finish time is the deadline, not the sweep time


async def test_deadline_timer_tells_the_client(exam, open_client):
    # Grace is 5 s: the attempt expires 1.5 s after connecting — margin for a connect on a loaded machine
    # (with 0.2 s the snapshot itself sometimes already said "expired", and no timer was tested).
    await move_deadline(exam.attempt, -3.5)
    client = await open_client(exam.attempt.pk, exam.cookie)
    snapshot = await client.recv()
    assert (snapshot["type"], snapshot["status"]) == (events.ATTEMPT_SNAPSHOT, AttemptStatus.IN_PROGRESS)
    expired = await client.recv(wait=5)
    assert expired["type"] == events.ATTEMPT_EXPIRED


async def test_connecting_to_a_finished_attempt_sends_submitted_and_closes(exam, open_client):
    await move_deadline(exam.attempt, -60)
    client = await open_client(exam.attempt.pk, exam.cookie)
    snapshot = await client.recv()
    assert snapshot["type"] == events.ATTEMPT_SNAPSHOT
    assert snapshot["status"] == AttemptStatus.EXPIRED
    assert (await client.recv())["type"] == events.ATTEMPT_SUBMITTED
    assert await client.closed_code() == protocol.CLOSE_ATTEMPT_FINISHED


async def test_prediction_is_acked(org_a, citizen, open_client):
    exam = await sync_to_async(make_exam)(org_a, citizen, prediction_enabled=True)
    client = await open_client(exam.attempt.pk, exam.cookie)
    assert (await client.recv())["prediction_enabled"] is True
    await client.send({"type": "prediction", "seq": 4, "value": 1234})
    ack = await client.recv()
    assert (ack["type"], ack["kind"], ack["seq"]) == ("ack", "prediction", 4)
    assert (await reload(exam.attempt)).prediction == 1234


async def test_one_question_at_a_time_release(org_a, citizen, open_client):
    exam = await sync_to_async(make_exam)(org_a, citizen, presentation="one_at_a_time")
    client = await open_client(exam.attempt.pk, exam.cookie)
    snapshot = await client.recv()
    assert [q["position"] for q in snapshot["questions"]] == [1]
    await client.send({"type": "answer", "seq": 1, "position": 2, "response": {"options": [1]}})
    assert (await client.recv())["code"] == "question_not_released"
    await client.send({"type": "next"})
    released = await client.recv()
    assert released["type"] == events.QUESTION_RELEASED
    assert released["question"]["position"] == 2


async def test_a_connection_never_hops_to_the_shared_sync_thread_for_channels_db_tidying(exam, open_client,
                                                                                      monkeypatch):
    """Channels tidies Django's connections after every frame and at disconnect (a hop to the one shared
    sync thread); this consumer's database work runs in its own pools, so it skips both — connect, answer,
    ping and disconnect of a whole connection make no such call."""
    calls = []

    async def recording():
        calls.append(1)

    monkeypatch.setattr("channels.consumer.aclose_old_connections", recording)
    monkeypatch.setattr("channels.generic.websocket.aclose_old_connections", recording)
    client = await open_client(exam.attempt.pk, exam.cookie)
    snapshot = await client.recv()
    option = snapshot["questions"][0]["options"][0]["id"]
    await client.send({"type": "answer", "seq": 1, "position": 1, "response": {"options": [option]}})
    assert (await client.recv())["type"] == "ack"
    await client.send({"type": "ping", "t": 1})
    assert (await client.recv())["type"] == "pong"
    await client.close()
    assert calls == []

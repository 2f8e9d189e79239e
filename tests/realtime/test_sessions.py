"""realtime.sessions in one process: a replacement notice that cannot be sent never drops the new connection,
and a connection whose claim was taken by a newer one elsewhere steps aside by itself at the next check —
what keeps "the newer wins" when Redis loses a notice or restarts (the two-process test:
test_redis_restart.py)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from redis.exceptions import ConnectionError as RedisConnectionError

from accounts.models import AuditEvent
from realtime import events, presence, protocol

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@sync_to_async
def claim_elsewhere(attempt_id: int, token: str, stamp: int) -> None:
    presence.connection_claim_many([(attempt_id, token, stamp)])


async def test_a_notice_that_cannot_be_sent_never_drops_the_new_connection(exam, open_client, monkeypatch):
    from channels.layers import get_channel_layer

    # The attempt is open on another server process (a channel not of this one) …
    await claim_elsewhere(exam.attempt.pk, "specific.of-another-process", 1)
    layer = get_channel_layer()
    real_send = layer.send

    async def send(channel, message):
        if channel == "specific.of-another-process":  # … and Redis fails as the notice goes out
            raise RedisConnectionError("Connection closed by server.")
        return await real_send(channel, message)

    monkeypatch.setattr(layer, "send", send)
    client = await open_client(exam.attempt.pk, exam.cookie)
    snapshot = await client.recv()
    assert snapshot["type"] == events.ATTEMPT_SNAPSHOT
    question = snapshot["questions"][0]
    await client.send({"type": "answer", "seq": 1, "position": question["position"],
                       "response": {"options": [question["options"][0]["id"]]}})
    ack = await client.recv_type("ack", "error")
    assert (ack["type"], ack["status"]) == ("ack", "stored")
    assert await client.nothing(0.3)  # still open


async def test_a_connection_whose_claim_a_newer_one_took_steps_aside_at_the_next_check(exam, open_client, settings):
    settings.REALTIME_PRESENCE_CHECK_SECONDS = 0.2
    client = await open_client(exam.attempt.pk, exam.cookie)
    await client.recv()
    # A newer connection on another process claimed the attempt, and its notice was lost (Redis restarted).
    await claim_elsewhere(exam.attempt.pk, "specific.newer-elsewhere", presence.claim_stamp())
    told = await client.recv_type(events.SESSION_REPLACED, wait=5)
    assert told["attempt_id"] == exam.attempt.pk
    assert await client.closed_code() == protocol.CLOSE_SESSION_REPLACED

    @sync_to_async
    def audited() -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(action=events.SESSION_REPLACED_AUDIT_ACTION,
                                              target_id=str(exam.attempt.pk)))

    for _ in range(50):
        if found := await audited():
            break
        await client.nothing(0.05)
    assert found[0].data["new_channel"] == "specific.newer-elsewhere"


async def test_a_lost_claim_is_made_again_and_the_connection_keeps_working(exam, open_client, settings):
    settings.REALTIME_PRESENCE_CHECK_SECONDS = 0.2
    client = await open_client(exam.attempt.pk, exam.cookie)
    await client.recv()
    token = await sync_to_async(client_token)(exam)
    await sync_to_async(presence.connection_release)(attempt_id=exam.attempt.pk, token=token)
    assert await sync_to_async(client_token)(exam) == ""  # what a Redis restart leaves
    assert await client.nothing(0.8)  # several checks: nobody steps aside …
    assert await sync_to_async(client_token)(exam) == token  # … and the claim is back
    # The claim is this connection's again: a later connection replaces it as usual.
    newer = await open_client(exam.attempt.pk, exam.cookie)
    assert (await newer.recv())["type"] == events.ATTEMPT_SNAPSHOT
    assert (await client.recv_type(events.SESSION_REPLACED))["type"] == events.SESSION_REPLACED


def client_token(exam) -> str:
    """The channel name that holds the attempt now (read from Redis)."""
    client = presence._redis_client()
    return presence._token(client.get(presence._key(exam.attempt.pk)))

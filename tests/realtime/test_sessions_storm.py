"""realtime.sessions when the older connection's socket is already gone (found by the fault runs:
bench/faults --run reconnect-storm, every socket of 1,000 dropped at once).

In a storm the new connection often lands on the same process as the old one, whose socket is dead but whose
consumer has not seen the disconnect yet. Telling it to step aside sends ``session.replaced`` on a closed
socket: uvicorn raises ``ClientDisconnected``. Two consequences, both logged with a traceback:

- from ``tell_replaced`` (same process) the notice runs as a bare task: "Task exception was never retrieved";
- from the keeper's periodic check the exception escapes ``LiveSessions.check`` ("presence check failed"): the
  connections after it in that check are not checked until the next one, 5 s later.

Nothing is lost (the dead socket is gone anyway), but a notice to a dead socket must be a non-event, not an
error that stops the check of the others — and the replacement is still audited (issue 20, point 2)."""

from __future__ import annotations

import pytest
from uvicorn.protocols.utils import ClientDisconnected

from accounts.models import AuditEvent
from realtime import events, sessions
from realtime.consumers import ExamConsumer
from tests.realtime.conftest import make_exam

pytestmark = pytest.mark.asyncio


class GoneConsumer:
    """A consumer whose client vanished: every send raises, as uvicorn's does."""

    language = ""

    def __init__(self) -> None:
        self.told = 0

    async def attempt_replaced(self, message) -> None:
        self.told += 1
        raise ClientDisconnected()


async def test_telling_a_connection_whose_socket_is_gone_to_step_aside_never_raises():
    consumer = GoneConsumer()
    await sessions.step_aside(consumer, by="specific.newer")  # must be a non-event
    assert consumer.told == 1


class GoneExamConsumer(ExamConsumer):
    """The real exam consumer, its client gone: uvicorn's send raises."""

    async def send(self, text_data=None, bytes_data=None, close=False) -> None:
        raise ClientDisconnected()

    async def close(self, code=None, reason=None) -> None:
        raise ClientDisconnected()


@pytest.mark.django_db(transaction=True)
async def test_an_exam_connection_replaced_after_its_socket_died_still_records_the_replacement(org_a, citizen):
    from asgiref.sync import sync_to_async

    exam = await sync_to_async(make_exam)(org_a, citizen)
    consumer = GoneExamConsumer()
    consumer.attempt_id, consumer.user_id, consumer.channel_name = exam.attempt.pk, citizen.pk, "specific.older"
    await sessions.step_aside(consumer, by="specific.newer")
    assert consumer.closing

    @sync_to_async
    def audited() -> list[dict]:
        return list(AuditEvent.objects.filter(action=events.SESSION_REPLACED_AUDIT_ACTION,
                                              target_id=str(exam.attempt.pk)).values_list("data", flat=True))

    assert await audited() == [{"old_channel": "specific.older", "new_channel": "specific.newer"}]

"""Error frames of the exam socket speak the language the person chose on the site (the ``django_language``
cookie of the language switcher); Vietnamese otherwise — whichever thread built the message (protocol
errors in the consumer, domain errors in the answer writer's thread, session replacement)."""

from __future__ import annotations

import pytest
from django.conf import settings

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def with_language(cookie: str, language: str) -> str:
    """The session cookie value plus the language cookie (the test client sends one Cookie header)."""
    return f"{cookie}; {settings.LANGUAGE_COOKIE_NAME}={language}"


async def errors_of(client) -> list[dict]:
    snapshot = await client.recv()
    option = snapshot["questions"][0]["options"][0]["id"]
    await client.send_raw("{not json")
    await client.send({"type": "answer", "seq": 1, "position": 99, "response": {"options": [option]}})
    await client.send({"type": "answer", "seq": 2, "position": 1, "response": {"options": [option]}})
    frames = [await client.recv() for _ in range(3)]
    assert frames[2]["type"] == "ack"
    return frames[:2]


async def test_english_when_the_person_chose_english(exam, open_client):
    client = await open_client(exam.attempt.pk, with_language(exam.cookie, "en"))
    malformed, foreign = await errors_of(client)
    assert (malformed["code"], malformed["message"]) == ("malformed", "Invalid message (not JSON).")
    assert (foreign["code"], foreign["message"]) == ("question_not_in_attempt",
                                                     "The question does not belong to this attempt.")
    # The newer tab takes over; the older is told why in its own language.
    newer = await open_client(exam.attempt.pk, exam.cookie)
    await newer.recv()
    replaced = await client.recv_type("session.replaced")
    assert replaced["message"].startswith("The exam")


async def test_vietnamese_by_default_and_for_unknown_languages(exam, open_client):
    for cookie in (exam.cookie, with_language(exam.cookie, "xx")):
        client = await open_client(exam.attempt.pk, cookie)
        malformed, foreign = await errors_of(client)
        assert malformed["message"] == "Tin nhắn không hợp lệ (không phải JSON)."
        assert foreign["message"] == "Câu hỏi không thuộc lượt thi này."
        await client.close()


async def test_standard_texts_built_in_other_threads_are_rendered_in_the_active_language():
    """Writer and pool threads render in the default language; the consumer re-renders standard texts of
    domain and protocol errors, and leaves a message with details of its own alone."""
    from django.utils import translation

    from realtime import bridge, protocol

    with translation.override(settings.LANGUAGE_CODE):
        protocol_text = protocol.error_messages()["attempt_not_found"]
        from contests.errors import DeadlinePassed

        domain_text = DeadlinePassed().message
    with translation.override("en"):
        assert bridge.error_localised(protocol.error_event("attempt_not_found", protocol_text))["message"] == (
            "Exam not found.")
        assert bridge.error_localised(protocol.error_event("deadline_passed", domain_text))["message"] == (
            DeadlinePassed().message)
        assert DeadlinePassed().message != domain_text
        custom = protocol.error_event("deadline_passed", "Hết giờ lúc 10:05.")
        assert bridge.error_localised(custom) == custom

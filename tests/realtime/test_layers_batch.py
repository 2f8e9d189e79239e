"""A batch of pushes in one round trip (``realtime.layers`` ``group_send_many``), and the result URL built
without a ``reverse()`` per attempt — both against what they replace (real Redis)."""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings

from contests.models import Attempt
from realtime import events
from realtime.layers import ResilientPubSubChannelLayer


def test_the_result_url_is_the_attempts_own():
    for pk in (1, 7, 812, 918273645, 10**12):
        assert events._result_url(pk) == Attempt(pk=pk).get_absolute_url()


@pytest.mark.asyncio
async def test_group_send_many_reaches_every_group_once():
    layer = ResilientPubSubChannelLayer(hosts=[settings.REDIS_URL], prefix=f"{settings.REDIS_PREFIX}:batch")
    try:
        channels = [await layer.new_channel() for _ in range(3)]
        for i, channel in enumerate(channels):
            await layer.group_add(f"attempt.{i}", channel)
        await asyncio.sleep(0.2)  # the subscriptions reach Redis
        await layer.group_send_many([(f"attempt.{i}", {"type": "attempt.push", "event": {"n": i}})
                                     for i in range(3)] + [("attempt.99", {"type": "attempt.push", "event": {}})])
        got = [await asyncio.wait_for(layer.receive(channel), 5) for channel in channels]
        assert [m["event"]["n"] for m in got] == [0, 1, 2]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(layer.receive(channels[0]), 0.3)  # once, not twice
    finally:
        await layer.flush()

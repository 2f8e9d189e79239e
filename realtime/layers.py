"""The Redis channel layer, made to survive a Redis restart (``CHANNEL_LAYERS`` backend).

channels-redis's pub/sub layer (4.3) keeps one subscriber connection per process and shard. When Redis
restarts, that connection breaks and is never subscribed again: the process's sockets stop hearing
anything — "this attempt was opened elsewhere", "the round closed", "your attempt was submitted" — while
the sockets themselves stay open (measured: not one message after a restart; tests/realtime/
test_redis_restart.py). And the first publish after the restart fails on a stale pooled connection, which
dropped the first exam connect with 1006 (issue 20).

``ResilientPubSubChannelLayer`` is the same layer with a shard connection that

- keeps the set of channels it *should* be subscribed to as the truth: a subscribe while Redis is away is
  recorded and made when it is back, never raised at the consumer;
- rebuilds its subscriber connection (a fresh client, one SUBSCRIBE of everything) whenever reading from it
  fails, backing off while Redis is away;
- retries a publish once on a fresh connection (a stale pooled one after a restart fails once).

A Redis outage is logged as state changes (``contest_engine.outages.redis_outage``), not a traceback a
second per process. Messages published while Redis is away are lost (pub/sub never stored them); the
consumers that must not miss one re-establish it themselves (``realtime.sessions`` re-claims presence; a
client resyncs on the next event's version gap).

It relies on channels-redis internals (``RedisSingleShardConnection``), pinned to an exact version in
pyproject.toml; the tests above restart a real Redis under it.
"""

from __future__ import annotations

import asyncio
import logging

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _close_redis, _wrap_close, decode_hosts

from contest_engine.outages import Backoff, is_redis_unavailable, redis_outage

logger = logging.getLogger(__name__)


class ResilientShardConnection(RedisSingleShardConnection):
    def __init__(self, host, channel_layer) -> None:
        super().__init__(host, channel_layer)
        self._backoff = Backoff(initial=0.2, maximum=5.0)

    async def publish(self, channel, message):
        async with self._lock:
            self._ensure_redis()
            try:
                await self._redis.publish(channel, message)
            except Exception as exc:
                if not is_redis_unavailable(exc):
                    raise
                # A pooled connection left from before a restart fails once: try once more on a fresh one.
                await self._reset_client()
                self._ensure_redis()
                try:
                    await self._redis.publish(channel, message)
                except Exception as again:
                    if is_redis_unavailable(again):
                        redis_outage.failed(again, source="channel-layer publish")
                    raise
        redis_outage.succeeded()

    async def publish_many(self, items):
        """Publish ``(channel, message)`` pairs in ONE round trip (a pipeline, not a transaction): a batch of
        500 finished attempts is one hop to Redis, not 500 taken one at a time under the shard's lock."""
        if not items:
            return
        async with self._lock:
            self._ensure_redis()
            try:
                await self._publish_pipeline(items)
            except Exception as exc:
                if not is_redis_unavailable(exc):
                    raise
                await self._reset_client()  # a stale pooled connection after a restart fails once
                self._ensure_redis()
                try:
                    await self._publish_pipeline(items)
                except Exception as again:
                    if is_redis_unavailable(again):
                        redis_outage.failed(again, source="channel-layer publish")
                    raise
        redis_outage.succeeded()

    async def _publish_pipeline(self, items):
        pipe = self._redis.pipeline(transaction=False)
        for channel, message in items:
            pipe.publish(channel, message)
        await pipe.execute()

    async def subscribe(self, channel):
        async with self._lock:
            if channel in self._subscribed_to:
                return
            self._subscribed_to.add(channel)  # wanted from now on, whether or not Redis answers now
            self._ensure_redis()
            self._ensure_receiver()
            try:
                await self._pubsub.subscribe(channel)
            except Exception as exc:
                if not is_redis_unavailable(exc):
                    raise
                redis_outage.failed(exc, source="channel-layer subscribe")
                # The receiver rebuilds the subscriber connection with every wanted channel.

    async def unsubscribe(self, channel):
        async with self._lock:
            if channel not in self._subscribed_to:
                return
            self._subscribed_to.discard(channel)
            self._ensure_redis()
            self._ensure_receiver()
            try:
                await self._pubsub.unsubscribe(channel)
            except Exception as exc:
                if not is_redis_unavailable(exc):
                    raise
                # Not subscribed on a rebuilt connection anyway.

    async def _reset_client(self) -> None:
        """Drop the client and its subscriber connection (call with the lock held)."""
        redis, self._redis, self._pubsub = self._redis, None, None
        if redis is not None:
            try:
                await _close_redis(redis)
            except Exception:  # closing a connection to a server that went away may fail: nothing to keep
                logger.debug("closing the old Redis client failed", exc_info=True)

    async def _resubscribe(self) -> None:
        """A fresh subscriber connection subscribed to every wanted channel; raises while Redis is away."""
        async with self._lock:
            await self._reset_client()
            self._ensure_redis()
            if self._subscribed_to:
                await self._pubsub.subscribe(*self._subscribed_to)

    async def _do_receiving(self):
        broken = False
        while True:
            try:
                if broken:
                    await self._resubscribe()
                    broken = False
                    self._backoff.reset()
                    redis_outage.succeeded()
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except (TimeoutError, asyncio.CancelledError, GeneratorExit):
                raise
            except Exception as exc:
                if is_redis_unavailable(exc):
                    redis_outage.failed(exc, source="channel-layer")
                else:
                    logger.exception("unexpected error in the channel layer's receive loop")
                broken = True
                await asyncio.sleep(self._backoff.next())


class ResilientPubSubLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, hosts=None, prefix="asgi", on_disconnect=None, on_reconnect=None, channel_layer=None,
                 **kwargs) -> None:
        super().__init__(hosts=hosts, prefix=prefix, on_disconnect=on_disconnect, on_reconnect=on_reconnect,
                         channel_layer=channel_layer, **kwargs)
        self._shards = [ResilientShardConnection(host, self) for host in decode_hosts(hosts)]

    async def group_send_many(self, messages):
        """``group_send`` for many ``(group, message)`` pairs: one pipelined round trip per shard."""
        by_shard: dict[ResilientShardConnection, list[tuple[str, bytes]]] = {}
        for group, message in messages:
            channel = self._get_group_channel_name(group)
            by_shard.setdefault(self._get_shard(channel), []).append((channel, self.channel_layer.serialize(message)))
        await asyncio.gather(*(shard.publish_many(items) for shard, items in by_shard.items()))


class ResilientPubSubChannelLayer(RedisPubSubChannelLayer):
    """``channels_redis.pubsub.RedisPubSubChannelLayer`` whose per-loop layers survive a Redis restart, with
    ``group_send_many`` (``realtime.events.group_push_many_now_unsafe``: a batch's pushes in one round trip)."""

    async def group_send_many(self, messages):
        await self._get_layer().group_send_many(messages)

    def _get_layer(self):
        loop = asyncio.get_running_loop()
        try:
            layer = self._layers[loop]
        except KeyError:
            layer = ResilientPubSubLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer

"""The benchmark's ceiling: a bare Channels consumer that sends every text frame straight back.

Routed at ``ws/echo/`` only when ``settings.BENCH_ECHO`` is on (bench/exam_load.py sets it). No
authentication, no parsing: it measures what Channels itself costs on this server, so the exam consumer's
durable answers/s can be reported as a share of it.
"""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer


class EchoConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=text_data, bytes_data=bytes_data)

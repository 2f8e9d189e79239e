"""WebSocket routes (wrapped by AllowedHostsOriginValidator + AuthMiddlewareStack in contest_engine/asgi.py)."""

from django.conf import settings
from django.urls import path

from leaderboards.consumers import LeaderboardConsumer
from realtime.consumers import ExamConsumer

websocket_urlpatterns: list = [
    path("ws/attempts/<int:attempt_id>/", ExamConsumer.as_asgi(), name="ws-attempt"),
    path("ws/leaderboards/<int:round_id>/", LeaderboardConsumer.as_asgi(), name="ws-leaderboard"),
]

if getattr(settings, "BENCH_ECHO", False):  # benchmark ceiling only; never on in production
    from realtime.echo import EchoConsumer

    websocket_urlpatterns.append(path("ws/echo/", EchoConsumer.as_asgi(), name="ws-echo"))

"""WebSocket routes of realtime: the exam socket (the project's router, contest_engine/routing.py, adds every
app's routes; contest_engine/asgi.py wraps them in AllowedHostsOriginValidator + AuthMiddlewareStack)."""

from django.conf import settings
from django.urls import path

from realtime.consumers import ExamConsumer

websocket_urlpatterns: list = [
    path("ws/attempts/<int:attempt_id>/", ExamConsumer.as_asgi(), name="ws-attempt"),
]

if getattr(settings, "BENCH_ECHO", False):  # benchmark ceiling only; never on in production
    from realtime.echo import EchoConsumer

    websocket_urlpatterns.append(path("ws/echo/", EchoConsumer.as_asgi(), name="ws-echo"))

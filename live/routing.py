"""WebSocket routes of live games (added to the project's router in contest_engine/asgi.py)."""

from django.urls import path

from live.consumers import HostConsumer, PlayerConsumer, ScreenConsumer

websocket_urlpatterns: list = [
    path("ws/live/<int:session_id>/play/", PlayerConsumer.as_asgi(), name="ws-live-play"),
    path("ws/live/<int:session_id>/host/", HostConsumer.as_asgi(), name="ws-live-host"),
    path("ws/live/<int:session_id>/screen/", ScreenConsumer.as_asgi(), name="ws-live-screen"),
]

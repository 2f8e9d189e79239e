"""WebSocket routes of leaderboards (collected by the project's router, contest_engine/routing.py)."""

from django.urls import path

from leaderboards.consumers import LeaderboardConsumer

websocket_urlpatterns: list = [
    path("ws/leaderboards/<int:round_id>/", LeaderboardConsumer.as_asgi(), name="ws-leaderboard"),
]

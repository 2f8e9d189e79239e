"""WebSocket routes of leaderboards (collected by the project's router, contest_engine/routing.py)."""

from django.urls import path

from leaderboards.consumers import LeaderboardConsumer, UnitDashboardConsumer

websocket_urlpatterns: list = [
    path("ws/leaderboards/<int:round_id>/", LeaderboardConsumer.as_asgi(), name="ws-leaderboard"),
    path("ws/leaderboards/units/rounds/<int:round_id>/", UnitDashboardConsumer.as_asgi(), name="ws-units-round"),
    path("ws/leaderboards/units/contests/<int:contest_id>/", UnitDashboardConsumer.as_asgi(),
         name="ws-units-contest"),
]

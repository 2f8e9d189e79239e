"""Every app's WebSocket routes, in one list (wrapped by AllowedHostsOriginValidator + AuthMiddlewareStack in
contest_engine/asgi.py). The project package collects them, so no app imports a higher one for its routes."""

from leaderboards.routing import websocket_urlpatterns as leaderboard_routes
from live.routing import websocket_urlpatterns as live_routes
from realtime.routing import websocket_urlpatterns as realtime_routes

websocket_urlpatterns: list = [*realtime_routes, *leaderboard_routes, *live_routes]

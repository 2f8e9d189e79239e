"""ASGI entry point: HTTP goes to Django, WebSockets to the Channels router in contest_engine/routing.py."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contest_engine.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from contest_engine.routing import websocket_urlpatterns  # noqa: E402

# Channels' AuthMiddlewareStack, with the user looked up in a thread pool rather than one shared thread
# (realtime/auth.py: join storms).
from realtime.auth import AuthMiddlewareStack  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The Origin header must match ALLOWED_HOSTS: a page on another site cannot open an exam socket
        # with the citizen's cookies.
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

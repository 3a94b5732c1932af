"""The console's one server (uvicorn): Django's pages over HTTP, the terminals over WebSocket."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
pages = get_asgi_application()  # sets Django up before the consumers' imports

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from console.terminals.consumers import SameOrigin, websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {"http": pages, "websocket": AuthMiddlewareStack(SameOrigin(URLRouter(websocket_urlpatterns)))}
)

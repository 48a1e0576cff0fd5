"""ASGI entry point: Daphne serves HTTP and websockets from here."""

from __future__ import annotations

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "k8slearn.settings")

# Set up Django (apps, settings) before anything imports models or consumers.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from k8slearn.playground.routing import websocket_urlpatterns  # noqa: E402

# Garbage collection: Django, the templates and the lessons leave ~100,000 long-lived objects,
# and every socket adds a few hundred. A full collection walks them all and stops the event loop
# for 100-200 ms, which a class of 500 followers feels. Move what start-up made out of the
# collector's sight, and collect the old generation less often (cycles are rare here: the
# simulator's objects are plain dicts and lists). bench/classroom_load.py measures the effect.
gc.collect()
gc.freeze()
gc.set_threshold(10_000, 50, 50)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

"""Websocket routes: the live playground's sandbox socket."""

from __future__ import annotations

from django.urls import re_path

from k8slearn.playground.consumers import SandboxConsumer

websocket_urlpatterns = [
    re_path(r"^ws/sandbox/(?P<sandbox_id>[A-Za-z0-9_-]{1,64})/$", SandboxConsumer.as_asgi()),
]

"""Websocket routes: the playground's sandbox socket and the class sockets."""

from __future__ import annotations

from django.urls import re_path

from k8slearn.classroom.consumers import (
    ClassGroupConsumer,
    DashboardConsumer,
    FollowConsumer,
    PresenterConsumer,
)
from k8slearn.playground.consumers import SandboxConsumer

CODE = r"(?P<code>[A-Z0-9]{1,8})"

websocket_urlpatterns = [
    re_path(r"^ws/sandbox/(?P<sandbox_id>[A-Za-z0-9_-]{1,64})/$", SandboxConsumer.as_asgi()),
    re_path(rf"^ws/class/{CODE}/present/$", PresenterConsumer.as_asgi()),
    re_path(rf"^ws/class/{CODE}/follow/$", FollowConsumer.as_asgi()),
    re_path(rf"^ws/class/{CODE}/student/$", ClassGroupConsumer.as_asgi()),
    re_path(rf"^ws/class/{CODE}/dashboard/$", DashboardConsumer.as_asgi()),
]

"""Websocket routes. The live playground (a later issue) adds its consumer here."""

from __future__ import annotations

websocket_urlpatterns: list = []

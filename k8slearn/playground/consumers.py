"""The playground's websocket: one consumer per browser socket, attached to one sandbox.

Thin: checks size and rate, parses (``actions.parse``), delegates to ``sandboxes`` and sends
HTML fragments that htmx's ws extension swaps out of band by id. No cluster logic here.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

from k8slearn.playground import actions, owners, sandboxes
from k8slearn.playground.actions import ActionError, message
from k8slearn.sim import scenarios

logger = logging.getLogger(__name__)
timing = logging.getLogger("k8slearn.playground.timing")

MAX_MESSAGE = 64 * 1024  # bytes
RATE = 20.0  # actions a second (token bucket, burst of the same size)
CLOSE_FORBIDDEN = 4403
CLOSE_BUSY = 4503


class SandboxConsumer(AsyncWebsocketConsumer):
    """``ws/sandbox/<id>/?lang=ko|en``: the session's own sandbox, else closed with 4403."""

    sbx: sandboxes.LiveSandbox | owners.Remote | None = None
    read_only = False  # a socket that watches (a class following its presenter): no actions

    async def authorize(self, session_key: str | None) -> sandboxes.LiveSandbox | None:
        """The sandbox this socket may use (None: refused). May raise ``sandboxes.Busy``."""
        self.sandbox_id = str(self.scope["url_route"]["kwargs"]["sandbox_id"])
        return await sandboxes.attach(self.sandbox_id, session_key, self.lang)

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.lang = "en" if query.get("lang", ["ko"])[0] == "en" else "ko"
        shown = query.get("shown", [""])[0][:40]
        self.tokens = RATE
        self.tokens_at = time.monotonic()
        session = self.scope.get("session")
        session_key = getattr(session, "session_key", None)
        # Accept first so that the browser sees the close code (a refused handshake has none).
        await self.accept()
        try:
            self.sbx = await self.authorize(session_key)
        except sandboxes.Busy:
            await self.send_error(message("busy", self.lang))
            await self.close(code=CLOSE_BUSY)
            return
        if self.sbx is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.sandbox_id = self.sbx.id
        self.group = sandboxes.group_name(self.sandbox_id, self.lang)
        if isinstance(self.sbx, owners.Remote):  # its owner answers with the first board
            await self.channel_layer.group_add(self.group, self.channel_name)
            await owners.join(self.sbx, self.lang, shown, self.channel_name)
            return
        sandboxes.listen(self.sandbox_id, self.lang, self)  # updates come by a direct call
        await self.send(text_data=sandboxes.first_message(self.sbx, self.lang, shown))

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' dispatch first closes stale database connections, through a hop to a worker
        # thread for *every* message, board updates included. This consumer never touches the
        # database (sandboxes.py does, with database_sync_to_async, which closes them in its
        # own thread); with 1,000 sockets that hop cost about a sixth of the server's time.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message.get('type')}")
        await handler(message)

    async def disconnect(self, code: int) -> None:
        if self.sbx is not None:
            if isinstance(self.sbx, owners.Remote):
                await self.channel_layer.group_discard(self.group, self.channel_name)
                await owners.leave(self.sbx, self.lang)
            else:
                sandboxes.unlisten(self.sandbox_id, self.lang, self)
                sandboxes.detach(self.sbx, self.lang)
            self.sbx = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        started = time.perf_counter()
        if self.sbx is None:
            return
        raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
        if len(raw) > MAX_MESSAGE or len(raw.encode("utf-8", "surrogatepass")) > MAX_MESSAGE:
            await self.send_error(message("too-big", self.lang))
            return
        if not self._take_token():
            await self.send_error(message("rate", self.lang))
            return
        if self.read_only:
            await self.send_error(message("read-only", self.lang))
            return
        try:
            content: Any = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested past the limit
            await self.send_error(message("bad-json", self.lang))
            return
        if not _is_text(content):  # "\ud800": a lone surrogate can be read, never sent back
            await self.send_error(message("bad-json", self.lang))
            return
        try:
            action = actions.parse(content, self.lang, scenarios.SCENARIOS)
            if isinstance(self.sbx, owners.Remote):  # the owner replies to this channel
                await owners.forward(self.sbx, action, self.lang, self.channel_name)
                return
            terminal = await sandboxes.apply(self.sbx, action, self.lang)
        except ActionError as err:
            await self.send_error(str(err))
            return
        except Exception:
            logger.exception("action failed in sandbox %s: %.200r", self.sandbox_id, content)
            await self.send_error(message("internal", self.lang))
            return
        if terminal:
            await self.send(text_data=terminal)
        timing.debug("action %s %.2f ms", self.sandbox_id[:6],
                     (time.perf_counter() - started) * 1000)

    def _take_token(self) -> bool:
        now = time.monotonic()
        self.tokens = min(RATE, self.tokens + (now - self.tokens_at) * RATE)
        self.tokens_at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    async def send_error(self, text: str) -> None:
        from k8slearn.playground import render

        await self.send(text_data=render.error(text, self.lang))

    async def deliver(self, html: str) -> None:
        """An update of this socket's sandbox, from the process that runs it (a direct call)."""
        await self.send(text_data=html)

    async def board_update(self, event: dict[str, Any]) -> None:
        """``board.update`` from the sandbox's group: fragments rendered once for everyone."""
        await self.send(text_data=event["html"])


def _is_text(content: Any) -> bool:
    """Whether every string in ``content`` is valid Unicode (no lone surrogates)."""
    try:
        json.dumps(content, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

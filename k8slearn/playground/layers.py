"""The default (one-process) channel layer: Channels' in-memory layer without its O(n) sweep.

The stock ``InMemoryChannelLayer`` walks every channel and every group looking for expired
messages on *each* ``send``/``receive``/``group_send``. With 1,000 sockets that is 1,000 steps
per message and a million per round of updates: the process then spends seconds per ticker pass.
Here the sweep runs at most once a second, and a group send does not start one task per member.
Also, the stock ``send``/``receive`` build a new ``asyncio.Queue`` on every call (the default of
``dict.setdefault``) and deep-copy every message; here a queue is made only for a new channel and
a flat message (strings and numbers only, like our board updates) is copied shallowly, which for
immutable values is the same thing. Messages, groups, capacity and expiry behave as in the stock
layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from copy import deepcopy
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer


class LocalChannelLayer(InMemoryChannelLayer):
    sweep_every = 1.0  # seconds between expiry sweeps

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._swept = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._swept < self.sweep_every:
            return
        self._swept = now
        super()._clean_expired()

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, ())):
            with contextlib.suppress(ChannelFull):  # a stuck socket must not stop the others
                await self.send(channel, message)

    def _queue(self, channel: str) -> asyncio.Queue[Any]:
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        return queue

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        assert "__asgi_channel__" not in message
        try:
            self._queue(channel).put_nowait((time.time() + self.expiry, _copy(message)))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None

    async def receive(self, channel: str) -> dict[str, Any]:
        self.require_valid_channel_name(channel)
        self._clean_expired()
        queue = self._queue(channel)
        try:
            _, message = await queue.get()
        finally:
            if queue.empty():
                self.channels.pop(channel, None)
        return message


_FLAT = (str, int, float, bool, type(None))


def _copy(message: dict[str, Any]) -> dict[str, Any]:
    if all(isinstance(v, _FLAT) for v in message.values()):
        return dict(message)
    return deepcopy(message)

"""The default (one-process) channel layer: Channels' in-memory layer without its O(n) sweep.

The stock ``InMemoryChannelLayer`` walks every channel and every group looking for expired
messages on *each* ``send``/``receive``/``group_send``. With 1,000 sockets that is 1,000 steps
per message and a million per round of updates: the process then spends seconds per ticker pass.
Here the sweep runs at most once a second, and a group send does not start one task per member.
Messages, groups, capacity and expiry behave as in the stock layer.
"""

from __future__ import annotations

import contextlib
import time
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

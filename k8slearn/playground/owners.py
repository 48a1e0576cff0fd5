"""Several server processes (``REDIS_URL``): who ticks a sandbox, and how the others reach it.

The rule: **a sandbox lives in exactly one process, its owner**; only the owner runs its cluster
(actions, ticks, goals, saves). Everything else reaches it through the channel layer:

* **Ownership is a lease in the database** (``Sandbox.owner`` = the owner's process channel,
  ``Sandbox.owner_until`` = when the lease ends). A process claims a sandbox before it loads it
  (one conditional UPDATE: free, already mine, or its lease ran out), renews the leases of all
  its live sandboxes every few seconds, and lets go when it evicts one. A process that dies
  stops renewing; LEASE seconds later any other process may claim the sandbox and restore it
  from its last save (at most ``SAVE_EVERY`` seconds old).
* **Every process listens on a channel of its own** (``channel_layer.new_channel``). A socket
  whose sandbox lives elsewhere sends what it receives there: ``sandbox.join`` (the owner
  counts the socket, so it renders that language and keeps ticking, and answers with the first
  board), ``sandbox.action`` (a parsed step or command; the terminal reply comes back to the
  socket's own channel), ``sandbox.leave`` and ``sandbox.control`` (an instructor's pause or
  reset for everyone).
* **Board updates need nothing special**: the owner sends them to the sandbox's groups
  (``sbx.<id>.<lang>``), and Redis delivers them to the sockets of every process. A class's
  followers on any process are sockets in those groups: the change is rendered once, by the
  owner, and fanned out.

With the in-memory layer (one process, no ``REDIS_URL``) none of this runs: every sandbox is
local.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

logger = logging.getLogger(__name__)

LEASE = 15.0  # seconds a claim lasts without renewal (settings.PLAYGROUND_LEASE)


def lease() -> float:
    return float(getattr(settings, "PLAYGROUND_LEASE", LEASE))


def renew_every() -> float:
    return lease() / 3

_channel: str | None = None
_listener: asyncio.Task[None] | None = None
_last_renew = 0.0


def background(coro: Any) -> asyncio.Task[Any]:
    """A task that outlives whoever started it, in a fresh context: started from a page view's
    ``async_to_sync`` it would otherwise keep that call's worker thread, which is gone once the
    view returns, and every later database call of the task would fail."""
    return asyncio.get_running_loop().create_task(coro, context=contextvars.Context())


def shared() -> bool:
    """Whether several processes may serve sandboxes (a Redis channel layer)."""
    return bool(getattr(settings, "REDIS_URL", None)) and getattr(
        settings, "PLAYGROUND_SHARED", True)


@dataclass(frozen=True)
class Remote:
    """A sandbox that another process owns: what a socket here needs to reach it."""

    id: str
    owner: str
    session_key: str
    context: str


class Elsewhere(Exception):
    """The sandbox is live in another process."""

    def __init__(self, remote: Remote) -> None:
        super().__init__(remote.id)
        self.remote = remote


async def me() -> str:
    """This process's channel (made, and listened to, on first use)."""
    global _channel, _listener
    if _channel is None:
        # The default prefix on purpose: channels_redis reads every process-local ("!")
        # channel through one list per prefix and one lock; a second prefix would starve the
        # sockets' channels while this one waits.
        _channel = await get_channel_layer().new_channel()
    if _listener is None or _listener.done():
        _listener = background(_listen(_channel))
    return _channel


def reset() -> None:
    """Forget this process's channel and listener (tests)."""
    global _channel, _listener
    if _listener is not None and not _listener.done():
        with contextlib.suppress(RuntimeError):
            _listener.cancel()
    _channel = _listener = None


# --------------------------------------------------------------------------- leases


@database_sync_to_async
def _claim(sandbox_id: str, channel: str) -> tuple[bool, str]:
    from django.db.models import Q

    from k8slearn.playground.models import Sandbox

    now = time.time()
    won = Sandbox.objects.filter(pk=sandbox_id).filter(
        Q(owner="") | Q(owner=channel) | Q(owner_until__lt=now)
    ).update(owner=channel, owner_until=now + lease())
    if won:
        return True, channel
    owner = Sandbox.objects.filter(pk=sandbox_id).values_list("owner", flat=True).first()
    return False, owner or ""


async def claim(sandbox_id: str) -> str | None:
    """Claim ``sandbox_id`` for this process: None when it is ours now, else the owner."""
    channel = await me()
    won, owner = await _claim(sandbox_id, channel)
    return None if won else owner


@database_sync_to_async
def _renew(ids: list[str], channel: str) -> None:
    from k8slearn.playground.models import Sandbox

    Sandbox.objects.filter(pk__in=ids, owner=channel).update(owner_until=time.time() + lease())


async def renew(ids: list[str], now: float) -> None:
    """Renew this process's leases (called by the ticker; every RENEW_EVERY seconds)."""
    global _last_renew
    if not shared() or _channel is None or now - _last_renew < renew_every():
        return
    _last_renew = now
    for start in range(0, len(ids), 500):
        try:
            await _renew(ids[start:start + 500], _channel)
        except Exception:
            logger.exception("could not renew sandbox leases")


@database_sync_to_async
def _release(sandbox_id: str, channel: str) -> None:
    from k8slearn.playground.models import Sandbox

    Sandbox.objects.filter(pk=sandbox_id, owner=channel).update(owner="", owner_until=0.0)


async def release(sandbox_id: str) -> None:
    if shared() and _channel is not None:
        await _release(sandbox_id, _channel)


# --------------------------------------------------------------------------- messages


def encode(action: Any) -> dict[str, Any]:
    from k8slearn.playground.actions import Command

    if isinstance(action, Command):
        return {"command": action.name, "value": action.value}
    return {"step": action.step}


def decode(data: dict[str, Any]) -> Any:
    from k8slearn.playground.actions import Command, Step

    if "command" in data:
        return Command(str(data["command"]), data.get("value"))
    return Step(dict(data["step"]))


async def join(remote: Remote, lang: str, shown: str, reply: str) -> None:
    await get_channel_layer().send(remote.owner, {
        "type": "sandbox.join", "sandbox": remote.id, "lang": lang, "shown": shown,
        "reply": reply})


async def leave(remote: Remote, lang: str) -> None:
    with contextlib.suppress(Exception):
        await get_channel_layer().send(remote.owner, {
            "type": "sandbox.leave", "sandbox": remote.id, "lang": lang})


async def forward(remote: Remote, action: Any, lang: str, reply: str) -> None:
    await get_channel_layer().send(remote.owner, {
        "type": "sandbox.action", "sandbox": remote.id, "lang": lang, "reply": reply,
        "action": encode(action)})


async def control(owner: str, sandbox_id: str, name: str) -> None:
    await get_channel_layer().send(owner, {
        "type": "sandbox.control", "sandbox": sandbox_id, "name": name})


async def replace(owner: str, sandbox_id: str, snapshot: dict[str, Any]) -> None:
    await get_channel_layer().send(owner, {
        "type": "sandbox.replace", "sandbox": sandbox_id, "snapshot": snapshot})


async def _listen(channel: str) -> None:
    layer = get_channel_layer()
    while True:
        try:
            message = await layer.receive(channel)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("the sandbox channel failed; listening again in a second")
            await asyncio.sleep(1)
            continue
        try:
            await _handle(message)
        except Exception:
            logger.exception("could not handle %s", message.get("type"))


async def _handle(message: dict[str, Any]) -> None:
    from k8slearn.playground import render, sandboxes
    from k8slearn.playground.actions import ActionError
    from k8slearn.playground.actions import message as text

    layer = get_channel_layer()
    kind = message.get("type")
    lang = "en" if message.get("lang") == "en" else "ko"
    reply = message.get("reply")
    try:
        sbx = await sandboxes.find(str(message.get("sandbox")))
    except Elsewhere:  # it moved on (our lease ran out): the sender will find the new owner
        sbx = None
    if sbx is None:
        if reply:
            await layer.send(reply, {"type": "board.update",
                                     "html": render.error(text("gone", lang), lang)})
        return
    if kind == "sandbox.join":
        sbx.sockets[lang] = sbx.sockets.get(lang, 0) + 1
        sbx.last_active = time.monotonic()
        sandboxes.ensure_ticker()
        await layer.send(reply, {"type": "board.update", "html": sandboxes.first_message(
            sbx, lang, str(message.get("shown") or ""))})
    elif kind == "sandbox.leave":
        sandboxes.detach(sbx, lang)
    elif kind == "sandbox.action":
        try:
            terminal = await sandboxes.apply(sbx, decode(message["action"]), lang)
        except ActionError as err:
            terminal = render.error(str(err), lang)
        if terminal and reply:
            await layer.send(reply, {"type": "board.update", "html": terminal})
    elif kind == "sandbox.control":
        await sandboxes.control(sbx.id, str(message.get("name")))
    elif kind == "sandbox.replace":
        from k8slearn.sim import Cluster

        await sandboxes.copy_cluster_from(Cluster.restore(message["snapshot"]), sbx)

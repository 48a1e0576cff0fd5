"""Join attempts are counted per client address in the cache (shared through Redis when
``REDIS_URL`` is set): guessing one code in 887 million at 10 tries per 10 minutes is hopeless."""

from __future__ import annotations

import time

from django.core.cache import cache

WINDOW = 600  # seconds
MAX_FAILURES = 10  # wrong codes per window and client address
MAX_ATTEMPTS = 30  # any attempts per window and client address


def _key(kind: str, client: str) -> str:
    return f"join:{kind}:{client}:{int(time.time() // WINDOW)}"


def _count(key: str) -> int:
    return int(cache.get(key, 0))


def _bump(key: str) -> int:
    try:
        return int(cache.incr(key))
    except ValueError:  # not there yet
        cache.add(key, 0, WINDOW)
        return int(cache.incr(key))


def allowed(client: str) -> bool:
    """May this client try a code now? Counts the attempt."""
    if _count(_key("fail", client)) >= MAX_FAILURES:
        return False
    return _bump(_key("try", client)) <= MAX_ATTEMPTS


def failed(client: str) -> None:
    _bump(_key("fail", client))


def client_of(request) -> str:
    """The client's address (behind a proxy, configure it to set REMOTE_ADDR)."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")

"""Timer handlers by name. A module registers ``@timer("kubelet.container-started")`` and schedules
``cluster.clock.call_later(2.0, "kubelet.container-started", [pod_uid, "app", 1])``. Handlers
take ``(cluster, *args)`` and must re-check the state they act on (the pod may be gone)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TimerHandler = Callable[..., None]
TIMER_HANDLERS: dict[str, TimerHandler] = {}


def timer(kind: str) -> Callable[[TimerHandler], TimerHandler]:
    def register(fn: TimerHandler) -> TimerHandler:
        if kind in TIMER_HANDLERS and TIMER_HANDLERS[kind] is not fn:
            raise RuntimeError(f"timer {kind!r} registered twice")
        TIMER_HANDLERS[kind] = fn
        return fn

    return register


BootstrapStep = Callable[[Any], None]
BOOTSTRAP: list[BootstrapStep] = []


def bootstrap(fn: BootstrapStep) -> BootstrapStep:
    """Register a step run once by ``Cluster.create`` (default StorageClass, kubernetes svc …)."""
    BOOTSTRAP.append(fn)
    return fn

"""Events: what the controllers, the scheduler and the kubelet say they did.

Stored as real v1 Event objects (``kubectl get events``); a repeat of the same event on the same
object bumps ``count`` and ``lastTimestamp`` instead of adding a row, which is what describe shows
as ``2m (x3 over 5m)``. Every occurrence is also appended to ``cluster.state["event_log"]``
(bounded), the history that lesson goals and the UI's why-cards read.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from k8slearn.sim.objects import rfc3339

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]

EVENT_LOG_LIMIT = 5_000  # occurrences kept for goals and the UI
EVENTS_KEPT = 1_000  # Event objects kept in the store (the apiserver's TTL, by count)


def record_event(
    cluster: Cluster,
    obj: Obj,
    type_: str,
    reason: str,
    message: str,
    component: str,
    *,
    field_path: str | None = None,
    host: str | None = None,
) -> None:
    """Record that ``component`` did ``reason`` to ``obj`` (type_ is Normal or Warning)."""
    meta = obj["metadata"]
    namespace = meta.get("namespace") or "default"
    now = rfc3339(cluster.now)
    series = _series_key(meta.get("uid", ""), reason, message, component, field_path, type_)
    log: list[list[Any]] = cluster.state.setdefault("event_log", [])
    seq = cluster.state.get("event_seq", 0) + 1
    cluster.state["event_seq"] = seq
    log.append([seq, cluster.clock.now_ms, obj["kind"], namespace, meta["name"], type_, reason,
                message, component])
    if len(log) > EVENT_LOG_LIMIT:
        del log[: len(log) - EVENT_LOG_LIMIT]

    # The name is derived from the series (object, reason, message, source), so a repeat finds
    # its row without an index; real names are also "<object>.<16 hex digits>".
    name = f"{meta['name']}.{series}"
    existing = cluster.store.get("Event", namespace, name)
    if existing is not None:
        existing["count"] += 1
        existing["lastTimestamp"] = now
        cluster.store.update(existing)
        return
    involved: Obj = {
        "kind": obj["kind"],
        "namespace": meta.get("namespace"),
        "name": meta["name"],
        "uid": meta.get("uid"),
        "apiVersion": obj.get("apiVersion"),
        "resourceVersion": meta.get("resourceVersion"),
    }
    if field_path:
        involved["fieldPath"] = field_path
    if not meta.get("namespace"):
        del involved["namespace"]
    source: Obj = {"component": component}
    if host:
        source["host"] = host
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"event-{seq}",
            "creationTimestamp": now,
        },
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "source": source,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "type": type_,
        "reportingComponent": component,
        "reportingInstance": host or "",
    }
    cluster.store.add(event)
    _expire_old_events(cluster)


def _expire_old_events(cluster: Cluster) -> None:
    if cluster.store.count("Event") <= EVENTS_KEPT:
        return
    oldest = next(cluster.store.iter("Event"))
    meta = oldest["metadata"]
    cluster.store.remove("Event", meta["namespace"], meta["name"])


def _series_key(uid: str, reason: str, message: str, component: str, field_path: str | None,
                type_: str) -> str:
    # 8 bytes of digest -> 16 hex digits, the length of real event name suffixes.
    raw = "\x1f".join((uid, reason, message, component, field_path or "", type_))
    return hashlib.blake2b(raw.encode(), digest_size=8).hexdigest()

"""Pod facts the workload controllers need: active, ready, available, and deletion order.

A port of ``pkg/api/v1/pod`` (``IsPodReady``, ``IsPodAvailable``), ``controller_utils.go``
(``IsPodActive``, ``ActivePodsWithRanks.Less``) and ``replica_set.go`` (``getPodsToDelete``).
"""

from __future__ import annotations

import functools
import heapq
import math
from typing import Any

from k8slearn.sim.objects import parse_rfc3339

Obj = dict[str, Any]

DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
# podPhaseToOrdinal: a Pending pod goes before an Unknown one, which goes before a Running one.
PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}

# Timestamps repeat a lot (1 s resolution) and strptime is slow: remember the last few.
stamp_seconds = functools.lru_cache(maxsize=4096)(parse_rfc3339)


def is_active(pod: Obj) -> bool:
    """IsPodActive: not Succeeded/Failed and not being deleted (a terminating pod is gone)."""
    return (not pod["metadata"].get("deletionTimestamp")
            and pod.get("status", {}).get("phase") not in ("Succeeded", "Failed"))


def ready_condition(pod: Obj) -> Obj | None:
    for cond in pod.get("status", {}).get("conditions") or ():
        if cond.get("type") == "Ready":
            return cond
    return None


def is_ready(pod: Obj) -> bool:
    """IsPodReady: the Ready condition is True (the kubelet sets it)."""
    cond = ready_condition(pod)
    return cond is not None and cond.get("status") == "True"


def ready_since(pod: Obj) -> float | None:
    """When the Ready condition last turned True (virtual seconds), if it is True."""
    cond = ready_condition(pod)
    if cond is None or cond.get("status") != "True" or not cond.get("lastTransitionTime"):
        return None
    return stamp_seconds(cond["lastTransitionTime"])


def is_available(pod: Obj, min_ready_seconds: int, now: float) -> bool:
    """IsPodAvailable: ready, and ready for *more than* minReadySeconds.

    minReadySeconds 5, Ready since t=10 (timestamps have 1 s resolution): available once t > 15.
    """
    if not is_ready(pod):
        return False
    if min_ready_seconds == 0:
        return True
    since = ready_since(pod)
    return since is not None and since + min_ready_seconds < now


# -- which pods go first (ActivePodsWithRanks.Less, LogarithmicScaleDown on) ------------------
def _deletion_cost(pod: Obj) -> int:
    text = (pod["metadata"].get("annotations") or {}).get(DELETION_COST)
    try:
        cost = int(text) if text is not None else 0
    except ValueError:
        return 0
    return cost if -(2**31) <= cost < 2**31 else 0


def _log_bucket(stamp: float | None, now: float) -> int:
    """floor(log2(age in ns)), -1 for no age; a missing time sorts first (afterOrZero)."""
    if stamp is None:
        return -2
    age_ns = (now - stamp) * 1e9
    return int(math.log2(age_ns)) if age_ns > 0 else -1


def _max_restarts(pod: Obj) -> int:
    return max((cs.get("restartCount", 0)
                for cs in pod.get("status", {}).get("containerStatuses") or ()), default=0)


# What a pod's deletion rank needs, read once per pod change:
# (assigned, phase ordinal, ready, deletion cost, node, ready since, -restarts, created, uid).
Facts = tuple[int, int, int, int, str, "float | None", int, "float | None", str]


def deletion_facts(pod: Obj) -> Facts:
    meta = pod["metadata"]
    node = pod["spec"].get("nodeName") or ""
    created = meta.get("creationTimestamp")
    return (1 if node else 0,
            PHASE_ORDINAL.get(pod.get("status", {}).get("phase", ""), 0),
            1 if is_ready(pod) else 0,
            _deletion_cost(pod),
            node,
            ready_since(pod),
            -_max_restarts(pod),
            stamp_seconds(created) if created else None,
            meta.get("uid", ""))


def rank_victims(candidates: list[tuple[Any, Facts]], on_node: dict[str, int], diff: int,
                 now: float) -> list[Any]:
    """The ``diff`` candidates (``(handle, facts)`` pairs) to delete first.

    The sort key follows ActivePodsWithRanks.Less: 1. not yet scheduled; 2. Pending < Unknown <
    Running; 3. not ready; 4. lower pod-deletion-cost; 5. more pods of the same Deployment on
    the same node (``on_node``, the rank); 6. ready more recently (log2 buckets of the age,
    then uid); 7. more container restarts; 8. created more recently (log2 buckets, then uid).
    Kubernetes compares pairs; one key per pod keeps this O(n log n). The one difference:
    among ready pods in the same bucket, uid decides even when their ready times are equal.
    """
    # Timestamps repeat (1 s resolution): compute each log2 bucket once.
    stamps = dict.fromkeys(f[5] for _h, f in candidates)
    stamps.update(dict.fromkeys(f[7] for _h, f in candidates))
    b = {stamp: _log_bucket(stamp, now) for stamp in stamps}
    rank = on_node.get
    keyed = [((f[0], f[1], f[2], f[3], -rank(f[4], 0), (b[f[5]], f[8]) if f[2] else (), f[6],
               b[f[7]], f[8]), handle) for handle, f in candidates]
    # Kubernetes skips the sort when every pod goes; ranking anyway keeps the order of the
    # "Deleted pod" events independent of how the candidates were listed (snapshots replay).
    if diff * 8 < len(keyed):
        return [handle for _key, handle in heapq.nsmallest(diff, keyed)]
    keyed.sort()
    return [handle for _key, handle in keyed[:diff]]


def node_counts(pods: list[Obj]) -> dict[str, int]:
    """Active pods per node (unscheduled pods count under "")."""
    on_node: dict[str, int] = {}
    for pod in pods:
        if is_active(pod):
            node = pod["spec"].get("nodeName") or ""
            on_node[node] = on_node.get(node, 0) + 1
    return on_node


def pods_to_delete(pods: list[Obj], related: list[Obj], diff: int, now: float) -> list[Obj]:
    """getPodsToDelete: the ``diff`` pods of ``pods`` to delete, ranked against ``related``
    (the pods of every ReplicaSet of the same Deployment)."""
    return rank_victims([(p, deletion_facts(p)) for p in pods], node_counts(related), diff, now)

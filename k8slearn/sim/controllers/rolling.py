"""RollingUpdate, one step per sync: a port of ``pkg/controller/deployment/rolling.go``.

Each sync makes at most one kind of move and returns: grow the new ReplicaSet if the surge
allows, otherwise shrink the old ones if availability allows. The next sync happens when a
ReplicaSet's status changes (pods created, ready, deleted), so a rollout walks in steps:

    10 replicas, maxSurge 3, maxUnavailable 2: at most 13 pods exist, at least 8 are available.
    (old, new): (10,0) -> (10,3) -> (8,3) -> (8,5) -> (3,5) -> (3,10) -> (0,10)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from k8slearn.sim.controllers import Obj
from k8slearn.sim.controllers import deployment_util as du
from k8slearn.sim.controllers.deployment_progress import sync_rollout_status
from k8slearn.sim.controllers.deployment_sync import (
    cleanup_deployment,
    get_all_replicasets_and_sync_revision,
    scale_replicaset_and_record_event,
)

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster


def rollout_rolling(cluster: Cluster, d: Obj, rs_list: list[Obj]) -> float | None:
    """rolloutRolling: create the new RS if needed, then scale up *or* scale down, then status."""
    new_rs, old_rss = get_all_replicasets_and_sync_revision(cluster, d, rs_list, create=True)
    assert new_rs is not None  # create=True either returns it or raises
    all_rss = [*old_rss, new_rs]
    if reconcile_new_replicaset(cluster, all_rss, new_rs, d):
        return sync_rollout_status(cluster, d, all_rss, new_rs)
    if reconcile_old_replicasets(cluster, all_rss, du.active(old_rss), new_rs, d):
        return sync_rollout_status(cluster, d, all_rss, new_rs)
    if du.deployment_complete(d, d.get("status") or {}):
        cleanup_deployment(cluster, d, old_rss)
    return sync_rollout_status(cluster, d, all_rss, new_rs)


def reconcile_new_replicaset(cluster: Cluster, all_rss: list[Obj], new_rs: Obj, d: Obj) -> bool:
    """Grow the new ReplicaSet as far as maxSurge allows (or shrink it to spec.replicas).

    10 replicas, maxSurge 3, old RS 8 + new RS 3 = 11 pods: the new RS may grow by 2, to 5.
    """
    if du.replicas(new_rs) == du.replicas(d):
        return False
    if du.replicas(new_rs) > du.replicas(d):
        return scale_replicaset_and_record_event(cluster, new_rs, du.replicas(d), d)
    target = du.new_rs_new_replicas(d, all_rss, new_rs)
    return scale_replicaset_and_record_event(cluster, new_rs, target, d)


def reconcile_old_replicasets(cluster: Cluster, all_rss: list[Obj], old_rss: list[Obj],
                              new_rs: Obj, d: Obj) -> bool:
    """Shrink the old ReplicaSets without dropping below replicas - maxUnavailable available.

    maxScaledDown = allPods - minAvailable - newRSUnavailable. Right after the new RS is created
    with 3 pods (none ready yet): 13 - 8 - 3 = 2, so the old RS goes 10 -> 8 in the same sync.
    """
    if du.total_replicas(old_rss) == 0:
        return False  # nothing left to scale down
    min_available = du.replicas(d) - du.max_unavailable(d)
    new_unavailable = du.replicas(new_rs) - du.status_of(new_rs, "availableReplicas")
    max_scaled_down = du.total_replicas(all_rss) - min_available - new_unavailable
    if max_scaled_down <= 0:
        return False
    cleaned = cleanup_unhealthy_replicas(cluster, old_rss, d, max_scaled_down)
    scaled = scale_down_old_replicasets_for_rolling_update(cluster, [*old_rss, new_rs], old_rss, d)
    return cleaned + scaled > 0


def cleanup_unhealthy_replicas(cluster: Cluster, old_rss: list[Obj], d: Obj,
                               max_cleanup: int) -> int:
    """First remove old pods that are not available anyway: it costs no availability.

    An old RS with 5 wanted and 3 available gives up to 2 (the RS deletes its unready pods
    first), oldest RS first, never more than ``max_cleanup`` in all.
    """
    total = 0
    for rs in du.by_creation(old_rss):
        if total >= max_cleanup:
            break
        unhealthy = du.replicas(rs) - du.status_of(rs, "availableReplicas")
        if du.replicas(rs) == 0 or unhealthy <= 0:
            continue
        count = min(max_cleanup - total, unhealthy)
        scale_replicaset_and_record_event(cluster, rs, du.replicas(rs) - count, d)
        total += count
    return total


def scale_down_old_replicasets_for_rolling_update(cluster: Cluster, all_rss: list[Obj],
                                                  old_rss: list[Obj], d: Obj) -> int:
    """Scale old ReplicaSets down by as many pods as are available beyond minAvailable.

    5 new pods became available: 8 old + 5 new = 13 available, 8 needed -> old 8 -> 3.
    """
    min_available = du.replicas(d) - du.max_unavailable(d)
    available = du.total_status(all_rss, "availableReplicas")
    if available <= min_available:
        return 0
    to_scale_down = available - min_available
    total = 0
    for rs in du.by_creation(old_rss):
        if total >= to_scale_down:
            break
        if du.replicas(rs) == 0:
            continue
        count = min(du.replicas(rs), to_scale_down - total)
        scale_replicaset_and_record_event(cluster, rs, du.replicas(rs) - count, d)
        total += count
    return total

"""The Recreate strategy: a port of ``pkg/controller/deployment/recreate.go``.

All old pods go first; only when none is left running (terminating ones still count) is the
new ReplicaSet created at full size. Availability drops to 0 in between: the price of never
running two versions at once.
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


def rollout_recreate(cluster: Cluster, d: Obj, rs_list: list[Obj]) -> float | None:
    """rolloutRecreate: scale old to 0, wait for their pods to stop, then new to full size."""
    new_rs, old_rss = get_all_replicasets_and_sync_revision(cluster, d, rs_list, create=False)
    all_rss: list[Obj | None] = [*old_rss, new_rs]
    if scale_down_old_replicasets_for_recreate(cluster, du.active(old_rss), d):
        return sync_rollout_status(cluster, d, all_rss, new_rs)
    if old_pods_running(cluster, new_rs, old_rss):
        return sync_rollout_status(cluster, d, all_rss, new_rs)
    if new_rs is None:
        new_rs, old_rss = get_all_replicasets_and_sync_revision(cluster, d, rs_list, create=True)
        all_rss = [*old_rss, new_rs]
    assert new_rs is not None
    scale_replicaset_and_record_event(cluster, new_rs, du.replicas(d), d)
    if du.deployment_complete(d, d.get("status") or {}):
        cleanup_deployment(cluster, d, old_rss)
    return sync_rollout_status(cluster, d, all_rss, new_rs)


def scale_down_old_replicasets_for_recreate(cluster: Cluster, old_rss: list[Obj], d: Obj) -> bool:
    scaled = False
    for rs in old_rss:
        if du.replicas(rs) != 0 and scale_replicaset_and_record_event(cluster, rs, 0, d):
            scaled = True
    return scaled


def old_pods_running(cluster: Cluster, new_rs: Obj | None, old_rss: list[Obj]) -> bool:
    """oldPodsRunning: an old RS still reports pods, or an old pod is not yet Succeeded/Failed
    (a terminating pod is still running: its containers are shutting down)."""
    if du.total_status(old_rss, "replicas") > 0:
        return True
    for rs in old_rss:
        for pod in cluster.store.pods_owned_by(rs["metadata"]["uid"]):
            if pod.get("status", {}).get("phase") not in ("Succeeded", "Failed"):
                return True
    return False

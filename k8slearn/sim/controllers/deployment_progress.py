"""The Progressing condition and progressDeadlineSeconds: ``pkg/controller/deployment/progress.go``.

A rollout that makes progress (more updated pods, fewer old ones, more ready or available)
refreshes ``lastUpdateTime``; one that makes none for ``progressDeadlineSeconds`` is marked
``Progressing=False, ProgressDeadlineExceeded``. The timeout is only reported: the rollout goes
on, and ``kubectl rollout status`` exits with an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from k8slearn.sim.controllers import Obj
from k8slearn.sim.controllers import deployment_util as du
from k8slearn.sim.controllers.deployment_sync import calculate_status
from k8slearn.sim.controllers.replicaset import requeue_once
from k8slearn.sim.objects import parse_rfc3339

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

COMPONENT = "deployment-controller"


def sync_rollout_status(cluster: Cluster, d: Obj, all_rss: list[Obj | None],
                        new_rs: Obj | None) -> float | None:
    """syncRolloutStatus: status plus the Progressing condition. Returns requeue-after."""
    status = calculate_status(cluster, d, all_rss, new_rs)
    if not du.has_progress_deadline(d):
        du.remove_condition(status, "Progressing")
    current = du.get_condition(d.get("status") or {}, "Progressing")
    complete_before = (status.get("replicas", 0) == status.get("updatedReplicas", 0)
                       and current is not None
                       and current.get("reason") == du.NEW_RS_AVAILABLE_REASON)
    if du.has_progress_deadline(d) and not complete_before:
        _update_progressing(cluster, d, status, new_rs, current)
    failures = replica_failures(all_rss, new_rs)
    if failures:
        du.set_condition(status, failures[0])
    else:
        du.remove_condition(status, "ReplicaFailure")
    if d.get("status") == status:
        return requeue_stuck_deployment(cluster, d, status)
    d["status"] = status
    cluster.store.update(d)  # the update wakes this controller again, which then requeues
    return None


def _update_progressing(cluster: Cluster, d: Obj, status: Obj, new_rs: Obj | None,
                        current: Obj | None) -> None:
    subject = (f'ReplicaSet "{new_rs["metadata"]["name"]}"' if new_rs is not None
               else f'Deployment "{d["metadata"]["name"]}"')
    now = cluster.now
    if du.deployment_complete(d, status):
        du.set_condition(status, du.new_condition(
            "Progressing", "True", du.NEW_RS_AVAILABLE_REASON,
            f"{subject} has successfully progressed.", now))
    elif du.deployment_progressing(d, status):
        cond = du.new_condition("Progressing", "True", du.RS_UPDATED_REASON,
                                f"{subject} is progressing.", now)
        if current is not None:
            if current.get("status") == "True":
                cond["lastTransitionTime"] = current.get("lastTransitionTime")
            du.remove_condition(status, "Progressing")
        # Unlike set_condition, a repeat of ReplicaSetUpdated still refreshes lastUpdateTime.
        status.setdefault("conditions", []).append(cond)
    elif du.deployment_timed_out(d, status, now):
        du.set_condition(status, du.new_condition(
            "Progressing", "False", du.TIMED_OUT_REASON, f"{subject} has timed out progressing.",
            now))


def replica_failures(all_rss: list[Obj | None], new_rs: Obj | None) -> list[Obj]:
    """getReplicaFailures: the new RS's ReplicaFailure condition first, else any old RS's."""
    ordered = [new_rs, *[rs for rs in all_rss if rs is not new_rs]]
    for rs in ordered:
        if rs is None:
            continue
        for c in (rs.get("status") or {}).get("conditions") or ():
            if c.get("type") == "ReplicaFailure":
                stamp = c.get("lastTransitionTime")
                return [{"type": "ReplicaFailure", "status": c.get("status"),
                         "lastUpdateTime": stamp, "lastTransitionTime": stamp,
                         "reason": c.get("reason"), "message": c.get("message")}]
    return []


def requeue_stuck_deployment(cluster: Cluster, d: Obj, status: Obj) -> float | None:
    """requeueStuckDeployment: check again just after the deadline would pass.

    Last progress at 00:00:00 with a 600 s deadline, now 00:03:00: look again in 7 min + 1 s.
    """
    current = du.get_condition(d.get("status") or {}, "Progressing")
    if not du.has_progress_deadline(d) or current is None:
        return None
    if du.deployment_complete(d, status) or current.get("reason") == du.TIMED_OUT_REASON:
        return None
    if not current.get("lastUpdateTime"):
        return None
    due = parse_rfc3339(current["lastUpdateTime"]) + d["spec"]["progressDeadlineSeconds"] + 1
    key = f"{d['metadata'].get('namespace') or ''}/{d['metadata']['name']}"
    return requeue_once(cluster, COMPONENT, key, max(due - cluster.now, 0.001))

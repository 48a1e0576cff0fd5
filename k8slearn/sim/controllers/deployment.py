"""The Deployment controller (``pkg/controller/deployment``) and the helpers kubectl needs.

One reconcile is ``syncDeployment``: claim the ReplicaSets, report paused/resumed, then either
resize (paused, or spec.replicas changed: ``deployment_sync.sync``) or take one rollout step
(``rolling.rollout_rolling`` / ``recreate.rollout_recreate``). The controller wakes on changes
to its Deployment, its ReplicaSets (their status is how pod progress reaches it) and, for
Recreate, the deletion of its pods; ``progressDeadlineSeconds`` is checked by a requeue.

Status and conditions follow the API's omitempty JSON: zero counts are left out, so read them
with ``status.get("availableReplicas", 0)``.

Helpers for kubectl (``rollout status|history|undo``, ``describe``)::

    replicasets_of(cluster, deployment) -> (new_rs | None, old_rss)
        The Deployment's ReplicaSets: the one whose template matches (or None) and the others,
        oldest first. Read-only (unlike the controller, it never creates or adopts).
    revision_of(rs_or_deployment) -> int
        The deployment.kubernetes.io/revision annotation (0 if missing).
    rollback_target(cluster, deployment, to_revision: int | None) -> ReplicaSet
        The ReplicaSet ``kubectl rollout undo [--to-revision=N]`` rolls back to: revision N, or
        the second-highest revision. Raises ValueError with kubectl's message:
        'unable to find specified revision 5 in history' /
        'no rollout history found for deployment "web"'.
    rollback_template(rs) -> pod template
        The RS's template without the pod-template-hash label (what undo writes into the
        Deployment); ``equal_ignore_hash(a, b)`` tells whether undo would be a no-op.
    rollout_status(cluster, deployment) -> (message, done, error)
        kubectl's DeploymentStatusViewer: ('Waiting for deployment "web" rollout to finish:
        1 out of 3 new replicas have been updated...\\n', False, False), ('deployment "web"
        successfully rolled out\\n', True, False) or ('deployment "web" exceeded its progress
        deadline', False, True).
    max_surge_unavailable(deployment) -> (max_surge, max_unavailable)
        The effective fenceposts as pod counts: (10, 25%, 25%) -> (3, 2).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import TYPE_CHECKING

from k8slearn.sim.controllers import Controller, Obj, split_key
from k8slearn.sim.controllers import apps_validation as _apps_validation  # noqa: F401 (registers)
from k8slearn.sim.controllers import deployment_util as du
from k8slearn.sim.controllers.deployment_sync import (
    NewReplicaSetError,
    check_paused_conditions,
    claim_replicasets,
    find_new_replicaset,
    is_scaling_event,
    sync,
)
from k8slearn.sim.controllers.recreate import rollout_recreate
from k8slearn.sim.controllers.replicaset import owner_key, requeue_once
from k8slearn.sim.controllers.rolling import rollout_rolling
from k8slearn.sim.objects import match_label_selector
from k8slearn.sim.store import controller_uid

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

equal_ignore_hash = du.equal_ignore_hash
revision_of = du.revision_of
# After a failed ReplicaSet create (sandbox full …), try again after this long.
CREATE_RETRY_SECONDS = 10.0


class DeploymentController(Controller):
    name = "deployment-controller"
    watches = ("Deployment", "ReplicaSet", "Pod")

    def keys_for(self, cluster: Cluster, kind: str, obj: Obj, deleted: bool) -> Iterable[str]:
        if kind == "Deployment":
            return super().keys_for(cluster, kind, obj, deleted)
        if kind == "ReplicaSet":
            key = owner_key(obj, "Deployment")
            return (key,) if key else _deployments_selecting(cluster, obj)
        if deleted:  # a pod is gone: a Recreate rollout may be waiting for exactly that
            return _recreate_deployment_of_pod(cluster, obj)
        return ()

    def reconcile(self, cluster: Cluster, key: str) -> float | None:
        ns, name = split_key(key)
        d = cluster.store.get("Deployment", ns, name)
        if d is None:
            return None  # deleted: the garbage collector removes its ReplicaSets
        try:
            return sync_deployment(cluster, d)
        except NewReplicaSetError:
            return requeue_once(cluster, self.name, key, CREATE_RETRY_SECONDS)


def sync_deployment(cluster: Cluster, d: Obj) -> float | None:
    """syncDeployment: the body of one reconcile."""
    rs_list = claim_replicasets(cluster, d)
    check_paused_conditions(cluster, d)
    if d["spec"].get("paused") or is_scaling_event(cluster, d, rs_list):
        sync(cluster, d, rs_list)
        return None
    if (d["spec"].get("strategy") or {}).get("type") == "Recreate":
        return rollout_recreate(cluster, d, rs_list)
    return rollout_rolling(cluster, d, rs_list)


def _deployments_selecting(cluster: Cluster, rs: Obj) -> list[str]:
    """An orphan ReplicaSet wakes every Deployment that would adopt it."""
    if controller_uid(rs) is not None:
        return []
    ns = rs["metadata"].get("namespace")
    labels = rs["metadata"].get("labels") or {}
    return [f"{ns or ''}/{d['metadata']['name']}" for d in cluster.store.list("Deployment", ns)
            if match_label_selector(d["spec"].get("selector"), labels)]


def _recreate_deployment_of_pod(cluster: Cluster, pod: Obj) -> list[str]:
    rs_key = owner_key(pod, "ReplicaSet")
    if rs_key is None:
        return []
    ns, name = split_key(rs_key)
    rs = cluster.store.get("ReplicaSet", ns, name)
    d_key = owner_key(rs, "Deployment") if rs is not None else None
    if d_key is None:
        return []
    d = cluster.store.get("Deployment", *split_key(d_key))
    if d is None or (d["spec"].get("strategy") or {}).get("type") != "Recreate":
        return []
    return [d_key]


# -- helpers for kubectl ---------------------------------------------------------------------
def replicasets_of(cluster: Cluster, deployment: Obj) -> tuple[Obj | None, list[Obj]]:
    """(new ReplicaSet or None, old ReplicaSets oldest first) controlled by ``deployment``."""
    uid = deployment["metadata"]["uid"]
    owned = [rs for rs in cluster.store.list("ReplicaSet", deployment["metadata"].get("namespace"))
             if controller_uid(rs) == uid]
    new_rs = find_new_replicaset(deployment, owned)
    return new_rs, [rs for rs in du.by_creation(owned) if rs is not new_rs]


def rollback_target(cluster: Cluster, deployment: Obj, to_revision: int | None) -> Obj:
    """The ReplicaSet ``kubectl rollout undo`` goes back to (kubectl's deploymentRevision)."""
    if to_revision is not None and to_revision < 0:
        raise ValueError(f"unable to find specified revision {to_revision} in history")
    new_rs, old_rss = replicasets_of(cluster, deployment)
    all_rss = [*old_rss, *([new_rs] if new_rs is not None else [])]
    if to_revision:
        for rs in all_rss:
            if revision_of(rs) == to_revision:
                return rs
        raise ValueError(f"unable to find specified revision {to_revision} in history")
    ranked = sorted(all_rss, key=revision_of, reverse=True)
    if len(ranked) < 2:
        name = deployment["metadata"]["name"]
        raise ValueError(f'no rollout history found for deployment "{name}"')
    return ranked[1]


def rollback_template(rs: Obj) -> Obj:
    """The RS's pod template minus the pod-template-hash label."""
    template = copy.deepcopy(rs["spec"]["template"])
    labels = (template.get("metadata") or {}).get("labels") or {}
    labels.pop(du.POD_TEMPLATE_HASH, None)
    return template


def rollout_status(cluster: Cluster, deployment: Obj) -> tuple[str, bool, bool]:
    """kubectl rollout status, one check: (message, done, error). Messages end with a newline;
    the error message does not (kubectl prints it as 'error: ...')."""
    name = deployment["metadata"]["name"]
    status = deployment.get("status") or {}
    if deployment["metadata"].get("generation", 0) > status.get("observedGeneration", 0):
        return "Waiting for deployment spec update to be observed...\n", False, False
    cond = du.get_condition(status, "Progressing")
    if cond is not None and cond.get("reason") == du.TIMED_OUT_REASON:
        return f'deployment "{name}" exceeded its progress deadline', False, True
    wanted = du.replicas(deployment)
    updated = status.get("updatedReplicas", 0)
    total = status.get("replicas", 0)
    available = status.get("availableReplicas", 0)
    prefix = f'Waiting for deployment "{name}" rollout to finish: '
    if updated < wanted:
        return f"{prefix}{updated} out of {wanted} new replicas have been updated...\n", False, False
    if total > updated:
        return f"{prefix}{total - updated} old replicas are pending termination...\n", False, False
    if available < updated:
        return f"{prefix}{available} of {updated} updated replicas are available...\n", False, False
    return f'deployment "{name}" successfully rolled out\n', True, False


def max_surge_unavailable(deployment: Obj) -> tuple[int, int]:
    """(MaxSurge, MaxUnavailable) in pods, as the controller uses them."""
    return du.max_surge(deployment), du.max_unavailable(deployment)

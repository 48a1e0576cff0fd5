"""The ReplicaSet controller: keep ``spec.replicas`` pods alive (``pkg/controller/replicaset``).

One reconcile is ``syncReplicaSet``: count the ReplicaSet's active pods, create or delete the
difference (``manage_replicas``), then write the status the kubelet's work implies. The counts
come from running tallies fed by the pod watch (``podtally.py``), so a sync costs O(1) unless
it deletes pods (then O(own pods · log)); the cluster's other pods are never scanned.

- Active pods exclude Succeeded/Failed pods and pods with a deletionTimestamp: a terminating
  pod is replaced at once, while it is still shutting down.
- Creation goes in slow-start batches of 1, 2, 4, 8 … (``slow_start_batch``); the first batch
  with a failure (say the sandbox is full) stops the rest, with a ``FailedCreate`` event.
  At most 500 pods (``burstReplicas``) are created or deleted per sync.
- Deletion takes the lowest-ranked pods first (``podutil.pods_to_delete``): unscheduled,
  pending, not ready, crowded nodes, newest.
- Pods are claimed as upstream's ClaimPods does: an owned pod whose labels stop matching the
  selector is released (and replaced); an orphan pod whose labels match is adopted (and, if
  that makes one too many, a pod is deleted).
- Expectations and informer lag are instant in the simulator, so one sync sees its own writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from k8slearn.sim import apiserver
from k8slearn.sim.controllers import Controller, Obj, split_key
from k8slearn.sim.controllers import apps_validation as _apps_validation  # noqa: F401 (registers)
from k8slearn.sim.controllers.podtally import Tally, tallies
from k8slearn.sim.controllers.podutil import is_active, rank_victims
from k8slearn.sim.errors import ApiError
from k8slearn.sim.events import record_event
from k8slearn.sim.objects import match_label_selector, rfc3339
from k8slearn.sim.store import controller_uid

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

COMPONENT = "replicaset-controller"
BURST_REPLICAS = 500
SLOW_START_INITIAL_BATCH_SIZE = 1
RETRY_AFTER_ERROR_SECONDS = 10.0


def slow_start_batch(count: int, initial: int, fn: Callable[[], bool]) -> int:
    """slowStartBatch: call ``fn`` ``count`` times in batches of 1, 2, 4 … (each capped by what
    is left); stop after the first batch in which a call failed. Returns the successes.

    10 pods -> batches 1, 2, 4, 3. A quota error on pod 2 costs 3 calls, not 10.
    """
    remaining, successes = count, 0
    batch = min(remaining, initial)
    while batch > 0:
        ok = sum(1 for _ in range(batch) if fn())
        successes += ok
        if ok < batch:
            return successes
        remaining -= batch
        batch = min(2 * batch, remaining)
    return successes


def batch_sizes(count: int, initial: int = SLOW_START_INITIAL_BATCH_SIZE) -> list[int]:
    """The batch sizes slow_start_batch uses when nothing fails: 10 -> [1, 2, 4, 3]."""
    sizes: list[int] = []
    remaining, batch = count, min(count, initial)
    while batch > 0:
        sizes.append(batch)
        remaining -= batch
        batch = min(2 * batch, remaining)
    return sizes


def owner_key(obj: Obj, kind: str) -> str | None:
    """"ns/name" of the controlling owner of ``kind``, from ownerReferences."""
    for ref in obj["metadata"].get("ownerReferences") or ():
        if ref.get("controller") and ref.get("kind") == kind:
            return f"{obj['metadata'].get('namespace') or ''}/{ref['name']}"
    return None


def controller_ref(owner: Obj) -> Obj:
    """metav1.NewControllerRef."""
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"],
            "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}


def pod_from_template(rs: Obj) -> Obj:
    """GetPodFromTemplate: labels, annotations and spec from the template; generateName
    ``<rs>-``; an ownerReference to the ReplicaSet. (The API server deep-copies it.)"""
    template = rs["spec"]["template"]
    meta = template.get("metadata") or {}
    pod_meta: Obj = {"generateName": f"{rs['metadata']['name']}-",
                     "namespace": rs["metadata"].get("namespace")}
    if meta.get("labels"):
        pod_meta["labels"] = meta["labels"]
    if meta.get("annotations"):
        pod_meta["annotations"] = meta["annotations"]
    if meta.get("finalizers"):
        pod_meta["finalizers"] = meta["finalizers"]
    pod_meta["ownerReferences"] = [controller_ref(rs)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": template["spec"]}


class ReplicaSetController(Controller):
    name = "replicaset-controller"
    watches = ("ReplicaSet", "Pod")

    def keys_for(self, cluster: Cluster, kind: str, obj: Obj, deleted: bool) -> Iterable[str]:
        if kind == "ReplicaSet":
            return super().keys_for(cluster, kind, obj, deleted)
        tallies(cluster).pod_changed(cluster, obj, deleted)
        key = owner_key(obj, "ReplicaSet")  # a pod wakes its controlling ReplicaSet only
        if key:
            return (key,)
        if deleted or controller_uid(obj) is not None or not is_active(obj):
            return ()
        return _replicasets_selecting(cluster, obj)  # an orphan: who would adopt it?

    def reconcile(self, cluster: Cluster, key: str) -> float | None:
        ns, name = split_key(key)
        rs = cluster.store.get("ReplicaSet", ns, name)
        if rs is None:
            return None  # deleted: the garbage collector takes its pods
        tally = tallies(cluster).tally_for(cluster, rs)
        if tally.mismatched:
            release_pods(cluster, rs)
        adopt_orphans(cluster, rs)
        error = manage_replicas(cluster, rs, tally)
        update_status(cluster, rs, calculate_status(cluster, rs, tally, error))
        if error is None:
            return requeue_for_availability(cluster, key, rs, tally)
        # Kubernetes retries a failed sync with exponential back-off; a fixed pause will do.
        return requeue_once(cluster, COMPONENT, key, RETRY_AFTER_ERROR_SECONDS)


def _replicasets_selecting(cluster: Cluster, pod: Obj) -> list[str]:
    labels = pod["metadata"].get("labels") or {}
    ns = pod["metadata"].get("namespace")
    return [f"{ns or ''}/{rs['metadata']['name']}" for rs in cluster.store.list("ReplicaSet", ns)
            if match_label_selector(rs["spec"].get("selector"), labels)]


def adopt_orphans(cluster: Cluster, rs: Obj) -> None:
    """ClaimPods, adopt half: an active pod with no controller whose labels match the selector
    becomes this ReplicaSet's (then counts toward spec.replicas: a surplus pod is deleted)."""
    selector = rs["spec"]["selector"]
    for key in tallies(cluster).orphans_for(cluster, rs):
        pod = cluster.store.get("Pod", *split_key(key))
        if pod is None or not is_active(pod) or controller_uid(pod) is not None:
            continue
        if not match_label_selector(selector, pod["metadata"].get("labels") or {}):
            continue
        pod["metadata"].setdefault("ownerReferences", []).append(controller_ref(rs))
        cluster.store.update(pod)


def release_pods(cluster: Cluster, rs: Obj) -> None:
    """ClaimPods, release half: a pod whose labels no longer match the selector loses its
    ownerReference (a replacement follows)."""
    selector = rs["spec"]["selector"]
    uid = rs["metadata"]["uid"]
    for pod in cluster.store.pods_owned_by(uid):
        if not is_active(pod) or match_label_selector(selector,
                                                      pod["metadata"].get("labels") or {}):
            continue
        refs = pod["metadata"].get("ownerReferences") or []
        pod["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
        if not pod["metadata"]["ownerReferences"]:
            del pod["metadata"]["ownerReferences"]
        cluster.store.update(pod)


def manage_replicas(cluster: Cluster, rs: Obj, tally: Tally) -> str | None:
    """Create or delete pods so that len(active pods) == spec.replicas. Returns an error text."""
    diff = tally.active - rs["spec"].get("replicas", 1)
    if diff < 0:
        return create_pods(cluster, rs, min(-diff, BURST_REPLICAS))
    if diff > 0:
        return delete_pods(cluster, rs, tally, min(diff, BURST_REPLICAS))
    return None


def create_pods(cluster: Cluster, rs: Obj, count: int) -> str | None:
    errors: list[str] = []

    def create_one() -> bool:
        try:
            pod = apiserver.create(cluster, pod_from_template(rs))
        except ApiError as err:
            errors.append(err.message)
            record_event(cluster, rs, "Warning", "FailedCreate", f"Error creating: {err.message}",
                         COMPONENT)
            return False
        record_event(cluster, rs, "Normal", "SuccessfulCreate",
                     f"Created pod: {pod['metadata']['name']}", COMPONENT)
        return True

    slow_start_batch(count, SLOW_START_INITIAL_BATCH_SIZE, create_one)
    return errors[0] if errors else None


def related_node_counts(cluster: Cluster, rs: Obj, tally: Tally) -> dict[str, int]:
    """getPodsRankedByRelatedPodsOnSameNode: active pods per node over every ReplicaSet with
    the same controller (the whole Deployment), from their tallies."""
    owner = controller_uid(rs)
    if owner is None:
        return {}  # upstream finds no related pods for a ReplicaSet without a controller
    counts: dict[str, int] = {}
    book = tallies(cluster)
    for other in cluster.store.list("ReplicaSet", rs["metadata"].get("namespace")):
        if controller_uid(other) == owner:
            sibling = tally if other is rs else book.tally_for(cluster, other)
            for node, n in sibling.nodes.items():
                counts[node] = counts.get(node, 0) + n
    return counts


def delete_pods(cluster: Cluster, rs: Obj, tally: Tally, diff: int) -> str | None:
    candidates = tally.candidates()
    on_node = related_node_counts(cluster, rs, tally) if diff < len(candidates) else {}
    error = None
    for key in rank_victims(candidates, on_node, diff, cluster.now):
        ns, name = split_key(key)
        try:
            apiserver.delete(cluster, "Pod", ns, name)
        except ApiError as err:
            if err.reason != "NotFound":
                error = error or err.message
                record_event(cluster, rs, "Warning", "FailedDelete",
                             f"Error deleting: {err.message}", COMPONENT)
            continue
        record_event(cluster, rs, "Normal", "SuccessfulDelete", f"Deleted pod: {name}",
                     COMPONENT)
    return error


def calculate_status(cluster: Cluster, rs: Obj, tally: Tally, error: str | None) -> Obj:
    """calculateStatus: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas.

    Creates and deletes are observed at once here (no expectations, no informer lag), so the
    counts already include what this sync did. Zero counts are left out, as the API's omitempty
    JSON does (``replicas`` is always there).
    """
    min_ready = rs["spec"].get("minReadySeconds", 0)
    available = tally.ready
    if min_ready:
        # IsPodAvailable: ready for *more than* minReadySeconds (Ready since 10, 5 s -> t > 15).
        now = cluster.now
        available = sum(1 for since in tally.ready_since.values() if since + min_ready < now)
    status: Obj = {"replicas": tally.active}
    for field, value in (("fullyLabeledReplicas", tally.labeled), ("readyReplicas", tally.ready),
                         ("availableReplicas", available)):
        if value:
            status[field] = value
    status["observedGeneration"] = rs["metadata"].get("generation", 1)
    conditions = _failure_conditions(cluster, rs, tally.active, error)
    if conditions:
        status["conditions"] = conditions
    return status


def _failure_conditions(cluster: Cluster, rs: Obj, n_active: int,
                        error: str | None) -> list[Obj]:
    """ReplicaFailure=True while creating or deleting fails; removed once a sync succeeds."""
    current = list((rs.get("status") or {}).get("conditions") or ())
    failure = next((c for c in current if c.get("type") == "ReplicaFailure"), None)
    if error is not None and failure is None:
        diff = n_active - rs["spec"].get("replicas", 1)
        reason = "FailedCreate" if diff < 0 else "FailedDelete" if diff > 0 else ""
        return [*current, {"type": "ReplicaFailure", "status": "True",
                           "lastTransitionTime": rfc3339(cluster.now), "reason": reason,
                           "message": error}]
    if error is None and failure is not None:
        return [c for c in current if c.get("type") != "ReplicaFailure"]
    return current


def update_status(cluster: Cluster, rs: Obj, status: Obj) -> None:
    """updateReplicaSetStatus: write only when something changed."""
    if rs.get("status") == status:
        return
    rs["status"] = status
    cluster.store.update(rs)


def requeue_for_availability(cluster: Cluster, key: str, rs: Obj, tally: Tally) -> float | None:
    """With minReadySeconds, wake up when the next ready pod becomes available.

    Kubernetes requeues after minReadySeconds (+1 s from the pod handler); the simulator knows
    the exact moment: Ready since t=10, minReadySeconds 5 -> available just after t=15.
    """
    min_ready = rs["spec"].get("minReadySeconds", 0)
    if not min_ready:
        return None
    now = cluster.now
    due = [since + min_ready for since in tally.ready_since.values()
           if not since + min_ready < now]
    if not due:
        return None
    return requeue_once(cluster, COMPONENT, key, min(due) + 0.001 - now)


def requeue_once(cluster: Cluster, controller: str, key: str, after: float) -> float | None:
    """Return ``after`` unless an earlier (or equal) requeue of ``key`` is already pending, so
    a busy object does not pile up timers. Remembered in cluster.state (snapshot-safe)."""
    due_ms = cluster.clock.now_ms + max(1, int(round(after * 1000)))
    pending: dict[str, int] = cluster.state.setdefault("requeue_due", {}).setdefault(controller, {})
    known = pending.get(key)
    if known is not None and cluster.clock.now_ms < known <= due_ms:
        return None
    if len(pending) > 256:  # forget requeues that have already fired
        for stale in [k for k, due in pending.items() if due <= cluster.clock.now_ms]:
            del pending[stale]
    pending[key] = due_ms
    return (due_ms - cluster.clock.now_ms) / 1000

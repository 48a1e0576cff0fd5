"""Node lifecycle: heartbeats, NotReady, taints, and evicting the pods of a dead node.

Heartbeats are *lazy*. A real kubelet posts node status every 10 s; simulating that would cost
a timer per node every 10 s for nothing. Instead a live node's last heartbeat is derived
(``last_heartbeat``: the latest 10 s tick since the node joined), and only a failure costs
anything. ``fail_node`` records the time and schedules one timer at
failure + ``node_monitor_grace_period`` (40 s). When it fires, as the node lifecycle controller
would after 40 s without a heartbeat (sections 4.1, 4.2):

1. Ready/MemoryPressure/DiskPressure/PIDPressure become Unknown, reason NodeStatusUnknown,
   "Kubelet stopped posting node status."; event NodeNotReady on the node.
2. Taints ``node.kubernetes.io/unreachable`` NoSchedule (the scheduler stops using the node) and
   NoExecute (the taint eviction controller starts counting).
3. MarkPodsNotReady: every pod there gets Ready=False (so Services drop it at once) and a
   Warning NodeNotReady "Node is not ready". The ReplicaSet does not replace them yet.
4. Each pod is evicted when its toleration of the NoExecute taint runs out – 300 s with the
   default tolerations, so a Deployment's replacement appears about 40 + 300 = 340 s after the
   power cut: TaintManagerEviction "Marking for deletion Pod default/x", then a graceful delete.
   The kubelet is dead, so the pod stays Terminating on the node.

``recover_node`` undoes it: Ready again (event NodeReady), taints removed, pending evictions
cancelled ("Cancelling deletion of Pod …"), and the kubelet resumes and finishes the pending
deletions. A node that comes back within the grace period leaves no trace except its pods'
timers catching up.

Also the PodGC part: pods bound to a Node object that was deleted are removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from k8slearn.sim import apiserver
from k8slearn.sim.controllers import Controller
from k8slearn.sim.errors import not_found
from k8slearn.sim.events import record_event
from k8slearn.sim.objects import get_condition, parse_rfc3339, rfc3339
from k8slearn.sim.pods import UNREACHABLE_TAINT, toleration_seconds
from k8slearn.sim.store import key_of
from k8slearn.sim.timers import timer

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
COMPONENT = "node-controller"
EVICTION_COMPONENT = "taint-eviction-controller"
HEARTBEAT_PERIOD = 10  # nodeStatusUpdateFrequency
# Defaults kept for reference (k8s-vectors.json "defaults.node_lifecycle"); the toy uses
# cluster.settings["node_monitor_grace_period"] (40 s, the default up to v1.31) and nodes are
# Ready the moment they join, so the start-up grace period and the Lease never matter here.
NODE_MONITOR_GRACE_PERIOD_V1_32 = 50
NODE_STARTUP_GRACE_PERIOD = 60
NODE_LEASE_DURATION = 40
FOREVER = -1  # an "eviction" entry for a pod that tolerates the taint without a time limit
HEALTHY = {
    "Ready": ("True", "KubeletReady", "kubelet is posting ready status"),
    "MemoryPressure": ("False", "KubeletHasSufficientMemory",
                       "kubelet has sufficient memory available"),
    "DiskPressure": ("False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    "PIDPressure": ("False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
}


def _state(cluster: Cluster) -> Obj:
    st = cluster.state.get("nodelifecycle")
    if st is None:
        st = cluster.state["nodelifecycle"] = {"down": {}, "epoch": {}, "evictions": {},
                                               "gen": 0}
    return st


def node_alive(cluster: Cluster, name: str) -> bool:
    """True if the node exists and its kubelet is running."""
    st = cluster.state.get("nodelifecycle")
    if st is not None and name in st["down"]:
        return False
    return cluster.store.get("Node", None, name) is not None


def node_epoch(cluster: Cluster, name: str) -> int:
    """Bumped each time the node recovers (the kubelet re-syncs its pods)."""
    st = cluster.state.get("nodelifecycle")
    return int(st["epoch"].get(name, 0)) if st is not None else 0


def last_heartbeat(cluster: Cluster, name: str) -> float:
    """Virtual time of the node's latest status post: a 10 s tick since it joined, or the
    last tick before it failed."""
    node = cluster.store.get("Node", None, name)
    if node is None:
        raise not_found("nodes", name)
    joined = parse_rfc3339(node["metadata"]["creationTimestamp"])
    down = _state(cluster)["down"].get(name)
    upto = down["since"] / 1000 if down else cluster.now
    return joined + (upto - joined) // HEARTBEAT_PERIOD * HEARTBEAT_PERIOD


def fail_node(cluster: Cluster, name: str) -> None:
    """The node stops heart-beating; its containers 'keep running' but nothing updates."""
    if cluster.store.get("Node", None, name) is None:
        raise not_found("nodes", name)
    st = _state(cluster)
    if name in st["down"]:
        return
    st["gen"] += 1
    st["down"][name] = {"since": cluster.clock.now_ms, "gen": st["gen"], "marked": False}
    grace = cluster.settings.get("node_monitor_grace_period", 40)
    cluster.clock.call_later(grace, "nodelifecycle.grace", [name, st["gen"]])


@timer("nodelifecycle.grace")
def _on_grace_expired(cluster: Cluster, name: str, gen: int) -> None:
    st = _state(cluster)
    down = st["down"].get(name)
    node = cluster.store.get("Node", None, name)
    if down is None or down["gen"] != gen or down["marked"] or node is None:
        return
    down["marked"] = True
    beat = rfc3339(last_heartbeat(cluster, name))
    now = rfc3339(cluster.now)
    for cond in node["status"]["conditions"]:
        if cond["type"] in HEALTHY:
            cond.update(status="Unknown", reason="NodeStatusUnknown",
                        message="Kubelet stopped posting node status.", lastHeartbeatTime=beat,
                        lastTransitionTime=now)
    taints = node["spec"].setdefault("taints", [])
    taints.append({"key": UNREACHABLE_TAINT, "effect": "NoSchedule", "timeAdded": now})
    no_execute = {"key": UNREACHABLE_TAINT, "effect": "NoExecute", "timeAdded": now}
    taints.append(no_execute)
    cluster.store.update(node)
    record_event(cluster, node, "Normal", "NodeNotReady",
                 f"Node {name} status is now: NodeNotReady", COMPONENT)
    for pod in cluster.store.pods_on_node(name):
        _mark_pod_not_ready(cluster, pod)
        _schedule_eviction(cluster, pod, name, no_execute, gen)


def _schedule_eviction(cluster: Cluster, pod: Obj, node_name: str, taint: Obj, gen: int) -> None:
    """The taint eviction controller: delete the pod when its toleration of ``taint`` runs out
    (300 s with the default tolerations; never if it tolerates the taint without a time)."""
    st = _state(cluster)
    uid = pod["metadata"]["uid"]
    if pod["metadata"].get("deletionTimestamp") or uid in st["evictions"]:
        return
    secs = toleration_seconds(pod["spec"].get("tolerations") or [], taint)
    if secs is None:
        st["evictions"][uid] = FOREVER  # tolerates the taint forever: nothing to do
        return
    # processPodOnNode: the clock starts when the controller sees the pod on the tainted node
    # (the taint's arrival for pods already there, the pod's arrival for later ones).
    st["evictions"][uid] = gen
    cluster.clock.call_later(secs, "nodelifecycle.evict",
                             [uid, key_of(pod["metadata"].get("namespace"),
                                          pod["metadata"]["name"]), node_name, gen])


def _mark_pod_not_ready(cluster: Cluster, pod: Obj) -> None:
    """MarkPodsNotReady: Ready=False on the pod (its containers' ready flags too, so READY
    shows 0/1), plus the Warning event."""
    ready = get_condition(pod, "Ready")
    changed = False
    if ready is not None and ready.get("status") != "False":
        ready["status"] = "False"
        ready["lastTransitionTime"] = rfc3339(cluster.now)
        changed = True
    for cs in pod.get("status", {}).get("containerStatuses") or ():
        if cs.get("ready"):
            cs["ready"] = False
            changed = True
    if changed:
        cluster.store.update(pod)
    record_event(cluster, pod, "Warning", "NodeNotReady", "Node is not ready", COMPONENT)


@timer("nodelifecycle.evict")
def _on_evict(cluster: Cluster, uid: str, key: str, node_name: str, gen: int) -> None:
    st = _state(cluster)
    if st["evictions"].get(uid) != gen:
        return
    del st["evictions"][uid]
    down = st["down"].get(node_name)
    if down is None or down["gen"] != gen:
        return
    ns, _, name = key.partition("/")
    pod = cluster.store.get("Pod", ns or None, name)
    if pod is None or pod["metadata"]["uid"] != uid or pod["metadata"].get("deletionTimestamp"):
        return
    record_event(cluster, pod, "Normal", "TaintManagerEviction",
                 f"Marking for deletion Pod {ns}/{name}", EVICTION_COMPONENT)
    apiserver.delete(cluster, "Pod", ns or None, name)


def recover_node(cluster: Cluster, name: str) -> None:
    """The kubelet posts status again: Ready, untainted, pending evictions cancelled."""
    node = cluster.store.get("Node", None, name)
    if node is None:
        raise not_found("nodes", name)
    st = _state(cluster)
    down = st["down"].pop(name, None)
    if down is None:
        return
    st["epoch"][name] = st["epoch"].get(name, 0) + 1
    if down["marked"]:
        now = rfc3339(cluster.now)
        for cond in node["status"]["conditions"]:
            if cond["type"] in HEALTHY:
                status, reason, message = HEALTHY[cond["type"]]
                cond.update(status=status, reason=reason, message=message,
                            lastHeartbeatTime=now, lastTransitionTime=now)
        taints = [t for t in node["spec"].get("taints") or () if t.get("key") != UNREACHABLE_TAINT]
        if taints:
            node["spec"]["taints"] = taints
        else:
            node["spec"].pop("taints", None)
        cluster.store.update(node)
        record_event(cluster, node, "Normal", "NodeReady",
                     f"Node {name} status is now: NodeReady", COMPONENT)
    queue = cluster.queues.get("kubelet")
    for pod in cluster.store.pods_on_node(name):
        meta = pod["metadata"]
        if st["evictions"].pop(meta["uid"], FOREVER) != FOREVER:
            record_event(cluster, pod, "Normal", "TaintManagerEviction",
                         f"Cancelling deletion of Pod {meta.get('namespace')}/{meta['name']}",
                         EVICTION_COMPONENT)
        if queue is not None:
            queue[key_of(meta.get("namespace"), meta["name"])] = None


class NodeLifecycleController(Controller):
    """PodGC for deleted nodes, and taint eviction for pods that arrive on a node already
    tainted; the rest of node lifecycle is timer-driven (see above)."""

    name = "node-controller"
    watches = ("Node", "Pod")

    def keys_for(self, cluster: Cluster, kind: str, obj: Obj, deleted: bool) -> Iterable[str]:
        meta = obj["metadata"]
        if kind == "Node":
            return (meta["name"],) if deleted else ()
        st = cluster.state.get("nodelifecycle")
        node = obj["spec"].get("nodeName")
        if deleted or st is None or not node or meta.get("deletionTimestamp"):
            return ()
        down = st["down"].get(node)
        if down is None or not down["marked"] or meta.get("uid") in st["evictions"]:
            return ()
        return ("pod:" + key_of(meta.get("namespace"), meta["name"]),)

    def reconcile(self, cluster: Cluster, key: str) -> float | None:
        if key.startswith("pod:"):
            ns, _, name = key[4:].partition("/")
            pod = cluster.store.get("Pod", ns or None, name)
            node_name = pod["spec"].get("nodeName") if pod else None
            down = _state(cluster)["down"].get(node_name or "")
            node = cluster.store.get("Node", None, node_name or "")
            if pod is None or down is None or not down["marked"] or node is None:
                return None
            taint = next((t for t in node["spec"].get("taints") or ()
                          if t.get("key") == UNREACHABLE_TAINT and t.get("effect") == "NoExecute"),
                         None)
            if taint is not None:
                _schedule_eviction(cluster, pod, node_name or "", taint, down["gen"])
            return None
        if cluster.store.get("Node", None, key) is not None:
            return None
        st = _state(cluster)
        st["down"].pop(key, None)
        for pod in cluster.store.pods_on_node(key):
            meta = pod["metadata"]
            cluster.store.remove("Pod", meta.get("namespace"), meta["name"])
        return None

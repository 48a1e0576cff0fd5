"""The kubelet: runs the pods bound to live nodes, one simulated container at a time.

Theory of operation. A pod bound to a node is *admitted* (``sync_pod``): it gets an IP from
the node's podCIDR, its volumes are mounted, and each container is brought up:
pull image → resolve env → Created → Started. Everything that takes time is a timer
(``kubelet.container`` / ``kubelet.pod``) carrying a generation number; an action that is
overtaken (the container restarted, the pod was deleted) bumps the generation, so the old timer
finds a different number and does nothing. Nothing runs for an idle pod: a pod without probes
whose containers run forever costs nothing per ``advance``.

Restarts follow ``kuberuntime_manager.go doBackOff`` exactly (section 3.3): the first exit
restarts at once with a 10 s back-off entry; later exits wait 10, 20, 40 … 300 s in
``CrashLoopBackOff``; an entry older than 2 × 300 s (the container ran > 10 min) is forgotten.
Image pulls that fail back off the same way (ErrImagePull ↔ ImagePullBackOff).

Termination (section 3.5): on ``deletionTimestamp`` the kubelet says Killing "Stopping container
app"; a server exits about 1 s later, a shell or ``sleep`` (which ignore SIGTERM as PID 1) at the
end of the grace period; then the pod object is removed from the store.

A node that is down (``nodelifecycle.fail_node``) freezes: timers for its pods do nothing, nothing
is updated, and deletions wait. When it comes back every pod is re-synced (``_rearm``).

State: ``cluster.state["kubelet"]`` = ``{"pods": {uid: pod record}, "images": {node: {image:
ready_ms}}, "ipam": {node: {"next": n, "used": {ip: uid}}}, "faults": {uid: {fault: true}},
"keys": {"ns/name": uid}, "refs": {"ConfigMap/ns/name": {uid: null}}}`` – all JSON-native.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from k8slearn.sim import images, nodelifecycle, podfiles, podstatus, probes
from k8slearn.sim.containers import (
    CONFIG_RETRY,
    _container_action,
    _event,
    _pull_backoff,
    _pull_failed,
    _pulled,
    _restart,
    container_exited,
    in_backoff,
    next_backoff,
    start_container,
    start_next,
    sync_spec_changes,
)
from k8slearn.sim.controllers import Controller, split_key
from k8slearn.sim.errors import ApiError, SimError, not_found
from k8slearn.sim.events import record_event
from k8slearn.sim.objects import parse_rfc3339, parse_selector, selector_matches
from k8slearn.sim.podlogs import append_log, container_logs, usage
from k8slearn.sim.podstatus import RUNNING, faults_of, kstate, new_container_record, pod_record
from k8slearn.sim.store import key_of
from k8slearn.sim.timers import timer

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

__all__ = ["Kubelet", "append_log", "container_exited", "container_logs", "faults_of",
           "in_backoff", "kill_container", "next_backoff", "node_images", "read_file",
           "set_fault", "usage", "write_file"]
write_file = podfiles.write_file
read_file = podfiles.read_file

Obj = dict[str, Any]
COMPONENT = "kubelet"
CLAIM_RETRY = 2
STOP_MS = 1000  # a server's graceful shutdown after SIGTERM
VOLUME_REFRESH = 60  # configMap/secret volume update delay (sync period + cache TTL)
FAULTS = ("liveness", "readiness", "crash")


class Kubelet(Controller):
    name = "kubelet"
    watches = ("Pod", "Node", "ConfigMap", "Secret")

    def keys_for(self, cluster: Cluster, kind: str, obj: Obj, deleted: bool) -> Iterable[str]:
        meta = obj["metadata"]
        if kind == "Pod":
            if not obj["spec"].get("nodeName"):
                return ()
            prec = kstate(cluster)["pods"].get(meta.get("uid", ""))
            if prec is not None and not deleted and prec.get("rv") == meta.get("resourceVersion"):
                return ()  # our own status write
            return (key_of(meta.get("namespace"), meta["name"]),)
        if kind == "Node":
            if deleted or not nodelifecycle.node_alive(cluster, meta["name"]):
                return ()
            return [key_of(p["metadata"].get("namespace"), p["metadata"]["name"])
                    for p in cluster.store.pods_on_node(meta["name"])]
        return (f"~{kind}/{meta.get('namespace')}/{meta['name']}",)

    def reconcile(self, cluster: Cluster, key: str) -> float | None:
        st = kstate(cluster)
        if key.startswith("~"):
            _schedule_refresh(cluster, key[1:])
            return None
        ns, name = split_key(key)
        pod = cluster.store.get("Pod", ns, name)
        old_uid = st["keys"].get(key)
        if old_uid is not None and (pod is None or pod["metadata"]["uid"] != old_uid):
            _forget(cluster, old_uid)
        if pod is None or not pod["spec"].get("nodeName"):
            return None
        node = pod["spec"]["nodeName"]
        if not nodelifecycle.node_alive(cluster, node):
            return None
        prec = st["pods"].get(pod["metadata"]["uid"])
        if prec is None:
            if pod["metadata"].get("deletionTimestamp"):
                cluster.store.remove("Pod", ns, name)  # never started: nothing to stop
                return None
            prec = _admit(cluster, pod, key)
        elif prec["epoch"] != nodelifecycle.node_epoch(cluster, node):
            _rearm(cluster, prec)
        if pod["metadata"].get("deletionTimestamp") and not prec["terminating"]:
            _begin_termination(cluster, pod, prec)
            return None
        if not prec["terminating"]:
            sync_spec_changes(cluster, pod, prec)
        podstatus.render(cluster, pod, prec)
        return None


# -- admission and start-up -----------------------------------------------------------------
def _allocate_ip(cluster: Cluster, node: Obj, uid: str) -> str:
    """host-local IPAM: the next free address of the node's /24 after the last one given out
    (10.244.1.2, .3, … .254, then wrap around), skipping addresses still in use."""
    st = kstate(cluster)["ipam"].setdefault(node["metadata"]["name"], {"next": 2, "used": {}})
    cidr = (node.get("spec") or {}).get("podCIDR") or "10.244.0.0/24"
    base = cidr.split("/")[0].rsplit(".", 1)[0]
    for i in range(253):
        host = (st["next"] - 2 + i) % 253 + 2
        ip = f"{base}.{host}"
        if ip not in st["used"]:
            st["used"][ip] = uid
            st["next"] = host + 1
            return ip
    raise SimError(f"node {node['metadata']['name']} has no free pod IPs")


def _admit(cluster: Cluster, pod: Obj, key: str) -> Obj:
    st = kstate(cluster)
    uid = pod["metadata"]["uid"]
    node_name = pod["spec"]["nodeName"]
    node = cluster.store.get("Node", None, node_name) or {"metadata": {"name": node_name}}
    addrs = node.get("status", {}).get("addresses") or []
    prec: Obj = {
        "uid": uid, "key": key, "node": node_name, "ip": None,
        "host_ip": next((a["address"] for a in addrs if a.get("type") == "InternalIP"), None),
        "start_ms": cluster.clock.now_ms, "gen": 0, "next": None, "terminating": False,
        "epoch": nodelifecycle.node_epoch(cluster, node_name), "rv": None, "mounts": {},
        "refs": [], "containers": {c["name"]: new_container_record()
                                   for c in pod["spec"].get("containers") or ()},
        "init": [c["name"] for c in pod["spec"].get("initContainers") or ()],
    }
    for name in prec["init"]:
        prec["containers"][name] = new_container_record()
    if prec["init"]:
        for c in pod["spec"].get("containers") or ():
            prec["containers"][c["name"]]["reason"] = "PodInitializing"
    st["pods"][uid] = prec
    st["keys"][key] = uid
    prec["ip"] = _allocate_ip(cluster, node, uid)
    _setup_volumes(cluster, pod, prec)  # (the caller writes the status once afterwards)
    return prec


def _setup_volumes(cluster: Cluster, pod: Obj, prec: Obj) -> None:
    failed, wait_claim = podfiles.mount_volumes(cluster, pod, prec)
    if failed:
        record_event(cluster, pod, "Warning", "FailedMount", failed, COMPONENT,
                     host=prec["node"])
        _pod_action(cluster, prec, CONFIG_RETRY, "mount")
        return
    if wait_claim:
        _pod_action(cluster, prec, CLAIM_RETRY, "mount")
        return
    start_next(cluster, pod, prec)


def _pod_action(cluster: Cluster, prec: Obj, seconds: float, action: str) -> None:
    prec["gen"] += 1
    due = cluster.clock.now_ms + int(round(seconds * 1000))
    prec["next"] = [due, action]
    cluster.clock.call_at_ms(due, "kubelet.pod", [prec["uid"], prec["gen"]])


# -- termination ------------------------------------------------------------------------------
def _begin_termination(cluster: Cluster, pod: Obj, prec: Obj) -> None:
    prec["terminating"] = True
    now = cluster.clock.now_ms
    # SIGKILL comes at deletionTimestamp (set to "now + grace" by the API server; a node that
    # was down when the pod was deleted is usually past it and kills at once).
    deadline = max(now, int(parse_rfc3339(pod["metadata"]["deletionTimestamp"]) * 1000))
    stop_at = now
    for name, rec in prec["containers"].items():
        rec["gen"] += 1
        rec["next"] = None
        probes.stop_probes(rec)
        if rec["state"] != RUNNING:
            continue
        _event(cluster, pod, prec, "Normal", "Killing", f"Stopping container {name}", name)
        prog = rec.get("prog") or {}
        t = min(now + STOP_MS, deadline) if prog.get("sigterm", True) else deadline
        stop_at = max(stop_at, t)
    if stop_at <= now:
        _finish_termination(cluster, pod, prec)
        return
    _pod_action(cluster, prec, (stop_at - now) / 1000, "stopped")


def _finish_termination(cluster: Cluster, pod: Obj, prec: Obj) -> None:
    meta = pod["metadata"]
    cluster.store.remove("Pod", meta.get("namespace"), meta["name"])


def _forget(cluster: Cluster, uid: str) -> None:
    """The pod object is gone: free its IP and forget its records."""
    st = kstate(cluster)
    prec = st["pods"].pop(uid, None)
    st["faults"].pop(uid, None)
    if prec is None:
        return
    if st["keys"].get(prec["key"]) == uid:
        del st["keys"][prec["key"]]
    ipam = st["ipam"].get(prec["node"])
    if ipam and prec.get("ip"):
        ipam["used"].pop(prec["ip"], None)
    podfiles.release_refs(cluster, prec)


def _rearm(cluster: Cluster, prec: Obj) -> None:
    """After the node came back: re-schedule whatever was due while it was down."""
    prec["epoch"] = nodelifecycle.node_epoch(cluster, prec["node"])
    now = cluster.clock.now_ms
    if prec.get("next"):
        due, action = prec["next"]
        _pod_action(cluster, prec, max(0, due - now) / 1000, action)
    for name, rec in prec["containers"].items():
        if rec.get("next"):
            due, action, arg = rec["next"]
            _container_action(cluster, prec, name, max(0, due - now) / 1000, action, arg)
        if rec["state"] == RUNNING:
            probes.rearm(cluster, prec, name)


# -- timers -----------------------------------------------------------------------------------
def _live_pod(cluster: Cluster, uid: str) -> tuple[Obj, Obj] | None:
    prec = pod_record(cluster, uid)
    if prec is None or not nodelifecycle.node_alive(cluster, prec["node"]):
        return None
    ns, name = split_key(prec["key"])
    pod = cluster.store.get("Pod", ns, name)
    if pod is None or pod["metadata"]["uid"] != uid:
        return None
    return pod, prec


@timer("kubelet.container")
def _on_container_timer(cluster: Cluster, uid: str, name: str, gen: int) -> None:
    found = _live_pod(cluster, uid)
    if found is None:
        return
    pod, prec = found
    rec = prec["containers"].get(name)
    if rec is None or rec["gen"] != gen or not rec.get("next") or prec["terminating"]:
        return
    _due, action, arg = rec["next"]
    rec["next"] = None
    if action == "pulled":
        _pulled(cluster, pod, prec, name, arg)
    elif action == "pull-failed":
        _pull_failed(cluster, pod, prec, name, arg)
    elif action == "pull-backoff":
        _pull_backoff(cluster, pod, prec, name)
    elif action == "pull-retry":
        start_container(cluster, pod, prec, name)
    elif action == "start":
        start_container(cluster, pod, prec, name, restart=rec["ever_ran"])
    elif action == "exit":
        container_exited(cluster, pod, prec, name, arg[0], arg[1])
    elif action == "restart":
        finished = int(round(rec["exit"][3] * 1000))
        rec["backoff"] = next_backoff(rec["backoff"], finished)
        _restart(cluster, pod, prec, name)
    podstatus.render(cluster, pod, prec)


@timer("kubelet.pod")
def _on_pod_timer(cluster: Cluster, uid: str, gen: int) -> None:
    found = _live_pod(cluster, uid)
    if found is None:
        return
    pod, prec = found
    if prec["gen"] != gen or not prec.get("next"):
        return
    _due, action = prec["next"]
    prec["next"] = None
    if action == "stopped":
        _finish_termination(cluster, pod, prec)
        return
    if action == "mount" and not prec["terminating"]:
        _setup_volumes(cluster, pod, prec)
        podstatus.render(cluster, pod, prec)


def _schedule_refresh(cluster: Cluster, ref: str) -> None:
    # A ConfigMap/Secret changed: mounted copies are rewritten ~60 s later; a pod waiting on
    # it (FailedMount) retries at its next sync anyway.
    for uid in list(kstate(cluster).get("refs", {}).get(ref, {})):
        cluster.clock.call_later(VOLUME_REFRESH, "kubelet.refresh", [uid])


@timer("kubelet.refresh")
def _on_refresh(cluster: Cluster, uid: str) -> None:
    found = _live_pod(cluster, uid)
    if found is not None:
        podfiles.refresh_mounts(cluster, found[0], found[1])


# -- chaos --------------------------------------------------------------------------------------
def _find_pod(cluster: Cluster, name: str, namespace: str) -> Obj:
    pod = cluster.store.get("Pod", namespace, name)
    if pod is None:
        raise not_found("pods", name)
    return pod


def kill_container(cluster: Cluster, pod: str, container: str | None, namespace: str) -> None:
    """The container's main process is killed (exit 137, reason Error); the kubelet then
    restarts it per restartPolicy, with back-off. Raises SimError if it is not running."""
    obj = _find_pod(cluster, pod, namespace)
    prec = pod_record(cluster, obj["metadata"]["uid"])
    if prec is None:
        raise SimError(f"pod {pod!r} has no running containers")
    name = container or next(iter(prec["containers"]))
    if name not in prec["containers"]:
        raise ApiError("BadRequest", f"container {name} is not valid for pod {pod}", 400)
    if not nodelifecycle.node_alive(cluster, prec["node"]):
        raise SimError(f"node {prec['node']} is down")
    container_exited(cluster, obj, prec, name, 137, "Error")
    podstatus.render(cluster, obj, prec)


def set_fault(cluster: Cluster, target: str, fault: str, on: bool, namespace: str) -> None:
    """Turn an app-level fault on or off for a pod (by name) or the pods a selector matches."""
    if fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}; choose one of {', '.join(FAULTS)}")
    pod = cluster.store.get("Pod", namespace, target)
    if pod is not None:
        pods = [pod]
    else:
        if not any(ch in target for ch in "=!("):
            raise not_found("pods", target)
        try:
            reqs = parse_selector(target)
        except ValueError as err:
            raise not_found("pods", target) from err
        pods = [p for p in cluster.store.list("Pod", namespace)
                if selector_matches(reqs, p["metadata"].get("labels") or {})]
    faults = kstate(cluster)["faults"]
    for p in pods:
        uid = p["metadata"]["uid"]
        entry = faults.setdefault(uid, {})
        if on:
            entry[fault] = True
        else:
            entry.pop(fault, None)
            if not entry:
                del faults[uid]
        prec = pod_record(cluster, uid)
        if prec is None or not nodelifecycle.node_alive(cluster, prec["node"]):
            continue
        if fault == "crash" and on:
            for name, rec in prec["containers"].items():
                if rec["state"] == RUNNING and (rec.get("next") or [0, ""])[1] != "exit":
                    _container_action(cluster, prec, name, 1, "exit", [1, "Error"])


def node_images(cluster: Cluster, node: str) -> list[tuple[str, int]]:
    """Images pulled on ``node`` so far, as (reference, size in bytes), for ``describe node``."""
    out = []
    for full, ready in kstate(cluster)["images"].get(node, {}).items():
        if ready <= cluster.clock.now_ms:
            size, _err = images.lookup(images.parse(full))
            out.append((full, size or 0))
    return out

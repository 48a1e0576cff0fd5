"""The kubelet's view of a pod's containers, and how it becomes ``pod.status``.

Internal per-container records (``cluster.state["kubelet"]["pods"][uid]["containers"][name]``)
hold what a container runtime would know; ``render`` turns them into the API's ``status`` (phase,
conditions, containerStatuses) and writes the pod only when something visible changed.

Container states move only along ``CONTAINER_TRANSITIONS`` (the h11 style): a container is
*Waiting* (ContainerCreating, ErrImagePull, ImagePullBackOff, CrashLoopBackOff,
CreateContainerConfigError …), *Running*, or *Terminated* (exit code + reason). "wait" enters
or changes a waiting reason, "start" runs the process, "exit" ends it. Anything else – killing a
container that is not running, starting one twice – raises ``SimError`` and changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from k8slearn.sim.errors import SimError
from k8slearn.sim.objects import rfc3339

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
WAITING, RUNNING, TERMINATED = "Waiting", "Running", "Terminated"
CONTAINER_TRANSITIONS: dict[str, dict[str, str]] = {
    WAITING: {"wait": WAITING, "start": RUNNING},
    RUNNING: {"exit": TERMINATED},
    TERMINATED: {"wait": WAITING, "start": RUNNING},
}
CONDITION_ORDER = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                   "PodScheduled")


def new_container_record() -> Obj:
    return {"state": WAITING, "reason": "ContainerCreating", "message": None, "exit": None,
            "image": None,
            "last": None, "restarts": 0, "ready": False, "started": False, "started_ms": None,
            "cid": None, "image_id": None, "gen": 0, "next": None, "backoff": None,
            "pull_backoff": None, "prog": None, "env": {}, "probes": {}, "log": [],
            "prev_log": None, "ever_ran": False}


def transition(rec: Obj, event: str, name: str = "container") -> str:
    """Move ``rec`` along CONTAINER_TRANSITIONS; raises SimError (state unchanged) if illegal."""
    state = rec["state"]
    new = CONTAINER_TRANSITIONS[state].get(event)
    if new is None:
        raise SimError(f"container {name!r} cannot {event} while {state.lower()}")
    rec["state"] = new
    return new


def _container_status(spec_c: Obj, rec: Obj, init: bool = False) -> Obj:
    name = spec_c["name"]
    state: Obj
    if rec["state"] == RUNNING:
        state = {"running": {"startedAt": rfc3339(rec["started_ms"] / 1000)}}
    elif rec["state"] == TERMINATED:
        state = {"terminated": _terminated(rec["exit"], rec["cid"])}
    else:
        waiting = {"reason": rec["reason"]}
        if rec.get("message"):
            waiting["message"] = rec["message"]
        state = {"waiting": waiting}
    last = rec.get("last")
    cs: Obj = {
        "name": name,
        "state": state,
        "lastState": {"terminated": _terminated(last, last[4])} if last else {},
        # A completed init container reports ready: true.
        "ready": bool(rec["ready"] and (rec["state"] == RUNNING or init)),
        "restartCount": rec["restarts"],
        "image": spec_c.get("image", ""),
        "imageID": rec.get("image_id") or "",
        "started": bool(rec["state"] == RUNNING and rec["started"]),
    }
    if rec.get("cid"):
        cs["containerID"] = f"containerd://{rec['cid']}"
    return cs


def _terminated(info: list[Any], cid: str | None) -> Obj:
    code, reason, started, finished = info[0], info[1], info[2], info[3]
    out: Obj = {"exitCode": code, "reason": reason, "startedAt": rfc3339(started),
                "finishedAt": rfc3339(finished)}
    if cid:
        out["containerID"] = f"containerd://{cid}"
    return out


def compute_phase(recs: list[Obj], policy: str) -> str:
    """getPhase from kubelet_pods.go: waiting (never ran) → Pending; any running → Running; all
    stopped → Running (Always / OnFailure with failures, they restart) or Succeeded/Failed."""
    waiting = running = stopped = succeeded = 0
    for rec in recs:
        if rec["state"] == RUNNING:
            running += 1
        elif rec["state"] == TERMINATED:
            stopped += 1
            succeeded += rec["exit"][0] == 0
        elif rec.get("last"):
            stopped += 1  # waiting to restart after an exit
            succeeded += rec["last"][0] == 0
        else:
            waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if policy == "Always":
        return "Running"
    if policy == "OnFailure":
        return "Succeeded" if succeeded == stopped else "Running"
    return "Succeeded" if succeeded == stopped else "Failed"


def render(cluster: Cluster, pod: Obj, prec: Obj) -> bool:
    """Write the pod's status from the kubelet's records; True if the pod changed."""
    spec = pod["spec"]
    old = pod.get("status") or {}
    recs = prec["containers"]
    specs = [c for c in spec.get("containers") or () if c.get("name") in recs]
    init_specs = [c for c in spec.get("initContainers") or () if c.get("name") in recs]
    policy = spec.get("restartPolicy", "Always")
    incomplete = [c["name"] for c in init_specs if not (
        recs[c["name"]]["state"] == TERMINATED and recs[c["name"]]["exit"][0] == 0)]
    phase = old.get("phase")
    if phase not in ("Succeeded", "Failed"):  # terminal phases never change back
        terminated_all = all(recs[c["name"]]["state"] == TERMINATED for c in specs)
        phase = compute_phase([recs[c["name"]] for c in specs], policy)
        if phase in ("Succeeded", "Failed") and not terminated_all:
            phase = "Running"
        if policy == "Never" and any(recs[n]["state"] == TERMINATED for n in incomplete):
            phase = "Failed"  # an init container failed and will not be retried
    statuses = [_container_status(c, recs[c["name"]]) for c in specs]
    unready = [cs["name"] for cs in statuses if not cs["ready"]]
    now = cluster.now
    initialized: Obj = {"status": "True"}
    if incomplete:
        initialized = {"status": "False", "reason": "ContainersNotInitialized",
                       "message": f"containers with incomplete status: [{' '.join(incomplete)}]"}
    conds: dict[str, Obj] = {
        "PodReadyToStartContainers": {"status": "True" if prec.get("ip") else "False"},
        "Initialized": initialized,
        "PodScheduled": {"status": "True"},
    }
    if phase in ("Succeeded", "Failed"):
        ready = {"status": "False", "reason": "PodCompleted"}
    elif unready:
        ready = {"status": "False", "reason": "ContainersNotReady",
                 "message": f"containers with unready status: [{' '.join(unready)}]"}
    else:
        ready = {"status": "True"}
    conds["Ready"] = ready
    conds["ContainersReady"] = dict(ready)
    old_conds = {c["type"]: c for c in old.get("conditions") or ()}
    conditions = []
    for ctype in CONDITION_ORDER:
        c = conds[ctype]
        prev = old_conds.get(ctype)
        same = prev is not None and prev.get("status") == c["status"]
        entry: Obj = {"type": ctype, "status": c["status"]}
        if ctype != "PodReadyToStartContainers":
            entry["lastProbeTime"] = None
        entry["lastTransitionTime"] = prev["lastTransitionTime"] if same and prev else (
            rfc3339(now))
        for k in ("reason", "message"):
            if k in c:
                entry[k] = c[k]
        conditions.append(entry)
    status: Obj = {"phase": phase, "conditions": conditions}
    host_ip = prec.get("host_ip")
    if host_ip:
        status["hostIP"] = host_ip
        status["hostIPs"] = [{"ip": host_ip}]
    if prec.get("ip"):
        status["podIP"] = prec["ip"]
        status["podIPs"] = [{"ip": prec["ip"]}]
    if prec.get("start_ms") is not None:
        status["startTime"] = rfc3339(prec["start_ms"] / 1000)
    if init_specs:
        status["initContainerStatuses"] = [_container_status(c, recs[c["name"]], init=True)
                                           for c in init_specs]
    status["containerStatuses"] = statuses
    if "qosClass" in old:
        status["qosClass"] = old["qosClass"]
    if status == old:
        return False
    pod["status"] = status
    # The write notifies the kubelet itself; knowing the version it will carry lets keys_for
    # skip our own update instead of reconciling the pod once more for nothing.
    prec["rv"] = str(cluster.store.resource_version + 1)
    cluster.store.update(pod)
    return True


# -- the kubelet's tables (cluster.state["kubelet"]) ------------------------------------
def kstate(cluster: Cluster) -> Obj:
    st = cluster.state.get("kubelet")
    if st is None:
        st = cluster.state["kubelet"] = {"pods": {}, "images": {}, "ipam": {}, "faults": {},
                                         "keys": {}, "refs": {}}
    return st


def pod_record(cluster: Cluster, uid: str) -> Obj | None:
    return kstate(cluster)["pods"].get(uid)


def faults_of(cluster: Cluster, uid: str) -> dict[str, bool]:
    return dict(kstate(cluster)["faults"].get(uid, {}))

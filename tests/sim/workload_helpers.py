"""Deployment helpers for the cross-cutting tests (determinism, properties) and the bench.

They talk to the API server the way kubectl does (create, a full-object update, rollout undo as a
client-side template copy), so these tests do not depend on the kubectl front end.
"""

from __future__ import annotations

import contextlib
import copy
import math
from typing import Any

from hypothesis import strategies as st

from k8slearn.sim import ApiError, Cluster, SimError, apiserver

Obj = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"


def deployment_manifest(name: str, image: str, replicas: int,
                        max_surge: int | str = "25%", max_unavailable: int | str = "25%") -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": max_surge,
                                           "maxUnavailable": max_unavailable}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name.split("-")[0], "image": image}]},
            },
        },
    }


def create_deployment(c: Cluster, name: str, image: str, replicas: int, **kw: Any) -> Obj:
    return apiserver.create(c, deployment_manifest(name, image, replicas, **kw))


def _edit(c: Cluster, name: str) -> Obj:
    return copy.deepcopy(c.store.get("Deployment", "default", name))


def _update(c: Cluster, d: Obj) -> None:
    # Like kubectl, return with the controllers quiet: an update alone runs no controller.
    apiserver.update(c, d)
    c.advance(0)


def scale(c: Cluster, name: str, replicas: int) -> None:
    d = _edit(c, name)
    d["spec"]["replicas"] = replicas
    _update(c, d)


def set_image(c: Cluster, name: str, image: str) -> None:
    d = _edit(c, name)
    d["spec"]["template"]["spec"]["containers"][0]["image"] = image
    _update(c, d)


def replica_sets(c: Cluster, name: str) -> list[Obj]:
    d = c.store.get("Deployment", "default", name)
    if d is None:
        return []
    uid = d["metadata"]["uid"]
    return [rs for rs in c.store.iter("ReplicaSet")
            if any(r.get("uid") == uid for r in rs["metadata"].get("ownerReferences") or ())]


def deployment_pods(c: Cluster, name: str) -> list[Obj]:
    pods: list[Obj] = []
    for rs in replica_sets(c, name):
        pods += c.store.pods_owned_by(rs["metadata"]["uid"])
    return pods


def rollout_undo(c: Cluster, name: str) -> bool:
    """kubectl rollout undo: copy the previous revision's template into the Deployment."""
    sets = [rs for rs in replica_sets(c, name) if REVISION in (rs["metadata"].get("annotations")
                                                                or {})]
    if len(sets) < 2:
        return False
    sets.sort(key=lambda rs: int(rs["metadata"]["annotations"][REVISION]))
    target = copy.deepcopy(sets[-2]["spec"]["template"])
    target["metadata"].get("labels", {}).pop("pod-template-hash", None)
    d = _edit(c, name)
    d["spec"]["template"] = target
    _update(c, d)
    return True


def max_surge(d: Obj) -> int:
    """ResolveFenceposts' surge: a percentage rounds up (10 replicas, 25% -> 3)."""
    replicas = d["spec"]["replicas"]
    raw = d["spec"].get("strategy", {}).get("rollingUpdate", {}).get("maxSurge", "25%")
    if isinstance(raw, str) and raw.endswith("%"):
        return math.ceil(int(raw[:-1]) * replicas / 100)
    return int(raw)


def is_active(pod: Obj) -> bool:
    return not pod["metadata"].get("deletionTimestamp") and \
        (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def is_running_ready(pod: Obj) -> bool:
    if not is_active(pod) or (pod.get("status") or {}).get("phase") != "Running":
        return False
    return any(cond.get("type") == "Ready" and cond.get("status") == "True"
               for cond in (pod.get("status") or {}).get("conditions") or ())


# -- random user actions (Hypothesis), shared by the property and determinism tests --------
NODES = ("node-1", "node-2", "node-3")
IMAGES = ("nginx:1.25", "nginx:1.26", "nginx:1.27")

actions = st.one_of(
    st.tuples(st.just("scale"), st.integers(0, 6)),
    st.tuples(st.just("set_image"), st.sampled_from(IMAGES)),
    st.tuples(st.just("delete_pod"), st.integers(0, 20)),
    st.tuples(st.just("kill_container"), st.integers(0, 20)),
    st.tuples(st.just("fail_node"), st.sampled_from(NODES)),
    st.tuples(st.just("recover_node"), st.sampled_from(NODES)),
    st.tuples(st.just("undo"), st.just(0)),
    st.tuples(st.just("advance"), st.sampled_from((0.5, 1, 3, 10, 45, 120, 400))),
    st.tuples(st.just("traffic"), st.integers(1, 20)),
)


class World:
    """The cluster plus what the test needs to remember about the user's actions."""

    def __init__(self, seed: int = 17) -> None:
        self.c = Cluster.create(seed=seed, nodes=3)
        create_deployment(self.c, "web", "nginx:1.25", 3)
        apiserver.create(self.c, {"kind": "Service", "metadata": {"name": "web"},
                                  "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
        self.c.advance(15)
        self.failed: dict[str, None] = {}
        self.scaled_during_rollout = False

    def restored(self) -> World:
        """A copy made through a JSON round trip of the snapshot, as a server would store it."""
        import json

        twin = World.__new__(World)
        twin.c = Cluster.restore(json.loads(json.dumps(self.c.snapshot())))
        twin.failed = dict(self.failed)
        twin.scaled_during_rollout = self.scaled_during_rollout
        return twin

    def act(self, action: str, arg: object) -> None:
        c = self.c
        if action == "scale":
            scale(c, "web", int(arg))  # type: ignore[call-overload]
            self.scaled_during_rollout = True
        elif action == "set_image":
            set_image(c, "web", str(arg))
            self.scaled_during_rollout = False
        elif action == "undo":
            if rollout_undo(c, "web"):
                self.scaled_during_rollout = False
        elif action in ("delete_pod", "kill_container"):
            pods = sorted((p for p in deployment_pods(c, "web") if is_active(p)),
                          key=lambda p: p["metadata"]["name"])
            if pods:
                pod = pods[int(arg) % len(pods)]  # type: ignore[call-overload]
                self._pod_action(action, pod)
        elif action == "fail_node":
            c.fail_node(str(arg))
            self.failed[str(arg)] = None
        elif action == "recover_node":
            if str(arg) in self.failed:
                c.recover_node(str(arg))
                del self.failed[str(arg)]
        elif action == "advance":
            c.advance(float(arg))  # type: ignore[arg-type]
        elif action == "traffic":
            ready = {p["metadata"]["name"] for p in deployment_pods(c, "web")
                     if is_running_ready(p)}
            served = c.send_traffic("web", int(arg))  # type: ignore[call-overload]
            # New connections go to ready pods only; with none ready, to serving+terminating
            # ones (ProxyTerminatingEndpoints) or nowhere.
            if ready:
                assert set(served) <= ready, (served, ready)

    def _pod_action(self, action: str, pod: dict) -> None:
        name = pod["metadata"]["name"]
        if action == "delete_pod":
            apiserver.delete(self.c, "Pod", "default", name)
            self.c.advance(0)  # an API call alone runs no controller
        elif pod["spec"].get("nodeName") and (pod.get("status") or {}).get("phase") == "Running":
            with contextlib.suppress(ApiError, SimError):  # not running, or its node is down
                self.c.kill_container(name)

    def rollout_in_progress(self) -> bool:
        sets = [rs for rs in replica_sets(self.c, "web") if rs["spec"].get("replicas")]
        return len(sets) > 1

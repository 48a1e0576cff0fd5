"""Helpers for the Deployment and ReplicaSet tests.

``apps_cluster`` runs only the workload controllers (deployment, replicaset, garbage collector):
no scheduler places pods and no kubelet starts them, so a pod is Pending until a test calls
``make_ready``, which does what a kubelet would (phase Running, Ready=True). That lets a test
drive a rollout one step at a time and compare it with the vectors.
"""

from __future__ import annotations

import copy
from typing import Any

from k8slearn.sim import Cluster, apiserver
from k8slearn.sim.controllers import Controller
from k8slearn.sim.controllers.podutil import is_active, is_ready
from k8slearn.sim.objects import rfc3339

Obj = dict[str, Any]

APPS_CONTROLLERS = ("deployment-controller", "replicaset-controller", "garbage-collector")


class Idle(Controller):
    """Stands in for a controller that is switched off: same name, never wakes up."""

    def __init__(self, name: str) -> None:
        self.name = name  # type: ignore[misc]

    def reconcile(self, cluster: Cluster, key: str) -> float | None:
        return None


def apps_cluster(seed: int = 7, nodes: int = 3) -> Cluster:
    c = Cluster.create(seed=seed, nodes=nodes)
    c.controllers = [x if x.name in APPS_CONTROLLERS else Idle(x.name) for x in c.controllers]
    c._by_kind = {}
    for x in c.controllers:
        for kind in x.watches:
            c._by_kind.setdefault(kind, []).append(x)
    return c


def deployment_manifest(name: str = "web", replicas: int | None = 3, image: str = "nginx:1.25",
                        strategy: Obj | None = None, **spec: Any) -> Obj:
    body: Obj = {
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}},
                     "spec": {"containers": [{"name": "app", "image": image}]}},
        **spec,
    }
    if replicas is not None:
        body["replicas"] = replicas
    if strategy is not None:
        body["strategy"] = strategy
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": body}


def create_deployment(cluster: Cluster, *args: Any, **kw: Any) -> Obj:
    d = apiserver.create(cluster, deployment_manifest(*args, **kw))
    cluster.advance(0)
    return d


def deployment(cluster: Cluster, name: str = "web") -> Obj:
    d = cluster.store.get("Deployment", "default", name)
    assert d is not None
    return d


def edit(cluster: Cluster, kind: str, name: str, change: Any) -> Obj:
    """A user's PUT: copy the stored object, let ``change(obj)`` edit it, update, settle."""
    obj = copy.deepcopy(cluster.store.get(kind, "default", name))
    change(obj)
    new = apiserver.update(cluster, obj)
    cluster.advance(0)
    return new


def set_image(cluster: Cluster, image: str, name: str = "web") -> Obj:
    def change(d: Obj) -> None:
        d["spec"]["template"]["spec"]["containers"][0]["image"] = image

    return edit(cluster, "Deployment", name, change)


def scale(cluster: Cluster, replicas: int, name: str = "web") -> Obj:
    def change(d: Obj) -> None:
        d["spec"]["replicas"] = replicas

    return edit(cluster, "Deployment", name, change)


def mark_ready(cluster: Cluster, pod: Obj, node: str | None = None) -> None:
    """What the kubelet does when the containers start and pass readiness: Running, Ready."""
    if node is not None:
        pod["spec"]["nodeName"] = node
    status = pod.setdefault("status", {})
    status["phase"] = "Running"
    conds = [c for c in status.get("conditions") or () if c.get("type") != "Ready"]
    conds.append({"type": "Ready", "status": "True", "lastProbeTime": None,
                  "lastTransitionTime": rfc3339(cluster.now)})
    status["conditions"] = conds
    cluster.store.update(pod)


def make_ready(cluster: Cluster, settle: bool = True) -> int:
    """Mark every active, not-yet-ready pod Ready; returns how many changed."""
    pods = [p for p in cluster.store.list("Pod") if is_active(p) and not is_ready(p)]
    for pod in pods:
        mark_ready(cluster, pod)
    if settle:
        cluster.advance(0)
    return len(pods)


def replicasets(cluster: Cluster, name: str = "web") -> list[Obj]:
    """The Deployment's ReplicaSets in creation order (the store keeps objects that way)."""
    return [rs for rs in cluster.store.list("ReplicaSet", "default")
            if rs["metadata"]["name"].startswith(f"{name}-")]


def pods_of(cluster: Cluster, rs: Obj) -> list[Obj]:
    return cluster.store.pods_owned_by(rs["metadata"]["uid"])


def scaling_events(cluster: Cluster) -> list[str]:
    return [e["message"] for e in cluster.events if e["reason"] == "ScalingReplicaSet"]

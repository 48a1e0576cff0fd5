"""Helpers for the Service, endpoint and storage tests.

``isolated_cluster`` keeps only the controllers under test running (the others become idle, with
their queues and requeue timers intact), so pods are exactly what the test writes into the store:
no scheduler places them and no kubelet rewrites their status.
"""

from __future__ import annotations

from typing import Any

from k8slearn.sim import Cluster, apiserver
from k8slearn.sim.controllers import Controller
from k8slearn.sim.objects import set_condition

Obj = dict[str, Any]

NETWORK_CONTROLLERS = ("endpoint-controller", "persistentvolume-controller", "garbage-collector")


class Idle(Controller):
    """Stands in for a controller that is switched off: same name, never wakes up."""

    def __init__(self, name: str) -> None:
        self.name = name  # type: ignore[misc]

    def reconcile(self, cluster: Cluster, key: str) -> float | None:
        return None


def isolated_cluster(seed: int = 7, nodes: int = 3,
                     keep: tuple[str, ...] = NETWORK_CONTROLLERS) -> Cluster:
    c = Cluster.create(seed=seed, nodes=nodes)
    c.controllers = [x if x.name in keep else Idle(x.name) for x in c.controllers]
    c._by_kind = {}
    for x in c.controllers:
        for kind in x.watches:
            c._by_kind.setdefault(kind, []).append(x)
    return c


def make_pod(cluster: Cluster, name: str, labels: dict[str, str] | None = None,
             ports: list[Obj] | None = None, volumes: list[Obj] | None = None,
             namespace: str = "default") -> Obj:
    container: Obj = {"name": "app", "image": "nginx:1.25"}
    if ports:
        container["ports"] = ports
    spec: Obj = {"containers": [container]}
    if volumes:
        spec["volumes"] = volumes
    return apiserver.create(cluster, {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": "web"}},
        "spec": spec,
    })


def mark_ready(cluster: Cluster, pod: Obj, ip: str | None = None, ready: bool = True,
               node: str = "node-1") -> Obj:
    """Make a pod Running on ``node`` with an IP and the Ready condition, as a kubelet would."""
    if ip is None:
        n = cluster.state.setdefault("test_ip_seq", 10) + 1
        cluster.state["test_ip_seq"] = n
        ip = f"10.244.1.{n}"
    pod["spec"]["nodeName"] = node
    status = pod.setdefault("status", {})
    status["phase"] = "Running"
    status["podIP"] = ip
    status["podIPs"] = [{"ip": ip}]
    set_condition(pod, {"type": "Ready", "status": "True" if ready else "False"}, cluster.now)
    cluster.store.update(pod)
    cluster.advance(0)
    return pod


def set_ready(cluster: Cluster, pod: Obj, ready: bool) -> None:
    set_condition(pod, {"type": "Ready", "status": "True" if ready else "False"}, cluster.now)
    cluster.store.update(pod)
    cluster.advance(0)


def make_service(cluster: Cluster, name: str = "web", selector: dict[str, str] | None = None,
                 ports: list[Obj] | None = None, **spec: Any) -> Obj:
    body: Obj = {"selector": selector if selector is not None else {"app": "web"},
                 "ports": ports if ports is not None else [{"port": 80, "targetPort": 80}],
                 **spec}
    svc = apiserver.create(cluster, {"apiVersion": "v1", "kind": "Service",
                                     "metadata": {"name": name}, "spec": body})
    cluster.advance(0)
    return svc


def endpoint_slice(cluster: Cluster, service: str, namespace: str = "default") -> Obj:
    """The (single) managed EndpointSlice of a Service."""
    found = [s for s in cluster.store.iter("EndpointSlice")
             if s["metadata"].get("namespace") == namespace
             and s["metadata"]["labels"].get("kubernetes.io/service-name") == service]
    assert len(found) == 1, found
    return found[0]

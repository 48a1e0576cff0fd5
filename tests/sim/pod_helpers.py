"""Helpers for the scheduler / kubelet / node lifecycle tests: bare pods and quick reads."""

from __future__ import annotations

from typing import Any

from k8slearn.sim import Cluster, apiserver

Obj = dict[str, Any]


def pod_manifest(name: str, image: str = "nginx:1.25", *, container: str = "app",
                 labels: dict[str, str] | None = None, requests: dict[str, str] | None = None,
                 limits: dict[str, str] | None = None, **spec: Any) -> Obj:
    c: Obj = {"name": container, "image": image}
    for key in ("command", "args", "livenessProbe", "readinessProbe", "startupProbe", "env",
                "envFrom", "volumeMounts", "ports"):
        if key in spec:
            c[key] = spec.pop(key)
    if requests or limits:
        c["resources"] = {k: v for k, v in (("requests", requests), ("limits", limits)) if v}
    return {"kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "labels": labels or {"app": name}},
            "spec": {"containers": [c], **spec}}


def create_pod(cluster: Cluster, name: str, image: str = "nginx:1.25", **kw: Any) -> Obj:
    return apiserver.create(cluster, pod_manifest(name, image, **kw))


def pod(cluster: Cluster, name: str) -> Obj:
    p = cluster.store.get("Pod", "default", name)
    assert p is not None, f"pod {name} is gone"
    return p


def cstatus(cluster: Cluster, name: str, index: int = 0) -> Obj:
    return pod(cluster, name)["status"]["containerStatuses"][index]


def state_of(cluster: Cluster, name: str) -> tuple[str, str | None]:
    """('running', None) / ('waiting', 'CrashLoopBackOff') / ('terminated', 'Completed')."""
    state = cstatus(cluster, name)["state"]
    kind = next(iter(state))
    return kind, state[kind].get("reason")


def condition(cluster: Cluster, name: str, ctype: str) -> Obj | None:
    for cond in pod(cluster, name)["status"].get("conditions") or ():
        if cond["type"] == ctype:
            return cond
    return None


def events(cluster: Cluster, name: str | None = None, reason: str | None = None) -> list[Obj]:
    return [e for e in cluster.events
            if (name is None or e["name"] == name) and (reason is None or e["reason"] == reason)]


def messages(cluster: Cluster, name: str | None = None, reason: str | None = None) -> list[str]:
    return [e["message"] for e in events(cluster, name, reason)]

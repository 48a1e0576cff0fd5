"""The API server's job, minus HTTP: resource names, defaulting, validation, create/update/delete.

Kind-specific rules live with their kind and are registered here (``DEFAULTERS``, ``VALIDATORS``),
so this module stays generic. Controllers write status through ``Store.update`` directly; anything
a *user* asks for (kubectl, manifests, chaos) goes through ``create``/``update``/``delete`` so that
it is defaulted and validated exactly once.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from k8slearn.sim.errors import ApiError, already_exists, invalid, not_found
from k8slearn.sim.objects import DNS1123_SUBDOMAIN, generate_name, new_uid, rfc3339

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]

# Limits that keep one learner's sandbox small and the server safe: at most 5,000 pods and
# 5,000 other objects (Events, which expire on their own, are not counted).
MAX_PODS = 5_000
MAX_OBJECTS = 5_000


@dataclass(frozen=True)
class Resource:
    kind: str
    plural: str
    short: tuple[str, ...]
    api_version: str
    namespaced: bool = True

    @property
    def group(self) -> str:
        return self.api_version.split("/")[0] if "/" in self.api_version else ""

    @property
    def singular(self) -> str:
        return self.kind.lower()


RESOURCES: dict[str, Resource] = {
    r.kind: r
    for r in (
        Resource("Namespace", "namespaces", ("ns",), "v1", namespaced=False),
        Resource("Node", "nodes", ("no",), "v1", namespaced=False),
        Resource("Pod", "pods", ("po",), "v1"),
        Resource("ReplicaSet", "replicasets", ("rs",), "apps/v1"),
        Resource("Deployment", "deployments", ("deploy",), "apps/v1"),
        Resource("Service", "services", ("svc",), "v1"),
        Resource("Endpoints", "endpoints", ("ep",), "v1"),
        Resource("EndpointSlice", "endpointslices", (), "discovery.k8s.io/v1"),
        Resource("ConfigMap", "configmaps", ("cm",), "v1"),
        Resource("Secret", "secrets", (), "v1"),
        Resource("PersistentVolumeClaim", "persistentvolumeclaims", ("pvc",), "v1"),
        Resource("PersistentVolume", "persistentvolumes", ("pv",), "v1", namespaced=False),
        Resource(
            "StorageClass", "storageclasses", ("sc",), "storage.k8s.io/v1", namespaced=False
        ),
        Resource("Event", "events", ("ev",), "v1"),
    )
}

# Kinds that exist in real Kubernetes but not in this toy: named in the error message.
UNSUPPORTED_KINDS = ["DaemonSet", "StatefulSet", "Job", "CronJob", "Ingress", "IngressClass", "NetworkPolicy", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "ServiceAccount", "ResourceQuota", "LimitRange", "CustomResourceDefinition", "PriorityClass", "Lease"]


def resolve(name: str) -> Resource | None:
    """'po', 'pod', 'pods', 'Pod', 'deployments.apps', 'deploy' -> the Resource, or None."""
    n = name.strip().lower()
    base, _, group = n.partition(".")
    for r in RESOURCES.values():
        if base in (r.plural, r.singular, *r.short) and (not group or group == r.group or
                                                        n == f"{r.plural}.{r.group}"):
            return r
    return None


Defaulter = Callable[["Cluster", Obj], None]
Validator = Callable[["Cluster", Obj, "Obj | None"], list[str]]
DEFAULTERS: dict[str, list[Defaulter]] = {}
VALIDATORS: dict[str, list[Validator]] = {}


def defaulter(kind: str) -> Callable[[Defaulter], Defaulter]:
    def register(fn: Defaulter) -> Defaulter:
        DEFAULTERS.setdefault(kind, []).append(fn)
        return fn

    return register


def validator(kind: str) -> Callable[[Validator], Validator]:
    def register(fn: Validator) -> Validator:
        VALIDATORS.setdefault(kind, []).append(fn)
        return fn

    return register


def _check_metadata(res: Resource, obj: Obj) -> list[str]:
    name = obj["metadata"].get("name", "")
    causes = []
    if len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        causes.append(
            f'metadata.name: Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist '
            "of lower case alphanumeric characters, '-' or '.', and must start and end with an "
            "alphanumeric character (e.g. 'example.com', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        )
    return causes


def validate(cluster: Cluster, obj: Obj, old: Obj | None) -> None:
    res = RESOURCES[obj["kind"]]
    causes = _check_metadata(res, obj)
    for fn in VALIDATORS.get(res.kind, ()):
        causes.extend(fn(cluster, obj, old))
    if causes:
        raise invalid(res.kind, obj["metadata"].get("name", ""), causes)


def prepare_create(cluster: Cluster, obj: Obj) -> Obj:
    """Default and validate a new object without storing it (used for dry runs and apply)."""
    res = RESOURCES.get(obj.get("kind", ""))
    if res is None:
        raise ApiError("BadRequest", f'no kind "{obj.get("kind")}" is registered', 400)
    obj = copy.deepcopy(obj)
    obj["apiVersion"] = res.api_version
    meta = obj.setdefault("metadata", {})
    if res.namespaced:
        meta["namespace"] = meta.get("namespace") or "default"
        if cluster.store.get("Namespace", None, meta["namespace"]) is None:
            raise not_found("namespaces", meta["namespace"])
    else:
        meta.pop("namespace", None)
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = generate_name(cluster.rng, meta["generateName"])
    if not meta.get("name"):
        raise ApiError("Invalid", f"{res.kind} in version \"v1\" cannot be handled as a "
                       f"{res.kind}: resource name may not be empty", 422)
    for fn in DEFAULTERS.get(res.kind, ()):
        fn(cluster, obj)
    validate(cluster, obj, None)
    return obj


def create(cluster: Cluster, obj: Obj) -> Obj:
    """POST: default, validate, give identity, store. Raises ApiError."""
    asked = obj.get("metadata", {}) if isinstance(obj.get("metadata"), dict) else {}
    # Quota errors name what was asked for: "web-7c5ddbdf54-" for a generateName request.
    shown_name = str(asked.get("name") or asked.get("generateName") or "")
    obj = prepare_create(cluster, obj)
    res = RESOURCES[obj["kind"]]
    meta = obj["metadata"]
    if cluster.store.get(res.kind, meta.get("namespace"), meta["name"]) is not None:
        raise already_exists(res.plural if res.group == "" else f"{res.plural}.{res.group}",
                             meta["name"])
    _check_limits(cluster, res.kind, shown_name)
    meta["uid"] = new_uid(cluster.rng)
    meta["creationTimestamp"] = rfc3339(cluster.now)
    if "spec" in obj or res.kind in ("Deployment", "ReplicaSet", "Pod", "Service"):
        meta["generation"] = 1
    return cluster.store.add(obj)


def _check_limits(cluster: Cluster, kind: str, name: str) -> None:
    if kind == "Event":
        return
    if kind == "Pod":
        if cluster.store.count("Pod") >= MAX_PODS:
            raise ApiError("Forbidden", f'pods "{name}" is forbidden: exceeded quota: this '
                           f"sandbox runs at most {MAX_PODS} pods", 403)
        return
    others = cluster.store.count() - cluster.store.count("Pod") - cluster.store.count("Event")
    if others >= MAX_OBJECTS:
        raise ApiError("Forbidden", f"this sandbox holds at most {MAX_OBJECTS} objects "
                       "(pods and events not counted); delete something first", 403)


def prepare_update(cluster: Cluster, obj: Obj) -> tuple[Obj, Obj]:
    """Default and validate a replacement for a stored object without storing it.

    Returns ``(new, old)``; ``new`` is what ``update`` would store (used by apply's dry run).
    """
    res = RESOURCES[obj["kind"]]
    meta = obj["metadata"]
    old = cluster.store.get(res.kind, meta.get("namespace") if res.namespaced else None,
                            meta["name"])
    if old is None:
        raise not_found(res.plural, meta["name"])
    new = copy.deepcopy(obj)
    for keep in ("uid", "creationTimestamp", "generation", "deletionTimestamp", "ownerReferences"):
        if keep in old["metadata"] and keep not in new["metadata"]:
            new["metadata"][keep] = old["metadata"][keep]
    new["metadata"]["uid"] = old["metadata"]["uid"]
    new["metadata"]["creationTimestamp"] = old["metadata"]["creationTimestamp"]
    if "status" in old:
        new["status"] = old["status"]  # the status subresource is the controllers' to write
    for fn in DEFAULTERS.get(res.kind, ()):
        fn(cluster, new)
    validate(cluster, new, old)
    if new.get("spec") != old.get("spec") and "generation" in old["metadata"]:
        new["metadata"]["generation"] = old["metadata"]["generation"] + 1
    return new, old


def update(cluster: Cluster, obj: Obj) -> Obj:
    """PUT: replace spec/metadata of an existing object; generation bumps when spec changes."""
    new, old = prepare_update(cluster, obj)
    if _same(new, old):
        return old
    return cluster.store.update(new)


def _same(a: Obj, b: Obj) -> bool:
    strip = ("resourceVersion",)
    am = {k: v for k, v in a["metadata"].items() if k not in strip}
    bm = {k: v for k, v in b["metadata"].items() if k not in strip}
    return am == bm and {k: v for k, v in a.items() if k != "metadata"} == {
        k: v for k, v in b.items() if k != "metadata"
    }


def delete(
    cluster: Cluster,
    kind: str,
    namespace: str | None,
    name: str,
    grace_period: int | None = None,
) -> Obj:
    """DELETE. Pods on a node terminate gracefully (the kubelet finishes the job); everything
    else goes at once and the garbage collector removes what it owned (background cascade)."""
    res = RESOURCES[kind]
    obj = cluster.store.get(kind, namespace if res.namespaced else None, name)
    if obj is None:
        raise not_found(res.plural if not res.group else f"{res.plural}.{res.group}", name)
    meta = obj["metadata"]
    if kind == "Pod" and obj["spec"].get("nodeName") and grace_period != 0:
        if meta.get("deletionTimestamp"):
            return obj  # already terminating: a second delete changes nothing
        grace = obj["spec"].get("terminationGracePeriodSeconds", 30)
        if grace_period is not None:
            grace = grace_period
        meta["deletionTimestamp"] = rfc3339(cluster.now + grace)
        meta["deletionGracePeriodSeconds"] = grace
        cluster.store.update(obj)
        return obj
    if meta.get("finalizers"):
        # Finalizers (e.g. kubernetes.io/pvc-protection): mark it Terminating; whoever owns the
        # last finalizer removes the object once it has dropped it.
        if not meta.get("deletionTimestamp"):
            meta["deletionTimestamp"] = rfc3339(cluster.now)
            meta["deletionGracePeriodSeconds"] = 0
            cluster.store.update(obj)
        return obj
    if kind == "Namespace":
        for other in list(RESOURCES.values()):
            if other.namespaced:
                for o in cluster.store.list(other.kind, name):
                    cluster.store.remove(other.kind, name, o["metadata"]["name"])
    cluster.store.remove(kind, meta.get("namespace"), name)
    return obj

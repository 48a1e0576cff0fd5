"""Garbage collector: when an owner is deleted, delete what it owned (background cascade).

Deleting a Deployment removes its ReplicaSets, which removes their Pods: each dependent carries an
ownerReference with its owner's uid, and nothing else links them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from k8slearn.sim import apiserver
from k8slearn.sim.controllers import Controller, Obj

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

OWNER_KINDS = ("Deployment", "ReplicaSet", "Service", "PersistentVolumeClaim")


class GarbageCollector(Controller):
    name = "garbage-collector"
    watches = OWNER_KINDS

    def keys_for(self, cluster: Cluster, kind: str, obj: Obj, deleted: bool) -> Iterable[str]:
        if deleted:
            return (obj["metadata"]["uid"],)
        return ()

    def reconcile(self, cluster: Cluster, key: str) -> float | None:
        owner_uid = key
        if owner_uid in cluster.uids():
            return None  # the owner still exists
        for kind in ("ReplicaSet", "Pod", "Endpoints", "EndpointSlice"):
            dependents = (
                cluster.store.pods_owned_by(owner_uid)
                if kind == "Pod"
                else [o for o in cluster.store.iter(kind) if _owned_by(o, owner_uid)]
            )
            for dep in dependents:
                meta = dep["metadata"]
                if kind == "Pod" and meta.get("deletionTimestamp"):
                    continue
                apiserver.delete(cluster, kind, meta.get("namespace"), meta["name"])
        return None


def _owned_by(obj: Obj, uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or ())

"""Endpoints and EndpointSlice controller: which pods stand behind each Service.

For every Service with a selector it keeps a v1 ``Endpoints`` object (ready pods in
``addresses``, the others in ``notReadyAddresses``, terminating pods left out, addresses sorted
by IP as ``RepackSubsets`` does) and one ``discovery.k8s.io/v1`` EndpointSlice per port set, whose
endpoints carry the three conditions of section 6 of the behaviour notes:

    ready       = pod Ready condition True and the pod is not terminating
    serving     = pod Ready condition True, whatever the termination
    terminating = the pod has a deletionTimestamp

A Service with no endpoints keeps one placeholder slice (no endpoints, ports unset), as the real
controller does, and that placeholder is reused for the first real port set.

Cost follows what changed. A Pod change enqueues only the Services of its namespace whose
selector matches the pod's labels or that list the pod now (the set that
``GetServicesToUpdateOnPodChange`` gets from old and new labels), and remembers which pod it was;
the reconcile then updates just those pods in the Service's cache (``endpoints_cache``) and
writes list copies. A Service change, or a cache missing after a restore, rebuilds that
Service's cache from its own pods (found through a label index), never from all pods.

Simplification: real clusters cut slices at 100 endpoints and Endpoints at 1,000 addresses; here a
Service has one slice per port set, however many pods it has.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from k8slearn.sim import apiserver
from k8slearn.sim.controllers import Controller, split_key
from k8slearn.sim.controllers.endpoints_cache import PodIndex, ServiceCache, member_for
from k8slearn.sim.objects import generate_name, match_labels, rfc3339
from k8slearn.sim.services import SERVICE_NAME_LABEL
from k8slearn.sim.store import obj_key

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
MANAGER = "endpointslice-controller.k8s.io"
TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"
SKIP_MIRROR = "endpointslice.kubernetes.io/skip-mirror"


class EndpointsController(Controller):
    name = "endpoint-controller"
    watches = ("Service", "Pod")

    def __init__(self) -> None:
        self._index: PodIndex | None = None
        self._caches: dict[str, ServiceCache] = {}  # service key -> its members
        self._dirty: dict[str, dict[str, None]] = {}  # service key -> pod keys changed
        # Until a Service has a cache (after a restore): the pods its slices listed then.
        self._listed: dict[str, dict[str, None]] = {}

    def index(self, cluster: Cluster) -> PodIndex:
        # A restored cluster has a new store: forget everything derived from the old one.
        if self._index is None or self._index.store is not cluster.store:
            self._index = PodIndex(cluster.store)
            self._caches.clear()
            self._dirty.clear()
            self._listed = _listed_in_slices(cluster)
        return self._index

    def keys_for(self, cluster: Cluster, kind: str, obj: Obj, deleted: bool) -> Iterable[str]:
        if kind == "Service":
            return (obj_key(obj),)
        index = self.index(cluster)
        index.update(obj, deleted)
        pod_key = obj_key(obj)
        labels = obj["metadata"].get("labels") or {}
        ns = obj["metadata"].get("namespace")
        keys = []
        for svc in cluster.store.iter("Service"):  # a namespace has a handful of Services
            selector = svc["spec"].get("selector")
            if not selector or svc["metadata"].get("namespace") != ns:
                continue
            svc_key = obj_key(svc)
            if match_labels(selector, labels) or self._lists(svc_key, pod_key):
                keys.append(svc_key)
                self._dirty.setdefault(svc_key, {})[pod_key] = None
        return keys

    def _lists(self, svc_key: str, pod_key: str) -> bool:
        """Does the Service show this pod now?"""
        cache = self._caches.get(svc_key)
        if cache is not None:
            return pod_key in cache.members
        return pod_key in self._listed.get(svc_key, {})

    def reconcile(self, cluster: Cluster, key: str) -> float | None:
        ns, name = split_key(key)
        index = self.index(cluster)
        dirty = self._dirty.pop(key, {})
        svc = cluster.store.get("Service", ns, name)
        if svc is None or not svc["spec"].get("selector"):
            # Gone: its objects go too. Selector-less: its Endpoints are hand-made (`kubernetes`).
            self._caches.pop(key, None)
            if svc is None:
                _delete_endpoints(cluster, ns or "", name)
            return None
        cache = self._caches.get(key)
        if cache is None or cache.version != svc["metadata"].get("resourceVersion"):
            cache = ServiceCache(svc["metadata"].get("resourceVersion", ""))
            for pod in index.select(ns or "", svc["spec"]["selector"]):
                cache.set(obj_key(pod), member_for(svc, pod))
            self._caches[key] = cache
        else:
            pods = cluster.store.objects.get("Pod", {})
            changed = [cache.set(k, member_for(svc, pods.get(k))) for k in dirty]
            if not any(changed):
                return None
        sync_endpoints(cluster, svc, cache)
        sync_endpoint_slices(cluster, svc, cache)
        return None


def _listed_in_slices(cluster: Cluster) -> dict[str, dict[str, None]]:
    listed: dict[str, dict[str, None]] = {}
    for eps in cluster.store.iter("EndpointSlice"):
        labels = eps["metadata"].get("labels") or {}
        if labels.get(MANAGED_BY) != MANAGER:
            continue
        ns = eps["metadata"].get("namespace") or ""
        pods = listed.setdefault(f"{ns}/{labels.get(SERVICE_NAME_LABEL)}", {})
        for endpoint in eps.get("endpoints") or ():
            pods[f"{ns}/{(endpoint.get('targetRef') or {}).get('name')}"] = None
    return listed


def _delete_endpoints(cluster: Cluster, ns: str, name: str) -> None:
    ep = cluster.store.get("Endpoints", ns, name)
    if ep is not None and (ep["metadata"].get("labels") or {}).get(SKIP_MIRROR) != "true":
        cluster.store.remove("Endpoints", ns, name)
    for eps in _slices_of(cluster, ns, name):
        cluster.store.remove("EndpointSlice", ns, eps["metadata"]["name"])


# -- v1 Endpoints --------------------------------------------------------------------------
def sync_endpoints(cluster: Cluster, svc: Obj, cache: ServiceCache) -> None:
    meta = svc["metadata"]
    subsets = [s for _key, group in cache.sorted_groups() if (s := group.subset())]
    labels = dict(meta.get("labels") or {})
    ep = cluster.store.get("Endpoints", meta["namespace"], meta["name"])
    if ep is None:
        obj: Obj = {"apiVersion": "v1", "kind": "Endpoints",
                    "metadata": {"name": meta["name"], "namespace": meta["namespace"],
                                 "annotations": {TRIGGER_TIME: rfc3339(cluster.now)}}}
        if labels:
            obj["metadata"]["labels"] = labels
        if subsets:
            obj["subsets"] = subsets
        apiserver.create(cluster, obj)
        return
    if (ep.get("subsets") or []) == subsets and (ep["metadata"].get("labels") or {}) == labels:
        return
    if subsets:
        ep["subsets"] = subsets
    else:
        ep.pop("subsets", None)
    if labels:
        ep["metadata"]["labels"] = labels
    else:
        ep["metadata"].pop("labels", None)
    ep["metadata"].setdefault("annotations", {})[TRIGGER_TIME] = rfc3339(cluster.now)
    cluster.store.update(ep)


# -- discovery.k8s.io/v1 EndpointSlice -----------------------------------------------------
def _slices_of(cluster: Cluster, ns: str, service: str) -> list[Obj]:
    return [s for s in cluster.store.iter("EndpointSlice")
            if s["metadata"].get("namespace") == ns
            and (s["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL) == service
            and (s["metadata"].get("labels") or {}).get(MANAGED_BY) == MANAGER]


def _ports_key(ports: list[Obj] | None) -> str:
    return json.dumps(ports, sort_keys=True)  # the same key as Member.group


def sync_endpoint_slices(cluster: Cluster, svc: Obj, cache: ServiceCache) -> None:
    """One slice per port set; slices no longer needed are reused for new port sets (the
    placeholder first), then deleted."""
    meta = svc["metadata"]
    labels = {**(meta.get("labels") or {}), SERVICE_NAME_LABEL: meta["name"], MANAGED_BY: MANAGER}
    desired: list[tuple[str, list[Obj] | None, list[Obj]]] = [
        (key, group.ports, group.endpoints.items) for key, group in cache.sorted_groups()]
    if not desired:
        desired = [(_ports_key(None), None, [])]  # the placeholder: no endpoints, ports unset
    existing = {_ports_key(s.get("ports")): s
                for s in _slices_of(cluster, meta["namespace"], meta["name"])}
    missing = []
    for key, ports, endpoints in desired:
        eps = existing.pop(key, None)
        if eps is None:
            missing.append((ports, endpoints))
        elif eps.get("endpoints") != endpoints or eps["metadata"].get("labels") != labels:
            eps["endpoints"] = list(endpoints)
            eps["metadata"]["labels"] = labels
            cluster.store.update(eps)
    spare = list(existing.values())
    for ports, endpoints in missing:
        if spare:
            eps = spare.pop(0)
            eps["ports"] = None if ports is None else [dict(p) for p in ports]
            eps["endpoints"] = list(endpoints)
            eps["metadata"]["labels"] = labels
            cluster.store.update(eps)
        else:
            _create_slice(cluster, svc, labels, ports, endpoints)
    for stale in spare:
        cluster.store.remove("EndpointSlice", meta["namespace"], stale["metadata"]["name"])


def _create_slice(cluster: Cluster, svc: Obj, labels: dict[str, str], ports: list[Obj] | None,
                  endpoints: list[Obj]) -> None:
    meta = svc["metadata"]
    obj: Obj = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": generate_name(cluster.rng, f"{meta['name']}-"),
            "generateName": f"{meta['name']}-",
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": meta["name"],
                                 "uid": meta["uid"], "controller": True,
                                 "blockOwnerDeletion": True}],
        },
        "addressType": "IPv4",
        "endpoints": list(endpoints),
        "ports": None if ports is None else [dict(p) for p in ports],
    }
    apiserver.create(cluster, obj)

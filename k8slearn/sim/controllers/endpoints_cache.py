"""The endpoints controller's derived, in-memory tables (never snapshotted; rebuilt from the
store after a restore), which make its cost follow what changed:

- ``PodIndex``: pod keys by (namespace, label key, label value), so a Service finds its pods
  without reading the others;
- ``ServiceCache``: for one Service, every pod that gives it an endpoint (a ``Member``), grouped by
  port set (``Group``: one EndpointSlice, one Endpoints subset) in sorted lists. A pod change
  touches one member in O(log n); the objects written are plain list copies of the groups.

Members are built by one function, ``member_for``, whether the cache is built from scratch or
updated pod by pod, so both paths give the same objects (and a restored cluster the same future).
"""

from __future__ import annotations

import bisect
import ipaddress
import json
from typing import Any, NamedTuple

from k8slearn.sim.objects import get_condition, match_labels
from k8slearn.sim.store import Store, obj_key

Obj = dict[str, Any]
SortKey = tuple[int, str]


class PodIndex:
    """Pod keys by (namespace, label key, label value), and each pod's labels as last seen."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.by_label: dict[tuple[str, str, str], dict[str, None]] = {}
        self.labels: dict[str, tuple[str, dict[str, str]]] = {}
        for pod in store.iter("Pod"):
            self.update(pod, False)

    def update(self, pod: Obj, deleted: bool) -> None:
        """Move the pod to the buckets of its current labels."""
        key = obj_key(pod)
        ns = pod["metadata"].get("namespace") or ""
        labels = pod["metadata"].get("labels") or {}
        old_ns, old = self.labels.get(key, (ns, {}))
        if not deleted and old == labels and key in self.labels:
            return
        for k, v in old.items():
            bucket = self.by_label.get((old_ns, k, v))
            if bucket is not None:
                bucket.pop(key, None)
                if not bucket:
                    del self.by_label[(old_ns, k, v)]
        if deleted:
            self.labels.pop(key, None)
            return
        self.labels[key] = (ns, dict(labels))
        for k, v in labels.items():
            self.by_label.setdefault((ns, k, v), {})[key] = None

    def select(self, namespace: str, selector: dict[str, str]) -> list[Obj]:
        """Pods of ``namespace`` matching a non-empty equality selector, unordered."""
        buckets = [self.by_label.get((namespace, k, v), {}) for k, v in selector.items()]
        pods = self.store.objects.get("Pod", {})
        out = []
        for key in min(buckets, key=len):
            pod = pods.get(key)
            if pod is not None and match_labels(selector, pod["metadata"].get("labels") or {}):
                out.append(pod)
        return out


# -- one pod as an endpoint ----------------------------------------------------------------
class Member(NamedTuple):
    group: str  # the port set, as JSON: the key of its Group
    ports: list[Obj]
    sort_key: SortKey  # (IP as a number, pod name): the order of addresses in Endpoints
    endpoint: Obj  # the EndpointSlice entry
    address: Obj | None  # the Endpoints entry, None when Endpoints leave the pod out
    ready: bool  # Endpoints: addresses (True) or notReadyAddresses (False)


def is_ready(pod: Obj) -> bool:
    cond = get_condition(pod, "Ready")
    return cond is not None and cond.get("status") == "True"


def target_ref(pod: Obj) -> Obj:
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta.get("namespace"), "name": meta["name"],
            "uid": meta.get("uid")}


def resolve_ports(svc: Obj, pod: Obj) -> list[Obj] | None:
    """The Service's ports as this pod serves them (named targetPorts looked up in the pod's
    containers). None when a named port is missing: the pod cannot serve this Service."""
    out = []
    for port in svc["spec"].get("ports") or ():
        target = port.get("targetPort", port.get("port"))
        if isinstance(target, str) and not target.isdigit():
            target = _named_port(pod, target, port.get("protocol", "TCP"))
            if target is None:
                return None
        entry = {"port": int(target), "protocol": port.get("protocol", "TCP")}
        if port.get("name"):
            entry = {"name": port["name"], **entry}
        out.append(entry)
    return out


def _named_port(pod: Obj, name: str, protocol: str) -> int | None:
    for container in pod["spec"].get("containers") or ():
        for p in container.get("ports") or ():
            if p.get("name") == name and p.get("protocol", "TCP") == protocol:
                return int(p["containerPort"])
    return None


def member_for(svc: Obj, pod: Obj | None) -> Member | None:
    """The pod as an endpoint of ``svc``, or None if it gives none (gone, not selected, no IP,
    finished, or missing a named port).

    EndpointSlice conditions (section 6): ready = Ready and not terminating; serving = Ready;
    terminating = deletionTimestamp set. The v1 Endpoints leave terminating pods out, unless
    ``publishNotReadyAddresses`` (then every pod is in ``addresses``).
    """
    if pod is None or not match_labels(svc["spec"]["selector"], pod["metadata"].get("labels")
                                       or {}):
        return None
    status = pod.get("status") or {}
    ip = status.get("podIP")
    if not ip or status.get("phase") in ("Succeeded", "Failed"):
        return None
    ports = resolve_ports(svc, pod)
    if ports is None:
        return None
    ready = is_ready(pod)
    terminating = bool(pod["metadata"].get("deletionTimestamp"))
    node = pod["spec"].get("nodeName")
    ref = target_ref(pod)
    endpoint: Obj = {"addresses": [ip],
                     "conditions": {"ready": ready and not terminating, "serving": ready,
                                    "terminating": terminating},
                     "targetRef": ref}
    if node:
        endpoint["nodeName"] = node
    publish = bool(svc["spec"].get("publishNotReadyAddresses"))
    address: Obj | None = None
    if publish or not terminating:
        address = {"ip": ip, "targetRef": dict(ref)}  # no dict shared between two objects
        if node:
            address["nodeName"] = node
    return Member(json.dumps(ports, sort_keys=True), ports,
                  (_ip_number(ip), pod["metadata"]["name"]), endpoint, address,
                  publish or ready)


def _ip_number(ip: str) -> int:
    """'10.244.1.5' -> a number that sorts as the address does (ipaddress is slow for this)."""
    parts = ip.split(".")
    if len(parts) == 4 and all(p.isdigit() for p in parts):
        a, b, c, d = (int(p) for p in parts)
        return (a << 24) | (b << 16) | (c << 8) | d
    return int(ipaddress.ip_address(ip))


# -- one Service's endpoints ---------------------------------------------------------------
class SortedEntries:
    """Entries kept in sort-key order, with O(log n) insert and remove."""

    def __init__(self) -> None:
        self.keys: list[SortKey] = []
        self.items: list[Obj] = []

    def add(self, key: SortKey, item: Obj) -> None:
        i = bisect.bisect_left(self.keys, key)
        self.keys.insert(i, key)
        self.items.insert(i, item)

    def remove(self, key: SortKey) -> None:
        i = bisect.bisect_left(self.keys, key)
        del self.keys[i]
        del self.items[i]


class Group:
    """Endpoints sharing one port set: one EndpointSlice and one Endpoints subset."""

    def __init__(self, ports: list[Obj]) -> None:
        self.ports = ports
        self.endpoints = SortedEntries()
        self.ready = SortedEntries()
        self.not_ready = SortedEntries()

    def add(self, m: Member) -> None:
        self.endpoints.add(m.sort_key, m.endpoint)
        if m.address is not None:
            (self.ready if m.ready else self.not_ready).add(m.sort_key, m.address)

    def remove(self, m: Member) -> None:
        self.endpoints.remove(m.sort_key)
        if m.address is not None:
            (self.ready if m.ready else self.not_ready).remove(m.sort_key)

    def subset(self) -> Obj | None:
        """The Endpoints subset, or None when no address is left."""
        subset: Obj = {}
        if self.ready.items:
            subset["addresses"] = list(self.ready.items)
        if self.not_ready.items:
            subset["notReadyAddresses"] = list(self.not_ready.items)
        if subset:
            subset["ports"] = [dict(p) for p in self.ports]
        return subset or None


class ServiceCache:
    """Every member of one Service, by pod key, and the groups they form."""

    def __init__(self, version: str) -> None:
        self.version = version  # the Service's resourceVersion this cache was built for
        self.members: dict[str, Member] = {}
        self.groups: dict[str, Group] = {}

    def set(self, pod_key: str, member: Member | None) -> bool:
        """Make ``pod_key``'s member ``member`` (None: not a member); True if that changed."""
        old = self.members.get(pod_key)
        if old == member:
            return False
        if old is not None:
            group = self.groups[old.group]
            group.remove(old)
            if not group.endpoints.keys:
                del self.groups[old.group]
            del self.members[pod_key]
        if member is not None:
            self.groups.setdefault(member.group, Group(member.ports)).add(member)
            self.members[pod_key] = member
        return True

    def sorted_groups(self) -> list[tuple[str, Group]]:
        # By port set, so the order does not depend on which pod came first.
        return sorted(self.groups.items())

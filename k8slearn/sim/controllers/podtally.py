"""Running counts of each ReplicaSet's pods, kept up to date from the pod watch.

The real controller recounts its pods from the informer cache on every sync. With a kubelet
that readies pods one at a time, a 1,000-pod ReplicaSet would then be recounted 1,000 times
(a million pod visits); instead the watch tells us which pod changed, so its old contribution
is taken away and its new one added. A tally is derived data, exactly like an informer cache:
it is built from the store on first use (after ``Cluster.restore`` too), is not part of
snapshots, and is rebuilt whenever the ReplicaSet's selector or template labels change.
An index of orphan pods by label (built once, then kept up to date the same way) lets a
ReplicaSet find pods to adopt without scanning the cluster's pods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from k8slearn.sim.controllers.podutil import Facts, deletion_facts, is_active
from k8slearn.sim.objects import match_label_selector, match_labels
from k8slearn.sim.store import Store, controller_uid, obj_key

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
# A pod's contribution: (owner uid, counted, ready, labeled, mismatched, deletion facts).
Contribution = tuple[str, bool, bool, bool, bool, Facts]


class Tally:
    """One ReplicaSet's counts over its active pods that match its selector."""

    def __init__(self, signature: Any) -> None:
        self.signature = signature
        self.pods: dict[str, Contribution] = {}  # pod key -> contribution (ordered)
        self.active = self.ready = self.labeled = self.mismatched = 0
        self.ready_since: dict[str, float] = {}  # ready pod key -> since
        self.nodes: dict[str, int] = {}  # node -> counted pods there ("" = not scheduled)
        self.counted: dict[str, Facts] = {}  # counted pod key -> its deletion facts

    def apply(self, key: str, c: Contribution, sign: int) -> None:
        _owner, counted, ready, labeled, mismatched, facts = c
        self.active += sign * counted
        self.ready += sign * ready
        self.labeled += sign * labeled
        self.mismatched += sign * mismatched
        if counted:
            node = facts[4]
            self.nodes[node] = self.nodes.get(node, 0) + sign
            if not self.nodes[node]:
                del self.nodes[node]
        if sign > 0:
            self.pods[key] = c
            if counted:
                self.counted[key] = facts
            if ready and facts[5] is not None:
                self.ready_since[key] = facts[5]
        else:
            self.pods.pop(key, None)
            self.counted.pop(key, None)
            self.ready_since.pop(key, None)

    def candidates(self) -> list[tuple[str, Facts]]:
        """(pod key, deletion facts) of the pods this ReplicaSet counts."""
        return list(self.counted.items())


def signature(rs: Obj) -> Any:
    """What a contribution depends on besides the pod: the selector and template labels."""
    return (rs["spec"].get("selector"),
            (rs["spec"]["template"].get("metadata") or {}).get("labels"))


def contribution(rs: Obj, pod: Obj) -> Contribution:
    labels = pod["metadata"].get("labels") or {}
    active = is_active(pod)
    matches = match_label_selector(rs["spec"]["selector"], labels)
    counted = active and matches
    facts = deletion_facts(pod)
    ready = counted and facts[2] == 1
    template_labels = (rs["spec"]["template"].get("metadata") or {}).get("labels") or {}
    labeled = counted and match_labels(template_labels, labels)
    return (rs["metadata"]["uid"], counted, ready, labeled, active and not matches, facts)


class PodTallies:
    """All tallies of one cluster (one store)."""

    def __init__(self) -> None:
        self.by_owner: dict[str, Tally] = {}
        self.owner_of: dict[str, str] = {}  # pod key -> owner uid, for pods in some tally
        # Active pods without a controller, by namespace then "key=value" label ("" = all);
        # None until a ReplicaSet first looks for pods to adopt.
        self.orphans: dict[str, dict[str, dict[str, None]]] | None = None
        self.orphan_entries: dict[str, tuple[str, list[str]]] = {}  # pod key -> (ns, pairs)

    def pod_changed(self, cluster: Cluster, pod: Obj, deleted: bool) -> None:
        key = obj_key(pod)
        if self.orphans is not None:
            self._unindex_orphan(key)
            if not deleted:
                self._index_orphan(pod, key)
        old_owner = self.owner_of.pop(key, None)
        if old_owner is not None and old_owner in self.by_owner:
            tally = self.by_owner[old_owner]
            if key in tally.pods:
                tally.apply(key, tally.pods[key], -1)
        if deleted:
            return
        owner = controller_uid(pod)
        tally = self.by_owner.get(owner) if owner else None
        if tally is None:
            return  # no one counts this owner yet; a first sync will scan the store
        rs = _owner_replicaset(cluster, pod)
        if rs is None or rs["metadata"]["uid"] != owner or signature(rs) != tally.signature:
            self.forget(owner)
            return
        tally.apply(key, contribution(rs, pod), +1)
        self.owner_of[key] = owner

    def _index_orphan(self, pod: Obj, key: str) -> None:
        assert self.orphans is not None
        if controller_uid(pod) is not None or not is_active(pod):
            return
        ns = pod["metadata"].get("namespace") or ""
        pairs = [f"{k}={v}" for k, v in (pod["metadata"].get("labels") or {}).items()]
        by_label = self.orphans.setdefault(ns, {})
        for pair in ("", *pairs):
            by_label.setdefault(pair, {})[key] = None
        self.orphan_entries[key] = (ns, pairs)

    def _unindex_orphan(self, key: str) -> None:
        assert self.orphans is not None
        entry = self.orphan_entries.pop(key, None)
        if entry is None:
            return
        ns, pairs = entry
        by_label = self.orphans.get(ns, {})
        for pair in ("", *pairs):
            keys = by_label.get(pair)
            if keys is not None:
                keys.pop(key, None)
                if not keys:
                    del by_label[pair]

    def orphans_for(self, cluster: Cluster, rs: Obj) -> list[str]:
        """Keys of orphan pods that might match ``rs``'s selector (sorted), from the smallest
        label bucket of its matchLabels. The index is built once from the store."""
        if self.orphans is None:
            self.orphans = {}
            for pod in cluster.store.iter("Pod"):
                self._index_orphan(pod, obj_key(pod))
        by_label = self.orphans.get(rs["metadata"].get("namespace") or "", {})
        match = (rs["spec"].get("selector") or {}).get("matchLabels") or {}
        pairs = [f"{k}={v}" for k, v in match.items()] or [""]
        return sorted(min((by_label.get(p, {}) for p in pairs), key=len))

    def forget(self, owner: str) -> None:
        tally = self.by_owner.pop(owner, None)
        if tally is not None:
            for key in tally.pods:
                self.owner_of.pop(key, None)

    def tally_for(self, cluster: Cluster, rs: Obj) -> Tally:
        """The tally of ``rs``, counted from the store if it is new or out of date."""
        uid = rs["metadata"]["uid"]
        tally = self.by_owner.get(uid)
        if tally is not None and tally.signature == signature(rs):
            return tally
        self.forget(uid)
        tally = Tally(signature(rs))
        for pod in cluster.store.pods_owned_by(uid):
            key = obj_key(pod)
            tally.apply(key, contribution(rs, pod), +1)
            self.owner_of[key] = uid
        self.by_owner[uid] = tally
        return tally


def _owner_replicaset(cluster: Cluster, pod: Obj) -> Obj | None:
    for ref in pod["metadata"].get("ownerReferences") or ():
        if ref.get("controller") and ref.get("kind") == "ReplicaSet":
            return cluster.store.get("ReplicaSet", pod["metadata"].get("namespace"), ref["name"])
    return None


_TALLIES: WeakKeyDictionary[Store, PodTallies] = WeakKeyDictionary()


def tallies(cluster: Cluster) -> PodTallies:
    """The tallies of this cluster's store (a restored cluster has a new store: fresh start)."""
    found = _TALLIES.get(cluster.store)
    if found is None:
        found = _TALLIES[cluster.store] = PodTallies()
    return found

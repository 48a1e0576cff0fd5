"""The object store: the API server's etcd, as plain dicts in the real Kubernetes JSON shapes.

Every write bumps one global ``resourceVersion`` and appends ``(rv, kind, key)`` to a change log,
which is what ``changes_since(version)`` reads: a watch, so that a UI re-renders only what
changed. Writes also notify the watchers (the Cluster's controller dispatcher).

Objects are keyed by kind, then ``"namespace/name"`` (``"/name"`` for cluster-scoped kinds).
Two indexes keep reconcile cheap at 5,000 pods: pods by controller owner uid, and pods by node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

Obj = dict[str, Any]
Watcher = Callable[[str, Obj, bool], None]  # (kind, object, deleted)

# Past this many entries the change log forgets its oldest half; a reader that asks for a version
# older than what is left gets ``None`` ("resync everything"), as a real watch gets 410 Gone.
CHANGE_LOG_LIMIT = 20_000


def key_of(namespace: str | None, name: str) -> str:
    return f"{namespace or ''}/{name}"


def obj_key(obj: Obj) -> str:
    meta = obj["metadata"]
    return key_of(meta.get("namespace"), meta["name"])


def controller_uid(obj: Obj) -> str | None:
    for ref in obj["metadata"].get("ownerReferences") or ():
        if ref.get("controller"):
            return str(ref["uid"])
    return None


class Store:
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Obj]] = {}
        self.resource_version = 0
        # "Kind|ns/name" -> rv of its latest change, oldest first: a compacted watch log whose
        # size follows the number of objects, not the number of writes.
        self.changed: dict[str, int] = {}
        self.log_start = 0  # every change with rv > log_start is still in ``changed``
        self.watchers: list[Watcher] = []
        self._by_owner: dict[str, dict[str, None]] = {}  # owner uid -> pod keys (ordered)
        self._by_node: dict[str, dict[str, None]] = {}  # node name -> pod keys (ordered)
        self._pod_idx: dict[str, tuple[str | None, str | None]] = {}  # key -> (owner, node)

    # -- reads -----------------------------------------------------------------------------
    def get(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        return self.objects.get(kind, {}).get(key_of(namespace, name))

    def list(self, kind: str, namespace: str | None = None) -> list[Obj]:
        """Objects of ``kind`` (in ``namespace`` if given), in creation order."""
        objs = self.objects.get(kind, {}).values()
        if namespace is None:
            return list(objs)
        return [o for o in objs if o["metadata"].get("namespace") == namespace]

    def iter(self, kind: str) -> Iterator[Obj]:
        return iter(self.objects.get(kind, {}).values())

    def count(self, kind: str | None = None) -> int:
        if kind is not None:
            return len(self.objects.get(kind, {}))
        return sum(len(v) for v in self.objects.values())

    def pods_owned_by(self, owner_uid: str) -> list[Obj]:
        pods = self.objects.get("Pod", {})
        return [pods[k] for k in self._by_owner.get(owner_uid, {}) if k in pods]

    def pods_on_node(self, node_name: str) -> list[Obj]:
        pods = self.objects.get("Pod", {})
        return [pods[k] for k in self._by_node.get(node_name, {}) if k in pods]

    # -- writes ----------------------------------------------------------------------------
    def _bump(self, kind: str, key: str, obj: Obj) -> None:
        self.resource_version += 1
        obj["metadata"]["resourceVersion"] = str(self.resource_version)
        ck = f"{kind}|{key}"
        self.changed.pop(ck, None)
        self.changed[ck] = self.resource_version
        if len(self.changed) > CHANGE_LOG_LIMIT:
            oldest = list(self.changed.items())[: len(self.changed) // 2]
            for old_ck, _rv in oldest:
                del self.changed[old_ck]
            self.log_start = oldest[-1][1]

    def add(self, obj: Obj) -> Obj:
        """Insert a fully formed object (metadata already defaulted by the API server)."""
        kind = obj["kind"]
        key = obj_key(obj)
        self.objects.setdefault(kind, {})[key] = obj
        self._index(kind, key, obj, None)
        self._bump(kind, key, obj)
        self._notify(kind, obj, False)
        return obj

    def update(self, obj: Obj) -> Obj:
        """Record an in-place change to a stored object."""
        kind = obj["kind"]
        key = obj_key(obj)
        old = self.objects[kind][key]
        self.objects[kind][key] = obj
        self._index(kind, key, obj, old)
        self._bump(kind, key, obj)
        self._notify(kind, obj, False)
        return obj

    def remove(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        key = key_of(namespace, name)
        obj = self.objects.get(kind, {}).pop(key, None)
        if obj is None:
            return None
        self._unindex(kind, key, obj)
        self._bump(kind, key, obj)
        self._notify(kind, obj, True)
        return obj

    def _index(self, kind: str, key: str, obj: Obj, old: Obj | None) -> None:
        # Objects are changed in place, so the previous owner/node comes from ``_pod_idx``.
        if kind != "Pod":
            return
        owner = controller_uid(obj)
        node = obj.get("spec", {}).get("nodeName")
        if self._pod_idx.get(key) == (owner, node):
            return
        self._unindex(kind, key, obj)
        self._pod_idx[key] = (owner, node)
        if owner:
            self._by_owner.setdefault(owner, {})[key] = None
        if node:
            self._by_node.setdefault(node, {})[key] = None

    def _unindex(self, kind: str, key: str, obj: Obj) -> None:
        if kind != "Pod":
            return
        owner, node = self._pod_idx.pop(key, (None, None))
        if owner and owner in self._by_owner:
            self._by_owner[owner].pop(key, None)
            if not self._by_owner[owner]:
                del self._by_owner[owner]
        if node and node in self._by_node:
            self._by_node[node].pop(key, None)
            if not self._by_node[node]:
                del self._by_node[node]

    def _notify(self, kind: str, obj: Obj, deleted: bool) -> None:
        for watch in self.watchers:
            watch(kind, obj, deleted)

    # -- watch -----------------------------------------------------------------------------
    def changes_since(self, version: int) -> dict[str, dict[str, Obj | None]] | None:
        """{kind: {key: object, or None if deleted}} for changes after ``version``.

        None means the log no longer reaches back that far: re-read everything.
        """
        if version < self.log_start:
            return None
        newest_first = []
        for ck, rv in reversed(self.changed.items()):
            if rv <= version:
                break
            newest_first.append(ck)
        out: dict[str, dict[str, Obj | None]] = {}
        for ck in reversed(newest_first):
            kind, _, key = ck.partition("|")
            out.setdefault(kind, {})[key] = self.objects.get(kind, {}).get(key)
        return out

    # -- snapshot --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "objects": {kind: list(objs.values()) for kind, objs in self.objects.items()},
            "resource_version": self.resource_version,
            "changed": self.changed,
            "log_start": self.log_start,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Store:
        store = cls()
        for kind, objs in d["objects"].items():
            bucket = store.objects.setdefault(kind, {})
            for obj in objs:
                key = obj_key(obj)
                bucket[key] = obj
                store._index(kind, key, obj, None)
        store.resource_version = d["resource_version"]
        store.changed = d["changed"]
        store.log_start = d["log_start"]
        return store

"""Controllers: level-based reconcile loops, in the shape of controller-runtime.

A controller names the kinds it watches and maps a changed object to the *keys* to reconcile
(a Pod change enqueues its owner ReplicaSet's key, never the event itself). ``reconcile(key)``
follows the body order of controller-runtime's example: fetch -> gone? done -> already right?
done -> change the store and record an Event -> return (optionally "requeue after N seconds").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]


class Controller:
    name: ClassVar[str] = "controller"
    watches: ClassVar[tuple[str, ...]] = ()

    def keys_for(self, cluster: Cluster, kind: str, obj: Obj, deleted: bool) -> Iterable[str]:
        """Keys ("namespace/name") to reconcile after ``obj`` of ``kind`` changed."""
        meta = obj["metadata"]
        return (f"{meta.get('namespace') or ''}/{meta['name']}",)

    def reconcile(self, cluster: Cluster, key: str) -> float | None:
        """Drive the object at ``key`` one step toward its desired state.

        Returns seconds after which to reconcile again, or None.
        """
        raise NotImplementedError


def split_key(key: str) -> tuple[str | None, str]:
    ns, _, name = key.partition("/")
    return (ns or None), name

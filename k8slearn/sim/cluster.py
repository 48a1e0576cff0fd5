"""Cluster: the facade that tests, the UI and a future real-kubectl API call.

    c = Cluster.create(seed=7, nodes=3)
    c.kubectl("create deployment web --image=nginx:1.25 --replicas=3")
    c.advance(10)                      # run the control loops for 10 virtual seconds
    c.kill_container("web-...")        # chaos is a plain method call
    d = c.snapshot(); Cluster.restore(d)
"""

from __future__ import annotations

import copy
import random
from typing import Any

from k8slearn.sim import (
    apiserver,
    configs,  # noqa: F401  (imported to register the ConfigMap/Secret rules)
    kubelet,
    nodelifecycle,
    nodes,
    services,
)
from k8slearn.sim.clock import VirtualClock, to_ms
from k8slearn.sim.controllers import Controller
from k8slearn.sim.controllers.deployment import DeploymentController
from k8slearn.sim.controllers.endpoints import EndpointsController
from k8slearn.sim.controllers.garbagecollector import GarbageCollector
from k8slearn.sim.controllers.replicaset import ReplicaSetController
from k8slearn.sim.controllers.storage import PersistentVolumeController
from k8slearn.sim.errors import SimError
from k8slearn.sim.events import record_event
from k8slearn.sim.kubectl.result import KubectlResult
from k8slearn.sim.objects import ObjectView, parse_selector, selector_matches
from k8slearn.sim.scheduler import Scheduler
from k8slearn.sim.store import Obj, Store
from k8slearn.sim.timers import BOOTSTRAP, TIMER_HANDLERS

SNAPSHOT_FORMAT = 1
# A reconcile storm that does not settle within this many rounds is a simulator bug.
MAX_ROUNDS = 100_000

DEFAULT_SETTINGS: dict[str, Any] = {
    "scoring": "LeastAllocated",  # or "MostAllocated" (bin packing)
    "node_monitor_grace_period": 40,  # seconds without a heartbeat before Ready=Unknown
    "node_monitor_period": 5,
    "pod_eviction_toleration": 300,  # DefaultTolerationSeconds for not-ready/unreachable
}


def _controllers() -> list[Controller]:
    # Order matters only for determinism (it is fixed): every loop runs until all are quiet.
    return [
        DeploymentController(),
        ReplicaSetController(),
        Scheduler(),
        kubelet.Kubelet(),
        nodelifecycle.NodeLifecycleController(),
        EndpointsController(),
        PersistentVolumeController(),
        GarbageCollector(),
    ]


class Cluster:
    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.clock = VirtualClock()
        self.store = Store()
        self.state: dict[str, Any] = {}
        self.settings: dict[str, Any] = dict(DEFAULT_SETTINGS)
        self.controllers = _controllers()
        self.queues: dict[str, dict[str, None]] = {c.name: {} for c in self.controllers}
        self._by_kind: dict[str, list[Controller]] = {}
        for c in self.controllers:
            for kind in c.watches:
                self._by_kind.setdefault(kind, []).append(c)
        self.store.watchers.append(self._on_change)

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        seed: int = 0,
        nodes: int = 3,
        *,
        node_cpu: str = "2",
        node_memory: str = "4Gi",
        scoring: str = "LeastAllocated",
    ) -> Cluster:
        """A fresh cluster at virtual t=0 with ``nodes`` worker nodes named node-1 … node-N."""
        if scoring not in ("LeastAllocated", "MostAllocated"):
            raise ValueError("scoring must be LeastAllocated or MostAllocated")
        c = cls(seed)
        c.settings["scoring"] = scoring
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            apiserver.create(c, {"kind": "Namespace", "metadata": {"name": ns},
                                 "spec": {"finalizers": ["kubernetes"]},
                                 "status": {"phase": "Active"}})
        for i in range(1, nodes + 1):
            c.add_node(f"node-{i}", cpu=node_cpu, memory=node_memory)
        for step in BOOTSTRAP:
            step(c)
        c._drain()
        return c

    # -- time ------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        """Virtual seconds since the cluster was created."""
        return self.clock.now

    @property
    def version(self) -> int:
        """The store's resourceVersion: pass it to ``changes_since`` later."""
        return self.store.resource_version

    def advance(self, seconds: float) -> None:
        """Run the cluster for ``seconds`` of virtual time."""
        if seconds < 0:
            raise ValueError("cannot advance by a negative time")
        target = self.clock.now_ms + to_ms(seconds)
        self._drain()
        while True:
            due = self.clock.peek()
            if due is None or due > target:
                break
            self._run_timer()
            self._drain()
        self.clock.now_ms = target

    def next_due(self) -> float | None:
        """Virtual time (s) of the next timer, or None when nothing is scheduled."""
        due = self.clock.peek()
        return None if due is None else due / 1000

    def step(self) -> list[str]:
        """One reconcile round if any controller has work, else jump to the next timer.

        Returns what ran, e.g. ["replicaset-controller default/web-7c5ddbdf54"], so a UI can
        show the control loops acting one at a time.
        """
        if any(self.queues.values()):
            return self._round()
        if self.clock.peek() is None:
            return []
        return [self._run_timer()]

    def _run_timer(self) -> str:
        due, _prio, _seq, kind, args = self.clock.pop()
        self.clock.now_ms = max(self.clock.now_ms, due)
        if kind == "requeue":
            name, key = args
            self.queues[name][key] = None
        else:
            TIMER_HANDLERS[kind](self, *args)
        return f"timer {kind} {' '.join(str(a) for a in args)}".strip()

    # -- controllers -----------------------------------------------------------------------
    def _on_change(self, kind: str, obj: Obj, deleted: bool) -> None:
        for c in self._by_kind.get(kind, ()):
            queue = self.queues[c.name]
            for key in c.keys_for(self, kind, obj, deleted):
                queue[key] = None

    def _round(self) -> list[str]:
        ran = []
        for c in self.controllers:
            queue = self.queues[c.name]
            if not queue:
                continue
            keys = list(queue)
            queue.clear()
            for key in keys:
                ran.append(f"{c.name} {key}")
                after = c.reconcile(self, key)
                if after is not None:
                    self.clock.call_later(after, "requeue", [c.name, key], priority=1)
        return ran

    def _drain(self) -> None:
        rounds = 0
        while any(self.queues.values()):
            self._round()
            rounds += 1
            if rounds > MAX_ROUNDS:
                raise SimError("controllers did not settle: " + repr(
                    {k: list(v)[:5] for k, v in self.queues.items() if v}))

    # -- reads -----------------------------------------------------------------------------
    def get(self, kind: str, name: str, namespace: str | None = "default") -> ObjectView | None:
        res = apiserver.RESOURCES[kind]
        obj = self.store.get(kind, namespace if res.namespaced else None, name)
        return ObjectView(obj) if obj is not None else None

    def list(self, kind: str, namespace: str | None = "default",
             selector: str | None = None) -> list[ObjectView]:
        res = apiserver.RESOURCES[kind]
        objs = self.store.list(kind, namespace if res.namespaced else None)
        if selector:
            reqs = parse_selector(selector)
            objs = [o for o in objs if selector_matches(reqs, o["metadata"].get("labels") or {})]
        return [ObjectView(o) for o in objs]

    def pods(self, selector: str | None = None, phase: str | None = None,
             namespace: str | None = "default") -> list[ObjectView]:
        """Pods (not yet deleted from the store), optionally by label selector and phase.

        ``phase="Running"`` also excludes terminating pods, which is what a learner means.
        """
        pods = self.list("Pod", namespace, selector)
        if phase is not None:
            pods = [p for p in pods if p.phase == phase
                    and not (phase == "Running" and p["metadata"].get("deletionTimestamp"))]
        return pods

    def uids(self) -> dict[str, None]:
        uids: dict[str, None] = {}
        for objs in self.store.objects.values():
            for o in objs.values():
                uids[o["metadata"].get("uid", "")] = None
        return uids

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event occurrence so far (bounded), oldest first, as dicts."""
        fields = ("seq", "time_ms", "kind", "namespace", "name", "type", "reason", "message",
                  "component")
        return [dict(zip(fields, row, strict=True)) for row in self.state.get("event_log", [])]

    def changes_since(self, version: int) -> dict[str, dict[str, Obj | None]] | None:
        """{kind: {"ns/name": object or None if deleted}} changed after ``version``; None if
        the history no longer reaches back that far (re-read everything)."""
        return self.store.changes_since(version)

    def record_event(self, obj: Obj, type_: str, reason: str, message: str, component: str,
                     **kw: Any) -> None:
        record_event(self, obj, type_, reason, message, component, **kw)

    # -- the user's entry points -----------------------------------------------------------
    def kubectl(self, line: str, stdin: str | None = None) -> KubectlResult:
        """Run one kubectl command line; output as real kubectl prints it. Never raises."""
        from k8slearn.sim.kubectl import run

        return run(self, line, stdin)

    def add_node(self, name: str | None = None, cpu: str = "2", memory: str = "4Gi",
                 labels: dict[str, str] | None = None,
                 taints: list[dict[str, Any]] | None = None) -> str:
        """Join a new worker node (Ready at once). Returns its name."""
        if name is None:
            n = len(self.store.list("Node")) + 1
            while self.store.get("Node", None, f"node-{n}") is not None:
                n += 1
            name = f"node-{n}"
        nodes.add_node(self, name, cpu, memory, labels, taints)
        self._drain()
        return name

    def kill_container(self, pod: str, container: str | None = None,
                       namespace: str = "default") -> None:
        """Chaos: the container's main process exits (code 137); the kubelet reacts."""
        kubelet.kill_container(self, pod, container, namespace)
        self._drain()

    def fail_node(self, name: str) -> None:
        """Chaos: the node stops heart-beating (power cut). Its pods keep 'running' there."""
        nodelifecycle.fail_node(self, name)
        self._drain()

    def recover_node(self, name: str) -> None:
        """The node's kubelet comes back and posts status again."""
        nodelifecycle.recover_node(self, name)
        self._drain()

    def set_fault(self, target: str, fault: str, on: bool = True,
                  namespace: str = "default") -> None:
        """App-level faults for pods matched by ``target`` (a pod name or a label selector):
        "liveness" / "readiness" (that probe starts failing), "crash" (the app exits on start)."""
        kubelet.set_fault(self, target, fault, on, namespace)
        self._drain()

    def send_traffic(self, service: str, requests: int = 1,
                     namespace: str = "default") -> list[str | None]:
        """Send ``requests`` new connections to a Service; returns the serving pod of each
        (None where no ready endpoint existed)."""
        return services.send_traffic(self, service, requests, namespace)

    def stream_traffic(self, service: str, rate: int, namespace: str = "default") -> None:
        """Keep sending ``rate`` requests per virtual second to a Service (0 stops)."""
        services.set_stream(self, service, rate, namespace)

    # -- snapshots -------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Everything, as JSON-native data. ``Cluster.restore(c.snapshot())`` continues exactly."""
        version, internal, gauss = self.rng.getstate()
        return copy.deepcopy({
            "format": SNAPSHOT_FORMAT,
            "seed": self.seed,
            "rng": [version, list(internal), gauss],
            "clock": self.clock.to_dict(),
            "store": self.store.to_dict(),
            "state": self.state,
            "settings": self.settings,
            "queues": {name: list(q) for name, q in self.queues.items()},
        })

    @classmethod
    def restore(cls, d: dict[str, Any]) -> Cluster:
        if d.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"unknown snapshot format {d.get('format')!r}")
        d = copy.deepcopy(d)
        c = cls(d["seed"])
        version, internal, gauss = d["rng"]
        c.rng.setstate((version, tuple(internal), gauss))
        c.clock = VirtualClock.from_dict(d["clock"])
        c.store = Store.from_dict(d["store"])
        c.store.watchers.append(c._on_change)
        c.state = d["state"]
        c.settings = d["settings"]
        for name, keys in d["queues"].items():
            c.queues[name] = dict.fromkeys(keys)
        return c

"""Figures for the simulator core: memory, idle cost, and the two big scenarios.

    .venv/bin/python bench/sim.py            # everything (about a minute)
    .venv/bin/python bench/sim.py --quick    # skip the 5,000-pod and 1,000-replica scenarios

Prints one table: figure, measured value, target, PASS/FAIL. CPU figures are
``time.process_time`` (the machine is shared; wall time would measure the neighbours).
The targets say "cost follows what changed, not the size of the cluster".
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from k8slearn.sim import Cluster, apiserver  # noqa: E402

Row = tuple[str, str, str, str]


def deployment(name: str, replicas: int, image: str = "nginx:1.25") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "app", "image": image}]}}},
    }


def set_image(c: Cluster, name: str, image: str) -> None:
    import copy

    d = copy.deepcopy(c.store.get("Deployment", "default", name))
    d["spec"]["template"]["spec"]["containers"][0]["image"] = image
    apiserver.update(c, d)


def ready_pods(c: Cluster) -> int:
    n = 0
    for pod in c.store.iter("Pod"):
        if pod["metadata"].get("deletionTimestamp"):
            continue
        status = pod.get("status") or {}
        if status.get("phase") == "Running" and any(
                k.get("type") == "Ready" and k.get("status") == "True"
                for k in status.get("conditions") or ()):
            n += 1
    return n


def rollout_complete(c: Cluster, name: str) -> bool:
    d = c.store.get("Deployment", "default", name)
    s = d.get("status") or {}
    want = d["spec"]["replicas"]
    return (s.get("observedGeneration", 0) >= d["metadata"]["generation"]
            and s.get("updatedReplicas") == want and s.get("replicas") == want
            and s.get("availableReplicas") == want)


def advance_until(c: Cluster, done: Callable[[], bool], step: float, limit: float) -> float:
    """Advance in ``step`` slices until ``done()``; returns CPU seconds spent in advance only."""
    cpu = 0.0
    waited = 0.0
    while not done():
        if waited >= limit:
            raise RuntimeError(f"not done after {limit} virtual seconds")
        t0 = time.process_time()
        c.advance(step)
        cpu += time.process_time() - t0
        waited += step
    return cpu


# -- the figures ---------------------------------------------------------------------------
def learner_cluster() -> Cluster:
    c = Cluster.create(seed=1, nodes=3)
    for name in ("web", "api"):
        apiserver.create(c, deployment(name, 3))
    apiserver.create(c, {"kind": "Service", "metadata": {"name": "web"},
                         "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    c.advance(30)
    return c


def bench_memory() -> Row:
    # Build one first: lazy imports and module caches (strptime, regexes) are not the cluster.
    learner_cluster()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    c = learner_cluster()
    gc.collect()
    size = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    del c
    return ("learner cluster size (tracemalloc)", f"{size / 1024:.0f} KB", "<= 200 KB",
            verdict(size <= 200 * 1024))


def idle_advance_us(c: Cluster, seconds: float, samples: int) -> float:
    """Median wall-clock-free cost (process time, ns resolution) of advance(seconds) when no
    timer falls inside the step."""
    times = []
    while len(times) < samples:
        due = c.next_due()
        if due is not None and due <= c.now + seconds:
            c.advance(max(0.0, due - c.now) + 0.001)  # step over the due timer, unmeasured
            continue
        t0 = time.perf_counter_ns()
        c.advance(seconds)
        times.append(time.perf_counter_ns() - t0)
    return statistics.median(times) / 1000


def bench_idle_advance() -> Row:
    c = learner_cluster()
    us = idle_advance_us(c, 0.1, 2000)
    return ("advance(0.1) with nothing due (median)", f"{us:.1f} µs", "<= 20 µs",
            verdict(us <= 20))


def bench_idle_by_size() -> list[Row]:
    rows = []
    for pods in (10, 1000, 5000):
        c = Cluster.create(seed=2, nodes=50, node_cpu="64", node_memory="256Gi")
        per = min(pods, 500)
        for i in range(pods // per):
            apiserver.create(c, deployment(f"d{i}", per))
        advance_until(c, lambda c=c, pods=pods: ready_pods(c) >= pods, 10, 600)
        c.advance(60)
        t0 = time.process_time()
        c.advance(60)  # a minute of a quiet cluster: heartbeats and node checks only
        cpu_ms = (time.process_time() - t0) * 1000
        us = idle_advance_us(c, 0.1, 300)
        rows.append((f"idle: advance(60) / advance(0.1), {pods} pods, 50 nodes",
                     f"{cpu_ms:.1f} ms / {us:.1f} µs", "flat in pods", "-"))
    return rows


def bench_node_failure() -> Row:
    # 4,950 pods, not 5,000: the sandbox's pod quota is 5,000 and the dead node's ~10 pods stay
    # Terminating (their kubelet is gone) while their replacements are created.
    c = Cluster.create(seed=3, nodes=500, node_cpu="64", node_memory="256Gi")
    for i in range(10):
        apiserver.create(c, deployment(f"d{i}", 495))
    total = 4950
    advance_until(c, lambda: ready_pods(c) >= total, 10, 900)
    c.advance(30)
    t0 = time.process_time()
    c.fail_node("node-7")
    cpu = time.process_time() - t0
    cpu += advance_until(c, lambda: ready_pods(c) >= total and all(
        rollout_complete(c, f"d{i}") for i in range(10)) and _node_pods_replaced(c, "node-7"),
        10, 1200)
    return ("500 nodes, 4,950 pods: node fails -> all Running", f"{cpu:.2f} s CPU",
            "<= 1 s", verdict(cpu <= 1.0))


def _node_pods_replaced(c: Cluster, node: str) -> bool:
    return all(p["metadata"].get("deletionTimestamp") for p in c.store.pods_on_node(node))


def bench_rolling_update(with_service: bool = False) -> Row:
    c = Cluster.create(seed=4, nodes=20, node_cpu="64", node_memory="256Gi")
    apiserver.create(c, deployment("big", 1000))
    if with_service:
        apiserver.create(c, {"kind": "Service", "metadata": {"name": "big"},
                             "spec": {"selector": {"app": "big"}, "ports": [{"port": 80}]}})
    advance_until(c, lambda: rollout_complete(c, "big"), 10, 900)
    set_image(c, "big", "nginx:1.26")
    cpu = advance_until(c, lambda: rollout_complete(c, "big"), 5, 3600)
    label = "1,000-replica rolling update to completion" + (" + Service" if with_service else "")
    return (label, f"{cpu:.2f} s CPU", "<= 2 s", verdict(cpu <= 2.0))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def run(fn: Callable[[], Row | list[Row]], name: str) -> list[Row]:
    try:
        out = fn()
    except Exception as exc:  # a part still missing gives a FAIL row, not a crash
        return [(name, f"ERROR {type(exc).__name__}: {exc}"[:70], "-", "FAIL")]
    return out if isinstance(out, list) else [out]


def main() -> None:
    quick = "--quick" in sys.argv
    rows: list[Row] = []
    rows += run(bench_memory, "learner cluster size")
    rows += run(bench_idle_advance, "advance(0.1) idle")
    if not quick:
        rows += run(bench_node_failure, "node failure at 5,000 pods")
        rows += run(bench_rolling_update, "1,000-replica rolling update")
        rows += run(lambda: bench_rolling_update(with_service=True),
                    "1,000-replica rolling update + Service")
        rows += run(bench_idle_by_size, "idle cost by size")
    widths = [max(len(r[i]) for r in [*rows, ("figure", "measured", "target", "result")])
              for i in range(4)]
    header = ("figure", "measured", "target", "result")
    for row in (header, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()

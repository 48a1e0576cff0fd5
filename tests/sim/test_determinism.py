"""Same seed + same calls -> same history, and snapshots that continue exactly."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from workload_helpers import World, actions, create_deployment, deployment_pods, scale, set_image

from k8slearn.sim import Cluster, apiserver

Step = Callable[[Cluster], object]


def _first_pod(c: Cluster) -> str:
    names = sorted(p["metadata"]["name"] for p in deployment_pods(c, "web")
                   if not p["metadata"].get("deletionTimestamp"))
    return names[0]


def _service(c: Cluster) -> None:
    apiserver.create(c, {"kind": "Service", "metadata": {"name": "web"},
                         "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})


def _pvc(c: Cluster) -> None:
    apiserver.create(c, {"kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
                         "spec": {"accessModes": ["ReadWriteOnce"],
                                  "resources": {"requests": {"storage": "1Gi"}}}})


# A story with a rollout, a crash loop, a node failure and traffic. The named points are where
# the restore tests cut it.
STEPS: list[tuple[str, Step]] = [
    ("create", lambda c: create_deployment(c, "web", "nginx:1.25", 4)),
    ("service", _service),
    ("pvc", _pvc),
    ("settle", lambda c: c.advance(20)),
    ("traffic-1", lambda c: c.send_traffic("web", 20)),
    ("set-image", lambda c: set_image(c, "web", "nginx:1.26")),
    ("mid-rollout", lambda c: c.advance(1.5)),
    ("kill-1", lambda c: c.kill_container(_first_pod(c))),
    ("after-kill", lambda c: c.advance(3)),
    ("kill-2", lambda c: c.kill_container(_first_pod(c))),
    ("mid-backoff", lambda c: c.advance(2)),
    ("scale", lambda c: scale(c, "web", 6)),
    ("run", lambda c: c.advance(40)),
    ("fail-node", lambda c: c.fail_node("node-2")),
    ("node-grace", lambda c: c.advance(45)),
    ("traffic-2", lambda c: c.send_traffic("web", 20)),
    ("evict", lambda c: c.advance(320)),
    ("recover", lambda c: c.recover_node("node-2")),
    ("finish", lambda c: c.advance(60)),
    ("traffic-3", lambda c: c.send_traffic("web", 20)),
]
CUTS = ["settle", "mid-rollout", "after-kill", "mid-backoff", "node-grace", "evict"]


def _run(c: Cluster, steps: list[tuple[str, Step]]) -> list[object]:
    return [fn(c) for _name, fn in steps]


def _index(name: str) -> int:
    return [n for n, _ in STEPS].index(name) + 1


def test_same_seed_gives_same_history():
    a, b = Cluster.create(seed=42), Cluster.create(seed=42)
    assert _run(a, STEPS) == _run(b, STEPS)
    assert a.snapshot() == b.snapshot()
    assert a.events == b.events
    assert json.dumps(a.snapshot(), sort_keys=True) == json.dumps(b.snapshot(), sort_keys=True)


def test_different_seeds_give_different_names():
    a, b = Cluster.create(seed=1), Cluster.create(seed=2)
    create_deployment(a, "web", "nginx:1.25", 2)
    create_deployment(b, "web", "nginx:1.25", 2)
    a.advance(5)
    b.advance(5)
    assert sorted(p.name for p in a.pods()) != sorted(p.name for p in b.pods())


def test_snapshot_is_json_native_at_every_step():
    c = Cluster.create(seed=3)
    for _name, fn in STEPS:
        fn(c)
        s = c.snapshot()
        assert json.loads(json.dumps(s)) == s


@pytest.mark.parametrize("cut", CUTS)
def test_restore_then_continue_equals_continue(cut):
    before, after = STEPS[:_index(cut)], STEPS[_index(cut):]
    straight = Cluster.create(seed=9)
    _run(straight, before)
    snap = json.loads(json.dumps(straight.snapshot()))
    restored = Cluster.restore(snap)
    assert restored.snapshot() == straight.snapshot()
    out_straight = _run(straight, after)
    out_restored = _run(restored, after)
    assert out_restored == out_straight
    assert restored.events == straight.events
    assert restored.snapshot() == straight.snapshot()


def test_a_snapshot_does_not_share_state_with_the_cluster():
    c = Cluster.create(seed=5)
    _run(c, STEPS[:_index("settle")])
    snap = c.snapshot()
    frozen = json.dumps(snap, sort_keys=True)
    c.advance(30)
    assert json.dumps(snap, sort_keys=True) == frozen


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.lists(actions, min_size=1, max_size=12), st.data())
def test_restore_at_a_random_point_continues_identically(steps, data):
    cut = data.draw(st.integers(0, len(steps)))
    straight = World(seed=23)
    for step in steps[:cut]:
        straight.act(*step)
    twin = straight.restored()
    for step in steps[cut:]:
        straight.act(*step)
        twin.act(*step)
    assert twin.c.events == straight.c.events
    assert twin.c.snapshot() == straight.c.snapshot()


@settings(max_examples=15, deadline=None, derandomize=True)
@given(st.lists(actions, min_size=1, max_size=12))
def test_same_seed_same_actions_same_snapshot(steps):
    a, b = World(seed=31), World(seed=31)
    for step in steps:
        a.act(*step)
        b.act(*step)
    assert a.c.snapshot() == b.c.snapshot()
    assert a.c.events == b.c.events

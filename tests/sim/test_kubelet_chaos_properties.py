"""Random chaos against bare pods: the kubelet, scheduler and node lifecycle never break their
invariants, and a snapshot taken anywhere continues identically."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pod_helpers import pod_manifest

from k8slearn.sim import ApiError, Cluster, SimError, apiserver

PODS = ["web", "crash", "probe", "shell"]
ACTIONS = st.one_of(
    st.tuples(st.just("advance"), st.sampled_from([0.5, 3, 11, 45, 301])),
    st.tuples(st.just("kill"), st.sampled_from(PODS)),
    st.tuples(st.just("fault"), st.sampled_from(PODS),
              st.sampled_from(["crash", "liveness", "readiness"]), st.booleans()),
    st.tuples(st.just("fail"), st.sampled_from(["node-1", "node-2"])),
    st.tuples(st.just("recover"), st.sampled_from(["node-1", "node-2"])),
    st.tuples(st.just("delete"), st.sampled_from(PODS)),
    st.tuples(st.just("recreate"), st.sampled_from(PODS)),
)


def _manifest(name: str) -> dict:
    if name == "crash":
        return pod_manifest(name, "busybox:1.36", command=["sh", "-c", "sleep 2; exit 1"])
    if name == "probe":
        return pod_manifest(name, livenessProbe={"httpGet": {"port": 80}},
                            readinessProbe={"httpGet": {"port": 80}})
    if name == "shell":
        return pod_manifest(name, "busybox:1.36", command=["sh", "-c", "sleep 3600"])
    return pod_manifest(name)


def _apply(c: Cluster, action: tuple) -> None:
    kind = action[0]
    with contextlib.suppress(ApiError, SimError):
        if kind == "advance":
            c.advance(action[1])
        elif kind == "kill":
            c.kill_container(action[1])
        elif kind == "fault":
            c.set_fault(action[1], action[2], action[3])
        elif kind == "fail":
            c.fail_node(action[1])
        elif kind == "recover":
            c.recover_node(action[1])
        elif kind == "delete":
            apiserver.delete(c, "Pod", "default", action[1])
        elif kind == "recreate":
            apiserver.create(c, _manifest(action[1]))


def _check(c: Cluster) -> None:
    for p in c.store.iter("Pod"):
        for cs in p.get("status", {}).get("containerStatuses") or ():
            assert len(cs["state"]) == 1
            assert cs["restartCount"] >= 0
            if cs["ready"]:
                assert "running" in cs["state"]
        if p["spec"].get("nodeName") and p["status"].get("podIP"):
            assert p["status"]["podIP"].startswith("10.244.")
    ips = [p["status"]["podIP"] for p in c.store.iter("Pod") if p.get("status", {}).get("podIP")]
    assert len(ips) == len(set(ips)), "two pods share an IP"
    fresh = c.state["scheduler"]
    from k8slearn.sim.scheduler import rebuild_cache

    kept = dict(fresh)
    rebuilt = rebuild_cache(c)
    assert kept["nodes"] == rebuilt["nodes"] and kept["pods"] == rebuilt["pods"]
    c.state["scheduler"] = kept


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ACTIONS, min_size=1, max_size=40), st.integers(0, 39))
def test_chaos_keeps_invariants_and_snapshots_continue(actions: list, cut: int) -> None:
    c = Cluster.create(seed=3, nodes=2)
    for name in PODS:
        apiserver.create(c, _manifest(name))
    c.advance(5)
    twin = None
    for i, action in enumerate(actions):
        if i == cut:
            twin = Cluster.restore(c.snapshot())
        _apply(c, action)
        if twin is not None:
            _apply(twin, action)
        _check(c)
    c.advance(30)
    if twin is not None:
        twin.advance(30)
        assert twin.snapshot() == c.snapshot()

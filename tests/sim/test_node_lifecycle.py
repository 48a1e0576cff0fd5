"""Node failure: NotReady after the grace period, taints, MarkPodsNotReady, taint eviction."""

from __future__ import annotations

import time

import pytest
from pod_helpers import condition, create_pod, cstatus, messages, pod

from k8slearn.sim import ApiError, Cluster, apiserver
from k8slearn.sim.nodelifecycle import last_heartbeat

UNREACHABLE = "node.kubernetes.io/unreachable"


def _node(cluster: Cluster, name: str) -> dict:
    return cluster.store.get("Node", None, name)


def _ready(cluster: Cluster, name: str) -> dict:
    return next(c for c in _node(cluster, name)["status"]["conditions"] if c["type"] == "Ready")


@pytest.fixture
def running(cluster: Cluster) -> Cluster:
    create_pod(cluster, "web-x", nodeName="node-2")
    create_pod(cluster, "other", nodeName="node-1")
    cluster.advance(5)
    return cluster


def test_node_stays_ready_during_the_grace_period(running: Cluster) -> None:
    running.fail_node("node-2")
    running.advance(39)
    assert _ready(running, "node-2")["status"] == "True"
    assert "taints" not in _node(running, "node-2")["spec"]


def test_dead_node_becomes_unknown_and_tainted_after_40s(running: Cluster) -> None:
    running.fail_node("node-2")
    running.advance(40)
    for cond in _node(running, "node-2")["status"]["conditions"]:
        assert (cond["status"], cond["reason"], cond["message"]) == (
            "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
    taints = {(t["key"], t["effect"]) for t in _node(running, "node-2")["spec"]["taints"]}
    assert taints == {(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")}
    assert messages(running, "node-2", "NodeNotReady") == [
        "Node node-2 status is now: NodeNotReady"]
    # MarkPodsNotReady: still Running, but READY 0/1 and out of the endpoints
    assert pod(running, "web-x")["status"]["phase"] == "Running"
    assert condition(running, "web-x", "Ready")["status"] == "False"
    assert cstatus(running, "web-x")["ready"] is False
    assert messages(running, "web-x", "NodeNotReady") == ["Node is not ready"]
    assert condition(running, "other", "Ready")["status"] == "True"


def test_dead_node_pods_are_evicted_after_300s_toleration(running: Cluster) -> None:
    running.fail_node("node-2")
    running.advance(40 + 299)
    assert not pod(running, "web-x")["metadata"].get("deletionTimestamp")
    running.advance(1)
    assert pod(running, "web-x")["metadata"]["deletionTimestamp"]
    assert messages(running, "web-x", "TaintManagerEviction") == [
        "Marking for deletion Pod default/web-x"]
    running.advance(600)  # the kubelet is dead: the pod stays Terminating
    assert running.store.get("Pod", "default", "web-x") is not None


def test_pod_tolerationseconds_is_honoured(cluster: Cluster) -> None:
    create_pod(cluster, "quick", nodeName="node-2", tolerations=[
        {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 10}])
    create_pod(cluster, "forever", nodeName="node-2", tolerations=[
        {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}])
    cluster.advance(5)
    cluster.fail_node("node-2")
    cluster.advance(50)
    assert pod(cluster, "quick")["metadata"].get("deletionTimestamp")
    cluster.advance(1000)
    assert not pod(cluster, "forever")["metadata"].get("deletionTimestamp")


def test_new_pods_avoid_the_tainted_node(running: Cluster) -> None:
    running.fail_node("node-2")
    running.advance(41)
    for i in range(6):
        create_pod(running, f"new{i}")
    running.advance(5)
    assert all(pod(running, f"new{i}")["spec"]["nodeName"] != "node-2" for i in range(6))


def test_recovered_node_cancels_evictions_and_finishes_deletions(running: Cluster) -> None:
    create_pod(running, "doomed", nodeName="node-2")
    running.advance(5)
    running.fail_node("node-2")
    running.advance(100)
    apiserver.delete(running, "Pod", "default", "doomed")  # stays Terminating: kubelet is dead
    running.advance(100)
    assert running.store.get("Pod", "default", "doomed") is not None
    running.recover_node("node-2")
    assert _ready(running, "node-2")["status"] == "True"
    assert "taints" not in _node(running, "node-2")["spec"]
    assert messages(running, "node-2", "NodeReady") == ["Node node-2 status is now: NodeReady"]
    assert messages(running, "web-x", "TaintManagerEviction") == [
        "Cancelling deletion of Pod default/web-x"]
    running.advance(2)
    assert running.store.get("Pod", "default", "doomed") is None
    assert condition(running, "web-x", "Ready")["status"] == "True"
    running.advance(400)
    assert not pod(running, "web-x")["metadata"].get("deletionTimestamp")


def test_recovery_within_grace_period_leaves_no_trace(running: Cluster) -> None:
    running.fail_node("node-2")
    running.advance(20)
    running.recover_node("node-2")
    running.advance(100)
    assert messages(running, "node-2", "NodeNotReady") == []
    assert condition(running, "web-x", "Ready")["status"] == "True"


def test_dead_node_freezes_its_pods(cluster: Cluster) -> None:
    create_pod(cluster, "crash", "busybox:1.36", command=["sh", "-c", "sleep 1; exit 1"],
               nodeName="node-2")
    cluster.advance(3)
    cluster.fail_node("node-2")
    before = cstatus(cluster, "crash")["restartCount"]
    cluster.advance(100)
    assert cstatus(cluster, "crash")["restartCount"] == before
    cluster.recover_node("node-2")
    cluster.advance(60)
    assert cstatus(cluster, "crash")["restartCount"] > before


def test_heartbeat_is_derived_not_simulated(cluster: Cluster) -> None:
    cluster.advance(95)
    assert last_heartbeat(cluster, "node-1") == 90
    cluster.fail_node("node-1")
    cluster.advance(100)
    assert last_heartbeat(cluster, "node-1") == 90
    assert cluster.next_due() is None or cluster.next_due() > cluster.now


def test_fail_unknown_node_is_not_found(cluster: Cluster) -> None:
    with pytest.raises(ApiError):
        cluster.fail_node("node-9")


def test_deleted_node_pods_are_garbage_collected(running: Cluster) -> None:
    apiserver.delete(running, "Node", None, "node-2")
    running.advance(0)
    assert running.store.get("Pod", "default", "web-x") is None


def test_failing_a_node_of_500_with_5000_pods_is_cheap() -> None:
    c = Cluster.create(seed=5, nodes=500, node_cpu="8", node_memory="32Gi")
    from k8slearn.sim.apiserver import prepare_create

    for i in range(4990):
        obj = prepare_create(c, {"kind": "Pod", "metadata": {"name": f"p{i}"},
                                 "spec": {"containers": [{"name": "a", "image": "nginx:1.25"}]}})
        obj["metadata"]["uid"] = f"uid-{i}"
        obj["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z"
        c.store.add(obj)
    c.advance(10)
    victims = [p["metadata"]["name"] for p in c.store.pods_on_node("node-7")]
    assert victims
    t0 = time.process_time()
    c.fail_node("node-7")
    c.advance(340)
    # stand in for the ReplicaSet: one replacement per evicted pod
    for name in victims:
        assert c.store.get("Pod", "default", name)["metadata"].get("deletionTimestamp")
        apiserver.create(c, {"kind": "Pod", "metadata": {"name": f"{name}-new"},
                             "spec": {"containers": [{"name": "a", "image": "nginx:1.25"}]}})
    c.advance(10)
    took = time.process_time() - t0
    for name in victims:
        assert c.store.get("Pod", "default", f"{name}-new")["status"]["phase"] == "Running"
    assert took < 1.0, took
    t1 = time.process_time()
    for _ in range(1000):
        c.advance(0.1)
    assert time.process_time() - t1 < 0.1


def test_snapshot_mid_failure_continues_identically(running: Cluster) -> None:
    create_pod(running, "probe", nodeName="node-2", livenessProbe={"httpGet": {"port": 80}})
    running.advance(5)
    running.fail_node("node-2")
    running.advance(60)
    other = Cluster.restore(running.snapshot())
    for c in (running, other):
        c.advance(200)
        c.recover_node("node-2")
        c.advance(100)
    assert running.snapshot() == other.snapshot()


def test_pod_placed_on_a_tainted_node_is_evicted_too(running: Cluster) -> None:
    running.fail_node("node-2")
    running.advance(40)
    create_pod(running, "late", nodeName="node-2")  # nodeName bypasses the scheduler
    running.advance(299)
    assert not pod(running, "late")["metadata"].get("deletionTimestamp")
    running.advance(2)
    assert pod(running, "late")["metadata"].get("deletionTimestamp")

"""The scheduler: filters, scores, binding, FitError messages and retries."""

from __future__ import annotations

import copy
import time

import pytest
from pod_helpers import condition, create_pod, messages, pod

from k8slearn.sim import Cluster, apiserver
from k8slearn.sim.scheduler import num_feasible_nodes_to_find, rebuild_cache


def test_pending_pod_is_bound_with_scheduled_event(cluster: Cluster) -> None:
    create_pod(cluster, "web-x")
    cluster.advance(0)
    node = pod(cluster, "web-x")["spec"]["nodeName"]
    assert node in ("node-1", "node-2", "node-3")
    assert condition(cluster, "web-x", "PodScheduled")["status"] == "True"
    assert messages(cluster, "web-x", "Scheduled") == [
        f"Successfully assigned default/web-x to {node}"]


def test_request_less_pods_spread_over_the_nodes(cluster: Cluster) -> None:
    # Scoring counts 100m/200Mi for each request-less container, so LeastAllocated spreads them.
    for i in range(6):
        create_pod(cluster, f"p{i}")
    cluster.advance(0)
    per_node: dict[str, int] = {}
    for p in cluster.pods():
        per_node[p["spec"]["nodeName"]] = per_node.get(p["spec"]["nodeName"], 0) + 1
    assert sorted(per_node.values()) == [2, 2, 2]


def test_most_allocated_packs_pods_onto_one_node() -> None:
    c = Cluster.create(seed=7, nodes=3, scoring="MostAllocated")
    for i in range(4):
        create_pod(c, f"p{i}", requests={"cpu": "200m", "memory": "100Mi"})
        c.advance(0)
    assert len({p["spec"]["nodeName"] for p in c.pods()}) == 1


def test_pod_that_fits_no_node_stays_pending_with_reason(cluster: Cluster) -> None:
    create_pod(cluster, "big", requests={"cpu": "3"})
    cluster.advance(5)
    p = pod(cluster, "big")
    assert "nodeName" not in p["spec"] and p["status"]["phase"] == "Pending"
    cond = condition(cluster, "big", "PodScheduled")
    expected = ("0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are "
                "available: 3 No preemption victims found for incoming pod.")
    assert (cond["status"], cond["reason"], cond["message"]) == ("False", "Unschedulable",
                                                                 expected)
    assert messages(cluster, "big", "FailedScheduling") == [expected]


def test_unschedulable_pod_is_not_retried_in_a_loop(cluster: Cluster) -> None:
    create_pod(cluster, "big", requests={"cpu": "3"})
    cluster.advance(600)
    ev = [e for e in cluster.store.list("Event", "default") if e["reason"] == "FailedScheduling"]
    assert ev[0]["count"] == 1


def test_unschedulable_pod_is_scheduled_when_a_big_node_joins(cluster: Cluster) -> None:
    create_pod(cluster, "big", requests={"cpu": "3"})
    cluster.advance(1)
    cluster.add_node("node-4", cpu="4")
    cluster.advance(1)
    assert pod(cluster, "big")["spec"]["nodeName"] == "node-4"


def test_deleting_a_pod_frees_room_for_a_pending_one(cluster: Cluster) -> None:
    for i in range(3):
        create_pod(cluster, f"hog{i}", requests={"cpu": "1500m"})
    cluster.advance(5)
    create_pod(cluster, "late", requests={"cpu": "1"})
    cluster.advance(1)
    assert "nodeName" not in pod(cluster, "late")["spec"]
    apiserver.delete(cluster, "Pod", "default", "hog1")
    cluster.advance(5)  # the kubelet stops the container (~1 s), the pod object goes
    assert pod(cluster, "late")["spec"].get("nodeName") is not None


def _cordon(cluster: Cluster, name: str) -> None:
    node = copy.deepcopy(cluster.store.get("Node", None, name))
    node["spec"]["unschedulable"] = True
    apiserver.update(cluster, node)


def test_cordoned_node_gets_no_new_pods(cluster: Cluster) -> None:
    for n in ("node-1", "node-2"):
        _cordon(cluster, n)
    for i in range(4):
        create_pod(cluster, f"p{i}")
    cluster.advance(0)
    assert {p["spec"]["nodeName"] for p in cluster.pods()} == {"node-3"}


def test_all_nodes_cordoned_message(cluster: Cluster) -> None:
    for node in cluster.store.list("Node"):
        _cordon(cluster, node["metadata"]["name"])
    create_pod(cluster, "p")
    cluster.advance(0)
    assert condition(cluster, "p", "PodScheduled")["message"] == (
        "0/3 nodes are available: 3 node(s) were unschedulable. preemption: 0/3 nodes are "
        "available: 3 Preemption is not helpful for scheduling.")


def test_untolerated_taint_keeps_pods_off_a_node(cluster: Cluster) -> None:
    cluster.add_node("gpu", taints=[{"key": "gpu", "value": "true", "effect": "NoSchedule"}])
    for n in ("node-1", "node-2", "node-3"):
        _cordon(cluster, n)
    create_pod(cluster, "p")
    create_pod(cluster, "tolerant", tolerations=[{"key": "gpu", "operator": "Equal",
                                                  "value": "true", "effect": "NoSchedule"}])
    cluster.advance(0)
    assert "nodeName" not in pod(cluster, "p")["spec"]
    assert condition(cluster, "p", "PodScheduled")["message"].startswith(
        "0/4 nodes are available: 1 node(s) had untolerated taint {gpu: true}, "
        "3 node(s) were unschedulable.")
    assert pod(cluster, "tolerant")["spec"]["nodeName"] == "gpu"


def test_node_selector_and_required_affinity_pick_matching_nodes(cluster: Cluster) -> None:
    cluster.add_node("ssd-1", labels={"disk": "ssd"})
    create_pod(cluster, "sel", nodeSelector={"disk": "ssd"})
    create_pod(cluster, "aff", affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}]}}})
    create_pod(cluster, "none", nodeSelector={"disk": "nvme"})
    cluster.advance(0)
    assert pod(cluster, "sel")["spec"]["nodeName"] == "ssd-1"
    assert pod(cluster, "aff")["spec"]["nodeName"] == "ssd-1"
    assert condition(cluster, "none", "PodScheduled")["message"].startswith(
        "0/4 nodes are available: 4 node(s) didn't match Pod's node affinity/selector.")


def test_pod_limit_of_110_gives_too_many_pods() -> None:
    c = Cluster.create(seed=1, nodes=1)
    for i in range(111):
        apiserver.create(c, {"kind": "Pod", "metadata": {"name": f"p{i}"},
                             "spec": {"containers": [{"name": "a", "image": "nginx:1.25"}]}})
    c.advance(0)
    assert condition(c, "p110", "PodScheduled")["message"].startswith(
        "0/1 nodes are available: 1 Too many pods.")


def test_best_effort_pod_fits_a_full_node() -> None:
    # Filtering uses real requests: the 100m default is for scoring only.
    c = Cluster.create(seed=1, nodes=1)
    create_pod(c, "hog", requests={"cpu": "2", "memory": "4Gi"})
    create_pod(c, "free")
    c.advance(0)
    assert pod(c, "free")["spec"]["nodeName"] == "node-1"


def test_unbound_claim_blocks_scheduling(cluster: Cluster) -> None:
    create_pod(cluster, "db", volumes=[{"name": "data",
                                        "persistentVolumeClaim": {"claimName": "nope"}}])
    cluster.advance(0)
    assert condition(cluster, "db", "PodScheduled")["message"] == (
        '0/3 nodes are available: persistentvolumeclaim "nope" not found. preemption: 0/3 '
        "nodes are available: 3 Preemption is not helpful for scheduling.")


def test_cache_matches_a_rebuild_after_churn(cluster: Cluster) -> None:
    for i in range(8):
        create_pod(cluster, f"p{i}", requests={"cpu": "100m", "memory": "64Mi"})
    cluster.advance(5)
    for i in range(0, 8, 2):
        apiserver.delete(cluster, "Pod", "default", f"p{i}")
    cluster.advance(5)
    kept = cluster.state["scheduler"]
    fresh = rebuild_cache(cluster)
    assert kept["nodes"] == fresh["nodes"] and kept["pods"] == fresh["pods"]


@pytest.mark.parametrize(("nodes", "expected"), [(3, 3), (99, 99), (100, 100), (500, 230),
                                                 (5000, 500)])
def test_percentage_of_nodes_to_score(nodes: int, expected: int) -> None:
    assert num_feasible_nodes_to_find(nodes) == expected


def test_500_nodes_5000_pods_schedule_quickly() -> None:
    c = Cluster.create(seed=3, nodes=500, node_cpu="8", node_memory="32Gi")
    t0 = time.process_time()
    for i in range(4900):
        c.store.add(_fast_pod(c, i))  # bypass the API server: we time the scheduler
    c.advance(0)
    took = time.process_time() - t0
    assert all(p["spec"].get("nodeName") for p in c.store.iter("Pod"))
    assert took < 10, took  # generous for a loaded CI box; ~2-3 s here


def _fast_pod(c: Cluster, i: int) -> dict:
    from k8slearn.sim.apiserver import prepare_create

    obj = prepare_create(c, {"kind": "Pod", "metadata": {"name": f"p{i}"},
                             "spec": {"containers": [{"name": "a", "image": "nginx:1.25"}]}})
    obj["metadata"]["uid"] = f"uid-{i}"
    obj["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z"
    return obj


def test_prefer_no_schedule_taint_is_avoided_when_possible(cluster: Cluster) -> None:
    for n in ("node-1", "node-2"):
        node = copy.deepcopy(cluster.store.get("Node", None, n))
        node["spec"]["taints"] = [{"key": "spot", "value": "true", "effect": "PreferNoSchedule"}]
        apiserver.update(cluster, node)
    for i in range(5):
        create_pod(cluster, f"p{i}")
    cluster.advance(0)
    assert {p["spec"]["nodeName"] for p in cluster.pods()} == {"node-3"}


def test_preferred_node_affinity_wins_over_spreading(cluster: Cluster) -> None:
    node = copy.deepcopy(cluster.store.get("Node", None, "node-2"))
    node["metadata"]["labels"]["zone"] = "a"
    apiserver.update(cluster, node)
    for i in range(4):
        create_pod(cluster, f"p{i}", affinity={"nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 50, "preference": {"matchExpressions": [
                    {"key": "zone", "operator": "In", "values": ["a"]}]}}]}})
    cluster.advance(0)
    assert {p["spec"]["nodeName"] for p in cluster.pods()} == {"node-2"}


def test_same_seed_gives_same_placement() -> None:
    def placement(seed: int) -> list[str]:
        c = Cluster.create(seed=seed, nodes=5)
        for i in range(12):
            create_pod(c, f"p{i}")
        c.advance(0)
        return [p["spec"]["nodeName"] for p in c.pods()]

    assert placement(11) == placement(11)


@pytest.mark.parametrize("scoring", ["LeastAllocated", "MostAllocated"])
def test_inlined_scores_agree_with_the_score_functions(scoring: str) -> None:
    from k8slearn.sim.scheduler import balanced_allocation, fit_score

    c = Cluster.create(seed=2, nodes=2, node_cpu="4", node_memory="8Gi", scoring=scoring)
    create_pod(c, "cpu-heavy", requests={"cpu": "1500m", "memory": "256Mi"}, nodeName="node-1")
    create_pod(c, "mem-heavy", requests={"cpu": "200m", "memory": "5Gi"}, nodeName="node-2")
    c.advance(0)
    req = (500, 1024 * 2**20)
    loads = {"node-1": (1500, 256 * 2**20), "node-2": (200, 5 * 2**30)}
    expected = {n: fit_score(scoring, lc + req[0], lm + req[1], 4000, 8 * 2**30)
                + balanced_allocation(lc + req[0], lm + req[1], 4000, 8 * 2**30)
                for n, (lc, lm) in loads.items()}
    assert expected["node-1"] != expected["node-2"]
    create_pod(c, "new", requests={"cpu": "500m", "memory": "1Gi"})
    c.advance(0)
    assert pod(c, "new")["spec"]["nodeName"] == max(expected, key=expected.__getitem__)

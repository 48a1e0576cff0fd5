"""Named scenarios: settled starting clusters, cached as snapshots."""

from __future__ import annotations

import time

import pytest

from k8slearn.sim import scenarios


@pytest.mark.parametrize("name", sorted(scenarios.SCENARIOS))
def test_every_scenario_settles_with_all_pods_running_and_ready(name):
    cluster = scenarios.build(name)
    assert scenarios.settled(cluster)
    out = cluster.kubectl("get pods").stdout
    for line in out.splitlines()[1:]:
        assert " Running " in line
    scenario = scenarios.SCENARIOS[name]
    assert scenario.title["ko"] and scenario.title["en"]
    assert scenario.summary["ko"] and scenario.summary["en"]


def test_the_web_scenario_is_three_nginx_pods_behind_a_service():
    cluster = scenarios.build("web")
    pods = cluster.pods("app=web", phase="Running")
    assert len(pods) == 3
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"nginx:1.25"}
    assert cluster.kubectl("get svc web").ok


def test_bin_packing_leaves_room_for_exactly_one_more_pod():
    cluster = scenarios.build("bin-packing")
    cluster.kubectl("scale deployment web --replicas=6")
    cluster.advance(10)
    assert len(cluster.pods("app=web", phase="Running")) == 6
    cluster.kubectl("scale deployment web --replicas=7")
    cluster.advance(10)
    assert len(cluster.pods("app=web", phase="Pending")) == 1


def test_builds_are_independent_copies_and_fast_after_the_first():
    scenarios.build("rollout")
    start = time.perf_counter()
    a = scenarios.build("rollout")
    elapsed = time.perf_counter() - start
    assert elapsed < 0.1
    a.kubectl("delete deployment web")
    assert scenarios.build("rollout").get("Deployment", "web") is not None


def test_same_seed_same_cluster_and_other_seeds_are_cached_separately():
    assert scenarios.build("web", seed=3).snapshot() == scenarios.build("web", seed=3).snapshot()
    names = {p["metadata"]["name"] for p in scenarios.build("web", seed=4).pods()}
    assert names != {p["metadata"]["name"] for p in scenarios.build("web", seed=3).pods()}


def test_a_lessons_own_manifests_build_a_settled_cluster():
    cluster = scenarios.build_from_manifests(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: solo}\n"
        "spec: {containers: [{name: c, image: nginx:1.25}]}\n")
    assert cluster.get("Pod", "solo").phase == "Running"

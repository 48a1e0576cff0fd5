"""Deployments on the whole cluster: the scheduler places the pods and the kubelet starts them
and makes them Ready. These tests depend on the scheduler and kubelet as well as on the
workload controllers (the unit tests in test_deployment_rollout.py / test_replicaset_controller.py
drive readiness by hand instead)."""

from __future__ import annotations

import copy

from k8slearn.sim import Cluster, apiserver
from k8slearn.sim.controllers.deployment import replicasets_of, rollout_status
from k8slearn.sim.controllers.podutil import is_active, is_ready


def create(cluster: Cluster, replicas: int = 3, **spec) -> None:
    apiserver.create(cluster, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}},
                 **spec}})


def web(cluster: Cluster) -> dict:
    d = cluster.store.get("Deployment", "default", "web")
    assert d is not None
    return d


def set_image(cluster: Cluster, image: str) -> None:
    d = copy.deepcopy(web(cluster))
    d["spec"]["template"]["spec"]["containers"][0]["image"] = image
    apiserver.update(cluster, d)


def test_deployment_pods_start_and_become_available(cluster):
    create(cluster, replicas=3)
    cluster.advance(30)
    assert len(cluster.pods(selector="app=web", phase="Running")) == 3
    assert rollout_status(cluster, web(cluster)) == (
        'deployment "web" successfully rolled out\n', True, False)


def test_deleted_pod_is_replaced_by_its_replicaset(cluster):
    create(cluster, replicas=3)
    cluster.advance(30)
    victim = cluster.pods(selector="app=web")[0].name
    apiserver.delete(cluster, "Pod", "default", victim)
    cluster.advance(60)
    running = cluster.pods(selector="app=web", phase="Running")
    assert len(running) == 3 and victim not in [p.name for p in running]


def test_rolling_update_keeps_availability_and_surge_limits(cluster):
    create(cluster, replicas=10)
    cluster.advance(30)
    set_image(cluster, "nginx:1.26")
    worst_available, worst_total = 10, 10
    for _ in range(120):
        cluster.advance(0.5)
        pods = [p for p in cluster.store.list("Pod", "default") if is_active(p)]
        worst_available = min(worst_available, sum(1 for p in pods if is_ready(p)))
        worst_total = max(worst_total, len(pods))
        if rollout_status(cluster, web(cluster))[1]:
            break
    assert rollout_status(cluster, web(cluster))[1]
    assert worst_available >= 8 and worst_total <= 13  # 10 replicas, 25% / 25%
    new_rs, old_rss = replicasets_of(cluster, web(cluster))
    assert new_rs is not None and new_rs["spec"]["replicas"] == 10
    assert [rs["spec"]["replicas"] for rs in old_rss] == [0]


def test_recreate_has_a_gap_with_no_pods_running(cluster):
    create(cluster, replicas=3, strategy={"type": "Recreate"})
    cluster.advance(30)
    set_image(cluster, "nginx:1.26")
    saw_gap = False
    for _ in range(120):
        cluster.advance(0.5)
        ready = [p for p in cluster.store.list("Pod", "default") if is_ready(p)]
        saw_gap = saw_gap or not ready
        if rollout_status(cluster, web(cluster))[1]:
            break
    assert saw_gap and rollout_status(cluster, web(cluster))[1]


def test_min_ready_seconds_delays_availability(cluster):
    create(cluster, replicas=2, minReadySeconds=10)
    cluster.advance(5)
    d = web(cluster)
    assert d["status"].get("readyReplicas", 0) == 2
    assert d["status"].get("availableReplicas", 0) == 0
    cluster.advance(15)
    assert web(cluster)["status"]["availableReplicas"] == 2


def test_snapshot_mid_rollout_continues_identically(cluster):
    create(cluster, replicas=6)
    cluster.advance(30)
    set_image(cluster, "nginx:1.26")
    cluster.advance(1.5)
    snap = cluster.snapshot()
    cluster.advance(60)
    restored = Cluster.restore(snap)
    restored.advance(60)
    assert restored.events == cluster.events
    assert restored.store.to_dict() == cluster.store.to_dict()


def test_kubectl_rollout_and_undo_renumber_revisions(cluster):
    assert cluster.kubectl("create deployment web --image=nginx:1.25 --replicas=3").exit_code == 0
    cluster.advance(30)
    assert cluster.kubectl("set image deployment/web nginx=nginx:1.26").exit_code == 0
    cluster.advance(60)
    assert cluster.kubectl("rollout status deployment/web").stdout == (
        'deployment "web" successfully rolled out\n')
    assert cluster.kubectl("rollout undo deployment/web").exit_code == 0
    cluster.advance(60)
    new_rs, old_rss = replicasets_of(cluster, web(cluster))
    assert new_rs is not None
    assert new_rs["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    ann = new_rs["metadata"]["annotations"]
    assert (ann["deployment.kubernetes.io/revision"],
            ann["deployment.kubernetes.io/revision-history"]) == ("3", "1")
    assert [rs["spec"]["replicas"] for rs in old_rss] == [0]

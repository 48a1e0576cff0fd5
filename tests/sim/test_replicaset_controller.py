"""The ReplicaSet controller: pods from the template, replacement, scale-down order, status,
slow start against the sandbox limit, and the ReplicaSet API rules. Pods are made ready by the
test (``mark_ready``), not by a kubelet."""

from __future__ import annotations

import copy
import random
import re
from typing import Any

import pytest
from apps_helpers import apps_cluster, edit, mark_ready, pods_of

from k8slearn.sim import ApiError, apiserver
from k8slearn.sim.controllers.podtally import tallies
from k8slearn.sim.controllers.podutil import is_active, is_ready, pods_to_delete
from k8slearn.sim.objects import match_label_selector, rfc3339

Obj = dict[str, Any]
SUFFIX = "[bcdfghjklmnpqrstvwxz2456789]{5}"


def rs_manifest(name: str = "web", replicas: int = 3, **spec: Any) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name, "tier": "fe"},
                                               "annotations": {"note": "hi"}},
                                  "spec": {"containers": [{"name": "app",
                                                           "image": "nginx:1.25"}]}},
                     **spec}}


@pytest.fixture
def cluster():
    return apps_cluster()


def make_rs(cluster, **kw: Any) -> Obj:
    rs = apiserver.create(cluster, rs_manifest(**kw))
    cluster.advance(0)
    return rs


def rs_events(cluster, reason: str) -> list[str]:
    return [e["message"] for e in cluster.events if e["reason"] == reason]


def test_replicaset_creates_pods_from_its_template(cluster):
    rs = make_rs(cluster, replicas=3)
    pods = pods_of(cluster, rs)
    assert len(pods) == 3
    for pod in pods:
        meta = pod["metadata"]
        assert re.match(f"^web-{SUFFIX}$", meta["name"])
        assert meta["generateName"] == "web-"
        assert meta["labels"] == {"app": "web", "tier": "fe"}
        assert meta["annotations"] == {"note": "hi"}
        assert meta["ownerReferences"] == [{
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
            "uid": rs["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
        assert pod["spec"]["containers"][0]["image"] == "nginx:1.25"
    assert rs_events(cluster, "SuccessfulCreate") == [
        f"Created pod: {p['metadata']['name']}" for p in pods]
    assert {e["component"] for e in cluster.events if e["kind"] == "ReplicaSet"} == {
        "replicaset-controller"}


def test_status_counts_ready_and_available_pods(cluster):
    rs = make_rs(cluster, replicas=3)
    assert rs["status"] == {"replicas": 3, "fullyLabeledReplicas": 3, "observedGeneration": 1}
    for pod in pods_of(cluster, rs)[:2]:
        mark_ready(cluster, pod)
    cluster.advance(0)
    assert rs["status"] == {"replicas": 3, "fullyLabeledReplicas": 3, "readyReplicas": 2,
                            "availableReplicas": 2, "observedGeneration": 1}


def test_deleted_pod_is_replaced_by_its_replicaset(cluster):
    rs = make_rs(cluster, replicas=3)
    victim = pods_of(cluster, rs)[0]["metadata"]["name"]
    apiserver.delete(cluster, "Pod", "default", victim)
    cluster.advance(0)
    names = [p["metadata"]["name"] for p in pods_of(cluster, rs)]
    assert len(names) == 3 and victim not in names


def test_terminating_pod_is_replaced_at_once(cluster):
    rs = make_rs(cluster, replicas=2)
    pod = pods_of(cluster, rs)[0]
    mark_ready(cluster, pod, node="node-1")  # on a node, so deletion is graceful
    apiserver.delete(cluster, "Pod", "default", pod["metadata"]["name"])
    cluster.advance(0)
    pods = pods_of(cluster, rs)
    assert pod in pods and pod["metadata"]["deletionTimestamp"]  # still terminating
    assert sum(1 for p in pods if is_active(p)) == 2  # and already replaced
    assert rs["status"]["replicas"] == 2  # terminating pods are not counted


def test_scale_down_deletes_unready_pods_first(cluster):
    rs = make_rs(cluster, replicas=4)
    pods = pods_of(cluster, rs)
    for pod in pods[1:3]:
        mark_ready(cluster, pod, node="node-1")
    rs = edit(cluster, "ReplicaSet", "web", lambda r: r["spec"].update(replicas=2))
    kept = [p["metadata"]["name"] for p in pods_of(cluster, rs) if is_active(p)]
    assert kept == [pods[1]["metadata"]["name"], pods[2]["metadata"]["name"]]
    assert sorted(rs_events(cluster, "SuccessfulDelete")) == sorted(
        f"Deleted pod: {p['metadata']['name']}" for p in (pods[0], pods[3]))


def ready_pod(name: str, node: str | None, ready_at: float, created_at: float, uid: str,
              restarts: int = 0, cost: str | None = None) -> Obj:
    pod = {"metadata": {"name": name, "uid": uid, "creationTimestamp": rfc3339(created_at)},
           "spec": {"nodeName": node} if node else {},
           "status": {"phase": "Running", "conditions": [
               {"type": "Ready", "status": "True", "lastTransitionTime": rfc3339(ready_at)}],
               "containerStatuses": [{"name": "app", "restartCount": restarts}]}}
    if cost is not None:
        pod["metadata"]["annotations"] = {"controller.kubernetes.io/pod-deletion-cost": cost}
    return pod


def test_deletion_ranking_follows_active_pods_with_ranks():
    now = 10_000.0
    unassigned = ready_pod("unassigned", None, 100, 0, "u1")
    unassigned["status"]["phase"] = "Pending"
    pending = ready_pod("pending", "n1", 100, 0, "u2")
    pending["status"]["phase"] = "Pending"
    not_ready = ready_pod("not-ready", "n1", 100, 0, "u3")
    not_ready["status"]["conditions"][0]["status"] = "False"
    crowded = ready_pod("crowded", "n2", 100, 0, "u4")
    crowded_2 = ready_pod("crowded-2", "n2", 100, 0, "u5")
    young = ready_pod("young", "n3", 9_990, 0, "u6")
    old = ready_pod("old", "n4", 100, 0, "u7")
    costly = ready_pod("costly", "n5", 9_990, 0, "u8", cost="100")
    pods = [old, costly, young, crowded_2, crowded, not_ready, pending, unassigned]
    order = [p["metadata"]["name"] for p in pods_to_delete(pods, pods, len(pods) - 1, now)]
    assert order[:3] == ["unassigned", "pending", "not-ready"]
    # n2 holds two pods (rank 2): they go before the lone pods; then the most recently ready.
    assert order[3:5] == ["crowded", "crowded-2"]
    assert order[5:] == ["young", "old"]  # "costly" is kept: higher deletion cost


def test_deletion_ranking_prefers_restarts_then_newest_for_unready_pods():
    now = 10_000.0
    a = ready_pod("a", "n1", 0, 9_000, "u1", restarts=0)
    b = ready_pod("b", "n2", 0, 9_000, "u2", restarts=3)
    c = ready_pod("c", "n3", 0, 9_990, "u3", restarts=0)
    for p in (a, b, c):
        p["status"]["conditions"][0]["status"] = "False"
    order = [p["metadata"]["name"] for p in pods_to_delete([a, b, c], [a, b, c], 2, now)]
    assert order == ["b", "c"]


def test_sandbox_limit_stops_slow_start_with_failed_create(cluster, monkeypatch):
    monkeypatch.setattr(apiserver, "MAX_PODS", 3)
    rs = make_rs(cluster, replicas=10)
    # Batches 1 and 2 fit (3 pods); all 4 calls of the third batch fail; no fourth batch.
    # The next sync (woken by its own writes) tries one more and stops at once.
    assert len(pods_of(cluster, rs)) == 3
    reasons = [e["reason"] for e in cluster.events if e["kind"] == "ReplicaSet"]
    assert reasons[:8] == ["SuccessfulCreate"] * 3 + ["FailedCreate"] * 4 + ["FailedCreate"]
    failed = [e for e in cluster.events if e["reason"] == "FailedCreate"]
    assert {e["type"] for e in failed} == {"Warning"}
    # Admission runs before a name is generated, so the message names the generateName prefix,
    # as in real clusters: 'pods "web-" is forbidden: exceeded quota: …'.
    assert re.match('^Error creating: pods "web-" is forbidden: exceeded quota: '
                    "this sandbox runs at most 3 pods$", failed[0]["message"])
    cond = rs["status"]["conditions"][0]
    assert (cond["type"], cond["status"], cond["reason"]) == (
        "ReplicaFailure", "True", "FailedCreate")


def test_failure_condition_clears_when_creation_works_again(cluster, monkeypatch):
    monkeypatch.setattr(apiserver, "MAX_PODS", 3)
    rs = make_rs(cluster, replicas=4)
    assert rs["status"]["conditions"][0]["reason"] == "FailedCreate"
    monkeypatch.setattr(apiserver, "MAX_PODS", 5_000)
    rs = edit(cluster, "ReplicaSet", "web", lambda r: r["spec"].update(replicas=5))
    assert len(pods_of(cluster, rs)) == 5
    assert "conditions" not in rs["status"]


def test_relabelled_pod_is_released_and_replaced(cluster):
    rs = make_rs(cluster, replicas=2)
    pod = pods_of(cluster, rs)[0]
    edit(cluster, "Pod", pod["metadata"]["name"],
         lambda p: p["metadata"]["labels"].update(app="debug"))
    stored = cluster.store.get("Pod", "default", pod["metadata"]["name"])
    assert "ownerReferences" not in stored["metadata"]
    assert len(pods_of(cluster, rs)) == 2
    assert pod["metadata"]["name"] not in [p["metadata"]["name"] for p in pods_of(cluster, rs)]


def test_min_ready_seconds_delays_availability_and_requeues(cluster):
    rs = make_rs(cluster, replicas=1, minReadySeconds=5)
    cluster.advance(10)
    mark_ready(cluster, pods_of(cluster, rs)[0])  # Ready since t=10
    cluster.advance(0)
    assert rs["status"].get("readyReplicas") == 1 and "availableReplicas" not in rs["status"]
    cluster.advance(5)  # t=15: ready for exactly 5 s, not more
    assert "availableReplicas" not in rs["status"]
    cluster.advance(0.01)
    assert rs["status"]["availableReplicas"] == 1


def test_deleting_a_replicaset_deletes_its_pods(cluster):
    make_rs(cluster, replicas=3)
    apiserver.delete(cluster, "ReplicaSet", "default", "web")
    cluster.advance(0)
    assert cluster.store.list("Pod", "default") == []


def test_replicaset_scales_to_zero(cluster):
    rs = make_rs(cluster, replicas=3)
    rs = edit(cluster, "ReplicaSet", "web", lambda r: r["spec"].update(replicas=0))
    assert pods_of(cluster, rs) == []
    assert rs["status"] == {"replicas": 0, "observedGeneration": 2}


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s.update(replicas=-1),
     "spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
    (lambda s: s.update(replicas=1001),
     "spec.replicas: Invalid value: 1001: must be less than or equal to 1000 "
     "(the most this sandbox allows)"),
    (lambda s: s.pop("selector"), "spec.selector: Required value"),
    (lambda s: s["selector"].update(matchLabels={"app": "other"}),
     'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web", '
     '"tier":"fe"}: `selector` does not match template `labels`'),
    (lambda s: s["template"]["spec"].update(containers=[]),
     "spec.template.spec.containers: Required value"),
    (lambda s: s["template"]["spec"].update(restartPolicy="Never"),
     'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: '
     '"Always"'),
])
def test_replicaset_validation_messages(cluster, change, message):
    manifest = rs_manifest()
    change(manifest["spec"])
    with pytest.raises(ApiError) as err:
        apiserver.create(cluster, manifest)
    assert err.value.message == f'ReplicaSet "web" is invalid: {message}'


def test_replicaset_selector_is_immutable(cluster):
    make_rs(cluster)
    rs = copy.deepcopy(cluster.store.get("ReplicaSet", "default", "web"))
    rs["spec"]["selector"] = {"matchLabels": {"tier": "fe"}}
    with pytest.raises(ApiError) as err:
        apiserver.update(cluster, rs)
    assert err.value.message.endswith(
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string'
        '{"tier":"fe"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable')


def test_replicaset_defaults_to_one_replica(cluster):
    manifest = rs_manifest()
    del manifest["spec"]["replicas"]
    rs = apiserver.create(cluster, manifest)
    cluster.advance(0)
    assert rs["spec"]["replicas"] == 1 and len(pods_of(cluster, rs)) == 1


def recount(cluster, rs: Obj) -> tuple[int, int, int, int]:
    """What the real controller would count from scratch."""
    pods = [p for p in pods_of(cluster, rs) if is_active(p) and match_label_selector(
        rs["spec"]["selector"], p["metadata"].get("labels") or {})]
    nodes = {p["spec"].get("nodeName") or "" for p in pods}
    return (len(pods), sum(1 for p in pods if is_ready(p)), len(nodes),
            sum(1 for p in pods if p["metadata"]["labels"].get("tier") == "fe"))


def test_incremental_tallies_match_a_full_recount(cluster):
    rng = random.Random(1)
    rs = make_rs(cluster, replicas=6)
    for step in range(200):
        pods = [p for p in pods_of(cluster, rs) if is_active(p)]
        action = rng.choice(("ready", "ready", "delete", "scale", "relabel", "fe"))
        if action == "ready" and pods:
            mark_ready(cluster, rng.choice(pods), node=rng.choice(("node-1", "node-2", None)))
        elif action == "delete" and pods:
            apiserver.delete(cluster, "Pod", "default", rng.choice(pods)["metadata"]["name"])
        elif action == "scale":
            rs = edit(cluster, "ReplicaSet", "web",
                      lambda r: r["spec"].update(replicas=rng.randint(0, 8)))
        elif action == "relabel" and pods:
            edit(cluster, "Pod", rng.choice(pods)["metadata"]["name"],
                 lambda p: p["metadata"]["labels"].update(app="gone"))
        elif action == "fe" and pods:
            edit(cluster, "Pod", rng.choice(pods)["metadata"]["name"],
                 lambda p: p["metadata"]["labels"].update(tier=rng.choice(("fe", "be"))))
        cluster.advance(0)
        rs = cluster.store.get("ReplicaSet", "default", "web")
        tally = tallies(cluster).tally_for(cluster, rs)
        assert (tally.active, tally.ready, len(tally.nodes), tally.labeled) == recount(
            cluster, rs), step
        assert tally.active == rs["spec"]["replicas"]


def test_relabelled_pod_is_adopted_again_and_the_surplus_deleted(cluster):
    rs = make_rs(cluster, replicas=2)
    pod = pods_of(cluster, rs)[0]
    name = pod["metadata"]["name"]
    edit(cluster, "Pod", name, lambda p: p["metadata"]["labels"].update(app="debug"))
    assert len(pods_of(cluster, rs)) == 2  # a replacement was made
    edit(cluster, "Pod", name, lambda p: p["metadata"]["labels"].update(app="web"))
    # Adopted back: three pods for two replicas, so one of them is deleted.
    assert len([p for p in pods_of(cluster, rs) if is_active(p)]) == 2
    assert len(rs_events(cluster, "SuccessfulDelete")) == 1


def test_bare_pod_with_matching_labels_is_adopted(cluster):
    rs = make_rs(cluster, replicas=3)
    apiserver.create(cluster, {"apiVersion": "v1", "kind": "Pod",
                               "metadata": {"name": "stray", "labels": {"app": "web"}},
                               "spec": {"containers": [{"name": "app", "image": "nginx"}]}})
    cluster.advance(0)
    assert sum(1 for p in pods_of(cluster, rs) if is_active(p)) == 3
    stray = cluster.store.get("Pod", "default", "stray")
    if stray is not None:  # adopted and kept: another pod went instead
        assert stray["metadata"]["ownerReferences"][0]["name"] == "web"
    assert len(rs_events(cluster, "SuccessfulDelete")) == 1


def test_pods_that_match_no_selector_stay_orphans(cluster):
    make_rs(cluster, replicas=1)
    apiserver.create(cluster, {"apiVersion": "v1", "kind": "Pod",
                               "metadata": {"name": "other", "labels": {"app": "api"}},
                               "spec": {"containers": [{"name": "app", "image": "nginx"}]}})
    cluster.advance(0)
    assert "ownerReferences" not in cluster.store.get("Pod", "default", "other")["metadata"]

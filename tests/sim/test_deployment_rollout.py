"""The Deployment controller: new ReplicaSets and their names, rollouts, conditions, pausing,
proportional scaling, revisions and rollback, history clean-up, Recreate, progress deadlines,
validation, and the helpers kubectl uses. Pods are made ready by the test, not a kubelet."""

from __future__ import annotations

import copy

import pytest
from apps_helpers import (
    apps_cluster,
    create_deployment,
    deployment,
    deployment_manifest,
    edit,
    make_ready,
    mark_ready,
    pods_of,
    replicasets,
    scale,
    scaling_events,
    set_image,
)

from k8slearn.sim import ApiError, Cluster, apiserver
from k8slearn.sim.controllers import deployment_util as du
from k8slearn.sim.controllers.deployment import (
    max_surge_unavailable,
    replicasets_of,
    revision_of,
    rollback_target,
    rollback_template,
    rollout_status,
)
from k8slearn.sim.objects import get_condition


@pytest.fixture
def cluster():
    return apps_cluster()


def condition(d, ctype):
    cond = get_condition(d, ctype)
    assert cond is not None
    return cond["status"], cond["reason"], cond["message"]


def roll_to_completion(cluster, rounds: int = 50) -> None:
    for _ in range(rounds):
        if make_ready(cluster) == 0:
            return


def undo(cluster, to_revision=None, name="web"):
    """What kubectl rollout undo does: copy the target RS's template into the Deployment."""
    target = rollback_target(cluster, deployment(cluster, name), to_revision)
    return edit(cluster, "Deployment", name,
                lambda d: d["spec"].update(template=rollback_template(target)))


# -- the new ReplicaSet ----------------------------------------------------------------------
def test_new_replicaset_is_named_labelled_and_owned(cluster):
    d = create_deployment(cluster, replicas=3)
    (rs,) = replicasets(cluster)
    pod_hash = du.compute_hash(d["spec"]["template"], None)
    meta = rs["metadata"]
    assert meta["name"] == f"web-{pod_hash}"
    assert meta["labels"] == {"app": "web", "pod-template-hash": pod_hash}
    assert rs["spec"]["selector"] == {"matchLabels": {"app": "web", "pod-template-hash": pod_hash}}
    assert rs["spec"]["template"]["metadata"]["labels"] == meta["labels"]
    assert meta["ownerReferences"] == [{
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
        "uid": d["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    assert meta["annotations"] == {"deployment.kubernetes.io/revision": "1",
                                   "deployment.kubernetes.io/desired-replicas": "3",
                                   "deployment.kubernetes.io/max-replicas": "4"}
    assert deployment(cluster)["metadata"]["annotations"] == {
        "deployment.kubernetes.io/revision": "1"}
    assert all(p["metadata"]["labels"]["pod-template-hash"] == pod_hash
               for p in pods_of(cluster, rs))
    assert scaling_events(cluster) == [f"Scaled up replica set {meta['name']} from 0 to 3"]
    assert {e["component"] for e in cluster.events if e["reason"] == "ScalingReplicaSet"} == {
        "deployment-controller"}


def test_user_annotations_travel_to_the_replicaset(cluster):
    manifest = deployment_manifest()
    manifest["metadata"]["annotations"] = {
        "team": "blue", "kubectl.kubernetes.io/last-applied-configuration": "{}"}
    apiserver.create(cluster, manifest)
    cluster.advance(0)
    (rs,) = replicasets(cluster)
    assert rs["metadata"]["annotations"]["team"] == "blue"
    assert "kubectl.kubernetes.io/last-applied-configuration" not in rs["metadata"]["annotations"]


def test_status_and_conditions_of_a_finished_deployment(cluster):
    create_deployment(cluster, replicas=3)
    d = deployment(cluster)
    assert d["status"]["unavailableReplicas"] == 3
    assert condition(d, "Available") == (
        "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
    make_ready(cluster)
    (rs,) = replicasets(cluster)
    d = deployment(cluster)
    status = {k: v for k, v in d["status"].items() if k != "conditions"}
    assert status == {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3,
                      "readyReplicas": 3, "availableReplicas": 3}
    assert condition(d, "Available") == (
        "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
    assert condition(d, "Progressing") == (
        "True", "NewReplicaSetAvailable",
        f'ReplicaSet "{rs["metadata"]["name"]}" has successfully progressed.')
    assert [c["type"] for c in d["status"]["conditions"]] == ["Available", "Progressing"]


def test_rollout_of_ten_replicas_matches_the_documented_events(cluster):
    create_deployment(cluster, replicas=10)
    make_ready(cluster)
    (old,) = replicasets(cluster)
    set_image(cluster, "nginx:1.26")
    new = replicasets(cluster)[1]
    d = deployment(cluster)
    # Mid-rollout: old 8 + new 5 = 13 pods wanted, 8 available -> 5 unavailable
    # (kubectl describe: "10 desired | 5 updated | 13 total | 8 available | 5 unavailable").
    assert (d["status"]["availableReplicas"], d["status"]["unavailableReplicas"]) == (8, 5)
    assert rollout_status(cluster, d)[0] == (
        'Waiting for deployment "web" rollout to finish: 5 out of 10 new replicas have been '
        "updated...\n")
    roll_to_completion(cluster)
    o, n = old["metadata"]["name"], new["metadata"]["name"]
    assert scaling_events(cluster)[1:] == [
        f"Scaled up replica set {n} from 0 to 3", f"Scaled down replica set {o} from 10 to 8",
        f"Scaled up replica set {n} from 3 to 5", f"Scaled down replica set {o} from 8 to 3",
        f"Scaled up replica set {n} from 5 to 10", f"Scaled down replica set {o} from 3 to 0"]
    d = deployment(cluster)
    assert d["metadata"]["generation"] == d["status"]["observedGeneration"] == 2
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert rollout_status(cluster, d) == ('deployment "web" successfully rolled out\n', True, False)


def test_spec_change_is_observed_in_status(cluster):
    create_deployment(cluster)
    d = scale(cluster, 5)
    assert d["metadata"]["generation"] == 2 and d["status"]["observedGeneration"] == 2


# -- revisions, rollback, history ------------------------------------------------------------
def test_rollback_renumbers_the_old_replicaset(cluster):
    create_deployment(cluster, image="nginx:1.25")
    make_ready(cluster)
    set_image(cluster, "nginx:1.26")
    roll_to_completion(cluster)
    first, second = replicasets(cluster)
    assert (revision_of(first), revision_of(second)) == (1, 2)
    assert rollback_target(cluster, deployment(cluster), None) is first
    undo(cluster)
    roll_to_completion(cluster)
    assert (revision_of(first), revision_of(second)) == (3, 2)
    assert first["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"
    assert (first["spec"]["replicas"], second["spec"]["replicas"]) == (3, 0)
    assert revision_of(deployment(cluster)) == 3
    new_rs, old_rss = replicasets_of(cluster, deployment(cluster))
    assert new_rs is first and old_rss == [second]
    # Back to 2 and then to 3 again: the history grows "1,3".
    undo(cluster, to_revision=2)
    roll_to_completion(cluster)
    undo(cluster, to_revision=4 - 1)
    roll_to_completion(cluster)
    assert first["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1,3"
    assert revision_of(first) == 5


def test_rollback_target_errors_use_kubectls_words(cluster):
    create_deployment(cluster)
    d = deployment(cluster)
    with pytest.raises(ValueError, match='^no rollout history found for deployment "web"$'):
        rollback_target(cluster, d, None)
    with pytest.raises(ValueError, match="^unable to find specified revision 5 in history$"):
        rollback_target(cluster, d, 5)
    (rs,) = replicasets(cluster)
    assert rollback_target(cluster, d, 1) is rs


def test_revision_history_limit_deletes_the_oldest_replicasets(cluster):
    create_deployment(cluster, revisionHistoryLimit=2)
    make_ready(cluster)
    for tag in ("1.26", "1.27", "1.28", "1.29"):
        set_image(cluster, f"nginx:{tag}")
        roll_to_completion(cluster)
    images = [rs["spec"]["template"]["spec"]["containers"][0]["image"]
              for rs in replicasets(cluster)]
    assert images == ["nginx:1.27", "nginx:1.28", "nginx:1.29"]
    assert [revision_of(rs) for rs in replicasets(cluster)] == [3, 4, 5]


# -- scaling ---------------------------------------------------------------------------------
def stall_mid_rollout(cluster) -> tuple[dict, dict]:
    """10 replicas, maxSurge 3, maxUnavailable 2; the new pods never get ready: old 8, new 5."""
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}}
    create_deployment(cluster, replicas=10, strategy=strategy)
    make_ready(cluster)
    set_image(cluster, "nginx:does-not-start")
    old, new = replicasets(cluster)
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (8, 5)
    return old, new


def test_scaling_mid_rollout_is_proportional(cluster):
    old, new = stall_mid_rollout(cluster)
    scale(cluster, 15)
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (11, 7)
    assert old["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "15"
    assert new["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "18"


def test_scaling_a_finished_deployment_resizes_its_replicaset(cluster):
    create_deployment(cluster, replicas=3)
    make_ready(cluster)
    scale(cluster, 6)
    (rs,) = replicasets(cluster)
    assert rs["spec"]["replicas"] == 6 and len(pods_of(cluster, rs)) == 6
    assert scaling_events(cluster)[-1] == f"Scaled up replica set {rs['metadata']['name']} " \
        "from 3 to 6"


# -- pause / resume --------------------------------------------------------------------------
def test_paused_deployment_does_not_roll_out_but_scales(cluster):
    create_deployment(cluster, replicas=3)
    make_ready(cluster)
    edit(cluster, "Deployment", "web", lambda d: d["spec"].update(paused=True))
    assert condition(deployment(cluster), "Progressing") == (
        "Unknown", "DeploymentPaused", "Deployment is paused")
    set_image(cluster, "nginx:1.26")
    assert len(replicasets(cluster)) == 1
    scale(cluster, 5)
    assert replicasets(cluster)[0]["spec"]["replicas"] == 5
    d = deployment(cluster)
    assert d["status"]["observedGeneration"] == d["metadata"]["generation"]
    edit(cluster, "Deployment", "web", lambda d: d["spec"].update(paused=False))
    assert len(replicasets(cluster)) == 2
    roll_to_completion(cluster)
    assert condition(deployment(cluster), "Progressing")[1] == "NewReplicaSetAvailable"


def test_pause_and_resume_set_their_conditions(cluster):
    create_deployment(cluster, replicas=1)
    seen: list[str] = []

    def watch(kind, obj, deleted):
        cond = get_condition(obj, "Progressing") if kind == "Deployment" else None
        if cond is not None and (not seen or seen[-1] != cond["reason"]):
            seen.append(cond["reason"])

    cluster.store.watchers.append(watch)
    edit(cluster, "Deployment", "web", lambda d: d["spec"].update(paused=True))
    edit(cluster, "Deployment", "web", lambda d: d["spec"].update(paused=False))
    assert seen[:3] == ["ReplicaSetUpdated", "DeploymentPaused", "DeploymentResumed"]


# -- progress deadline -----------------------------------------------------------------------
def test_stuck_rollout_exceeds_its_progress_deadline(cluster):
    create_deployment(cluster, replicas=2, progressDeadlineSeconds=30)
    make_ready(cluster)
    cluster.advance(5)
    set_image(cluster, "nginx:does-not-start")  # t=5: new RS, no pod will ever be ready
    d = deployment(cluster)
    since = du.parse_rfc3339(get_condition(d, "Progressing")["lastUpdateTime"])
    cluster.advance(since + 30 - cluster.now)
    assert condition(deployment(cluster), "Progressing")[1] == "ReplicaSetUpdated"
    cluster.advance(1)  # lastUpdate + deadline + 1
    new = replicasets(cluster)[1]
    assert condition(deployment(cluster), "Progressing") == (
        "False", "ProgressDeadlineExceeded",
        f'ReplicaSet "{new["metadata"]["name"]}" has timed out progressing.')
    assert rollout_status(cluster, deployment(cluster)) == (
        'deployment "web" exceeded its progress deadline', False, True)
    # The timeout is only reported: once pods get ready the rollout finishes.
    roll_to_completion(cluster)
    assert condition(deployment(cluster), "Progressing")[1] == "NewReplicaSetAvailable"


# -- Recreate --------------------------------------------------------------------------------
def test_recreate_stops_every_old_pod_before_starting_new_ones(cluster):
    create_deployment(cluster, replicas=3, strategy={"type": "Recreate"})
    (old,) = replicasets(cluster)
    for i, pod in enumerate(pods_of(cluster, old)):
        mark_ready(cluster, pod, node=f"node-{i + 1}")  # on nodes: deletion is graceful
    cluster.advance(0)
    set_image(cluster, "nginx:1.26")
    assert old["spec"]["replicas"] == 0
    assert len(replicasets(cluster)) == 1  # old pods are still terminating
    for pod in list(pods_of(cluster, old)):  # the kubelet finishes them
        assert pod["metadata"]["deletionTimestamp"]
        cluster.store.remove("Pod", "default", pod["metadata"]["name"])
    cluster.advance(0)
    new = replicasets(cluster)[1]
    assert new["spec"]["replicas"] == 3 and len(pods_of(cluster, new)) == 3
    o, n = old["metadata"]["name"], new["metadata"]["name"]
    assert scaling_events(cluster)[1:] == [f"Scaled down replica set {o} from 3 to 0",
                                           f"Scaled up replica set {n} from 0 to 3"]


# -- validation and defaults -----------------------------------------------------------------
@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s.update(replicas=-1),
     "spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
    (lambda s: s.update(replicas=5000),
     "spec.replicas: Invalid value: 5000: must be less than or equal to 1000 "
     "(the most this sandbox allows)"),
    (lambda s: s.pop("selector"), "spec.selector: Required value"),
    (lambda s: s["selector"].update(matchLabels={"app": "api"}),
     'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: '
     "`selector` does not match template `labels`"),
    (lambda s: s.update(strategy={"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}),
     "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when "
     "`maxSurge` is 0"),
    (lambda s: s.update(strategy={"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": "0", "maxUnavailable": 1}}),
     'spec.strategy.rollingUpdate.maxSurge: Invalid value: "0": a valid percent string must be '
     "a numeric string followed by an ending '%' (e.g. '1%' or '93%', regex used for "
     "validation is '[0-9]+%')"),
    (lambda s: s.update(strategy={"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "110%"}}),
     'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "110%": must not be greater '
     "than 100%"),
    (lambda s: s.update(strategy={"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}),
     "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is "
     "'Recreate'"),
    (lambda s: s.update(strategy={"type": "BlueGreen"}),
     'spec.strategy.type: Unsupported value: "BlueGreen": supported values: "Recreate", '
     '"RollingUpdate"'),
    (lambda s: s["template"]["spec"].update(containers=[]),
     "spec.template.spec.containers: Required value"),
    (lambda s: s["template"]["spec"]["containers"].append({"name": "app", "image": "busybox"}),
     'spec.template.spec.containers[1].name: Duplicate value: "app"'),
    (lambda s: s.update(progressDeadlineSeconds=5, minReadySeconds=10),
     "spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds"),
])
def test_deployment_validation_messages(cluster, change, message):
    manifest = deployment_manifest()
    change(manifest["spec"])
    with pytest.raises(ApiError) as err:
        apiserver.create(cluster, manifest)
    assert err.value.message == f'Deployment "web" is invalid: {message}'


def test_deployment_selector_is_immutable(cluster):
    create_deployment(cluster)
    d = copy.deepcopy(deployment(cluster))
    d["spec"]["selector"]["matchLabels"] = {"app": "web2"}
    d["spec"]["template"]["metadata"]["labels"] = {"app": "web2"}
    with pytest.raises(ApiError) as err:
        apiserver.update(cluster, d)
    assert err.value.message == (
        'Deployment "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:'
        'map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: '
        "field is immutable")


def test_recreate_gets_no_rolling_update_defaults(cluster):
    create_deployment(cluster, strategy={"type": "Recreate"})
    assert deployment(cluster)["spec"]["strategy"] == {"type": "Recreate"}
    assert max_surge_unavailable(deployment(cluster)) == (0, 0)


# -- determinism -----------------------------------------------------------------------------
def run_scenario(seed: int) -> Cluster:
    c = apps_cluster(seed=seed)
    create_deployment(c, replicas=6)
    make_ready(c)
    set_image(c, "nginx:1.26")
    roll_to_completion(c)
    return c


def test_same_seed_gives_same_history():
    a, b = run_scenario(3), run_scenario(3)
    assert a.events == b.events
    assert a.store.to_dict() == b.store.to_dict()


def test_snapshot_restore_continues_the_same_rollout():
    c = apps_cluster(seed=5)
    create_deployment(c, replicas=6)
    make_ready(c)
    set_image(c, "nginx:1.26")
    snap = c.snapshot()
    roll_to_completion(c)
    scale(c, 0)
    restored = Cluster.restore(snap)
    restored.controllers = c.controllers  # the same (idle) controller line-up
    restored._by_kind = c._by_kind
    roll_to_completion(restored)
    scale(restored, 0)
    assert restored.events == c.events
    assert restored.store.to_dict() == c.store.to_dict()


# -- creation problems -----------------------------------------------------------------------
def test_hash_collision_bumps_the_collision_count(cluster):
    create_deployment(cluster, paused=True)
    pod_hash = du.compute_hash(deployment(cluster)["spec"]["template"], None)
    apiserver.create(cluster, {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": f"web-{pod_hash}"},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "other"}},
                 "template": {"metadata": {"labels": {"app": "other"}},
                              "spec": {"containers": [{"name": "app", "image": "busybox"}]}}}})
    edit(cluster, "Deployment", "web", lambda d: d["spec"].update(paused=False))
    d = deployment(cluster)
    assert d["status"]["collisionCount"] == 1
    new_rs, _old = replicasets_of(cluster, d)
    assert new_rs is not None
    assert new_rs["metadata"]["name"] == f"web-{du.compute_hash(d['spec']['template'], 1)}"


def test_failed_replicaset_create_is_reported(cluster, monkeypatch):
    store = cluster.store
    others = store.count() - store.count("Pod") - store.count("Event")
    monkeypatch.setattr(apiserver, "MAX_OBJECTS", others + 1)  # room for the Deployment only
    create_deployment(cluster)
    d = deployment(cluster)
    status, reason, message = condition(d, "Progressing")
    assert (status, reason) == ("False", "ReplicaSetCreateError")
    assert message.startswith('Failed to create new replica set "web-')
    warnings = [e for e in cluster.events if e["reason"] == "ReplicaSetCreateError"]
    assert warnings and warnings[0]["type"] == "Warning" and warnings[0]["message"] == message
    monkeypatch.setattr(apiserver, "MAX_OBJECTS", 5_000)
    cluster.advance(10)  # the controller retries
    assert len(replicasets(cluster)) == 1


def test_orphan_replicaset_is_adopted(cluster):
    create_deployment(cluster)
    (rs,) = replicasets(cluster)
    apiserver.delete(cluster, "Deployment", "default", "web")  # the GC removes the RS too...
    cluster.advance(0)
    assert replicasets(cluster) == []
    orphan = copy.deepcopy(rs)  # ...so put an ownerless copy back, as --cascade=orphan leaves it
    for key in ("uid", "resourceVersion", "ownerReferences", "creationTimestamp", "generation"):
        orphan["metadata"].pop(key, None)
    orphan.pop("status", None)
    apiserver.create(cluster, orphan)
    create_deployment(cluster)
    (adopted,) = replicasets(cluster)
    assert adopted["metadata"]["name"] == rs["metadata"]["name"]
    assert adopted["metadata"]["ownerReferences"][0]["uid"] == deployment(cluster)["metadata"]["uid"]


def test_scale_to_zero_and_back(cluster):
    create_deployment(cluster, replicas=3)
    make_ready(cluster)
    scale(cluster, 0)
    (rs,) = replicasets(cluster)
    assert rs["spec"]["replicas"] == 0 and pods_of(cluster, rs) == []
    d = deployment(cluster)
    assert rollout_status(cluster, d) == ('deployment "web" successfully rolled out\n', True, False)
    scale(cluster, 2)
    assert len(pods_of(cluster, rs)) == 2


def test_deleting_a_deployment_deletes_its_replicasets_and_pods(cluster):
    create_deployment(cluster, replicas=3)
    set_image(cluster, "nginx:1.26")
    apiserver.delete(cluster, "Deployment", "default", "web")
    cluster.advance(0)
    assert cluster.store.list("ReplicaSet", "default") == []
    assert cluster.store.list("Pod", "default") == []


def test_replicaset_labels_and_template_labels_are_separate_objects(cluster):
    create_deployment(cluster)
    (rs,) = replicasets(cluster)
    assert rs["metadata"]["labels"] == rs["spec"]["template"]["metadata"]["labels"]
    assert rs["metadata"]["labels"] is not rs["spec"]["template"]["metadata"]["labels"]

"""What every Deployment sync shares: a port of ``pkg/controller/deployment/sync.go``.

Finding the new and old ReplicaSets (and creating the new one with its pod-template-hash),
scaling a ReplicaSet with a ``ScalingReplicaSet`` event, proportional scaling when the replica
count changes mid-rollout or while paused, the revision history clean-up, and the status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from k8slearn.sim import apiserver
from k8slearn.sim.controllers import Obj
from k8slearn.sim.controllers import deployment_util as du
from k8slearn.sim.controllers.replicaset import controller_ref
from k8slearn.sim.errors import ApiError
from k8slearn.sim.events import record_event
from k8slearn.sim.objects import match_label_selector
from k8slearn.sim.store import controller_uid

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

COMPONENT = "deployment-controller"


class NewReplicaSetError(Exception):
    """The new ReplicaSet could not be created this sync (reported in status and events)."""


# -- which ReplicaSets belong to the Deployment ----------------------------------------------
def claim_replicasets(cluster: Cluster, d: Obj) -> list[Obj]:
    """getReplicaSetsForDeployment + ClaimReplicaSets: owned ReplicaSets that still match the
    selector, plus matching orphans (adopted); owned ones that stopped matching are released."""
    uid = d["metadata"]["uid"]
    selector = d["spec"]["selector"]
    claimed = []
    for rs in cluster.store.list("ReplicaSet", d["metadata"].get("namespace")):
        owner = controller_uid(rs)
        if owner is not None and owner != uid:
            continue
        matches = match_label_selector(selector, rs["metadata"].get("labels") or {})
        if owner == uid and not matches:
            rs["metadata"]["ownerReferences"] = [
                r for r in rs["metadata"].get("ownerReferences") or () if r.get("uid") != uid]
            cluster.store.update(rs)
        elif owner == uid:
            claimed.append(rs)
        elif matches:
            rs["metadata"].setdefault("ownerReferences", []).append(controller_ref(d))
            cluster.store.update(rs)
            claimed.append(rs)
    return claimed


def find_new_replicaset(d: Obj, rs_list: list[Obj]) -> Obj | None:
    """FindNewReplicaSet: the oldest ReplicaSet whose template equals the Deployment's."""
    template = d["spec"]["template"]
    for rs in du.by_creation(rs_list):
        if du.equal_ignore_hash(rs["spec"]["template"], template):
            return rs
    return None


def get_all_replicasets_and_sync_revision(cluster: Cluster, d: Obj, rs_list: list[Obj],
                                          create: bool) -> tuple[Obj | None, list[Obj]]:
    """(new ReplicaSet, old ReplicaSets), creating the new one if ``create`` and missing."""
    existing = find_new_replicaset(d, rs_list)
    old_rss = [rs for rs in rs_list if rs is not existing]
    return get_new_replicaset(cluster, d, existing, old_rss, create), old_rss


def get_new_replicaset(cluster: Cluster, d: Obj, existing: Obj | None, old_rss: list[Obj],
                       create: bool) -> Obj | None:
    """getNewReplicaSet: sync the existing new RS's annotations, or create it (if ``create``).

    The new revision is one more than the highest old revision: after revisions 1 and 2, a
    rollback to revision 1's template makes that ReplicaSet revision 3.
    """
    new_revision = du.max_revision(old_rss) + 1
    if existing is not None:
        sync_existing_new_replicaset(cluster, d, existing, new_revision)
        return existing
    if not create:
        return None
    return create_new_replicaset(cluster, d, old_rss, new_revision)


def sync_existing_new_replicaset(cluster: Cluster, d: Obj, rs: Obj, new_revision: int) -> None:
    changed = du.set_new_replicaset_annotations(d, rs, new_revision, exists=True)
    min_ready = d["spec"].get("minReadySeconds", 0)
    if rs["spec"].get("minReadySeconds", 0) != min_ready:
        rs["spec"]["minReadySeconds"] = min_ready
        rs["metadata"]["generation"] = rs["metadata"].get("generation", 1) + 1
        changed = True
    if changed:
        cluster.store.update(rs)
        return
    needs_update = du.set_deployment_revision(d, du.annotations(rs).get(du.REVISION, ""))
    status = d.setdefault("status", {})
    if du.has_progress_deadline(d) and du.get_condition(status, "Progressing") is None:
        du.set_condition(status, du.new_condition(
            "Progressing", "True", du.FOUND_NEW_RS_REASON,
            f'Found new replica set "{rs["metadata"]["name"]}"', cluster.now))
        needs_update = True
    if needs_update:
        cluster.store.update(d)


def new_replicaset_manifest(d: Obj) -> Obj:
    """The new ReplicaSet: ``<deployment>-<hash>``, with pod-template-hash on its labels,
    selector and template, and the Deployment as its controlling owner."""
    template = d["spec"]["template"]
    collision = (d.get("status") or {}).get("collisionCount")
    pod_hash = du.compute_hash(template, collision)
    tmeta = template.get("metadata") or {}
    labels = {**(tmeta.get("labels") or {}), du.POD_TEMPLATE_HASH: pod_hash}
    selector = dict(d["spec"]["selector"])
    selector["matchLabels"] = {**(selector.get("matchLabels") or {}),
                               du.POD_TEMPLATE_HASH: pod_hash}
    spec: Obj = {"replicas": 0, "selector": selector,
                 "template": {**template, "metadata": {**tmeta, "labels": labels}}}
    if d["spec"].get("minReadySeconds"):
        spec["minReadySeconds"] = d["spec"]["minReadySeconds"]
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{d['metadata']['name']}-{pod_hash}",
                         "namespace": d["metadata"].get("namespace"),
                         "labels": dict(labels),  # not shared with the template's
                         "ownerReferences": [controller_ref(d)]},
            "spec": spec}


def create_new_replicaset(cluster: Cluster, d: Obj, old_rss: list[Obj],
                          new_revision: int) -> Obj:
    rs = new_replicaset_manifest(d)
    rs["spec"]["replicas"] = du.new_rs_new_replicas(d, [*old_rss, rs], rs)
    du.set_new_replicaset_annotations(d, rs, new_revision, exists=False)
    name = rs["metadata"]["name"]
    try:
        created = apiserver.create(cluster, rs)
    except ApiError as err:
        if err.reason == "AlreadyExists":
            return _adopt_or_collide(cluster, d, name, err)
        _report_create_failure(cluster, d, name, err)
        raise NewReplicaSetError(err.message) from err
    if rs["spec"]["replicas"] > 0:
        record_event(cluster, d, "Normal", "ScalingReplicaSet",
                     f"Scaled up replica set {name} from 0 to {rs['spec']['replicas']}", COMPONENT)
    du.set_deployment_revision(d, str(new_revision))
    if du.has_progress_deadline(d):
        du.set_condition(d.setdefault("status", {}), du.new_condition(
            "Progressing", "True", du.NEW_RS_REASON, f'Created new replica set "{name}"',
            cluster.now))
    cluster.store.update(d)
    return created


def _adopt_or_collide(cluster: Cluster, d: Obj, name: str, err: ApiError) -> Obj:
    """A ReplicaSet with our name exists: ours with our template, or a hash collision, in which
    case status.collisionCount goes up and the next sync tries another name."""
    rs = cluster.store.get("ReplicaSet", d["metadata"].get("namespace"), name)
    if rs is not None and controller_uid(rs) == d["metadata"]["uid"] and du.equal_ignore_hash(
            rs["spec"]["template"], d["spec"]["template"]):
        return rs
    status = d.setdefault("status", {})
    status["collisionCount"] = status.get("collisionCount", 0) + 1
    cluster.store.update(d)
    raise NewReplicaSetError(err.message)


def _report_create_failure(cluster: Cluster, d: Obj, name: str, err: ApiError) -> None:
    msg = f'Failed to create new replica set "{name}": {err.message}'
    if du.has_progress_deadline(d) and du.set_condition(d.setdefault("status", {}), du.new_condition(
            "Progressing", "False", du.FAILED_RS_CREATE_REASON, msg, cluster.now)):
        cluster.store.update(d)  # (only when changed: every write wakes this controller again)
    record_event(cluster, d, "Warning", du.FAILED_RS_CREATE_REASON, msg, COMPONENT)


# -- scaling ---------------------------------------------------------------------------------
def scale_replicaset(cluster: Cluster, rs: Obj, new_scale: int, d: Obj) -> bool:
    """scaleReplicaSet: set the size and the desired/max-replicas annotations; an event if the
    size changed ("Scaled down replica set web-6b9f from 10 to 8"). Returns True if resized."""
    desired, max_total = du.replicas(d), du.replicas(d) + du.max_surge(d)
    old_scale = du.replicas(rs)
    resize = old_scale != new_scale
    if not resize and not du.replicas_annotations_need_update(rs, desired, max_total):
        return False
    du.set_replicas_annotations(rs, desired, max_total)
    if resize:
        rs["spec"]["replicas"] = new_scale
        rs["metadata"]["generation"] = rs["metadata"].get("generation", 1) + 1
    cluster.store.update(rs)
    if resize:
        verb = "up" if old_scale < new_scale else "down"
        record_event(cluster, d, "Normal", "ScalingReplicaSet",
                     f"Scaled {verb} replica set {rs['metadata']['name']} from {old_scale} to "
                     f"{new_scale}", COMPONENT)
    return resize


def scale_replicaset_and_record_event(cluster: Cluster, rs: Obj, new_scale: int, d: Obj) -> bool:
    if du.replicas(rs) == new_scale:
        return False
    return scale_replicaset(cluster, rs, new_scale, d)


def is_scaling_event(cluster: Cluster, d: Obj, rs_list: list[Obj]) -> bool:
    """isScalingEvent: an active ReplicaSet was sized for a different spec.replicas."""
    new_rs, old_rss = get_all_replicasets_and_sync_revision(cluster, d, rs_list, create=False)
    for rs in du.active([*old_rss, new_rs]):
        desired = du.annotations(rs).get(du.DESIRED_REPLICAS)
        if desired is not None and desired.lstrip("-").isdigit() and int(desired) != du.replicas(d):
            return True
    return False


def scale(cluster: Cluster, d: Obj, new_rs: Obj | None, old_rss: list[Obj]) -> None:
    """sync.go scale(): resize the ReplicaSets when spec.replicas changed.

    One active RS (or none): it simply takes the new size. Mid-rollout (old 8 + new 5, maxSurge
    3) scaling 10 -> 15 spreads the 5 extra pods by each RS's share: old 11, new 7.
    """
    target = du.find_active_or_latest(new_rs, old_rss)
    if target is not None:
        if du.replicas(target) != du.replicas(d):
            scale_replicaset_and_record_event(cluster, target, du.replicas(d), d)
        return
    if du.is_saturated(d, new_rs):
        for old in du.active(old_rss):
            scale_replicaset_and_record_event(cluster, old, 0, d)
        return
    if not du.is_rolling_update(d):
        return
    live = du.active([*old_rss, new_rs])
    for rs, size in proportional_sizes(d, live):
        scale_replicaset(cluster, rs, size, d)


def proportional_sizes(d: Obj, live: list[Obj]) -> list[tuple[Obj, int]]:
    """The new size of each active ReplicaSet; the leftover goes to the first (largest)."""
    allowed = du.replicas(d) + du.max_surge(d) if du.replicas(d) > 0 else 0
    to_add = allowed - du.total_replicas(live)
    if to_add > 0:
        ordered = du.by_size_newer(live)
    elif to_add < 0:
        ordered = du.by_size_older(live)
    else:
        ordered = list(live)
    added = 0
    sizes: list[int] = []
    for rs in ordered:
        proportion = du.get_proportion(rs, d, to_add, added) if to_add else 0
        sizes.append(du.replicas(rs) + proportion)
        added += proportion
    if ordered and to_add:
        sizes[0] = max(0, sizes[0] + to_add - added)
    return list(zip(ordered, sizes, strict=True))


def sync(cluster: Cluster, d: Obj, rs_list: list[Obj]) -> None:
    """sync(): a paused Deployment or a scaling event: resize, no rollout step."""
    new_rs, old_rss = get_all_replicasets_and_sync_revision(cluster, d, rs_list, create=False)
    scale(cluster, d, new_rs, old_rss)
    if d["spec"].get("paused"):
        cleanup_deployment(cluster, d, old_rss)
    sync_deployment_status(cluster, d, [*old_rss, new_rs], new_rs)


def cleanup_deployment(cluster: Cluster, d: Obj, old_rss: list[Obj]) -> None:
    """cleanupDeployment: keep at most revisionHistoryLimit old ReplicaSets (the oldest
    revisions go first, and only once they are scaled to 0 and settled)."""
    if not du.has_revision_history_limit(d):
        return
    cleanable = [rs for rs in old_rss if not rs["metadata"].get("deletionTimestamp")]
    diff = len(cleanable) - d["spec"]["revisionHistoryLimit"]
    for rs in du.by_revision(cleanable)[:max(diff, 0)]:
        meta = rs["metadata"]
        if (du.status_of(rs, "replicas") != 0 or du.replicas(rs) != 0
                or meta.get("generation", 1) > du.status_of(rs, "observedGeneration")):
            continue
        try:
            apiserver.delete(cluster, "ReplicaSet", meta.get("namespace"), meta["name"])
        except ApiError as err:
            if err.reason != "NotFound":
                return


def check_paused_conditions(cluster: Cluster, d: Obj) -> None:
    """checkPausedConditions: Progressing=Unknown DeploymentPaused / DeploymentResumed."""
    if not du.has_progress_deadline(d):
        return
    status = d.setdefault("status", {})
    cond = du.get_condition(status, "Progressing")
    if cond is not None and cond.get("reason") == du.TIMED_OUT_REASON:
        return  # a reported timeout is not overwritten by "paused"
    paused = bool(d["spec"].get("paused"))
    paused_cond = cond is not None and cond.get("reason") == du.PAUSED_REASON
    if paused and not paused_cond:
        new = du.new_condition("Progressing", "Unknown", du.PAUSED_REASON,
                               "Deployment is paused", cluster.now)
    elif not paused and paused_cond:
        new = du.new_condition("Progressing", "Unknown", du.RESUMED_REASON,
                               "Deployment is resumed", cluster.now)
    else:
        return
    du.set_condition(status, new)
    cluster.store.update(d)


# -- status ----------------------------------------------------------------------------------
def calculate_status(cluster: Cluster, d: Obj, all_rss: list[Obj | None],
                     new_rs: Obj | None) -> Obj:
    """calculateStatus: sums over the ReplicaSets, and the Available condition.

    unavailableReplicas = Σ spec.replicas − available (never negative): mid-rollout with
    10 + 3 pods wanted and 10 available, 3 are unavailable ("13 total | 10 available").
    """
    rss = [rs for rs in all_rss if rs is not None]
    available = du.total_status(rss, "availableReplicas")
    counts = {
        "observedGeneration": d["metadata"].get("generation", 1),
        "replicas": du.total_status(rss, "replicas"),
        "updatedReplicas": du.status_of(new_rs, "replicas"),
        "readyReplicas": du.total_status(rss, "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": max(0, du.total_replicas(rss) - available),
    }
    status: Obj = {k: v for k, v in counts.items() if v}  # omitempty
    old = d.get("status") or {}
    if old.get("conditions"):
        status["conditions"] = [dict(c) for c in old["conditions"]]
    if "collisionCount" in old:
        status["collisionCount"] = old["collisionCount"]
    if available >= du.replicas(d) - du.max_unavailable(d):
        cond = du.new_condition("Available", "True", du.MIN_AVAILABLE_REASON,
                                "Deployment has minimum availability.", cluster.now)
    else:
        cond = du.new_condition("Available", "False", du.MIN_UNAVAILABLE_REASON,
                                "Deployment does not have minimum availability.", cluster.now)
    du.set_condition(status, cond)
    return status


def sync_deployment_status(cluster: Cluster, d: Obj, all_rss: list[Obj | None],
                           new_rs: Obj | None) -> None:
    status = calculate_status(cluster, d, all_rss, new_rs)
    if d.get("status") != status:
        d["status"] = status
        cluster.store.update(d)

"""Deployment arithmetic and bookkeeping: a port of ``pkg/controller/deployment/util``.

Pure functions over stored objects (plain dicts): surge/unavailable fenceposts, how far the new
ReplicaSet may grow, proportional scaling, revisions and their annotations, the pod-template-hash,
and the Deployment's conditions. The controller modules (``rolling.py``, ``recreate.py``,
``deployment_sync.py``, ``deployment_progress.py``) call these; kubectl uses a few through
``deployment.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from k8slearn.sim.objects import NAME_ALPHABET, parse_rfc3339, rfc3339

Obj = dict[str, Any]

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
POD_TEMPLATE_HASH = "pod-template-hash"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
# Annotations a Deployment never copies onto its ReplicaSets (annotationsToSkip).
ANNOTATIONS_TO_SKIP = (LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
                       ROLLBACK_TO)
MAX_REV_HISTORY_LENGTH_IN_CHARS = 2000
MAX_INT32 = 2**31 - 1

# Condition reasons (util/deployment_util.go).
NEW_RS_REASON = "NewReplicaSetCreated"
FOUND_NEW_RS_REASON = "FoundNewReplicaSet"
RS_UPDATED_REASON = "ReplicaSetUpdated"
NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
FAILED_RS_CREATE_REASON = "ReplicaSetCreateError"
PAUSED_REASON = "DeploymentPaused"
RESUMED_REASON = "DeploymentResumed"
MIN_AVAILABLE_REASON = "MinimumReplicasAvailable"
MIN_UNAVAILABLE_REASON = "MinimumReplicasUnavailable"


# -- small accessors -------------------------------------------------------------------------
def replicas(obj: Obj | None) -> int:
    """spec.replicas (0 for a missing ReplicaSet)."""
    if obj is None:
        return 0
    return int(obj.get("spec", {}).get("replicas", 1))


def status_of(obj: Obj | None, field: str) -> int:
    if obj is None:
        return 0
    return int((obj.get("status") or {}).get(field, 0))


def annotations(obj: Obj) -> dict[str, str]:
    return obj["metadata"].get("annotations") or {}


def creation_key(obj: Obj) -> tuple[str, str]:
    """ReplicaSetsByCreationTimestamp: oldest first, ties (1 s resolution) broken by name."""
    meta = obj["metadata"]
    return (meta.get("creationTimestamp", ""), meta["name"])


def by_creation(rss: Iterable[Obj | None]) -> list[Obj]:
    return sorted((rs for rs in rss if rs is not None), key=creation_key)


def active(rss: Iterable[Obj | None]) -> list[Obj]:
    """FilterActiveReplicaSets: the ReplicaSets that should have pods (spec.replicas > 0)."""
    return [rs for rs in rss if rs is not None and replicas(rs) > 0]


def total_replicas(rss: Iterable[Obj | None]) -> int:
    """GetReplicaCountForReplicaSets: Σ spec.replicas."""
    return sum(replicas(rs) for rs in rss if rs is not None)


def total_status(rss: Iterable[Obj | None], field: str) -> int:
    """Σ status.<field> (replicas, readyReplicas, availableReplicas) over the ReplicaSets."""
    return sum(status_of(rs, field) for rs in rss if rs is not None)


# -- maxSurge / maxUnavailable ---------------------------------------------------------------
def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent: '25%' of 10 is 3 rounded up, 2 rounded down."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%"):
        raise ValueError(f"invalid value for IntOrString: invalid type: string is not a "
                         f"percentage: {text!r}")
    pct = int(text[:-1])
    # Integer arithmetic gives the same results as Go's float64 ceil/floor for these sizes.
    return -(-pct * total // 100) if round_up else pct * total // 100


def rolling_params(d: Obj) -> tuple[int | str | None, int | str | None]:
    ru = (d["spec"].get("strategy") or {}).get("rollingUpdate") or {}
    return ru.get("maxSurge"), ru.get("maxUnavailable")


def resolve_fenceposts(max_surge: int | str | None, max_unavailable: int | str | None,
                       desired: int) -> tuple[int, int]:
    """ResolveFenceposts. (10, 25%, 25%) -> (3, 2): surge rounds up, unavailable rounds down.

    If both come out 0 (3 replicas, 0%, 10%), unavailable becomes 1 "because surge might not
    work due to quota": a rollout must be able to make *some* move.
    """
    surge = scaled_value(max_surge, desired, True)
    unavailable = scaled_value(max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def is_rolling_update(d: Obj) -> bool:
    return (d["spec"].get("strategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"


def max_surge(d: Obj) -> int:
    """MaxSurge: 0 unless the strategy is RollingUpdate."""
    if not is_rolling_update(d):
        return 0
    return resolve_fenceposts(*rolling_params(d), replicas(d))[0]


def max_unavailable(d: Obj) -> int:
    """MaxUnavailable, capped at spec.replicas: (2 replicas, surge 0, unavailable 5) -> 2."""
    n = replicas(d)
    if not is_rolling_update(d) or n == 0:
        return 0
    return min(resolve_fenceposts(*rolling_params(d), n)[1], n)


def new_rs_new_replicas(d: Obj, all_rss: Iterable[Obj | None], new_rs: Obj) -> int:
    """NewRSNewReplicas: how big the new ReplicaSet may be right now.

    10 replicas, maxSurge 3: at most 13 pods in all. With old 10 + new 0 the new RS may grow to
    3; with old 8 + new 3 (11 in all) it may grow by 2 more, to 5.
    """
    if not is_rolling_update(d):
        return replicas(d)  # Recreate: straight to the full size
    surge = scaled_value(rolling_params(d)[0], replicas(d), True)
    current = total_replicas(all_rss)
    max_total = replicas(d) + surge
    if current >= max_total:
        return replicas(new_rs)
    scale_up = min(max_total - current, replicas(d) - replicas(new_rs))
    return replicas(new_rs) + scale_up


# -- proportional scaling (sync.go scale) ----------------------------------------------------
def _int_annotation(rs: Obj, key: str) -> int | None:
    try:
        return int(annotations(rs)[key])
    except (KeyError, ValueError):
        return None


def replicaset_fraction(rs: Obj, d: Obj) -> int:
    """getReplicaSetFraction: rs's share of a resize, from its max-replicas annotation.

    Mid-rollout 10 -> 15 with maxSurge 3: old RS 8 of 13 becomes round(8 * 18 / 13) = 11 (+3).
    """
    if replicas(d) == 0:
        return -replicas(rs)
    deployment_max = replicas(d) + max_surge(d)
    before = _int_annotation(rs, MAX_REPLICAS)
    if not before:
        before = status_of(d, "replicas")  # someone edited the annotation away
    if not before:
        return 0
    new_size = replicas(rs) * deployment_max / before
    return int(new_size + 0.5) - replicas(rs)  # integer.RoundToInt32 (sizes are never negative)


def get_proportion(rs: Obj, d: Obj, to_add: int, added: int) -> int:
    """GetProportion: the fraction, clamped so the total never overshoots ``to_add``."""
    if replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = replicaset_fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def is_saturated(d: Obj, rs: Obj | None) -> bool:
    """IsSaturated: the new RS has all the replicas, they are all available, nothing pending."""
    if rs is None:
        return False
    desired = _int_annotation(rs, DESIRED_REPLICAS)
    if desired is None:
        return False
    n = replicas(d)
    return replicas(rs) == n and desired == n and status_of(rs, "availableReplicas") == n


def find_active_or_latest(new_rs: Obj | None, old_rss: list[Obj]) -> Obj | None:
    """FindActiveOrLatest: the only active RS; the newest RS if none is active; else None."""
    if new_rs is None and not old_rss:
        return None
    newest_first = sorted(old_rss, key=creation_key, reverse=True)
    live = active([*newest_first, new_rs])
    if not live:
        return new_rs if new_rs is not None else newest_first[0]
    return live[0] if len(live) == 1 else None


def by_size_newer(rss: list[Obj]) -> list[Obj]:
    """ReplicaSetsBySizeNewer: biggest first; equal sizes newest first (scaling up)."""
    newest = sorted(rss, key=creation_key, reverse=True)
    return sorted(newest, key=replicas, reverse=True)


def by_size_older(rss: list[Obj]) -> list[Obj]:
    """ReplicaSetsBySizeOlder: biggest first; equal sizes oldest first (scaling down)."""
    return sorted(by_creation(rss), key=replicas, reverse=True)


# -- revisions -------------------------------------------------------------------------------
def revision_of(obj: Obj) -> int:
    """deploymentutil.Revision: the revision annotation as an int (0 if missing or bad)."""
    try:
        return int(annotations(obj).get(REVISION, "0"))
    except ValueError:
        return 0


def max_revision(rss: Iterable[Obj]) -> int:
    return max((revision_of(rs) for rs in rss), default=0)


def by_revision(rss: Iterable[Obj]) -> list[Obj]:
    """ReplicaSetsByRevision: lowest revision first, then by creation."""
    return sorted(by_creation(rss), key=revision_of)


def set_replicas_annotations(rs: Obj, desired: int, max_replicas: int) -> bool:
    """SetReplicasAnnotations: desired-replicas and max-replicas; True if anything changed."""
    ann = rs["metadata"].setdefault("annotations", {})
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(max_replicas))):
        if ann.get(key) != value:
            ann[key] = value
            changed = True
    return changed


def replicas_annotations_need_update(rs: Obj, desired: int, max_replicas: int) -> bool:
    ann = annotations(rs)
    return ann.get(DESIRED_REPLICAS) != str(desired) or ann.get(MAX_REPLICAS) != str(max_replicas)


def copy_deployment_annotations(d: Obj, rs: Obj) -> bool:
    """copyDeploymentAnnotationsToReplicaSet: user annotations travel to the new RS."""
    ann = rs["metadata"].setdefault("annotations", {})
    changed = False
    for key, value in annotations(d).items():
        if key in ANNOTATIONS_TO_SKIP or ann.get(key) == value:
            continue
        ann[key] = value
        changed = True
    return changed


def set_new_replicaset_annotations(d: Obj, rs: Obj, new_revision: int, exists: bool) -> bool:
    """SetNewReplicaSetAnnotations: copy the Deployment's annotations and raise the revision.

    Rolling back to an RS that had revision 1 while the newest is 2 gives it revision 3 and
    records "1" in its revision-history annotation.
    """
    changed = copy_deployment_annotations(d, rs)
    ann = rs["metadata"]["annotations"]
    old_text = ann.get(REVISION)
    try:
        old_revision = int(old_text) if old_text else 0
    except ValueError:
        return False
    if old_revision < new_revision:
        ann[REVISION] = str(new_revision)
        changed = True
        if old_text is not None:
            _append_revision_history(ann, old_text)
    if not exists and set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d)):
        changed = True
    return changed


def _append_revision_history(ann: dict[str, str], old_revision: str) -> None:
    history = ann.get(REVISION_HISTORY, "")
    if not history:
        ann[REVISION_HISTORY] = old_revision
        return
    olds = history.split(",")
    total = len(history) + len(old_revision) + 1
    start = 0
    while total > MAX_REV_HISTORY_LENGTH_IN_CHARS and start < len(olds):
        total -= len(olds[start]) + 1
        start += 1
    if total <= MAX_REV_HISTORY_LENGTH_IN_CHARS:
        ann[REVISION_HISTORY] = ",".join([*olds[start:], old_revision])


def set_deployment_revision(d: Obj, revision: str) -> bool:
    ann = d["metadata"].setdefault("annotations", {})
    if ann.get(REVISION) == revision:
        return False
    ann[REVISION] = revision
    return True


# -- templates and the pod-template-hash -----------------------------------------------------
def fnv32a(data: bytes) -> int:
    """FNV-1a, 32 bits (hash/fnv New32a)."""
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode_string(text: str) -> str:
    """rand.SafeEncodeString: each character maps into the no-vowel alphabet ('0' -> '4')."""
    return "".join(NAME_ALPHABET[ord(ch) % len(NAME_ALPHABET)] for ch in text)


def compute_hash(template: Obj, collision_count: int | None) -> str:
    """controller.ComputeHash: FNV-32a of the template (+ collisionCount), safely encoded.

    Kubernetes hashes a spew dump of the Go struct, which Python cannot reproduce; a sorted
    JSON dump is just as deterministic, so hashes look real (``66b6c48dd5``) but differ.
    """
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += (collision_count & 0xFFFFFFFF).to_bytes(4, "little") + bytes(4)
    return safe_encode_string(str(fnv32a(data)))


def semantic(value: Any) -> Any:
    """Semantic.DeepEqual treats nil and empty maps/slices alike: drop empties and nulls."""
    if isinstance(value, dict):
        out = {k: semantic(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [semantic(v) for v in value]
    return value


def _without_hash(template: Obj) -> Obj:
    meta = dict(template.get("metadata") or {})
    labels = dict(meta.get("labels") or {})
    labels.pop(POD_TEMPLATE_HASH, None)
    meta["labels"] = labels
    return {**template, "metadata": meta}


def _images(template: Obj) -> list[Any]:
    spec = template.get("spec") or {}
    return [c.get("image") if isinstance(c, dict) else c
            for part in ("initContainers", "containers") for c in spec.get(part) or ()]


def equal_ignore_hash(t1: Obj, t2: Obj) -> bool:
    """EqualIgnoreHash: two pod templates are the same apart from the pod-template-hash label."""
    if _images(t1) != _images(t2):
        return False  # the usual rollout: a new image (and a cheap answer)
    a, b = _without_hash(t1), _without_hash(t2)
    return a == b or semantic(a) == semantic(b)


# -- conditions ------------------------------------------------------------------------------
def new_condition(ctype: str, status: str, reason: str, message: str, now: float) -> Obj:
    stamp = rfc3339(now)
    return {"type": ctype, "status": status, "lastUpdateTime": stamp,
            "lastTransitionTime": stamp, "reason": reason, "message": message}


def get_condition(status: Obj, ctype: str) -> Obj | None:
    for cond in status.get("conditions") or ():
        if cond.get("type") == ctype:
            return cond
    return None


def set_condition(status: Obj, cond: Obj) -> bool:
    """SetDeploymentCondition: no-op if status and reason are unchanged; keeps the transition
    time if only the reason changed; the condition moves to the end of the list. Returns True
    if anything changed."""
    current = get_condition(status, cond["type"])
    if current is not None and current["status"] == cond["status"] and (
            current.get("reason") == cond.get("reason")):
        return False
    if current is not None and current["status"] == cond["status"]:
        cond = {**cond, "lastTransitionTime": current.get("lastTransitionTime")}
    remove_condition(status, cond["type"])
    status.setdefault("conditions", []).append(cond)
    return True


def remove_condition(status: Obj, ctype: str) -> None:
    conds = [c for c in status.get("conditions") or () if c.get("type") != ctype]
    if conds:
        status["conditions"] = conds
    else:
        status.pop("conditions", None)


# -- progress --------------------------------------------------------------------------------
def has_progress_deadline(d: Obj) -> bool:
    deadline = d["spec"].get("progressDeadlineSeconds")
    return deadline is not None and deadline != MAX_INT32


def has_revision_history_limit(d: Obj) -> bool:
    limit = d["spec"].get("revisionHistoryLimit")
    return limit is not None and limit != MAX_INT32


def deployment_complete(d: Obj, status: Obj) -> bool:
    """DeploymentComplete: every replica updated and available, no old ones, spec observed."""
    n = replicas(d)
    return (status.get("updatedReplicas", 0) == n and status.get("replicas", 0) == n
            and status.get("availableReplicas", 0) == n
            and status.get("observedGeneration", 0) >= d["metadata"].get("generation", 0))


def deployment_progressing(d: Obj, new: Obj) -> bool:
    """DeploymentProgressing: more updated, fewer old, more ready or more available."""
    old = d.get("status") or {}
    old_old = old.get("replicas", 0) - old.get("updatedReplicas", 0)
    new_old = new.get("replicas", 0) - new.get("updatedReplicas", 0)
    return (new.get("updatedReplicas", 0) > old.get("updatedReplicas", 0) or new_old < old_old
            or new.get("readyReplicas", 0) > old.get("readyReplicas", 0)
            or new.get("availableReplicas", 0) > old.get("availableReplicas", 0))


def deployment_timed_out(d: Obj, status: Obj, now: float) -> bool:
    """DeploymentTimedOut: no progress reported for progressDeadlineSeconds (strictly more)."""
    if not has_progress_deadline(d):
        return False
    cond = get_condition(status, "Progressing")
    if cond is None or cond.get("reason") == NEW_RS_AVAILABLE_REASON:
        return False
    if cond.get("reason") == TIMED_OUT_REASON:
        return True
    since = parse_rfc3339(cond["lastUpdateTime"])
    return since + d["spec"]["progressDeadlineSeconds"] < now

"""The Deployment and ReplicaSet controllers against the vectors (k8s-vectors.json), made by a
Python port of the upstream Go functions: fenceposts, rolling_update, proportional_scaling,
naming, defaults, slow_start_batches and rollout_status_messages. Every case is a test."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from apps_helpers import (
    apps_cluster,
    create_deployment,
    deployment,
    edit,
    make_ready,
    replicasets,
    scaling_events,
    set_image,
)

from k8slearn.sim.controllers import deployment_util as du
from k8slearn.sim.controllers.deployment import max_surge_unavailable, rollout_status
from k8slearn.sim.controllers.deployment_sync import proportional_sizes
from k8slearn.sim.controllers.podutil import is_active, is_ready
from k8slearn.sim.controllers.replicaset import (
    BURST_REPLICAS,
    SLOW_START_INITIAL_BATCH_SIZE,
    batch_sizes,
    slow_start_batch,
)

VECTORS = json.loads((Path(__file__).parent / "k8s-vectors.json").read_text())
Obj = dict[str, Any]


def rolling(replicas: int, surge: Any, unavailable: Any) -> Obj:
    return {"metadata": {"name": "web", "generation": 1},
            "spec": {"replicas": replicas,
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": surge,
                                                    "maxUnavailable": unavailable}}}}


# -- fenceposts ------------------------------------------------------------------------------
FENCEPOSTS = VECTORS["fenceposts"]["cases"]


@pytest.mark.parametrize("case", FENCEPOSTS,
                         ids=lambda c: f"{c['replicas']}-{c['maxSurge']}-{c['maxUnavailable']}")
def test_fenceposts_resolve_like_kubernetes(case):
    d = rolling(case["replicas"], case["maxSurge"], case["maxUnavailable"])
    assert list(du.resolve_fenceposts(case["maxSurge"], case["maxUnavailable"],
                                      case["replicas"])) == case["resolveFenceposts"]
    surge, unavailable = max_surge_unavailable(d)
    assert (surge, unavailable) == (case["effective_maxSurge"], case["effective_maxUnavailable"])
    assert case["replicas"] + surge == case["max_total_pods"]
    assert case["replicas"] - unavailable == case["min_available"]


# -- rolling_update --------------------------------------------------------------------------
ROLLING = VECTORS["rolling_update"]["cases"]


class Recorder:
    """Watches the store: the (old, new) spec sizes after each change, and the invariants."""

    def __init__(self, cluster: Any, old_name: str, max_total: int, min_available: int) -> None:
        self.cluster = cluster
        self.old_name = old_name
        self.max_total = max_total
        self.min_available = min_available
        self.sizes: list[list[int]] = []
        self.violations: list[str] = []
        cluster.store.watchers.append(self.on_change)

    def on_change(self, kind: str, obj: Obj, deleted: bool) -> None:
        if kind not in ("ReplicaSet", "Pod"):
            return
        rss = replicasets(self.cluster)
        old = next(du.replicas(rs) for rs in rss if rs["metadata"]["name"] == self.old_name)
        new = sum(du.replicas(rs) for rs in rss if rs["metadata"]["name"] != self.old_name)
        if not self.sizes or self.sizes[-1] != [old, new]:
            self.sizes.append([old, new])
        pods = [p for p in self.cluster.store.list("Pod") if is_active(p)]
        if old + new > self.max_total or len(pods) > self.max_total:
            self.violations.append(f"{old}+{new} specs, {len(pods)} pods > {self.max_total}")
        ready = sum(1 for p in pods if is_ready(p))
        if ready < self.min_available:
            self.violations.append(f"{ready} available < {self.min_available}")


def start_rollout(case: Obj) -> tuple[Any, Recorder]:
    cluster = apps_cluster()
    strategy = {"type": "RollingUpdate", "rollingUpdate": {
        "maxSurge": case["maxSurge"], "maxUnavailable": case["maxUnavailable"]}}
    create_deployment(cluster, replicas=case["replicas"], strategy=strategy)
    make_ready(cluster)
    (old,) = replicasets(cluster)
    surge, unavailable = max_surge_unavailable(deployment(cluster))
    assert (surge, unavailable) == (case["resolved_maxSurge"], case["resolved_maxUnavailable"])
    recorder = Recorder(cluster, old["metadata"]["name"], case["replicas"] + surge,
                        case["replicas"] - unavailable)
    recorder.sizes.append([case["replicas"], 0])
    return cluster, recorder


def expected_events(case: Obj, cluster: Any, old_name: str) -> list[str]:
    (new_name,) = [rs["metadata"]["name"] for rs in replicasets(cluster)
                   if rs["metadata"]["name"] != old_name]
    return [f"Scaled {e['verb']} replica set {old_name if e['rs'] == 'old' else new_name} "
            f"from {e['from']} to {e['to']}"
            for e in case["events"] if not (e.get("created") and e["to"] == 0)]


@pytest.mark.parametrize("case", ROLLING, ids=lambda c: (
    f"{c['replicas']}-{c['maxSurge']}-{c['maxUnavailable']}-{c['model']}"))
def test_rolling_update_follows_the_vector_sequence(case):
    cluster, recorder = start_rollout(case)
    before = len(scaling_events(cluster))
    set_image(cluster, "nginx:1.26")
    if case["model"] == "ready_at_fixpoint":
        # Syncs run until nothing changes (advance(0) drains); only then do new pods get ready.
        for _ in range(50):
            if make_ready(cluster) == 0:
                break
    else:
        # Every existing pod is ready before each sync: mark them after every reconcile round.
        for _ in range(500):
            make_ready(cluster, settle=False)
            if not cluster.step():
                break
    assert recorder.sizes == case["rs_size_sequence_old_new"]
    assert recorder.violations == case["invariant_violations"] == []
    assert scaling_events(cluster)[before:] == expected_events(case, cluster, recorder.old_name)
    d = deployment(cluster)
    assert rollout_status(cluster, d) == (
        'deployment "web" successfully rolled out\n', True, False)


# -- proportional_scaling --------------------------------------------------------------------
PROPORTIONAL = VECTORS["proportional_scaling"]["cases"]


@pytest.mark.parametrize("case", PROPORTIONAL, ids=lambda c: c["desc"])
def test_proportional_scaling_splits_like_kubernetes(case):
    d = rolling(case["new_replicas"], case["maxSurge"], case["maxUnavailable"])
    d["status"] = {"replicas": sum(rs["spec"] for rs in case["replica_sets"])}
    live = [{"metadata": {"name": rs["name"],
                          "creationTimestamp": f"2026-01-01T00:00:0{rs['created']}Z",
                          "annotations": {du.MAX_REPLICAS: str(rs["max_replicas_annotation"])}},
             "spec": {"replicas": rs["spec"]}} for rs in case["replica_sets"]]
    allowed = case["new_replicas"] + du.max_surge(d) if case["new_replicas"] else 0
    assert allowed == case["allowedSize"]
    assert allowed - du.total_replicas(live) == case["deploymentReplicasToAdd"]
    sizes = {rs["metadata"]["name"]: size for rs, size in proportional_sizes(d, live)}
    assert sizes == case["result"]


# -- naming ----------------------------------------------------------------------------------
NAMING = VECTORS["naming"]


@pytest.mark.parametrize("case", NAMING["safe_encode_cases"], ids=lambda c: str(c["uint32"]))
def test_safe_encode_string_maps_digits_like_apimachinery(case):
    assert du.safe_encode_string(str(case["uint32"])) == case["hash"]


def test_pod_template_hash_and_pod_names_use_the_real_alphabets():
    cluster = apps_cluster()
    create_deployment(cluster, replicas=5)
    (rs,) = replicasets(cluster)
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert re.match(NAMING["pod_template_hash_regex"], pod_hash)
    assert set(NAMING["random_suffix_alphabet"]) == set("bcdfghjklmnpqrstvwxz2456789")
    name_re = NAMING["pod_name_regex_for_rs"].split(" ")[0].replace("{rs_name}",
                                                                    rs["metadata"]["name"])
    pods = cluster.store.pods_owned_by(rs["metadata"]["uid"])
    assert len(pods) == 5
    assert all(re.match(name_re, p["metadata"]["name"]) for p in pods)


@pytest.mark.parametrize("name", NAMING["examples_valid"])
def test_valid_name_examples_match_the_patterns(name):
    hash_part = name.split("-")[2]
    assert re.match(NAMING["pod_template_hash_regex"], hash_part)
    if name.count("-") == 3:
        assert re.match(r"^[bcdfghjklmnpqrstvwxz2456789]{5}$", name.split("-")[3])


@pytest.mark.parametrize("example", NAMING["examples_invalid"])
def test_invalid_name_examples_do_not_match(example):
    name = example.split(" ")[0]
    parts = name.split("-")
    ok_hash = re.match(NAMING["pod_template_hash_regex"], parts[2])
    ok_suffix = len(parts) < 4 or re.match(r"^[bcdfghjklmnpqrstvwxz2456789]{5}$", parts[3])
    assert not (ok_hash and ok_suffix)


def test_compute_hash_changes_with_the_collision_count():
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}
    hashes = {du.compute_hash(template, n) for n in (None, 0, 1, 2)}
    assert len(hashes) == 4
    assert all(re.match(NAMING["pod_template_hash_regex"], h) for h in hashes)


# -- defaults --------------------------------------------------------------------------------
DEFAULTS = VECTORS["defaults"]


@pytest.mark.parametrize("field", sorted(DEFAULTS["deployment"]))
def test_deployment_defaults(field):
    cluster = apps_cluster()
    create_deployment(cluster, replicas=None)
    spec = deployment(cluster)["spec"]
    value = DEFAULTS["deployment"][field]
    if field == "strategy":
        assert spec["strategy"]["type"] == value
    elif field in ("maxSurge", "maxUnavailable"):
        assert spec["strategy"]["rollingUpdate"][field] == value
    else:
        assert spec.get(field, 0) == value  # minReadySeconds 0 is omitted, as in the API


@pytest.mark.parametrize("field", sorted(DEFAULTS["pod"]))
def test_pod_template_gets_pod_defaults(field):
    cluster = apps_cluster()
    create_deployment(cluster)
    (rs,) = replicasets(cluster)
    for owner in (deployment(cluster), rs):
        assert owner["spec"]["template"]["spec"][field] == DEFAULTS["pod"][field]


@pytest.mark.parametrize("field", sorted(DEFAULTS["probe"]))
def test_template_probes_get_probe_defaults(field):
    cluster = apps_cluster()

    def with_probe(d):
        d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = {
            "httpGet": {"port": 80}}

    create_deployment(cluster)
    edit(cluster, "Deployment", "web", with_probe)
    probe = deployment(cluster)["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    assert probe[field] == DEFAULTS["probe"][field]


@pytest.mark.parametrize("field", sorted(DEFAULTS["replicaset_controller"]))
def test_replicaset_controller_constants(field):
    ours = {"burstReplicas": BURST_REPLICAS,
            "slowStartInitialBatchSize": SLOW_START_INITIAL_BATCH_SIZE}
    assert ours[field] == DEFAULTS["replicaset_controller"][field]


# -- slow_start_batches ----------------------------------------------------------------------
SLOW_START = VECTORS["slow_start_batches"]["cases"]


@pytest.mark.parametrize("case", SLOW_START, ids=lambda c: str(c["pods_to_create"]))
def test_slow_start_batches(case):
    assert batch_sizes(case["pods_to_create"]) == case["batches"]
    calls: list[int] = []
    assert slow_start_batch(case["pods_to_create"], 1, lambda: calls.append(1) is None) == (
        case["pods_to_create"])
    assert len(calls) == case["pods_to_create"]


@pytest.mark.parametrize("case", SLOW_START, ids=lambda c: str(c["pods_to_create"]))
def test_slow_start_stops_after_the_batch_with_the_first_failure(case):
    # The second call fails: batch 1 succeeds, batch 2 (size <= 2) is finished, then stop.
    calls: list[int] = []

    def fn() -> bool:
        calls.append(1)
        return len(calls) != 2

    successes = slow_start_batch(case["pods_to_create"], 1, fn)
    batches = case["batches"]
    assert len(calls) == sum(batches[:2])
    assert successes == len(calls) - (1 if len(calls) >= 2 else 0)


# -- rollout_status_messages -----------------------------------------------------------------
STATUS = VECTORS["rollout_status_messages"]["cases"]


@pytest.mark.parametrize("case", STATUS, ids=lambda c: c.get("expected") or c["expected_error"])
def test_rollout_status_messages(case):
    status: Obj = {"observedGeneration": case["observedGeneration"]}
    for ours, theirs in (("updatedReplicas", "updated"), ("replicas", "replicas"),
                         ("availableReplicas", "available")):
        if theirs in case:
            status[ours] = case[theirs]
    if "progressing_reason" in case:
        status["conditions"] = [{"type": "Progressing", "status": "False",
                                 "reason": case["progressing_reason"]}]
    d = {"metadata": {"name": case["name"], "generation": case["generation"]},
         "spec": {"replicas": case.get("spec_replicas", 1)}, "status": status}
    message, done, error = rollout_status(None, d)  # type: ignore[arg-type]
    if "expected_error" in case:
        assert (message, done, error) == (case["expected_error"], False, True)
    else:
        assert (message, done, error) == (case["expected"], case["done"], False)

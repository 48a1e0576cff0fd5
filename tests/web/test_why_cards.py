"""Why-cards: every Event reason the simulator records has its own line, in Korean and English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from k8slearn.playground import why
from k8slearn.sim.cluster import Cluster
from k8slearn.sim.controllers import deployment_util as du

SIM = Path(__file__).resolve().parents[2] / "k8slearn" / "sim"
CALL = re.compile(r'(?:record_event|_event)\(\s*[^()]*?"(?:Normal|Warning)",\s*"([A-Za-z]+)"', re.S)


def sim_reasons() -> set[str]:
    """Every literal reason passed to record_event/_event anywhere in the core."""
    found = {du.FAILED_RS_CREATE_REASON}  # passed as a constant, not a literal
    for path in SIM.rglob("*.py"):
        found.update(CALL.findall(path.read_text(encoding="utf-8")))
    return found


def ev(reason: str, message: str, kind: str = "Pod", name: str = "web-7c5ddbdf54-x2k9p",
       type_: str = "Normal", seq: int = 1, component: str = "x") -> dict:
    return {"seq": seq, "time_ms": 1000, "kind": kind, "namespace": "default", "name": name,
            "type": type_, "reason": reason, "message": message, "component": component}


# One realistic message per reason (and per variant where one reason has several meanings).
SAMPLES = [
    ev("SuccessfulCreate", "Created pod: web-7c5ddbdf54-x2k9p", "ReplicaSet", "web-7c5ddbdf54"),
    ev("SuccessfulDelete", "Deleted pod: web-7c5ddbdf54-x2k9p", "ReplicaSet", "web-7c5ddbdf54"),
    ev("FailedCreate", "Error creating: pods is forbidden", "ReplicaSet", "web-7c5ddbdf54"),
    ev("FailedDelete", "Error deleting: not found", "ReplicaSet", "web-7c5ddbdf54"),
    ev("ScalingReplicaSet", "Scaled up replica set web-7c5ddbdf54 from 0 to 3", "Deployment",
       "web"),
    ev("ScalingReplicaSet", "Scaled down replica set web-7c5ddbdf54 from 3 to 2", "Deployment",
       "web"),
    ev(du.FAILED_RS_CREATE_REASON, "Failed to create new replica set", "Deployment", "web"),
    ev("Scheduled", "Successfully assigned default/web-7c5ddbdf54-x2k9p to node-2"),
    ev("FailedScheduling", "0/3 nodes are available: 3 Insufficient cpu."),
    ev("Pulling", 'Pulling image "nginx:1.25"'),
    ev("Pulled", 'Successfully pulled image "nginx:1.25" in 1.2s (1.2s including waiting).'),
    ev("Pulled", 'Container image "nginx:1.25" already present on machine'),
    ev("Failed", 'Failed to pull image "nginx:nope": not found'),
    ev("Failed", "Error: ErrImagePull"),
    ev("InspectFailed", 'Failed to apply default image tag "NGINX": invalid reference format'),
    ev("ErrImageNeverPull", 'Container image "x" is not present with pull policy of Never'),
    ev("BackOff", 'Back-off pulling image "nginx:nope"'),
    ev("BackOff", "Back-off restarting failed container web in pod web-x_default(uid)"),
    ev("Created", "Created container: web"),
    ev("Started", "Started container web"),
    ev("Killing", "Stopping container web"),
    ev("Killing", "Container web failed liveness probe, will be restarted"),
    ev("Killing", "Container web failed startup probe, will be restarted"),
    ev("Killing", "Container web definition changed, will be restarted"),
    ev("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503"),
    ev("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500"),
    ev("Unhealthy", "Startup probe failed: connection refused"),
    ev("FailedMount", 'MountVolume.SetUp failed for volume "cfg" : configmap "x" not found'),
    ev("NodeNotReady", "Node node-2 status is now: NodeNotReady", "Node", "node-2"),
    ev("NodeNotReady", "Node is not ready"),
    ev("NodeReady", "Node node-2 status is now: NodeReady", "Node", "node-2"),
    ev("TaintManagerEviction", "Marking for deletion Pod default/web-7c5ddbdf54-x2k9p"),
    ev("TaintManagerEviction", "Cancelling deletion of Pod default/web-7c5ddbdf54-x2k9p"),
    ev("ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
       "PersistentVolumeClaim", "data"),
    ev("FailedBinding", "no persistent volumes available for this claim",
       "PersistentVolumeClaim", "data"),
    ev("ProvisioningFailed", 'storageclass.storage.k8s.io "fast" not found',
       "PersistentVolumeClaim", "data"),
    ev("WaitForFirstConsumer", "waiting for first consumer to be created before binding",
       "PersistentVolumeClaim", "data"),
    ev("ExternalProvisioning", "waiting for a volume to be created", "PersistentVolumeClaim",
       "data"),
    ev("Provisioning", 'External provisioner is provisioning volume for claim "default/data"',
       "PersistentVolumeClaim", "data"),
    ev("ProvisioningSucceeded", "Successfully provisioned volume pvc-1",
       "PersistentVolumeClaim", "data"),
]
LOOP_NAMES = dict(why._LOOPS.values())


def test_every_reason_the_core_records_has_a_specific_line():
    missing = sim_reasons() - set(why.KNOWN_REASONS)
    assert not missing, f"add why-lines for {sorted(missing)}"
    assert sim_reasons() <= {e["reason"] for e in SAMPLES}


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: f"{e['reason']}:{e['message'][:25]}")
def test_why_line_names_the_loop_in_both_languages(event):
    ko, en = why.why(event)
    assert (ko, en) != why._generic(event)
    loop_ko, loop_en = next((k, e) for k, e in LOOP_NAMES.items() if en.startswith(e + ":"))
    assert ko.startswith(loop_ko + ":")
    assert re.search("[가-힣]", ko), "the Korean line must be Korean"
    assert not re.search("[가-힣]", en)
    assert "{" not in ko + en


def test_replicaset_lines_count_want_and_have_from_the_cluster():
    c = Cluster.create(seed=1)
    c.kubectl("create deployment web --image=nginx:1.25 --replicas=3")
    c.advance(1)
    creates = [e for e in c.events if e["reason"] == "SuccessfulCreate"]
    burst = why.Burst(c.events)
    lines = [why.why(e, c, burst) for e in creates]
    assert [en.split(" → ")[0] for _ko, en in lines] == [
        "ReplicaSet controller: want 3, have 0", "ReplicaSet controller: want 3, have 1",
        "ReplicaSet controller: want 3, have 2"]
    assert lines[2][0].startswith("레플리카셋 컨트롤러: 의도한 파드 3개, 현재 2개 → web-")
    assert lines[2][1].endswith("created " + creates[2]["message"].split(": ")[1])


def test_replicaset_line_falls_back_when_the_replicaset_is_gone():
    e = ev("SuccessfulCreate", "Created pod: web-1", "ReplicaSet", "gone-rs")
    ko, en = why.why(e, Cluster.create(seed=1))
    assert en == "ReplicaSet controller: fewer pods than wanted → created web-1"
    assert ko == "레플리카셋 컨트롤러: 파드가 의도한 수보다 적다 → web-1 생성"


def test_rollout_lines_say_new_and_old_revision():
    c = Cluster.create(seed=2)
    c.kubectl("create deployment web --image=nginx:1.25 --replicas=4")
    c.advance(30)
    c.kubectl("set image deployment/web nginx=nginx:1.26")
    c.advance(60)
    lines = [why.why(e, c)[1] for e in c.events if e["reason"] == "ScalingReplicaSet"]
    assert any("rolling out the new revision" in x for x in lines)
    assert any("retiring the old revision" in x for x in lines)


def test_unknown_reason_gets_a_generic_line():
    ko, en = why.why(ev("SomethingNew", "it happened", component="future-controller"))
    assert en == "future-controller: SomethingNew on Pod web-7c5ddbdf54-x2k9p (it happened)"
    assert "SomethingNew" in ko
    assert why.why_text(ev("SomethingNew", "x"), "ko") == why.why(ev("SomethingNew", "x"))[0]


def test_a_real_history_gets_only_specific_lines():
    c = Cluster.create(seed=5)
    c.kubectl("create deployment web --image=nginx:1.25 --replicas=3")
    c.kubectl("run bad --image=nginx:does-not-exist")
    c.advance(30)
    c.kill_container(c.pods("app=web")[0]["metadata"]["name"])
    c.kubectl(f"delete pod {c.pods('app=web')[1]['metadata']['name']} --wait=false")
    c.advance(5)
    c.fail_node("node-1")
    c.advance(400)
    c.recover_node("node-1")
    c.advance(10)
    reasons = {e["reason"] for e in c.events}
    assert {"Killing", "NodeNotReady", "TaintManagerEviction", "BackOff"} <= reasons
    burst = why.Burst(c.events)
    for e in c.events:
        assert why.why(e, c, burst) != why._generic(e), e


@pytest.mark.parametrize(("reason", "message", "kind", "expected"), [
    ("SuccessfulCreate", "Created pod: a", "ReplicaSet", True),
    ("ScalingReplicaSet", "Scaled up replica set a from 0 to 1", "Deployment", True),
    ("FailedScheduling", "0/3 nodes are available", "Pod", True),
    ("Killing", "Container web failed liveness probe, will be restarted", "Pod", True),
    ("Killing", "Stopping container web", "Pod", False),
    ("BackOff", "Back-off restarting failed container web in pod a", "Pod", True),
    ("Unhealthy", "Readiness probe failed: 503", "Pod", True),
    ("NodeNotReady", "Node node-1 status is now: NodeNotReady", "Node", True),
    ("NodeNotReady", "Node is not ready", "Pod", False),
    ("TaintManagerEviction", "Marking for deletion Pod default/a", "Pod", True),
    ("Failed", 'Failed to pull image "x": not found', "Pod", True),
    ("Pulled", 'Container image "x" already present on machine', "Pod", False),
    ("Started", "Started container web", "Pod", False),
    ("Scheduled", "Successfully assigned default/a to node-1", "Pod", False),
])
def test_important_picks_what_the_live_region_announces(reason, message, kind, expected):
    assert why.important(ev(reason, message, kind)) is expected

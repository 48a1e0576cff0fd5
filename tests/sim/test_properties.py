"""Invariants under random sequences of user actions and chaos (Hypothesis).

What Kubernetes actually guarantees, and so what is checked after every action (each facade
call returns with the controllers quiet):
- **rolling-update bound**: during a rollout that no scale has touched, the Deployment's pods
  that are not terminating never exceed replicas + maxSurge (terminating pods are not counted:
  the ReplicaSet controller replaces a pod as soon as it is marked for deletion);
- **no orphans**: every active pod's ReplicaSet and every ReplicaSet's Deployment exists once the
  garbage collector has drained (a terminating pod on a dead node may outlive its owner, as it
  does in a real cluster, so only the final check covers every pod);
- **endpoints follow pods**: the Service's ready endpoints are exactly its Ready pods, and
  traffic reaches no other pod while a ready one exists;
- **convergence**: with every node back and enough virtual time, the Deployment settles on its
  replicas, all Running and Ready, all on the current template.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from workload_helpers import (
    World,
    actions,
    create_deployment,
    deployment_pods,
    is_active,
    is_running_ready,
    max_surge,
    replica_sets,
    set_image,
)

from k8slearn.sim import Cluster


def check_surge_bound(w: World) -> None:
    if w.scaled_during_rollout or not w.rollout_in_progress():
        return
    d = w.c.store.get("Deployment", "default", "web")
    active = [p for p in deployment_pods(w.c, "web") if is_active(p)]
    limit = d["spec"]["replicas"] + max_surge(d)
    assert len(active) <= limit, (len(active), limit)


def check_endpoints_follow_pods(c: Cluster) -> None:
    """The Service's ready endpoints are exactly the Ready, non-terminating pods with an IP."""
    ready = sorted(p["metadata"]["name"] for p in deployment_pods(c, "web")
                   if is_running_ready(p) and (p.get("status") or {}).get("podIP"))
    endpoints = [e for s in c.store.iter("EndpointSlice")
                 if s["metadata"]["labels"].get("kubernetes.io/service-name") == "web"
                 for e in s.get("endpoints") or ()]
    shown = sorted(e["targetRef"]["name"] for e in endpoints if e["conditions"]["ready"])
    assert shown == ready
    addresses = [a["targetRef"]["name"] for sub in
                 c.store.get("Endpoints", "default", "web").get("subsets") or ()
                 for a in sub.get("addresses") or ()]
    assert sorted(addresses) == ready


def check_no_orphans(c: Cluster, *, every_pod: bool) -> None:
    uids = {o["metadata"]["uid"] for kind in ("ReplicaSet", "Deployment")
            for o in c.store.iter(kind)}
    for pod in c.store.iter("Pod"):
        if not every_pod and not is_active(pod):
            continue
        for ref in pod["metadata"].get("ownerReferences") or ():
            assert ref["uid"] in uids, f"pod {pod['metadata']['name']} lost its {ref['kind']}"
    for rs in c.store.iter("ReplicaSet"):
        for ref in rs["metadata"].get("ownerReferences") or ():
            assert ref["uid"] in uids, f"replicaset {rs['metadata']['name']} is an orphan"


def check_converged(w: World) -> None:
    c = w.c
    for node in list(w.failed):
        c.recover_node(node)
    w.failed.clear()
    c.advance(900)
    d = c.store.get("Deployment", "default", "web")
    want = d["spec"]["replicas"]
    image = d["spec"]["template"]["spec"]["containers"][0]["image"]
    pods = deployment_pods(c, "web")
    running = [p for p in pods if is_running_ready(p)]
    assert len(running) == want, [(p["metadata"]["name"], p.get("status", {}).get("phase"))
                                  for p in pods]
    assert all(p["spec"]["containers"][0]["image"] == image for p in running)
    status = d.get("status") or {}
    assert status.get("updatedReplicas", 0) == want
    assert status.get("availableReplicas", 0) == want
    assert status.get("replicas", 0) == want
    assert [rs for rs in replica_sets(c, "web") if rs["spec"].get("replicas")] == \
        ([] if want == 0 else [rs for rs in replica_sets(c, "web")
                               if rs["spec"]["template"]["spec"]["containers"][0]["image"] == image
                               and rs["spec"].get("replicas")])
    check_no_orphans(c, every_pod=True)


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(actions, min_size=1, max_size=12))
def test_invariants_hold_under_random_actions(steps):
    w = World()
    for action, arg in steps:
        w.act(action, arg)
        check_surge_bound(w)
        check_no_orphans(w.c, every_pod=False)
        check_endpoints_follow_pods(w.c)
    check_converged(w)
    check_endpoints_follow_pods(w.c)


def test_rollout_of_ten_never_exceeds_thirteen_pods():
    # 10 replicas, maxSurge 3, maxUnavailable 2: at most 13 pods exist, at least 8 are available.
    c = Cluster.create(seed=4, nodes=3, node_cpu="8", node_memory="16Gi")
    create_deployment(c, "web", "nginx:1.25", 10)
    c.advance(30)
    set_image(c, "web", "nginx:1.26")
    for _ in range(120):
        c.advance(0.5)
        pods = deployment_pods(c, "web")
        assert len([p for p in pods if is_active(p)]) <= 13
        assert len([p for p in pods if is_running_ready(p)]) >= 8
    assert all(p["spec"]["containers"][0]["image"] == "nginx:1.26"
               for p in deployment_pods(c, "web") if is_running_ready(p))

"""The endpoints controller: Endpoints and EndpointSlices follow the pods behind each Service."""

from __future__ import annotations

import copy
import json
import random
import time

import pytest
from svc_helpers import (
    endpoint_slice,
    isolated_cluster,
    make_pod,
    make_service,
    mark_ready,
    set_ready,
)

from k8slearn.sim import Cluster, apiserver
from k8slearn.sim.controllers.endpoints_cache import ServiceCache, member_for
from k8slearn.sim.objects import set_condition


@pytest.fixture
def c() -> Cluster:
    return isolated_cluster()


def _endpoints(c: Cluster, name: str = "web") -> dict:
    return c.store.get("Endpoints", "default", name)


def test_service_gets_an_empty_endpoints_and_a_placeholder_slice(c):
    make_service(c)
    assert "subsets" not in _endpoints(c)
    eps = endpoint_slice(c, "web")
    assert eps["endpoints"] == []
    assert eps["ports"] is None
    assert eps["addressType"] == "IPv4"
    assert eps["metadata"]["name"].startswith("web-")
    assert len(eps["metadata"]["name"]) == len("web-") + 5
    assert eps["metadata"]["labels"]["kubernetes.io/service-name"] == "web"
    assert eps["metadata"]["ownerReferences"][0]["kind"] == "Service"


def test_ready_pod_appears_in_addresses_and_slice(c):
    make_service(c, ports=[{"name": "http", "port": 80, "targetPort": 8080}])
    pod = mark_ready(c, make_pod(c, "web-1"), ip="10.244.1.5")
    ep = _endpoints(c)
    assert ep["subsets"] == [{
        "addresses": [{"ip": "10.244.1.5", "nodeName": "node-1",
                       "targetRef": {"kind": "Pod", "namespace": "default", "name": "web-1",
                                     "uid": pod["metadata"]["uid"]}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }]
    eps = endpoint_slice(c, "web")
    assert eps["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert eps["endpoints"] == [{
        "addresses": ["10.244.1.5"],
        "conditions": {"ready": True, "serving": True, "terminating": False},
        "targetRef": {"kind": "Pod", "namespace": "default", "name": "web-1",
                      "uid": pod["metadata"]["uid"]},
        "nodeName": "node-1",
    }]


def test_unready_pod_moves_to_not_ready_addresses(c):
    make_service(c)
    pod = mark_ready(c, make_pod(c, "web-1"))
    set_ready(c, pod, False)
    subset = _endpoints(c)["subsets"][0]
    assert "addresses" not in subset
    assert [a["targetRef"]["name"] for a in subset["notReadyAddresses"]] == ["web-1"]
    assert endpoint_slice(c, "web")["endpoints"][0]["conditions"] == {
        "ready": False, "serving": False, "terminating": False}


def test_terminating_pod_leaves_endpoints_but_stays_serving_in_the_slice(c):
    make_service(c)
    pod = mark_ready(c, make_pod(c, "web-1"))
    pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:30Z"
    c.store.update(pod)
    c.advance(0)
    assert "subsets" not in _endpoints(c)
    assert endpoint_slice(c, "web")["endpoints"][0]["conditions"] == {
        "ready": False, "serving": True, "terminating": True}


def test_pod_without_ip_or_label_is_not_an_endpoint(c):
    make_service(c)
    make_pod(c, "no-ip")
    mark_ready(c, make_pod(c, "other", labels={"app": "db"}))
    assert "subsets" not in _endpoints(c)


def test_relabelled_pod_leaves_the_service(c):
    make_service(c)
    pod = mark_ready(c, make_pod(c, "web-1"))
    pod["metadata"]["labels"] = {"app": "debug"}
    c.store.update(pod)
    c.advance(0)
    assert "subsets" not in _endpoints(c)
    assert endpoint_slice(c, "web")["endpoints"] == []


def test_deleted_pod_leaves_the_service(c):
    make_service(c)
    mark_ready(c, make_pod(c, "web-1"))
    mark_ready(c, make_pod(c, "web-2"))
    c.store.remove("Pod", "default", "web-1")
    c.advance(0)
    assert [a["targetRef"]["name"] for a in _endpoints(c)["subsets"][0]["addresses"]] == ["web-2"]


def test_addresses_are_sorted_by_ip(c):
    make_service(c)
    mark_ready(c, make_pod(c, "b"), ip="10.244.1.20")
    mark_ready(c, make_pod(c, "a"), ip="10.244.1.3")
    mark_ready(c, make_pod(c, "c"), ip="10.244.2.1")
    ips = [a["ip"] for a in _endpoints(c)["subsets"][0]["addresses"]]
    assert ips == ["10.244.1.3", "10.244.1.20", "10.244.2.1"]


def test_named_target_port_is_resolved_per_pod(c):
    make_service(c, ports=[{"port": 80, "targetPort": "http"}])
    mark_ready(c, make_pod(c, "web-1", ports=[{"name": "http", "containerPort": 8080}]))
    mark_ready(c, make_pod(c, "web-2"))  # no such port: cannot serve
    subsets = _endpoints(c)["subsets"]
    assert subsets == [{"addresses": subsets[0]["addresses"],
                        "ports": [{"port": 8080, "protocol": "TCP"}]}]
    assert [a["targetRef"]["name"] for a in subsets[0]["addresses"]] == ["web-1"]


def test_selector_change_moves_endpoints(c):
    svc = copy.deepcopy(make_service(c))
    mark_ready(c, make_pod(c, "web-1"))
    mark_ready(c, make_pod(c, "api-1", labels={"app": "api"}))
    svc["spec"]["selector"] = {"app": "api"}
    apiserver.update(c, svc)
    c.advance(0)
    assert [a["targetRef"]["name"] for a in _endpoints(c)["subsets"][0]["addresses"]] == ["api-1"]


def test_deleting_the_service_removes_endpoints_and_slices(c):
    make_service(c)
    mark_ready(c, make_pod(c, "web-1"))
    apiserver.delete(c, "Service", "default", "web")
    c.advance(0)
    assert c.store.get("Endpoints", "default", "web") is None
    assert [s["metadata"]["name"] for s in c.store.iter("EndpointSlice")] == ["kubernetes"]


def test_service_without_selector_gets_no_managed_endpoints(c):
    make_service(c, name="external", selector={})
    assert c.store.get("Endpoints", "default", "external") is None


def test_pods_in_other_namespaces_are_ignored(c):
    apiserver.create(c, {"kind": "Namespace", "metadata": {"name": "other"}})
    make_service(c)
    mark_ready(c, make_pod(c, "web-1", namespace="other"))
    assert "subsets" not in _endpoints(c)


def test_nothing_is_written_when_nothing_changed(c):
    make_service(c)
    pod = mark_ready(c, make_pod(c, "web-1"))
    version = c.version
    c.store.update(pod)  # a pod write that changes nothing the Service shows
    c.advance(0)
    assert c.version == version + 1


def test_pod_change_reconciles_only_services_that_select_it(c):
    for i in range(20):
        make_service(c, name=f"svc-{i}", selector={"app": f"app-{i}"})
    pod = make_pod(c, "p", labels={"app": "app-3"})
    mark_ready(c, pod)
    pod["status"]["podIP"] = "10.244.1.99"
    c.store.update(pod)
    ran = c.step()
    assert [r for r in ran if r.startswith("endpoint-controller")] == [
        "endpoint-controller default/svc-3"]


def test_reconcile_cost_follows_the_service_not_the_cluster():
    # 2,000 pods behind an unrelated service; a change to the small service's one pod must not
    # cost anything like reading 2,000 pods.
    c = isolated_cluster(seed=1)
    make_service(c, name="big", selector={"app": "big"})
    make_service(c, name="small", selector={"app": "small"})
    for i in range(2000):
        pod = make_pod(c, f"big-{i}", labels={"app": "big"})
        pod["spec"]["nodeName"] = "node-1"
        pod["status"].update(phase="Running", podIP=f"10.245.{i // 250}.{i % 250 + 1}")
        c.store.update(pod)
    c.advance(0)
    small = mark_ready(c, make_pod(c, "small-1", labels={"app": "small"}))
    start = time.process_time()
    for flip in range(200):
        set_ready(c, small, flip % 2 == 0)
    per_change = (time.process_time() - start) / 200
    assert len(endpoint_slice(c, "big")["endpoints"]) == 2000
    assert per_change < 0.002, per_change


def test_index_is_rebuilt_after_restore(c):
    make_service(c)
    mark_ready(c, make_pod(c, "web-1"))
    d = Cluster.restore(c.snapshot())
    pod = d.store.get("Pod", "default", "web-1")
    pod["metadata"]["labels"] = {"app": "gone"}
    d.store.update(pod)
    d.advance(0)
    assert "subsets" not in d.store.get("Endpoints", "default", "web")


def _from_scratch(c: Cluster, name: str) -> tuple[list, list]:
    """What a brand-new controller would write for the Service: (subsets, slice endpoints)."""
    svc = c.store.get("Service", "default", name)
    cache = ServiceCache("")
    for pod in c.store.iter("Pod"):
        cache.set(f"default/{pod['metadata']['name']}", member_for(svc, pod))
    subsets = [s for _k, g in cache.sorted_groups() if (s := g.subset())]
    endpoints = [e for _k, g in cache.sorted_groups() for e in g.endpoints.items]
    return subsets, endpoints


def test_incremental_updates_match_a_rebuild_from_scratch(c):
    rng = random.Random(3)
    make_service(c, ports=[{"port": 80, "targetPort": "http"}])
    make_service(c, name="all", selector={"tier": "front"})
    pods = []
    for i in range(25):
        ports = [{"name": "http", "containerPort": 8080 + (i % 2)}]
        pod = make_pod(c, f"p{i}", labels={"app": "web", "tier": "front"}, ports=ports)
        pods.append(mark_ready(c, pod, ip=f"10.244.{i % 3}.{i + 2}"))
    for step in range(300):
        pod = c.store.get("Pod", "default", rng.choice(pods)["metadata"]["name"])
        if pod is None:
            continue
        op = rng.choice(("ready", "unready", "relabel", "terminate", "delete", "ip"))
        if op in ("ready", "unready"):
            set_condition(pod, {"type": "Ready", "status": "True" if op == "ready" else "False"},
                          c.now)
        elif op == "relabel":
            pod["metadata"]["labels"] = rng.choice(({"app": "web", "tier": "front"},
                                                    {"app": "web"}, {"tier": "front"}, {}))
        elif op == "terminate":
            pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:01:00Z"
        elif op == "ip":
            pod["status"]["podIP"] = f"10.244.9.{step % 250 + 1}"
        if op == "delete":
            c.store.remove("Pod", "default", pod["metadata"]["name"])
        else:
            c.store.update(pod)
        c.advance(0)
        for name in ("web", "all"):
            subsets, endpoints = _from_scratch(c, name)
            assert (c.store.get("Endpoints", "default", name).get("subsets") or []) == subsets
            slices = [s for s in c.store.iter("EndpointSlice")
                      if s["metadata"]["labels"].get("kubernetes.io/service-name") == name]
            assert [e for s in sorted(slices, key=lambda s: json.dumps(s["ports"]))
                    for e in s["endpoints"]] == endpoints

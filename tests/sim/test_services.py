"""Services: defaulting, validation, IP and node-port allocation, and traffic through kube-proxy."""

from __future__ import annotations

import ipaddress

import pytest
from svc_helpers import isolated_cluster, make_pod, make_service, mark_ready, set_ready
from workload_helpers import deployment_manifest, set_image

from k8slearn.sim import ApiError, Cluster, apiserver
from k8slearn.sim.services import SERVICE_CIDR


@pytest.fixture
def c() -> Cluster:
    return isolated_cluster()


def _create(c: Cluster, name: str, **spec: object) -> dict:
    return apiserver.create(c, {"kind": "Service", "metadata": {"name": name}, "spec": spec})


def _invalid(c: Cluster, name: str, **spec: object) -> str:
    with pytest.raises(ApiError) as err:
        _create(c, name, **spec)
    assert err.value.reason == "Invalid"
    return err.value.message


# -- the kubernetes Service ----------------------------------------------------------------
def test_kubernetes_service_exists_with_the_first_ip_and_apiserver_endpoint(c):
    svc = c.store.get("Service", "default", "kubernetes")
    assert svc["spec"]["clusterIP"] == "10.96.0.1"
    assert svc["spec"]["ports"] == [{"name": "https", "port": 443, "protocol": "TCP",
                                     "targetPort": 6443}]
    ep = c.store.get("Endpoints", "default", "kubernetes")
    assert ep["subsets"] == [{"addresses": [{"ip": "192.168.49.2"}],
                              "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]


def test_kubernetes_endpoints_survive_the_endpoints_controller(c):
    c.advance(30)
    assert c.store.get("Endpoints", "default", "kubernetes")["subsets"]


# -- defaulting ----------------------------------------------------------------------------
def test_service_defaults_to_cluster_ip_with_tcp_and_target_port(c):
    svc = _create(c, "web", selector={"app": "web"}, ports=[{"port": 80}])
    spec = svc["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["sessionAffinity"] == "None"
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert spec["ipFamilies"] == ["IPv4"]
    assert spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["clusterIPs"] == [spec["clusterIP"]]
    assert ipaddress.ip_address(spec["clusterIP"]) in SERVICE_CIDR
    assert spec["clusterIP"] != "10.96.0.1"
    assert svc["status"] == {"loadBalancer": {}}


def test_cluster_ips_are_unique_and_deterministic_per_seed():
    def ips(seed: int) -> list[str]:
        cl = isolated_cluster(seed=seed)
        return [_create(cl, f"s{i}", ports=[{"port": 80}])["spec"]["clusterIP"]
                for i in range(20)]

    first = ips(3)
    assert len(set(first)) == 20
    assert ips(3) == first
    assert ips(4) != first


def test_explicit_cluster_ip_is_kept(c):
    svc = _create(c, "web", clusterIP="10.96.0.50", ports=[{"port": 80}])
    assert svc["spec"]["clusterIPs"] == ["10.96.0.50"]


def test_explicit_cluster_ip_already_in_use_is_rejected(c):
    msg = _invalid(c, "web", clusterIP="10.96.0.1", ports=[{"port": 80}])
    assert msg == ('Service "web" is invalid: spec.clusterIPs: Invalid value: '
                   '[]string{"10.96.0.1"}: failed to allocate IP 10.96.0.1: provided IP is '
                   "already allocated")


def test_cluster_ip_outside_the_range_is_rejected(c):
    msg = _invalid(c, "web", clusterIP="10.0.0.5", ports=[{"port": 80}])
    assert "the provided IP (10.0.0.5) is not in the valid range. The range of valid IPs is " \
           "10.96.0.0/12" in msg


def test_headless_service_has_no_cluster_ip(c):
    svc = _create(c, "db", clusterIP="None", selector={"app": "db"}, ports=[{"port": 5432}])
    assert svc["spec"]["clusterIP"] == "None"
    assert svc["spec"]["clusterIPs"] == ["None"]


def test_headless_nodeport_is_rejected(c):
    msg = _invalid(c, "db", type="NodePort", clusterIP="None", ports=[{"port": 5432}])
    assert "may not be set to 'None' for NodePort services" in msg


# -- node ports ----------------------------------------------------------------------------
def test_nodeport_service_gets_a_port_in_range(c):
    svc = _create(c, "web", type="NodePort", selector={"app": "web"}, ports=[{"port": 80}])
    port = svc["spec"]["ports"][0]["nodePort"]
    assert 30000 <= port <= 32767
    assert svc["spec"]["externalTrafficPolicy"] == "Cluster"


def test_node_ports_are_never_duplicated(c):
    seen = []
    for i in range(30):
        svc = _create(c, f"s{i}", type="NodePort",
                      ports=[{"name": "a", "port": 80}, {"name": "b", "port": 81}])
        seen += [p["nodePort"] for p in svc["spec"]["ports"]]
    assert len(seen) == len(set(seen)) == 60


def test_explicit_node_port_already_allocated_is_rejected(c):
    _create(c, "one", type="NodePort", ports=[{"port": 80, "nodePort": 30080}])
    msg = _invalid(c, "two", type="NodePort", ports=[{"port": 80, "nodePort": 30080}])
    assert msg == ('Service "two" is invalid: spec.ports[0].nodePort: Invalid value: 30080: '
                   "provided port is already allocated")


def test_node_port_out_of_range_is_rejected(c):
    msg = _invalid(c, "web", type="NodePort", ports=[{"port": 80, "nodePort": 8080}])
    assert msg.endswith("spec.ports[0].nodePort: Invalid value: 8080: provided port is not in "
                        "the valid range. The range of valid ports is 30000-32767")


def test_node_port_on_cluster_ip_service_is_forbidden(c):
    msg = _invalid(c, "web", ports=[{"port": 80, "nodePort": 30080}])
    assert "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'" in msg


def test_deleting_a_service_frees_its_node_port(c):
    _create(c, "one", type="NodePort", ports=[{"port": 80, "nodePort": 30080}])
    apiserver.delete(c, "Service", "default", "one")
    svc = _create(c, "two", type="NodePort", ports=[{"port": 80, "nodePort": 30080}])
    assert svc["spec"]["ports"][0]["nodePort"] == 30080


def test_load_balancer_gets_node_ports_and_pending_status(c):
    svc = _create(c, "lb", type="LoadBalancer", ports=[{"port": 80}])
    assert svc["spec"]["ports"][0]["nodePort"] >= 30000
    assert svc["spec"]["allocateLoadBalancerNodePorts"] is True
    assert svc["status"] == {"loadBalancer": {}}  # kubectl shows EXTERNAL-IP <pending>


# -- validation ----------------------------------------------------------------------------
def test_two_ports_need_names(c):
    msg = _invalid(c, "web", ports=[{"port": 80}, {"port": 443}])
    assert "spec.ports[0].name: Required value" in msg
    assert "spec.ports[1].name: Required value" in msg


def test_duplicate_port_names_are_rejected(c):
    msg = _invalid(c, "web", ports=[{"name": "http", "port": 80}, {"name": "http", "port": 81}])
    assert 'spec.ports[1].name: Duplicate value: "http"' in msg


def test_ports_are_required(c):
    assert _invalid(c, "web", selector={"app": "web"}).endswith("spec.ports: Required value")


def test_port_number_range_and_protocol(c):
    msg = _invalid(c, "web", ports=[{"port": 70000, "protocol": "HTTP"}])
    assert "spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive" in msg
    assert ('spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", '
            '"TCP", "UDP"') in msg


def test_unknown_type_is_rejected(c):
    msg = _invalid(c, "web", type="Ingress", ports=[{"port": 80}])
    assert ('spec.type: Unsupported value: "Ingress": supported values: "ClusterIP", '
            '"ExternalName", "LoadBalancer", "NodePort"') in msg


def test_update_keeps_allocated_ip_and_node_port(c):
    svc = _create(c, "web", type="NodePort", selector={"app": "web"}, ports=[{"port": 80}])
    ip, node_port = svc["spec"]["clusterIP"], svc["spec"]["ports"][0]["nodePort"]
    # `kubectl apply` of the original manifest sends no clusterIP and no nodePort.
    new = apiserver.update(c, {"kind": "Service", "metadata": {"name": "web", "namespace": "default"},
                               "spec": {"type": "NodePort", "selector": {"app": "api"},
                                        "ports": [{"port": 80}]}})
    assert new["spec"]["clusterIP"] == ip
    assert new["spec"]["ports"][0]["nodePort"] == node_port
    assert new["spec"]["selector"] == {"app": "api"}


def test_cluster_ip_cannot_change(c):
    svc = _create(c, "web", ports=[{"port": 80}])
    body = {"kind": "Service", "metadata": {"name": "web", "namespace": "default"},
            "spec": {**svc["spec"], "clusterIP": "10.96.0.77", "clusterIPs": ["10.96.0.77"]}}
    with pytest.raises(ApiError) as err:
        apiserver.update(c, body)
    assert 'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.77"}: may not change once set' \
        in err.value.message


def test_changing_nodeport_to_clusterip_releases_the_node_port(c):
    svc = _create(c, "web", type="NodePort", ports=[{"port": 80}])
    spec = {**svc["spec"], "type": "ClusterIP"}
    spec.pop("externalTrafficPolicy")
    new = apiserver.update(c, {"kind": "Service", "metadata": {"name": "web",
                                                               "namespace": "default"},
                               "spec": spec})
    assert "nodePort" not in new["spec"]["ports"][0]


# -- traffic -------------------------------------------------------------------------------
def test_traffic_to_a_missing_service_is_not_found(c):
    with pytest.raises(ApiError) as err:
        c.send_traffic("nope")
    assert str(err.value) == 'Error from server (NotFound): services "nope" not found'


def test_traffic_without_endpoints_fails_and_is_counted(c):
    make_service(c)
    assert c.send_traffic("web", 3) == [None, None, None]
    assert c.state["traffic"]["default/web"] == {"served": {}, "failed": 3}


def test_traffic_goes_only_to_ready_pods(c):
    make_service(c)
    a = mark_ready(c, make_pod(c, "a"))
    b = mark_ready(c, make_pod(c, "b"))
    set_ready(c, b, False)
    assert set(c.send_traffic("web", 50)) == {"a"}
    set_ready(c, a, False)
    assert c.send_traffic("web", 2) == [None, None]
    assert c.state["traffic"]["default/web"] == {"served": {"a": 50}, "failed": 2}


def test_traffic_falls_back_to_serving_terminating_pods_only_when_none_is_ready(c):
    make_service(c)
    a = mark_ready(c, make_pod(c, "a"))
    b = mark_ready(c, make_pod(c, "b"))
    # a is terminating but still serving (its Ready condition is True): skipped while b is ready.
    a["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:30Z"
    c.store.update(a)
    c.advance(0)
    assert set(c.send_traffic("web", 20)) == {"b"}
    set_ready(c, b, False)
    assert set(c.send_traffic("web", 5)) == {"a"}


def test_client_ip_affinity_sticks_to_one_pod_until_it_is_not_ready(c):
    make_service(c, sessionAffinity="ClientIP")
    svc = c.store.get("Service", "default", "web")
    assert svc["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    pods = [mark_ready(c, make_pod(c, name)) for name in ("a", "b", "c")]
    served = c.send_traffic("web", 30)
    assert len(set(served)) == 1
    first = next(p for p in pods if p["metadata"]["name"] == served[0])
    set_ready(c, first, False)
    moved = c.send_traffic("web", 30)
    assert len(set(moved)) == 1 and moved[0] != served[0]


def test_client_ip_affinity_expires(c):
    make_service(c, sessionAffinity="ClientIP",
                 sessionAffinityConfig={"clientIP": {"timeoutSeconds": 10}})
    for name in ("a", "b", "c", "d"):
        mark_ready(c, make_pod(c, name))
    seen = set()
    for _ in range(12):
        seen |= set(c.send_traffic("web", 1))
        c.advance(11)
    assert len(seen) > 1


def test_traffic_is_deterministic_for_a_seed():
    def run() -> list[str | None]:
        cl = isolated_cluster(seed=11)
        make_service(cl)
        for name in ("a", "b", "c"):
            mark_ready(cl, make_pod(cl, name))
        return cl.send_traffic("web", 30)

    assert run() == run()


def test_traffic_shares_are_about_one_in_n():
    c = isolated_cluster(seed=5)
    make_service(c)
    names = [f"p{i}" for i in range(4)]
    for name in names:
        mark_ready(c, make_pod(c, name))
    served = c.send_traffic("web", 4000)
    for name in names:
        assert abs(served.count(name) / 4000 - 0.25) < 0.03, served.count(name)


# -- end to end, through the whole cluster (scheduler, kubelet, controllers) ----------------
def _web(cluster: Cluster, replicas: int = 3, probe: bool = False) -> None:
    """Bare pods web-0.. behind Service web (no Deployment: the scheduler and kubelet only)."""
    container: dict = {"name": "nginx", "image": "nginx:1.25",
                       "ports": [{"containerPort": 80, "name": "http"}]}
    if probe:
        container["readinessProbe"] = {"httpGet": {"path": "/", "port": 80},
                                       "periodSeconds": 1, "failureThreshold": 1}
    for i in range(replicas):
        apiserver.create(cluster, {"kind": "Pod", "metadata": {"name": f"web-{i}",
                                                               "labels": {"app": "web"}},
                                   "spec": {"containers": [dict(container)]}})
    make_service(cluster, ports=[{"port": 80, "targetPort": "http"}])
    cluster.advance(30)


def _running(cluster: Cluster) -> list[str]:
    return sorted(p.name for p in cluster.pods(selector="app=web", phase="Running"))


def test_e2e_traffic_spreads_over_the_pods_of_a_deployment(cluster):
    _web(cluster)
    names = _running(cluster)
    assert len(names) == 3
    served = cluster.send_traffic("web", 600)
    assert sorted(set(served)) == names
    for name in names:
        assert abs(served.count(name) / 600 - 1 / 3) < 0.08


def test_e2e_traffic_reaches_a_deployment_and_follows_its_rollout(cluster):
    apiserver.create(cluster, deployment_manifest("web", "nginx:1.25", 3))
    make_service(cluster)
    cluster.advance(30)
    before = _running(cluster)
    assert sorted(set(cluster.send_traffic("web", 300))) == before
    set_image(cluster, "web", "nginx:1.26")
    cluster.advance(60)
    after = _running(cluster)
    assert len(after) == 3 and not set(after) & set(before)
    assert sorted(set(cluster.send_traffic("web", 300))) == after


def test_e2e_deleted_pod_gets_no_new_connections(cluster):
    _web(cluster)
    victim = _running(cluster)[0]
    apiserver.delete(cluster, "Pod", "default", victim)
    cluster.advance(0)
    assert victim not in cluster.send_traffic("web", 100)


def test_e2e_failing_readiness_takes_the_pod_out_of_the_service(cluster):
    _web(cluster, probe=True)
    sick = _running(cluster)[0]
    cluster.set_fault(sick, "readiness")
    cluster.advance(5)
    assert sick not in cluster.send_traffic("web", 100)
    cluster.set_fault(sick, "readiness", on=False)
    cluster.advance(5)
    assert sick in cluster.send_traffic("web", 100)


def test_e2e_dead_node_pods_leave_the_service(cluster):
    _web(cluster, replicas=6)
    pod = cluster.get("Pod", _running(cluster)[0])
    node = pod["spec"]["nodeName"]
    on_node = {p["metadata"]["name"] for p in cluster.store.pods_on_node(node)}
    cluster.fail_node(node)
    cluster.advance(60)  # past the 40 s grace period: the node controller marks pods NotReady
    assert not on_node & set(cluster.send_traffic("web", 200))


def test_e2e_served_requests_appear_in_the_pod_log(cluster):
    from k8slearn.sim import kubelet

    _web(cluster, replicas=1)
    pod = _running(cluster)[0]
    cluster.send_traffic("web", 2)
    log = kubelet.container_logs(cluster, "default", pod, None)
    assert log.count('"GET / HTTP/1.1" 200') == 2

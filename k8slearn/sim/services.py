"""Services: the API server's rules for them, and kube-proxy's choice of a pod per connection.

Defaulting and validation follow ``pkg/apis/core/v1/defaults.go`` and ``validation.go``; the
allocation of cluster IPs and node ports follows the service REST storage (``ipallocator``,
``portallocator``): a free value is picked at random from the *upper* part of the range, the lower
part being kept for values users set by hand. ``10.96.0.1`` is the ``kubernetes`` Service.

Nothing is reserved in a side table: the Services in the store *are* the allocation table, so a
deleted Service frees its IP and ports with nothing to clean up.

Traffic: ``send_traffic`` opens one new connection per request and picks an endpoint the way
kube-proxy's iptables rules do (section 6 of the behaviour notes): rule i of n matches with
probability 1/(n-i) and the last one always matches, which gives each ready endpoint 1/n. With
``sessionAffinity: ClientIP`` the one client (the learner) sticks to the pod it reached last, for
``timeoutSeconds``, while that pod stays usable.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from k8slearn.sim import apiserver
from k8slearn.sim.errors import ApiError, not_found
from k8slearn.sim.objects import rfc3339
from k8slearn.sim.timers import bootstrap, timer

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
KUBERNETES_SERVICE_IP = "10.96.0.1"
APISERVER_ADDRESS = "192.168.49.2"  # the control-plane node, as in minikube
APISERVER_PORT = 6443  # kubeadm's secure port
# ipallocator: min(max(16, size/16), 256) low addresses are kept for static (user-set) IPs.
CLUSTER_IP_STATIC_BAND = 256
NODE_PORT_RANGE = (30000, 32767)
# portallocator: min(max(16, size/16), 128) low ports are kept for user-set node ports.
NODE_PORT_STATIC_BAND = 128

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
PROTOCOLS = ("SCTP", "TCP", "UDP")
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
AFFINITY_TIMEOUT = 10800  # DefaultClientIPServiceAffinitySeconds: 3 hours


# -- defaulting ----------------------------------------------------------------------------
@apiserver.defaulter("Service")
def default_service(cluster: Cluster, svc: Obj) -> None:
    """SetDefaults_Service plus the REST layer's IP and node-port allocation."""
    spec = svc.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["sessionAffinity"] == "ClientIP":
        spec.setdefault("sessionAffinityConfig", {"clientIP": {"timeoutSeconds": AFFINITY_TIMEOUT}})
    old = _stored_version(cluster, svc)
    if old is not None:
        _patch_allocated_values(spec, old["spec"])
    for port in spec.get("ports") or ():
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
    if spec["type"] == "ExternalName":
        return
    spec.setdefault("internalTrafficPolicy", "Cluster")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    _allocate_cluster_ip(cluster, svc)
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    if _wants_node_ports(spec):
        _allocate_node_ports(cluster, svc)
    svc.setdefault("status", {"loadBalancer": {}})


def _stored_version(cluster: Cluster, svc: Obj) -> Obj | None:
    """The stored Service this request updates (same uid), or None for a create."""
    meta = svc.get("metadata", {})
    old = cluster.store.get("Service", meta.get("namespace"), meta.get("name", ""))
    if old is not None and meta.get("uid") and old["metadata"].get("uid") == meta["uid"]:
        return old
    return None


def _patch_allocated_values(spec: Obj, old_spec: Obj) -> None:
    # storage.go patchAllocatedValues: an update that omits clusterIP or a nodePort keeps the
    # one already allocated, so `kubectl apply` of the original manifest changes nothing.
    if spec.get("type") != "ExternalName":
        for field in ("clusterIP", "clusterIPs"):
            if not spec.get(field) and old_spec.get(field):
                spec[field] = list(old_spec[field]) if field == "clusterIPs" else old_spec[field]
    old_ports = {(p.get("port"), p.get("protocol", "TCP")): p for p in old_spec.get("ports") or ()}
    for port in spec.get("ports") or ():
        if not isinstance(port, dict):
            continue
        prev = old_ports.get((port.get("port"), port.get("protocol", "TCP"))) or {}
        if _wants_node_ports(spec) and _wants_node_ports(old_spec):
            if not port.get("nodePort") and prev.get("nodePort"):
                port["nodePort"] = prev["nodePort"]
        elif _wants_node_ports(old_spec) and port.get("nodePort") == prev.get("nodePort"):
            # dropTypeDependentFields: NodePort -> ClusterIP releases the unchanged node ports.
            port.pop("nodePort", None)


def _wants_node_ports(spec: Obj) -> bool:
    return spec.get("type") == "NodePort" or (
        spec.get("type") == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts", True)
    )


def _allocate_cluster_ip(cluster: Cluster, svc: Obj) -> None:
    spec = svc["spec"]
    if not spec.get("clusterIP") and spec.get("clusterIPs"):
        spec["clusterIP"] = spec["clusterIPs"][0]
    if spec.get("clusterIP"):
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        return
    used = _used_cluster_ips(cluster, svc)
    size = SERVICE_CIDR.num_addresses
    # Random offsets in the upper band, as ipallocator does; with 1M addresses and a sandbox of
    # at most a few hundred Services, a free one is found in a try or two.
    while True:
        offset = cluster.rng.randrange(CLUSTER_IP_STATIC_BAND, size - 1)
        ip = str(SERVICE_CIDR.network_address + offset)
        if ip not in used:
            break
    spec["clusterIP"] = ip
    spec["clusterIPs"] = [ip]


def _allocate_node_ports(cluster: Cluster, svc: Obj) -> None:
    used = _used_node_ports(cluster, svc)
    for port in svc["spec"].get("ports") or ():
        if not isinstance(port, dict) or port.get("nodePort"):
            continue
        low, high = NODE_PORT_RANGE
        free = (high - low + 1) - NODE_PORT_STATIC_BAND - len(used)
        if free <= 0:
            return  # validation reports "range is full"
        while True:
            candidate = cluster.rng.randrange(low + NODE_PORT_STATIC_BAND, high + 1)
            if candidate not in used:
                break
        port["nodePort"] = candidate
        used[candidate] = None


def _others(cluster: Cluster, svc: Obj) -> list[Obj]:
    meta = svc.get("metadata", {})
    me = (meta.get("namespace"), meta.get("name"))
    return [o for o in cluster.store.iter("Service")
            if (o["metadata"].get("namespace"), o["metadata"]["name"]) != me]


def _used_cluster_ips(cluster: Cluster, svc: Obj) -> dict[str, None]:
    used: dict[str, None] = {}
    for other in _others(cluster, svc):
        for ip in other["spec"].get("clusterIPs") or ():
            used[ip] = None
    return used


def _used_node_ports(cluster: Cluster, svc: Obj) -> dict[int, None]:
    used: dict[int, None] = {}
    for other in _others(cluster, svc):
        for port in other["spec"].get("ports") or ():
            if port.get("nodePort"):
                used[port["nodePort"]] = None
    return used


# -- validation ----------------------------------------------------------------------------
@apiserver.validator("Service")
def validate_service(cluster: Cluster, svc: Obj, old: Obj | None) -> list[str]:
    spec = svc.get("spec") or {}
    causes: list[str] = []
    stype = spec.get("type")
    if stype not in SERVICE_TYPES:
        causes.append(f'spec.type: Unsupported value: "{stype}": supported values: '
                      + ", ".join(f'"{t}"' for t in SERVICE_TYPES))
        return causes
    if spec.get("sessionAffinity") not in ("ClientIP", "None"):
        causes.append(f'spec.sessionAffinity: Unsupported value: "{spec.get("sessionAffinity")}": '
                      'supported values: "ClientIP", "None"')
    if stype == "ExternalName":
        if not spec.get("externalName"):
            causes.append("spec.externalName: Required value")
        return causes
    causes += _validate_ports(spec)
    causes += _validate_cluster_ip(cluster, svc, old)
    causes += _validate_node_ports(cluster, svc)
    causes += _validate_selector(spec)
    return causes


def _validate_ports(spec: Obj) -> list[str]:
    ports = spec.get("ports") or []
    causes: list[str] = []
    if not ports and spec.get("clusterIP") != "None":
        return ["spec.ports: Required value"]
    names: dict[str, None] = {}
    for i, port in enumerate(ports):
        path = f"spec.ports[{i}]"
        if not isinstance(port, dict):
            causes.append(f"{path}: Invalid value: {port!r}: must be an object")
            continue
        name = port.get("name")
        if len(ports) > 1 and not name:
            causes.append(f"{path}.name: Required value")
        elif name in names:
            causes.append(f'{path}.name: Duplicate value: "{name}"')
        elif name:
            names[name] = None
        number = port.get("port")
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 65535:
            causes.append(f"{path}.port: Invalid value: {number}: must be between 1 and 65535, "
                          "inclusive")
        if port.get("protocol") not in PROTOCOLS:
            causes.append(f'{path}.protocol: Unsupported value: "{port.get("protocol")}": '
                          'supported values: "SCTP", "TCP", "UDP"')
        target = port.get("targetPort")
        if isinstance(target, int) and not isinstance(target, bool) and not 1 <= target <= 65535:
            causes.append(f"{path}.targetPort: Invalid value: {target}: must be between 1 and "
                          "65535, inclusive")
        if port.get("nodePort") and spec.get("type") == "ClusterIP":
            causes.append(f"{path}.nodePort: Forbidden: may not be used when `type` is "
                          "'ClusterIP'")
    return causes


def _validate_cluster_ip(cluster: Cluster, svc: Obj, old: Obj | None) -> list[str]:
    spec = svc["spec"]
    ips = spec.get("clusterIPs") or []
    ip = spec.get("clusterIP")
    shown = "[]string{" + ", ".join(f'"{i}"' for i in ips) + "}"
    if old is not None and old["spec"].get("clusterIP") and old["spec"].get("type") != "ExternalName":
        if old["spec"].get("clusterIPs") != ips:
            return [f"spec.clusterIPs[0]: Invalid value: {shown}: may not change once set"]
        return []
    if ip == "None":
        if spec["type"] in ("NodePort", "LoadBalancer"):
            return [f"spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for "
                    f"{spec['type']} services"]
        return []
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return [f'spec.clusterIPs[0]: Invalid value: "{ip}": must be a valid IP address, '
                '(e.g. 10.9.8.7 or 2001:db8::ffff)']
    if addr not in SERVICE_CIDR or addr in (SERVICE_CIDR.network_address,
                                            SERVICE_CIDR.broadcast_address):
        return [f"spec.clusterIPs: Invalid value: {shown}: failed to allocate IP {ip}: the "
                f"provided IP ({ip}) is not in the valid range. The range of valid IPs is "
                f"{SERVICE_CIDR}"]
    if ip in _used_cluster_ips(cluster, svc):
        return [f"spec.clusterIPs: Invalid value: {shown}: failed to allocate IP {ip}: provided "
                "IP is already allocated"]
    return []


def _validate_node_ports(cluster: Cluster, svc: Obj) -> list[str]:
    spec = svc["spec"]
    if not _wants_node_ports(spec):
        return []
    causes: list[str] = []
    used = _used_node_ports(cluster, svc)
    low, high = NODE_PORT_RANGE
    seen: dict[int, None] = {}
    for i, port in enumerate(spec.get("ports") or ()):
        if not isinstance(port, dict):
            continue
        node_port = port.get("nodePort")
        path = f"spec.ports[{i}].nodePort"
        if node_port is None:
            causes.append(f"{path}: Internal error: range is full")
        elif not isinstance(node_port, int) or not low <= node_port <= high:
            causes.append(f"{path}: Invalid value: {node_port}: provided port is not in the "
                          f"valid range. The range of valid ports is {low}-{high}")
        elif node_port in used:
            causes.append(f"{path}: Invalid value: {node_port}: provided port is already "
                          "allocated")
        elif node_port in seen:
            causes.append(f'{path}: Duplicate value: {node_port}')
        else:
            seen[node_port] = None
    return causes


def _validate_selector(spec: Obj) -> list[str]:
    selector = spec.get("selector")
    if selector is None:
        return []
    if not isinstance(selector, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in selector.items()
    ):
        return ["spec.selector: Invalid value: must be a map of string keys to string values"]
    return []


# -- the `kubernetes` Service --------------------------------------------------------------
@bootstrap
def create_kubernetes_service(cluster: Cluster) -> None:
    """The API server's own Service, and its hand-kept Endpoints (no selector, no controller)."""
    apiserver.create(cluster, {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"clusterIP": KUBERNETES_SERVICE_IP,
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP",
                            "targetPort": APISERVER_PORT}]},
    })
    port = {"name": "https", "port": APISERVER_PORT, "protocol": "TCP"}
    apiserver.create(cluster, {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": APISERVER_ADDRESS}], "ports": [port]}],
    })
    apiserver.create(cluster, {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {SERVICE_NAME_LABEL: "kubernetes"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [APISERVER_ADDRESS],
                       "conditions": {"ready": True, "serving": True, "terminating": False}}],
        "ports": [port],
    })


# -- traffic -------------------------------------------------------------------------------
def rule_probabilities(n: int) -> list[str]:
    """kube-proxy's iptables statistic rules for n endpoints, as it writes them.

    writeServiceToEndpointRules: rule i < n-1 gets ``-m statistic --mode random --probability``
    ``fmt.Sprintf("%0.10f", 1.0/float64(n-i))``; the last rule has no match, so it catches the
    rest. 3 endpoints: 0.3333333333, 0.5000000000, (unconditional) -> 1/3 each.
    """
    return [f"{1.0 / (n - i):0.10f}" for i in range(n - 1)] + (["(unconditional)"] if n else [])


def choose_endpoint(cluster: Cluster, n: int) -> int:
    """Index of the endpoint a new connection lands on, drawing as the iptables rules do."""
    for i, prob in enumerate(rule_probabilities(n)[:-1]):
        if cluster.rng.random() < float(prob):
            return i
    return n - 1


def service_endpoints(cluster: Cluster, namespace: str, service: str) -> list[Obj]:
    """Every endpoint of a Service's EndpointSlices, in slice order."""
    out: list[Obj] = []
    for eps in cluster.store.iter("EndpointSlice"):
        meta = eps["metadata"]
        if meta.get("namespace") == namespace and \
                (meta.get("labels") or {}).get(SERVICE_NAME_LABEL) == service:
            out.extend(eps.get("endpoints") or ())
    return out


def usable_endpoints(endpoints: list[Obj]) -> list[Obj]:
    """Ready endpoints; if there are none, serving-and-terminating ones (ProxyTerminatingEndpoints)."""
    ready = [e for e in endpoints if (e.get("conditions") or {}).get("ready")]
    if ready:
        return ready
    return [e for e in endpoints
            if (e.get("conditions") or {}).get("serving")
            and (e.get("conditions") or {}).get("terminating")]


def send_traffic(cluster: Cluster, service: str, requests: int = 1,
                 namespace: str = "default") -> list[str | None]:
    """Open ``requests`` new connections to a Service; the serving pod's name for each, or None
    where no endpoint could take it. Counts go to ``cluster.state["traffic"]`` for the UI."""
    svc = cluster.store.get("Service", namespace, service)
    if svc is None:
        raise not_found("services", service)
    if requests < 0:
        raise ApiError("BadRequest", "requests must be >= 0", 400)
    counters = cluster.state.setdefault("traffic", {}).setdefault(
        f"{namespace}/{service}", {"served": {}, "failed": 0})
    targets = usable_endpoints(service_endpoints(cluster, namespace, service))
    out: list[str | None] = []
    for _ in range(requests):
        if not targets:
            counters["failed"] += 1
            out.append(None)
            continue
        endpoint = _sticky_endpoint(cluster, svc, counters, targets)
        if endpoint is None:
            endpoint = targets[choose_endpoint(cluster, len(targets))]
        _remember_client(cluster, svc, counters, endpoint)
        ref = endpoint.get("targetRef") or {}
        pod = ref.get("name") or endpoint["addresses"][0]
        counters["served"][pod] = counters["served"].get(pod, 0) + 1
        _log_request(cluster, namespace, ref)
        out.append(pod)
    return out


def _sticky_endpoint(cluster: Cluster, svc: Obj, counters: Obj, targets: list[Obj]) -> Obj | None:
    """sessionAffinity ClientIP: the endpoint this client (there is one, the learner) used last,
    if it is still usable and the affinity has not timed out (kube-proxy's `recent` match)."""
    sticky = counters.get("affinity")
    if svc["spec"].get("sessionAffinity") != "ClientIP" or not sticky:
        return None
    if cluster.clock.now_ms > sticky["until_ms"]:
        return None
    for endpoint in targets:
        if endpoint["addresses"][0] == sticky["address"]:
            return endpoint
    return None


def _remember_client(cluster: Cluster, svc: Obj, counters: Obj, endpoint: Obj) -> None:
    if svc["spec"].get("sessionAffinity") != "ClientIP":
        counters.pop("affinity", None)
        return
    timeout = ((svc["spec"].get("sessionAffinityConfig") or {}).get("clientIP") or {}).get(
        "timeoutSeconds", AFFINITY_TIMEOUT)
    counters["affinity"] = {"address": endpoint["addresses"][0],
                            "until_ms": cluster.clock.now_ms + int(timeout) * 1000}


def _log_request(cluster: Cluster, namespace: str, ref: Obj) -> None:
    # The kubelet agent may or may not offer append_log yet: look it up at call time.
    from k8slearn.sim import kubelet

    append_log = getattr(kubelet, "append_log", None)
    if append_log is None or ref.get("kind") != "Pod":
        return
    pod = cluster.store.get("Pod", namespace, ref.get("name", ""))
    if pod is None or not pod["spec"].get("containers"):
        return
    stamp = _nginx_time(cluster.now)
    line = (f'10.244.0.1 - - [{stamp}] "GET / HTTP/1.1" 200 615 "-" "curl/8.5.0" "-"')
    append_log(cluster, pod["metadata"]["uid"], pod["spec"]["containers"][0]["name"], line)


def _nginx_time(seconds: float) -> str:
    # nginx's $time_local: 01/Jan/2026:00:01:05 +0000
    stamp = rfc3339(seconds)  # 2026-01-01T00:01:05Z
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    date, clock = stamp[:-1].split("T")
    year, month, day = date.split("-")
    return f"{day}/{months[int(month) - 1]}/{year}:{clock} +0000"


# -- a steady stream of traffic --------------------------------------------------------------
MAX_STREAM_RATE = 100  # requests per virtual second


def set_stream(cluster: Cluster, service: str, rate: int, namespace: str = "default") -> None:
    """Send ``rate`` new connections per virtual second to a Service until the rate is set to 0.

    One timer a second while a stream runs; the generation number makes older timers no-ops.
    """
    if cluster.store.get("Service", namespace, service) is None:
        raise not_found("services", service)
    if not 0 <= rate <= MAX_STREAM_RATE:
        raise ApiError("BadRequest", f"rate must be from 0 to {MAX_STREAM_RATE}", 400)
    streams = cluster.state.setdefault("streams", {})
    key = f"{namespace}/{service}"
    gen = streams.get(key, {}).get("gen", 0) + 1
    if rate == 0:
        streams.pop(key, None)
        return
    streams[key] = {"rate": rate, "gen": gen}
    cluster.clock.call_later(1.0, "services.stream", [key, gen])


def streams(cluster: Cluster) -> dict[str, int]:
    """{"namespace/service": requests per second} for the streams that run now."""
    return {k: v["rate"] for k, v in cluster.state.get("streams", {}).items()}


@timer("services.stream")
def _stream_tick(cluster: Cluster, key: str, gen: int) -> None:
    stream = cluster.state.get("streams", {}).get(key)
    if stream is None or stream["gen"] != gen:
        return  # stopped or replaced since this timer was set
    namespace, _, service = key.partition("/")
    if cluster.store.get("Service", namespace, service) is None:
        del cluster.state["streams"][key]  # the Service is gone: the clients give up
        return
    send_traffic(cluster, service, stream["rate"], namespace)
    cluster.clock.call_later(1.0, "services.stream", [key, gen])

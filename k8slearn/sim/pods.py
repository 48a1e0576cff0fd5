"""Pods as the API server shapes them: defaulting, admission and validation.

Defaulting follows ``pkg/apis/core/v1/defaults.go`` (``SetDefaults_Pod``, ``SetDefaults_Container``,
``SetDefaults_Probe``) plus two admission plugins every cluster runs: DefaultTolerationSeconds
(the not-ready/unreachable NoExecute tolerations of 300 s that make a dead node's pods wait five
minutes before eviction) and the QoS class the API server computes into ``status.qosClass``.
Validation messages are the API's own wording (``pkg/apis/core/validation``), so a learner sees
``spec.containers[0].image: Required value`` exactly as a real cluster prints it.

Also here: small pod helpers shared by the scheduler, kubelet and node lifecycle (requests,
toleration matching).
"""

from __future__ import annotations

import contextlib
import copy
from typing import TYPE_CHECKING, Any

from k8slearn.sim import apiserver
from k8slearn.sim.objects import DNS1123_LABEL, cpu_millis, memory_bytes

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]

PROBE_DEFAULTS = {"initialDelaySeconds": 0, "timeoutSeconds": 1, "periodSeconds": 10,
                  "successThreshold": 1, "failureThreshold": 3}
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
DEFAULT_TOLERATION_SECONDS = 300
RESTART_POLICIES = ("Always", "OnFailure", "Never")
# The scheduler's non-zero defaults for containers without requests (used for scoring only):
# 100 millicores and 200 MiB, from pkg/scheduler/util/pod_resources.go.
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
MUTABLE_POD_SPEC_MSG = (
    "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)


def image_tag(image: str) -> str | None:
    """'nginx:1.25' -> '1.25'; 'nginx' -> None; 'localhost:5000/app' -> None (port, not tag)."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def _default_probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    for k, v in PROBE_DEFAULTS.items():
        probe.setdefault(k, v)
    http = probe.get("httpGet")
    if isinstance(http, dict):
        http.setdefault("path", "/")
        http.setdefault("scheme", "HTTP")


def _default_container(c: Any) -> None:
    if not isinstance(c, dict):
        return
    image = c.get("image")
    if isinstance(image, str) and image and "imagePullPolicy" not in c:
        # SetDefaults_Container: ":latest" or no tag at all means Always, anything else
        # IfNotPresent ("nginx" and "nginx:latest" are pulled on every start).
        tag = image_tag(image)
        c["imagePullPolicy"] = "Always" if tag in (None, "latest") and "@" not in image else (
            "IfNotPresent")
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    res = c.setdefault("resources", {})
    if isinstance(res, dict):
        limits = res.get("limits")
        if isinstance(limits, dict) and limits:
            # SetDefaults_Pod: a limit without a request means request == limit.
            req = res.setdefault("requests", {})
            if isinstance(req, dict):
                for name, q in limits.items():
                    req.setdefault(name, q)
    for port in c.get("ports") or ():
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(c.get(kind))


def qos_class(spec: Obj) -> str:
    """BestEffort (no requests or limits anywhere), Guaranteed (every container has cpu and
    memory limits equal to its requests), else Burstable."""
    containers = [c for c in spec.get("containers") or () if isinstance(c, dict)]
    any_set = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req = res.get("requests") or {}
        lim = res.get("limits") or {}
        if req or lim:
            any_set = True
        for r in ("cpu", "memory"):
            try:
                same = r in lim and _parse(r, req.get(r, lim[r])) == _parse(r, lim[r])
            except ValueError:
                same = False
            guaranteed = guaranteed and same
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed and containers else "Burstable"


def _parse(resource: str, q: Any) -> int:
    return cpu_millis(q) if resource == "cpu" else memory_bytes(q)


@apiserver.defaulter("Pod")
def default_pod(cluster: Cluster, pod: Obj) -> None:
    spec = pod.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    for c in spec.get("containers") or ():
        _default_container(c)
    for c in spec.get("initContainers") or ():
        _default_container(c)
    # DefaultTolerationSeconds admission: tolerate not-ready/unreachable for 300 s, unless the
    # pod already says something about them.
    tolerations = spec.setdefault("tolerations", [])
    if isinstance(tolerations, list):
        for key in (NOT_READY_TAINT, UNREACHABLE_TAINT):
            if not any(isinstance(t, dict) and t.get("key") == key and
                       t.get("effect") in (None, "", "NoExecute") for t in tolerations):
                tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                                    "tolerationSeconds": DEFAULT_TOLERATION_SECONDS})
    status = pod.setdefault("status", {})
    status.setdefault("phase", "Pending")
    with contextlib.suppress(TypeError, AttributeError):
        status["qosClass"] = qos_class(spec)


_LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
              "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
              "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")


def _validate_container(path: str, c: Any, seen: dict[str, None]) -> list[str]:
    if not isinstance(c, dict):
        return [f"{path}: Invalid value: {c!r}: must be an object"]
    causes = []
    name = c.get("name")
    if not name:
        causes.append(f"{path}.name: Required value")
    elif name in seen:
        causes.append(f'{path}.name: Duplicate value: "{name}"')
    elif len(name) > 63 or not DNS1123_LABEL.match(str(name)):
        causes.append(f'{path}.name: Invalid value: "{name}": {_LABEL_MSG}')
    if name:
        seen[str(name)] = None
    if not c.get("image"):
        causes.append(f"{path}.image: Required value")
    res = c.get("resources") or {}
    parsed: dict[str, dict[str, int]] = {}
    for part in ("limits", "requests"):
        for rname, q in (res.get(part) or {}).items():
            try:
                parsed.setdefault(part, {})[rname] = _parse(rname, q)
            except ValueError as err:
                causes.append(f'{path}.resources.{part}[{rname}]: Invalid value: "{q}": {err}')
    for rname, req in parsed.get("requests", {}).items():
        lim = parsed.get("limits", {}).get(rname)
        if lim is not None and req > lim:
            causes.append(f'{path}.resources.requests: Invalid value: "{res["requests"][rname]}": '
                          f"must be less than or equal to {rname} limit of "
                          f"{res['limits'][rname]}")
    return causes


@apiserver.validator("Pod")
def validate_pod(cluster: Cluster, pod: Obj, old: Obj | None) -> list[str]:
    spec = pod.get("spec") or {}
    causes: list[str] = []
    containers = spec.get("containers")
    if not containers:
        causes.append("spec.containers: Required value")
    seen: dict[str, None] = {}
    for i, c in enumerate(containers or ()):
        causes.extend(_validate_container(f"spec.containers[{i}]", c, seen))
    for i, c in enumerate(spec.get("initContainers") or ()):
        causes.extend(_validate_container(f"spec.initContainers[{i}]", c, seen))
    policy = spec.get("restartPolicy")
    if policy not in RESTART_POLICIES:
        causes.append(f'spec.restartPolicy: Unsupported value: "{policy}": supported values: '
                      '"Always", "OnFailure", "Never"')
    if old is not None and not causes and _spec_changed(old["spec"], spec):
        causes.append(MUTABLE_POD_SPEC_MSG)
    return causes


def _spec_changed(old: Obj, new: Obj) -> bool:
    """True when a pod update changes more than the fields a running pod allows."""
    a, b = copy.deepcopy(old), copy.deepcopy(new)
    for s in (a, b):
        for c in s.get("containers") or ():
            c.pop("image", None)
        for c in s.get("initContainers") or ():
            c.pop("image", None)
        for k in ("activeDeadlineSeconds", "tolerations", "nodeName",
                  "terminationGracePeriodSeconds"):
            s.pop(k, None)
    return a != b


@apiserver.validator("Node")
def validate_node(cluster: Cluster, node: Obj, old: Obj | None) -> list[str]:
    causes = []
    for i, t in enumerate((node.get("spec") or {}).get("taints") or ()):
        if t.get("effect") not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            causes.append(f'spec.taints[{i}].effect: Unsupported value: "{t.get("effect")}": '
                          'supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"')
        if not t.get("key"):
            causes.append(f"spec.taints[{i}].key: Required value")
    return causes


# -- helpers shared by scheduler / kubelet / node lifecycle --------------------------------
def pod_requests(pod: Obj) -> tuple[int, int, int, int]:
    """(cpu millis, memory bytes, non-zero cpu, non-zero memory) summed over containers.

    The non-zero pair counts a container with no request as 100m / 200Mi: the scheduler's
    *scoring* uses it so that 10 request-less pods do not all land on one node, but *filtering*
    uses the real requests (a BestEffort pod always fits).
    """
    cpu = mem = nz_cpu = nz_mem = 0
    for c in pod["spec"].get("containers") or ():
        req = (c.get("resources") or {}).get("requests") or {}
        c_cpu = cpu_millis(req["cpu"]) if "cpu" in req else 0
        c_mem = memory_bytes(req["memory"]) if "memory" in req else 0
        cpu += c_cpu
        mem += c_mem
        nz_cpu += c_cpu if "cpu" in req else DEFAULT_MILLI_CPU_REQUEST
        nz_mem += c_mem if "memory" in req else DEFAULT_MEMORY_REQUEST
    return cpu, mem, nz_cpu, nz_mem


def tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    """v1 Toleration.ToleratesTaint: effect (empty = all), key (empty + Exists = all), value."""
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint.get("effect"):
            continue
        op = t.get("operator") or "Equal"
        if not t.get("key"):
            if op == "Exists":
                return True
            continue
        if t["key"] != taint.get("key"):
            continue
        if op == "Exists" or (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def toleration_seconds(tolerations: list[Obj], taint: Obj) -> float | None:
    """How long a pod may stay on a node with this NoExecute taint: None = forever, 0 = evict
    now. With several matching tolerations the shortest time wins (getMinTolerationTime)."""
    best: float | None = None
    matched = False
    for t in tolerations:
        if not tolerates([t], taint):
            continue
        matched = True
        secs = t.get("tolerationSeconds")
        if secs is None:
            continue
        secs = max(0, secs)
        best = secs if best is None else min(best, secs)
    if not matched:
        return 0
    return best


def is_terminal(pod: Obj) -> bool:
    return pod.get("status", {}).get("phase") in ("Succeeded", "Failed")


def format_pod(pod: Obj) -> str:
    """kubelet's format.Pod: 'web-x_default(uid)'."""
    meta = pod["metadata"]
    return f"{meta['name']}_{meta.get('namespace') or 'default'}({meta.get('uid', '')})"

"""View-models of the board: plain data built from a Cluster, no Django.

Everything the learner reads on a card comes from the same functions ``kubectl get`` uses
(``pod_columns``, ``node_status``, ``age``…), so the board and the terminal never disagree.
Templates only lay these out; words live in the templates (gettext), numbers live here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from k8slearn.sim.controllers import deployment_util as du
from k8slearn.sim.controllers.deployment import max_surge_unavailable
from k8slearn.sim.kubectl.printers import (
    age,
    node_status,
    pod_columns,
    pod_ip,
    service_ports,
)
from k8slearn.sim.objects import cpu_millis, memory_bytes, parse_rfc3339
from k8slearn.sim.pods import pod_requests
from k8slearn.sim.scheduler import R_CPU, R_MEM
from k8slearn.sim.services import streams

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
PENDING = "pending"  # the column key of pods no node has taken (yet)
EVENTS_SHOWN = 40  # rows in a full board; the socket appends later ones
NEW_POD_SECONDS = 2  # a card younger than this (virtual) plays the "appear" animation
HIDDEN_SERVICES = ("default/kubernetes",)  # the API server's own Service: noise for a learner

# kubectl STATUS -> (tone for colour, icon). Colour is never alone: icon and text go with it.
_TONES: dict[str, tuple[str, str]] = {
    "Running": ("ok", "✓"),
    "Completed": ("done", "✔"),
    "Pending": ("wait", "◷"),
    "ContainerCreating": ("busy", "⟳"),
    "PodInitializing": ("busy", "⟳"),
    "Terminating": ("gone", "✕"),
    "NotReady": ("warn", "⚠"),
    "Unknown": ("warn", "?"),
}
_BAD = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "Error", "InvalidImageName",
        "CreateContainerConfigError", "ErrImageNeverPull", "OOMKilled", "ContainerStatusUnknown",
        "Evicted", "RunContainerError")


def tone_of(status: str) -> tuple[str, str]:
    """(tone, icon) for a kubectl STATUS string; unknown strings are warnings."""
    if status in _TONES:
        return _TONES[status]
    if status in _BAD or status.startswith(("ExitCode:", "Signal:", "Init:Err", "Init:Crash")):
        return ("bad", "⚠")
    if status.startswith("Init:"):
        return ("busy", "⟳")
    return ("warn", "⚠")


def dom_id(prefix: str, namespace: str | None, name: str) -> str:
    """Stable element id from Kubernetes identity (ns/name: deletes arrive without a uid)."""
    return f"{prefix}-{namespace}-{name}" if namespace else f"{prefix}-{name}"


def clock_text(seconds: float) -> str:
    """Virtual time as HH:MM:SS ("00:05:30"); hours keep counting past 99."""
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def image_tag(image: str) -> str:
    """The part of an image reference a learner compares: "nginx:1.25" -> "1.25"."""
    if "@" in image:
        return image.rsplit("@", 1)[1][:19]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


# -- pods ----------------------------------------------------------------------------------
@dataclass(slots=True, frozen=True)
class PodView:
    id: str
    name: str
    namespace: str
    column: str
    status: str
    ready: str
    restarts: str
    age: str
    created_ms: int  # virtual ms: the browser keeps AGE current between updates
    image: str
    tag: str
    tone: str
    icon: str
    ip: str
    containers: tuple[str, ...]
    owner: str
    reason: str  # why it is Pending (the scheduler's words), else ""
    new: bool
    terminating: bool


def pod_view(pod: Obj, now: float, nodes: set[str]) -> PodView:
    meta, spec = pod["metadata"], pod.get("spec") or {}
    ready, status, restarts, _n, _t = pod_columns(pod, now)
    tone, icon = tone_of(status)
    containers = tuple(c.get("name", "") for c in spec.get("containers") or ())
    image = ((spec.get("containers") or [{}])[0]).get("image", "")
    node = spec.get("nodeName")
    owners = [o.get("name", "") for o in meta.get("ownerReferences") or () if o.get("controller")]
    created = meta.get("creationTimestamp")
    return PodView(
        id=dom_id("pod", meta.get("namespace"), meta["name"]),
        name=meta["name"], namespace=meta.get("namespace") or "default",
        column=node if node in nodes else PENDING,
        status=status, ready=ready, restarts=restarts, age=age(created, now),
        created_ms=int(parse_rfc3339(created) * 1000) if created else -1,
        image=image, tag=image_tag(image), tone=tone, icon=icon, ip=pod_ip(pod),
        containers=containers, owner=owners[0] if owners else "",
        reason="" if node else _pending_reason(pod),
        new=_age_seconds(created, now) < NEW_POD_SECONDS,
        terminating=bool(meta.get("deletionTimestamp")),
    )


def _age_seconds(stamp: str | None, now: float) -> float:
    return now - parse_rfc3339(stamp) if stamp else 1e9


def _pending_reason(pod: Obj) -> str:
    for cond in (pod.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "PodScheduled" and cond.get("status") != "True":
            return cond.get("message") or cond.get("reason") or ""
    return ""


# -- nodes ---------------------------------------------------------------------------------
@dataclass(slots=True)
class NodeView:
    id: str
    name: str
    status: str  # as kubectl prints it: "Ready", "NotReady,SchedulingDisabled"…
    ready: str  # the Ready condition alone: Ready / NotReady / Unknown
    tone: str
    icon: str
    cordoned: bool
    conditions: list[tuple[str, str, str]]  # (type, status, reason) of the non-Ready ones
    problems: list[str]  # conditions that are not in their healthy state
    taints: list[str]
    cpu_req: int
    cpu_alloc: int
    mem_req: int
    mem_alloc: int
    cpu_pct: int
    mem_pct: int
    cpu_text: str
    mem_text: str
    pod_count: int
    actions: str = ""  # the rendered buttons, filled in by render.py (cached)


_HEALTHY = {"Ready": "True", "MemoryPressure": "False", "DiskPressure": "False",
            "PIDPressure": "False", "NetworkUnavailable": "False"}


def node_view(node: Obj, totals: list[int] | None, pod_count: int) -> NodeView:
    name = node["metadata"]["name"]
    conds = (node.get("status") or {}).get("conditions") or []
    ready = "Unknown"
    for c in conds:
        if c.get("type") == "Ready":
            ready = {"True": "Ready", "False": "NotReady"}.get(c.get("status", ""), "Unknown")
    tone, icon = {"Ready": ("ok", "✓")}.get(ready, ("bad", "✕"))  # Unknown: it stopped reporting
    cpu_req, cpu_alloc, mem_req, mem_alloc = _node_totals(node, totals)
    taints = [f"{t.get('key')}:{t.get('effect')}" for t in (node.get("spec") or {}).get("taints")
              or ()]
    return NodeView(
        id=dom_id("node", None, name), name=name, status=node_status(node), ready=ready,
        tone=tone, icon=icon, cordoned=bool((node.get("spec") or {}).get("unschedulable")),
        conditions=[(c.get("type", ""), c.get("status", ""), c.get("reason", "")) for c in conds
                    if c.get("type") != "Ready"],
        problems=[c.get("type", "") for c in conds
                  if c.get("status") != _HEALTHY.get(c.get("type", ""), c.get("status"))],
        taints=taints, cpu_req=cpu_req, cpu_alloc=cpu_alloc, mem_req=mem_req, mem_alloc=mem_alloc,
        cpu_pct=_pct(cpu_req, cpu_alloc), mem_pct=_pct(mem_req, mem_alloc),
        cpu_text=f"{cpu_req}m / {cpu_alloc}m",
        mem_text=f"{_mib(mem_req)} / {_mib(mem_alloc)}", pod_count=pod_count,
    )


def _node_totals(node: Obj, totals: list[int] | None) -> tuple[int, int, int, int]:
    alloc = (node.get("status") or {}).get("allocatable") or {}
    cpu_alloc = cpu_millis(alloc.get("cpu", 0))
    mem_alloc = memory_bytes(alloc.get("memory", 0))
    if totals is None:
        return 0, cpu_alloc, 0, mem_alloc
    return totals[R_CPU], cpu_alloc, totals[R_MEM], mem_alloc


def _pct(used: int, total: int) -> int:
    return min(100, round(100 * used / total)) if total > 0 else 0


def _mib(n: int) -> str:
    if n >= 1024**3 and n % (1024**3) == 0:
        return f"{n // 1024**3}Gi"
    return f"{round(n / 1024**2)}Mi"


def _scheduler_totals(cluster: Cluster) -> dict[str, list[int]]:
    """Per-node requested totals as the scheduler counts them (rebuilt from the store if a
    restored cluster has no cache yet, without writing it back: rendering must not mutate)."""
    st = cluster.state.get("scheduler")
    if st is not None:
        return st["nodes"]
    out: dict[str, list[int]] = {}
    for pod in cluster.store.iter("Pod"):
        node = (pod.get("spec") or {}).get("nodeName")
        if node and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
            cpu, mem, _c, _m = pod_requests(pod)
            entry = out.setdefault(node, [0] * 9)
            entry[R_CPU] += cpu
            entry[R_MEM] += mem
    return out


# -- deployments ---------------------------------------------------------------------------
@dataclass(slots=True)
class ReplicaSetView:
    name: str
    revision: int
    image: str
    tag: str
    desired: int
    current: int
    ready: int
    newest: bool


@dataclass(slots=True)
class DeploymentView:
    id: str
    name: str
    namespace: str
    replicas: int
    ready: int
    updated: int
    available: int
    strategy: str
    max_surge: int
    max_unavailable: int
    most: int  # at most this many pods at once during a rollout
    least: int  # at least this many available
    image: str
    rolling: bool  # a rollout is in progress
    paused: bool
    replicasets: list[ReplicaSetView]
    old_revisions: int  # scaled-to-zero ReplicaSets kept for rollback
    previous_image: str = ""
    containers: list[str] = field(default_factory=list)
    actions: str = ""  # the rendered buttons, filled in by render.py (cached)


def deployment_view(d: Obj, rss: list[Obj]) -> DeploymentView:
    meta, spec, st = d["metadata"], d.get("spec") or {}, d.get("status") or {}
    surge, unavailable = max_surge_unavailable(d)
    n = du.replicas(d)
    shown, old = _replicaset_views(rss)
    containers = (spec.get("template") or {}).get("spec", {}).get("containers") or [{}]
    by_rev = sorted(rss, key=du.revision_of)
    previous = _image_of(by_rev[-2]) if len(by_rev) > 1 else ""
    rolling = sum(1 for r in shown if r.current or r.desired) > 1 or any(
        r.newest and r.ready < n for r in shown)
    return DeploymentView(
        id=dom_id("deploy", meta.get("namespace"), meta["name"]), name=meta["name"],
        namespace=meta.get("namespace") or "default", replicas=n,
        ready=int(st.get("readyReplicas", 0)), updated=int(st.get("updatedReplicas", 0)),
        available=int(st.get("availableReplicas", 0)),
        strategy=(spec.get("strategy") or {}).get("type") or "RollingUpdate",
        max_surge=surge, max_unavailable=unavailable, most=n + surge, least=n - unavailable,
        image=containers[0].get("image", ""), rolling=rolling, paused=bool(spec.get("paused")),
        replicasets=shown, old_revisions=old, previous_image=previous,
        containers=[c.get("name", "") for c in containers],
    )


def _image_of(rs: Obj) -> str:
    cs = ((rs.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or [{}]
    return cs[0].get("image", "")


def _replicaset_views(rss: list[Obj]) -> tuple[list[ReplicaSetView], int]:
    """The ReplicaSets worth a column (newest, or with pods), oldest revision first; and how
    many empty old ones are kept for ``rollout undo``."""
    newest = du.max_revision(rss)
    shown, old = [], 0
    for rs in sorted(rss, key=du.revision_of):
        rev = du.revision_of(rs)
        st = rs.get("status") or {}
        view = ReplicaSetView(
            name=rs["metadata"]["name"], revision=rev, image=_image_of(rs),
            tag=image_tag(_image_of(rs)), desired=du.replicas(rs),
            current=int(st.get("replicas", 0)), ready=int(st.get("readyReplicas", 0)),
            newest=rev == newest)
        if view.newest or view.desired or view.current:
            shown.append(view)
        else:
            old += 1
    return shown, old


def _owned_replicasets(cluster: Cluster, d: Obj) -> list[Obj]:
    uid = d["metadata"].get("uid")
    ns = d["metadata"].get("namespace")
    return [rs for rs in cluster.store.list("ReplicaSet", ns)
            if any(o.get("uid") == uid and o.get("controller")
                   for o in rs["metadata"].get("ownerReferences") or ())]


# -- services ------------------------------------------------------------------------------
@dataclass(slots=True, frozen=True)
class EndpointView:
    ip: str
    pod: str
    ready: bool
    terminating: bool
    served: int


@dataclass(slots=True)
class ServiceView:
    id: str
    name: str
    namespace: str
    type: str
    cluster_ip: str
    dns: str
    ports: str
    selector: str
    endpoints: list[EndpointView]
    ready_count: int
    served_total: int
    failed: int
    stream_rate: int  # requests a second of the steady stream running now (0: none)
    # Rendered parts, filled in by render.py (each cached by what it shows).
    head: str = ""
    summary: str = ""
    thead: str = ""
    rows: str = ""
    actions: str = ""


def service_view(cluster: Cluster, svc: Obj) -> ServiceView:
    meta, spec = svc["metadata"], svc.get("spec") or {}
    ns, name = meta.get("namespace") or "default", meta["name"]
    counters = (cluster.state.get("traffic") or {}).get(f"{ns}/{name}") or {}
    served: dict[str, int] = counters.get("served") or {}
    endpoints = _endpoints(cluster, ns, name, served)
    return ServiceView(
        id=dom_id("svc", ns, name), name=name, namespace=ns,
        type=spec.get("type") or "ClusterIP", cluster_ip=spec.get("clusterIP") or "None",
        dns=f"{name}.{ns}.svc.cluster.local", ports=service_ports(svc),
        selector=",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items())),
        endpoints=endpoints, ready_count=sum(1 for e in endpoints if e.ready),
        served_total=sum(served.values()), failed=int(counters.get("failed", 0)),
        stream_rate=streams(cluster).get(f"{ns}/{name}", 0),
    )


def _endpoints(cluster: Cluster, ns: str, name: str, served: dict[str, int]) -> list[EndpointView]:
    """From the EndpointSlices (what kube-proxy reads), falling back to Endpoints."""
    out: list[EndpointView] = []
    slices = [s for s in cluster.store.list("EndpointSlice", ns)
              if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name]
    for es in slices:
        for e in es.get("endpoints") or ():
            pod = (e.get("targetRef") or {}).get("name", "")
            cond = e.get("conditions") or {}
            for ip in e.get("addresses") or ():
                out.append(EndpointView(ip=ip, pod=pod, ready=cond.get("ready") is not False,
                                        terminating=bool(cond.get("terminating")),
                                        served=served.get(pod, 0)))
    if not slices:
        out = _legacy_endpoints(cluster, ns, name, served)
    out.sort(key=lambda e: e.pod or e.ip)
    return out


def _legacy_endpoints(cluster: Cluster, ns: str, name: str,
                      served: dict[str, int]) -> list[EndpointView]:
    ep = cluster.store.get("Endpoints", ns, name)
    out: list[EndpointView] = []
    for ss in (ep or {}).get("subsets") or ():
        for key, ready in (("addresses", True), ("notReadyAddresses", False)):
            for a in ss.get(key) or ():
                pod = (a.get("targetRef") or {}).get("name", "")
                out.append(EndpointView(ip=a.get("ip", ""), pod=pod, ready=ready,
                                        terminating=False, served=served.get(pod, 0)))
    return out


def traffic_fingerprint(cluster: Cluster) -> str:
    """Changes whenever any traffic counter does (counters are not API objects, so
    ``changes_since`` cannot report them)."""
    parts = []
    for key, c in sorted((cluster.state.get("traffic") or {}).items()):
        parts.append(f"{key}:{sum((c.get('served') or {}).values())}:{c.get('failed', 0)}")
    # A stream started while time stands still has sent nothing yet, but its button changed.
    parts.extend(f"{key}@{rate}" for key, rate in sorted(streams(cluster).items()))
    return "|".join(parts)


# -- configmaps, events, the whole board ---------------------------------------------------
@dataclass(slots=True)
class ConfigMapView:
    id: str
    name: str
    namespace: str
    data: list[tuple[str, str]]


def configmap_view(cm: Obj) -> ConfigMapView:
    meta = cm["metadata"]
    data = [(k, v if len(v) <= 80 else v[:77] + "…") for k, v in sorted((cm.get("data") or
                                                                          {}).items())]
    return ConfigMapView(id=dom_id("cm", meta.get("namespace"), meta["name"]), name=meta["name"],
                         namespace=meta.get("namespace") or "default", data=data)


@dataclass(slots=True, frozen=True)
class EventView:
    id: str
    seq: int
    time: str
    type: str
    reason: str
    kind: str
    name: str
    message: str
    why: str
    important: bool


@dataclass(slots=True)
class Column:
    key: str
    node: NodeView | None  # None for the Pending column
    pods: list[PodView]
    cards: str = ""  # the pods' rendered cards, filled in by render.py (cached per card)


@dataclass(slots=True)
class Board:
    columns: list[Column]
    deployments: list[DeploymentView]
    services: list[ServiceView]
    configmaps: list[ConfigMapView]
    now: float


def node_names(cluster: Cluster) -> set[str]:
    return {n["metadata"]["name"] for n in cluster.store.iter("Node")}


def columns(cluster: Cluster, only: set[str] | None = None,
            nodes_only: set[str] | None = None) -> list[Column]:
    """One column per node (name order) plus the Pending column; ``only`` limits which are
    built (a change touches one or two); columns in ``nodes_only`` get their node and pod count
    but no pod views (for a capacity bar)."""
    now = cluster.now
    names = node_names(cluster)
    nodes_only = nodes_only or set()
    by_col: dict[str, list[PodView]] = {}
    counts: dict[str, int] = {}
    for pod in cluster.store.iter("Pod"):
        node = (pod.get("spec") or {}).get("nodeName")
        col = node if node in names else PENDING
        if col in nodes_only:
            counts[col] = counts.get(col, 0) + 1
        elif only is None or col in only:
            by_col.setdefault(col, []).append(pod_view(pod, now, names))
    totals = _scheduler_totals(cluster)
    out = []
    for node in sorted(cluster.store.iter("Node"), key=lambda n: n["metadata"]["name"]):
        name = node["metadata"]["name"]
        if name in nodes_only:
            out.append(Column(name, node_view(node, totals.get(name), counts.get(name, 0)), []))
        elif only is None or name in only:
            pods = sorted(by_col.get(name, []), key=lambda p: p.name)
            out.append(Column(name, node_view(node, totals.get(name), len(pods)), pods))
    if only is None or PENDING in only:
        out.append(Column(PENDING, None, sorted(by_col.get(PENDING, []), key=lambda p: p.name)))
    return out


def deployments(cluster: Cluster) -> list[DeploymentView]:
    return [deployment_view(d, _owned_replicasets(cluster, d))
            for d in sorted(cluster.store.iter("Deployment"), key=_ns_name)]


def services(cluster: Cluster) -> list[ServiceView]:
    return [service_view(cluster, s) for s in sorted(cluster.store.iter("Service"), key=_ns_name)
            if _ns_name(s) not in HIDDEN_SERVICES]


def configmaps(cluster: Cluster) -> list[ConfigMapView]:
    # kube-root-ca.crt is in every namespace and teaches nothing here.
    return [configmap_view(c) for c in sorted(cluster.store.iter("ConfigMap"), key=_ns_name)
            if c["metadata"]["name"] != "kube-root-ca.crt"
            and c["metadata"].get("namespace") == "default"]


def _ns_name(o: Obj) -> str:
    return f"{o['metadata'].get('namespace') or ''}/{o['metadata']['name']}"


def board(cluster: Cluster) -> Board:
    return Board(columns=columns(cluster), deployments=deployments(cluster),
                 services=services(cluster), configmaps=configmaps(cluster), now=cluster.now)

"""kube-scheduler: picks a node for every Pending pod that has none, then binds it.

One scheduling cycle (``schedule_one``), as in ``pkg/scheduler/schedule_one.go``:

1. **PreFilter** – the pod's PersistentVolumeClaims must exist and be Bound (VolumeBinding).
2. **Filter** each node, plugins in the default order; the first plugin that fails gives that
   node's reasons: NodeUnschedulable (cordon) → TaintToleration (NoSchedule/NoExecute) →
   NodeAffinity (nodeSelector + required affinity) → NodeResourcesFit (requests and the 110-pod
   limit). Filtering uses the pod's *real* requests, so a pod without requests always fits.
3. **Score** the feasible nodes: NodeResourcesFit (LeastAllocated, or MostAllocated when
   ``cluster.settings["scoring"]`` says so) ×1, BalancedAllocation ×1, TaintToleration
   (PreferNoSchedule) ×3, NodeAffinity (preferred terms) ×2 – integer maths as in the plugins.
   Scoring counts a container without requests as 100m / 200Mi, which is why ten request-less
   replicas still spread out. The highest total wins; ties are broken with ``cluster.rng``.
4. **Bind**: ``spec.nodeName``, condition PodScheduled=True, event Scheduled.

A pod that fits nowhere gets PodScheduled=False/Unschedulable and a FailedScheduling event with
the FitError text (``0/3 nodes are available: 3 Insufficient cpu. preemption: …``). It is parked
in ``state["scheduler"]["unschedulable"]`` and tried again only when something that could make it
fit happens – a Node is added or changed, a pod goes away, a claim changes – never in a loop.

**Cost.** Per-node requested totals live in ``state["scheduler"]["nodes"]`` (updated on bind and
when a pod is removed or finishes; ``rebuild_cache`` recomputes them from the store), so filtering
a node is O(1). Like the real scheduler (``numFeasibleNodesToFind``), a cycle stops after finding
``max(100, N × max(5, 50 − N/125) %)`` feasible nodes and the next cycle starts where this one
stopped (round robin): with 500 nodes it scores 46 % = 230 nodes, with 5,000 nodes 10 % = 500.
Below 100 nodes every node is considered.

Not modelled: preemption (the suffix says no victims were found), pod (anti-)affinity, topology
spread, ports, image locality.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from k8slearn.sim.controllers import Controller, split_key
from k8slearn.sim.events import record_event
from k8slearn.sim.objects import cpu_millis, get_condition, memory_bytes, set_condition
from k8slearn.sim.pods import is_terminal, pod_requests, tolerates
from k8slearn.sim.store import key_of

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
COMPONENT = "default-scheduler"
MAX_NODE_SCORE = 100
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
# Node cache entry: [alloc cpu m, alloc memory, alloc pods, req cpu m, req memory,
#                    non-zero cpu m, non-zero memory, pod count, plain (no taints, not cordoned)]
A_CPU, A_MEM, A_PODS, R_CPU, R_MEM, NZ_CPU, NZ_MEM, N_PODS, PLAIN = range(9)
UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
UNRESOLVABLE = ("node(s) were unschedulable", "node(s) had untolerated taint",
                "node(s) didn't match Pod's node affinity/selector")


# -- score functions (pure; k8s-vectors.json "sched_scores") --------------------------------
def least_allocated(requested: int, allocatable: int) -> int:
    """(alloc − req) × 100 / alloc, integer division; 0 when over-committed.
    1000m of 4000m requested → 3000 × 100 / 4000 = 75."""
    if allocatable == 0 or requested > allocatable:
        return 0
    return (allocatable - requested) * MAX_NODE_SCORE // allocatable


def most_allocated(requested: int, allocatable: int) -> int:
    """req × 100 / alloc with req capped at alloc: 1000m of 4000m → 25."""
    if allocatable == 0:
        return 0
    return min(requested, allocatable) * MAX_NODE_SCORE // allocatable


def fit_score(strategy: str, req_cpu: int, req_mem: int, alloc_cpu: int, alloc_mem: int) -> int:
    """Weighted mean (cpu:1, memory:1) of the per-resource scores: (75 + 87) // 2 = 81."""
    fn = most_allocated if strategy == "MostAllocated" else least_allocated
    return (fn(req_cpu, alloc_cpu) + fn(req_mem, alloc_mem)) // 2


def balanced_allocation(req_cpu: int, req_mem: int, alloc_cpu: int, alloc_mem: int) -> int:
    """1 − |cpu fraction − memory fraction| / 2, × 100: 25 % cpu, 12.5 % memory → 93."""
    f_cpu = min(req_cpu / alloc_cpu, 1.0) if alloc_cpu else 1.0
    f_mem = min(req_mem / alloc_mem, 1.0) if alloc_mem else 1.0
    std = abs(f_cpu - f_mem) / 2
    return int((1 - std) * MAX_NODE_SCORE)


def num_feasible_nodes_to_find(num_all: int) -> int:
    """500 nodes → 50 − 500/125 = 46 % → 230; 100 nodes or fewer → all of them."""
    if num_all < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all
    pct = max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND, 50 - num_all // 125)
    return max(num_all * pct // 100, MIN_FEASIBLE_NODES_TO_FIND)


def fit_error(num_nodes: int, reasons: dict[str, int], prefilter: str | None = None) -> str:
    """FitError.Error(): the reason histogram sorted as strings, plus the PostFilter part."""
    if prefilter:
        return (f"0/{num_nodes} nodes are available: {prefilter}. preemption: 0/{num_nodes} "
                f"nodes are available: {num_nodes} Preemption is not helpful for scheduling.")
    parts = sorted(f"{n} {r}" for r, n in reasons.items())
    msg = f"0/{num_nodes} nodes are available: {', '.join(parts)}."
    # PostFilter (preemption): nodes that failed for a reason preemption cannot fix are "not
    # helpful"; the others have no lower-priority victims in this toy.
    helpless = victims = 0
    for r, n in reasons.items():
        if r.startswith(UNRESOLVABLE):
            helpless += n
        else:
            victims += n
    post = []
    if victims:
        post.append(f"{victims} No preemption victims found for incoming pod")
    if helpless:
        post.append(f"{helpless} Preemption is not helpful for scheduling")
    if post and num_nodes:
        msg += f" preemption: 0/{num_nodes} nodes are available: {', '.join(sorted(post))}."
    return msg


# -- node affinity ------------------------------------------------------------------------
def _match_expr(req: Obj, labels: dict[str, str], name: str, field: bool = False) -> bool:
    key, op, values = req.get("key"), req.get("operator"), req.get("values") or []
    if field:
        val: str | None = name if key == "metadata.name" else None
    else:
        val = labels.get(key) if key in labels else None
    if op == "In":
        return val is not None and val in values
    if op == "NotIn":
        return val is None or val not in values
    if op == "Exists":
        return val is not None
    if op == "DoesNotExist":
        return val is None
    if op in ("Gt", "Lt") and val is not None and values:
        try:
            a, b = int(val), int(values[0])
        except ValueError:
            return False
        return a > b if op == "Gt" else a < b
    return False


def _match_term(term: Obj, labels: dict[str, str], name: str) -> bool:
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False  # an empty term matches no objects
    return all(_match_expr(e, labels, name) for e in exprs) and all(
        _match_expr(f, labels, name, field=True) for f in fields)


def matches_node_affinity(pod: Obj, node: Obj) -> bool:
    spec = pod["spec"]
    labels = node["metadata"].get("labels") or {}
    for k, v in (spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution")
    if required:
        terms = required.get("nodeSelectorTerms") or []
        name = node["metadata"]["name"]
        return any(_match_term(t, labels, name) for t in terms)
    return True


# -- the cache ------------------------------------------------------------------------------
def _state(cluster: Cluster) -> Obj:
    st = cluster.state.get("scheduler")
    if st is None:
        st = rebuild_cache(cluster)
    return st


def _node_entry(node: Obj, old: list[int] | None) -> list[int]:
    alloc = node.get("status", {}).get("allocatable") or {}
    entry = list(old) if old else [0] * 9
    # A node reporting no cpu or memory at all is nonsense; 1 keeps the score maths division-safe.
    entry[A_CPU] = max(1, cpu_millis(alloc.get("cpu", 0)))
    entry[A_MEM] = max(1, memory_bytes(alloc.get("memory", 0)))
    entry[A_PODS] = int(alloc.get("pods", 110))
    spec = node.get("spec") or {}
    entry[PLAIN] = 0 if spec.get("unschedulable") or spec.get("taints") else 1
    return entry


def rebuild_cache(cluster: Cluster) -> Obj:
    """Recompute the per-node requested totals from the store (also after a restore)."""
    st: Obj = {"nodes": {}, "pods": {}, "unschedulable": {}, "next_start": 0}
    cluster.state["scheduler"] = st
    for node in cluster.store.iter("Node"):
        st["nodes"][node["metadata"]["name"]] = _node_entry(node, None)
    for pod in cluster.store.iter("Pod"):
        _account(st, pod)
    return st


def _account(st: Obj, pod: Obj) -> bool:
    """Make the cache agree with a bound pod; returns True if resources were freed."""
    key = key_of(pod["metadata"].get("namespace"), pod["metadata"]["name"])
    node = pod["spec"].get("nodeName")
    entry = st["pods"].get(key)
    want = node if node and not is_terminal(pod) else None
    if entry is not None and entry[0] == want:
        return False
    freed = _release(st, key)
    if want is not None:
        cpu, mem, nz_cpu, nz_mem = pod_requests(pod)
        st["pods"][key] = [want, cpu, mem, nz_cpu, nz_mem]
        n = st["nodes"].get(want)
        if n is not None:
            n[R_CPU] += cpu
            n[R_MEM] += mem
            n[NZ_CPU] += nz_cpu
            n[NZ_MEM] += nz_mem
            n[N_PODS] += 1
    return freed


def _release(st: Obj, key: str) -> bool:
    entry = st["pods"].pop(key, None)
    if entry is None:
        return False
    n = st["nodes"].get(entry[0])
    if n is not None:
        n[R_CPU] -= entry[1]
        n[R_MEM] -= entry[2]
        n[NZ_CPU] -= entry[3]
        n[NZ_MEM] -= entry[4]
        n[N_PODS] -= 1
    return True


class Scheduler(Controller):
    name = "default-scheduler"
    watches = ("Pod", "Node", "PersistentVolumeClaim")

    def keys_for(self, cluster: Cluster, kind: str, obj: Obj, deleted: bool) -> Iterable[str]:
        meta = obj["metadata"]
        if kind == "Node":
            return ("~node/" + meta["name"],)
        if kind == "PersistentVolumeClaim":
            return ("~retry",)
        key = key_of(meta.get("namespace"), meta["name"])
        if deleted:
            return (key,)
        node = obj["spec"].get("nodeName")
        if node:
            entry = _state(cluster)["pods"].get(key)
            want = None if is_terminal(obj) else node
            return () if (entry[0] if entry else None) == want else (key,)
        return (key,)

    def reconcile(self, cluster: Cluster, key: str) -> float | None:
        st = _state(cluster)
        if key.startswith("~node/"):
            name = key[len("~node/"):]
            node = cluster.store.get("Node", None, name)
            if node is None:
                st["nodes"].pop(name, None)
            else:
                st["nodes"][name] = _node_entry(node, st["nodes"].get(name))
            self._retry_unschedulable(cluster, st)
            return None
        if key == "~retry":
            self._retry_unschedulable(cluster, st)
            return None
        ns, name = split_key(key)
        pod = cluster.store.get("Pod", ns, name)
        if pod is None:
            st["unschedulable"].pop(key, None)
            if _release(st, key):
                self._retry_unschedulable(cluster, st)
            return None
        if pod["spec"].get("nodeName"):
            st["unschedulable"].pop(key, None)
            if _account(st, pod):
                self._retry_unschedulable(cluster, st)
            return None
        if pod["metadata"].get("deletionTimestamp") or is_terminal(pod):
            return None
        if pod["spec"].get("schedulerName", COMPONENT) != COMPONENT:
            return None
        if st["unschedulable"].get(key) == pod["metadata"].get("resourceVersion"):
            return None  # nothing changed since the last failed attempt
        schedule_one(cluster, pod)
        return None

    def _retry_unschedulable(self, cluster: Cluster, st: Obj) -> None:
        queue = cluster.queues[self.name]
        for key in st["unschedulable"]:
            st["unschedulable"][key] = ""
            queue[key] = None


def _filter(pod: Obj, node: Obj, e: list[int], req: tuple[int, int, int, int],
            tolerations: list[Obj]) -> list[str]:
    """The node's failure reasons from the first failing filter plugin ([] = feasible)."""
    spec = node.get("spec") or {}
    if spec.get("unschedulable") and not tolerates(tolerations, UNSCHEDULABLE_TAINT):
        return ["node(s) were unschedulable"]
    for taint in spec.get("taints") or ():
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
            return [f"node(s) had untolerated taint {{{taint.get('key')}: "
                    f"{taint.get('value') or ''}}}"]
    if not matches_node_affinity(pod, node):
        return ["node(s) didn't match Pod's node affinity/selector"]
    reasons = []
    if e[N_PODS] + 1 > e[A_PODS]:
        reasons.append("Too many pods")
    cpu, mem = req[0], req[1]
    if cpu > 0 and cpu > e[A_CPU] - e[R_CPU]:
        reasons.append("Insufficient cpu")
    if mem > 0 and mem > e[A_MEM] - e[R_MEM]:
        reasons.append("Insufficient memory")
    return reasons


def _prefilter(cluster: Cluster, pod: Obj) -> str | None:
    ns = pod["metadata"].get("namespace")
    for vol in pod["spec"].get("volumes") or ():
        claim_ref = vol.get("persistentVolumeClaim")
        if not claim_ref:
            continue
        claim = cluster.store.get("PersistentVolumeClaim", ns, claim_ref.get("claimName", ""))
        if claim is None:
            return f'persistentvolumeclaim "{claim_ref.get("claimName")}" not found'
        if claim.get("status", {}).get("phase") != "Bound" and not _wait_for_consumer(
                cluster, claim):
            return "pod has unbound immediate PersistentVolumeClaims"
    return None


def _wait_for_consumer(cluster: Cluster, claim: Obj) -> bool:
    sc_name = claim.get("spec", {}).get("storageClassName")
    sc = cluster.store.get("StorageClass", None, sc_name) if sc_name else None
    return bool(sc and sc.get("volumeBindingMode") == "WaitForFirstConsumer")


def schedule_one(cluster: Cluster, pod: Obj) -> str | None:
    """One scheduling cycle for ``pod``; returns the chosen node or None."""
    st = _state(cluster)
    nodes = st["nodes"]
    names = list(nodes)
    total = len(names)
    pre = _prefilter(cluster, pod)
    if pre is not None or total == 0:
        _unschedulable(cluster, st, pod, fit_error(total, {}, pre) if pre else
                       "no nodes available to schedule pods")
        return None
    req = pod_requests(pod)
    cpu, mem, nz_cpu, nz_mem = req
    spec = pod["spec"]
    tolerations = spec.get("tolerations") or []
    # The common case – no nodeSelector/affinity on the pod, no taints or cordon on the node –
    # only needs NodeResourcesFit, done inline: this loop runs ~230 times per pod at 500 nodes.
    needs_affinity = bool(spec.get("nodeSelector") or spec.get("affinity"))
    want = num_feasible_nodes_to_find(total)
    start = st["next_start"] % total
    feasible: list[str] = []
    scores: list[int] = []
    reasons: dict[str, int] = {}
    processed = 0
    most = cluster.settings.get("scoring", "LeastAllocated") == "MostAllocated"
    tainted = False
    get_node = cluster.store.objects.get("Node", {}).get
    for name in names[start:] + names[:start]:
        processed += 1
        e = nodes[name]
        if needs_affinity or not e[PLAIN] or e[N_PODS] >= e[A_PODS] or (
                cpu and cpu > e[A_CPU] - e[R_CPU]) or (mem and mem > e[A_MEM] - e[R_MEM]):
            node = get_node("/" + name)
            if node is None:
                continue
            tainted = tainted or not e[PLAIN]
            why = _filter(pod, node, e, req, tolerations)
            if why:
                for r in why:
                    reasons[r] = reasons.get(r, 0) + 1
                continue
        # Score: NodeResourcesFit (non-zero requests) + BalancedAllocation (real requests).
        ac, am = e[A_CPU], e[A_MEM]  # never 0: see _node_entry
        rc, rm = e[NZ_CPU] + nz_cpu, e[NZ_MEM] + nz_mem
        if most:
            score = ((rc if rc < ac else ac) * 100 // ac + (rm if rm < am else am) * 100 // am) // 2
        else:
            score = (((ac - rc) * 100 // ac if rc <= ac else 0)
                     + ((am - rm) * 100 // am if rm <= am else 0)) // 2
        fc = (e[R_CPU] + cpu) / ac
        fm = (e[R_MEM] + mem) / am
        diff = (fc if fc < 1.0 else 1.0) - (fm if fm < 1.0 else 1.0)
        score += int((1 - (diff if diff >= 0 else -diff) / 2) * MAX_NODE_SCORE)
        feasible.append(name)
        scores.append(score)
        if len(feasible) >= want:
            break
    st["next_start"] = (start + processed) % total
    if not feasible:
        _unschedulable(cluster, st, pod, fit_error(total, reasons))
        return None
    if len(feasible) > 1 and (tainted or needs_affinity):
        _add_normalized(cluster, pod, feasible, scores)
    best = max(scores)
    top = [n for n, sc in zip(feasible, scores, strict=True) if sc == best]
    chosen = top[0] if len(top) == 1 else cluster.rng.choice(top)
    bind(cluster, pod, chosen)
    return chosen


def _add_normalized(cluster: Cluster, pod: Obj, feasible: list[str], scores: list[int]) -> None:
    """TaintToleration (×3, fewer intolerable PreferNoSchedule taints is better) and NodeAffinity
    preferred terms (×2), each normalised to 0..100 over the feasible nodes. Skipped when they
    would add the same amount to every node."""
    get_node = cluster.store.objects.get("Node", {}).get
    tolerations = [t for t in pod["spec"].get("tolerations") or ()
                   if t.get("effect") in (None, "", "PreferNoSchedule")]
    counts = []
    for name in feasible:
        taints = (get_node("/" + name) or {}).get("spec", {}).get("taints") or ()
        counts.append(sum(1 for t in taints if t.get("effect") == "PreferNoSchedule"
                          and not tolerates(tolerations, t)))
    top = max(counts)
    if top:
        for i, c in enumerate(counts):
            scores[i] += 3 * (MAX_NODE_SCORE - c * MAX_NODE_SCORE // top)
    preferred = ((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {}).get(
        "preferredDuringSchedulingIgnoredDuringExecution") or []
    if preferred:
        raw = []
        for name in feasible:
            node = get_node("/" + name) or {"metadata": {"name": name}}
            labels = node["metadata"].get("labels") or {}
            raw.append(sum(int(p.get("weight", 0)) for p in preferred
                           if _match_term(p.get("preference") or {}, labels, name)))
        top = max(raw)
        if top:
            for i, r in enumerate(raw):
                scores[i] += 2 * (r * MAX_NODE_SCORE // top)


def bind(cluster: Cluster, pod: Obj, node_name: str) -> None:
    """The Binding: spec.nodeName + PodScheduled=True, then the Scheduled event."""
    st = _state(cluster)
    meta = pod["metadata"]
    key = key_of(meta.get("namespace"), meta["name"])
    st["unschedulable"].pop(key, None)
    pod["spec"]["nodeName"] = node_name
    set_condition(pod, {"type": "PodScheduled", "status": "True", "lastProbeTime": None},
                  cluster.now)
    cond = get_condition(pod, "PodScheduled")
    if cond is not None:
        cond.pop("reason", None)
        cond.pop("message", None)
    _account(st, pod)
    cluster.store.update(pod)
    record_event(cluster, pod, "Normal", "Scheduled",
                 f"Successfully assigned {meta.get('namespace')}/{meta['name']} to {node_name}",
                 COMPONENT)
    _select_node_for_claims(cluster, pod, node_name)


def _select_node_for_claims(cluster: Cluster, pod: Obj, node_name: str) -> None:
    # VolumeBinding with WaitForFirstConsumer: the chosen node is written on the claim, which is
    # the provisioner's cue (the storage controller) to create and bind a volume there.
    ns = pod["metadata"].get("namespace")
    for vol in pod["spec"].get("volumes") or ():
        ref = vol.get("persistentVolumeClaim")
        claim = cluster.store.get("PersistentVolumeClaim", ns, ref.get("claimName", "")) if (
            ref) else None
        if claim is None or claim.get("status", {}).get("phase") == "Bound":
            continue
        ann = claim["metadata"].setdefault("annotations", {})
        if ann.get("volume.kubernetes.io/selected-node") != node_name:
            ann["volume.kubernetes.io/selected-node"] = node_name
            cluster.store.update(claim)


def _unschedulable(cluster: Cluster, st: Obj, pod: Obj, message: str) -> None:
    meta = pod["metadata"]
    key = key_of(meta.get("namespace"), meta["name"])
    changed = set_condition(pod, {"type": "PodScheduled", "status": "False",
                                  "reason": "Unschedulable", "message": message,
                                  "lastProbeTime": None}, cluster.now)
    if changed:
        cluster.store.update(pod)
    st["unschedulable"][key] = meta.get("resourceVersion")
    record_event(cluster, pod, "Warning", "FailedScheduling", message, COMPONENT)

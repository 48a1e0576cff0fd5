"""Exercise goals: declarative checks against the cluster's state and its event history.

A goal is a one-key dict (written in YAML in ``lesson.yaml``). History only counts from the moment
the goal (or, inside ``then``, that sub-goal) became active, so what happened before the exercise
started never satisfies it.

What holds *now* (checked at every observation):

``pods: {selector, status, ready, image, node, restarts_at_least, count | min | max}``
    Pods in ``default`` matching every given filter: ``status`` is kubectl's STATUS column
    (``Running``, ``Pending``, ``ImagePullBackOff``, ``Terminating`` …); without ``status``,
    terminating pods are not counted (as a Deployment counts). ``ready: true`` = every container
    ready. ``count`` is exact; ``min``/``max`` are bounds; none of them means ``min: 1``.
``node: {name, status}``
    kubectl's node STATUS (``Ready``, ``NotReady``, ``Ready,SchedulingDisabled``).
``rollout: {deployment, image, complete}``
    The Deployment's pod template runs ``image`` (if given) and, with ``complete: true`` (the
    default), every replica is updated, ready and available and no old pod is left.
``env: {selector, name, value}``
    Every Running pod matching ``selector`` (at least one) sees ``name=value`` in its container's
    environment (``container`` optional; the environment is fixed when the container starts).
``file: {selector, path, contains}``
    Every Running pod matching ``selector`` (at least one) has ``path`` and it contains the text.
``claim: {name, status}``
    The PersistentVolumeClaim's STATUS (``Pending``, ``Bound``, ``Lost``).

What happened since the goal became active (once reached, it stays reached):

``event: {reason, kind, name, name_prefix, type, message_contains, count}``
    At least ``count`` (default 1) event occurrences matching every given field.
``replaced: {selector, count}``
    ``count`` (default 1) of the pods that matched ``selector`` at the start are gone (deleted or
    terminating) and as many new pods created by a ReplicaSet run in their place.
``traffic: {service, min_requests, distinct_pods, skipped}``
    Requests to ``service`` since the start: at least ``min_requests`` (default 1) served, by at
    least ``distinct_pods`` different pods; ``skipped`` (a ``pods`` filter) names pods that must
    exist now and must have served none of them.
``pending_then_scheduled: {selector}``
    A pod matching ``selector`` failed to schedule (``FailedScheduling``) and later the same pod
    was bound to a node (``Scheduled``).

Constraints over the whole attempt (a violation fails the exercise until it is restarted):

``always: <goal that holds now>`` — must hold at every observation (``always: {pods: {selector:
app=web, max: 5}}`` = never more than 5 pods); ``never: <goal>`` — must not hold at any
observation (``never: {event: {reason: BackOff}}``). Both count as reached while unbroken.

Combinators: ``all: [...]`` (every sub-goal at the same observation), ``any: [...]``,
``then: [...]`` (in order: each sub-goal becomes active when the previous one is reached, and stays
reached).

``GoalTracker(spec, cluster)`` records the baseline; call ``observe(cluster)`` after every change
(the finer, the stricter ``always``/``never`` are). ``reached`` latches; ``failed_reason`` is set
when a constraint broke. ``to_dict()``/``from_dict()`` round-trip through JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from k8slearn.sim.kubectl.printers import node_status, pod_columns
from k8slearn.sim.objects import parse_selector, selector_matches

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
NAMESPACE = "default"

# kind -> (allowed keys, required keys). "combinator" kinds take a list of goals.
STATE_GOALS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pods": (("selector", "status", "ready", "image", "node", "restarts_at_least", "count",
              "min", "max"), ()),
    "node": (("name", "status"), ("name", "status")),
    "rollout": (("deployment", "image", "complete"), ("deployment",)),
    "env": (("selector", "name", "value", "container"), ("selector", "name", "value")),
    "file": (("selector", "path", "contains", "container"), ("selector", "path")),
    "claim": (("name", "status"), ("name", "status")),
}
HISTORY_GOALS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "event": (("reason", "kind", "name", "name_prefix", "type", "message_contains", "count"),
              ("reason",)),
    "replaced": (("selector", "count"), ("selector",)),
    "traffic": (("service", "min_requests", "distinct_pods", "skipped"), ("service",)),
    "pending_then_scheduled": (("selector",), ("selector",)),
}
CONSTRAINTS = ("always", "never")
COMBINATORS = ("all", "any", "then")
GOAL_KINDS = (*STATE_GOALS, *HISTORY_GOALS, *CONSTRAINTS, *COMBINATORS)
_TEXT_KEYS = ("selector", "status", "image", "node", "name", "deployment", "path", "contains",
              "container", "reason", "kind", "name_prefix", "type", "message_contains",
              "service")
_INT_KEYS = ("count", "min", "max", "restarts_at_least", "min_requests", "distinct_pods")


# --------------------------------------------------------------------------- validation


def validate_goal(spec: Any, where: str = "goal") -> list[str]:
    """Problems with a goal spec (empty when it is well formed). Never raises."""
    if not isinstance(spec, dict) or len(spec) != 1:
        return [f"{where} must be a mapping with exactly one key, like {{pods: {{…}}}} "
                f"(known goals: {', '.join(GOAL_KINDS)})"]
    kind, arg = next(iter(spec.items()))
    here = f"{where}.{kind}"
    if kind in COMBINATORS:
        if not isinstance(arg, list) or not arg:
            return [f"{here} must be a non-empty list of goals"]
        errors: list[str] = []
        for i, sub in enumerate(arg):
            errors += validate_goal(sub, f"{here}[{i}]")
        return errors
    if kind in CONSTRAINTS:
        errors = validate_goal(arg, here)
        if not errors:
            inner = next(iter(arg))
            if inner not in STATE_GOALS and not (inner == "event" and kind == "never"):
                errors.append(f"{here} takes a goal that holds now ({', '.join(STATE_GOALS)})"
                              + (" or an event" if kind == "never" else ""))
        return errors
    table = STATE_GOALS.get(kind) or HISTORY_GOALS.get(kind)
    if table is None:
        return [f'{where}: unknown goal "{kind}" (known goals: {", ".join(GOAL_KINDS)})']
    if not isinstance(arg, dict):
        return [f"{here} must be a mapping"]
    allowed, required = table
    errors = [f"{here}: unknown key '{k}' (allowed: {', '.join(allowed)})"
              for k in arg if k not in allowed]
    errors += [f"{here}: '{k}' is missing" for k in required if k not in arg]
    for key, value in arg.items():
        if key in _TEXT_KEYS and not (isinstance(value, str) and value.strip()):
            errors.append(f"{here}.{key} must be a non-empty text")
        if key in _INT_KEYS and (isinstance(value, bool) or not isinstance(value, int)
                                 or value < 0):
            errors.append(f"{here}.{key} must be a whole number, 0 or more")
        if key in ("ready", "complete") and not isinstance(value, bool):
            errors.append(f"{here}.{key} must be true or false")
        if key == "value" and not isinstance(value, str | int | float):
            errors.append(f"{here}.value must be a text")
    if isinstance(arg.get("selector"), str):
        try:
            parse_selector(arg["selector"])
        except ValueError as err:
            errors.append(f"{here}.selector: {err}")
    if kind == "pods" and "count" in arg and ("min" in arg or "max" in arg):
        errors.append(f"{here}: give either 'count' or 'min'/'max'")
    if kind == "traffic" and "skipped" in arg:
        errors += validate_goal({"pods": arg["skipped"]}, f"{here}.skipped")
    return errors


# --------------------------------------------------------------------------- reading the cluster


def _event_seq(cluster: Cluster) -> int:
    return int(cluster.state.get("event_seq", 0))


def _new_events(cluster: Cluster, after: int) -> list[list[Any]]:
    """Event-log rows [seq, time_ms, kind, ns, name, type, reason, message, component] after
    ``after``."""
    log = cluster.state.get("event_log") or []
    out = []
    for row in reversed(log):
        if row[0] <= after:
            break
        out.append(row)
    out.reverse()
    return out


def _pods(cluster: Cluster, selector: str | None) -> list[Obj]:
    pods = cluster.store.list("Pod", NAMESPACE)
    if selector:
        reqs = parse_selector(selector)
        pods = [p for p in pods if selector_matches(reqs, p["metadata"].get("labels") or {})]
    return sorted(pods, key=lambda p: p["metadata"]["name"])


def _terminating(pod: Obj) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def _matching_pods(cluster: Cluster, arg: Obj) -> list[Obj]:
    out = []
    for pod in _pods(cluster, arg.get("selector")):
        ready_cell, status, _cell, restarts, _last = pod_columns(pod, cluster.now)
        if "status" in arg:
            if status != arg["status"]:
                continue
        elif _terminating(pod):
            continue
        if "ready" in arg:
            have, _, total = ready_cell.partition("/")
            is_ready = have == total and total != "0"
            if is_ready != arg["ready"]:
                continue
        if "image" in arg and arg["image"] not in [
                c.get("image") for c in pod["spec"].get("containers") or ()]:
            continue
        if "node" in arg and pod["spec"].get("nodeName") != arg["node"]:
            continue
        if restarts < arg.get("restarts_at_least", 0):
            continue
        out.append(pod)
    return out


def _count_ok(n: int, arg: Obj) -> bool:
    if "count" in arg:
        return n == arg["count"]
    if "min" not in arg and "max" not in arg:
        return n >= 1
    return arg.get("min", 0) <= n <= arg.get("max", n)


def _running(cluster: Cluster, selector: str) -> list[Obj]:
    return [p for p in _pods(cluster, selector)
            if not _terminating(p) and (p.get("status") or {}).get("phase") == "Running"]


def _container_record(cluster: Cluster, pod: Obj, container: str | None) -> Obj | None:
    prec = cluster.state.get("kubelet", {}).get("pods", {}).get(pod["metadata"]["uid"])
    if not prec:
        return None
    names = [c["name"] for c in pod["spec"].get("containers") or ()]
    name = container or (names[0] if names else "")
    rec = prec.get("containers", {}).get(name)
    return rec if rec and rec.get("state") == "Running" else None


# --------------------------------------------------------------------------- state goals


def _holds_pods(cluster: Cluster, arg: Obj) -> bool:
    return _count_ok(len(_matching_pods(cluster, arg)), arg)


def _holds_node(cluster: Cluster, arg: Obj) -> bool:
    node = cluster.store.get("Node", None, arg["name"])
    return node is not None and node_status(node) == arg["status"]


def _holds_rollout(cluster: Cluster, arg: Obj) -> bool:
    d = cluster.store.get("Deployment", NAMESPACE, arg["deployment"])
    if d is None:
        return False
    images = [c.get("image") for c in d["spec"]["template"]["spec"].get("containers") or ()]
    if "image" in arg and arg["image"] not in images:
        return False
    if not arg.get("complete", True):
        return True
    want = d["spec"].get("replicas", 1)
    st = d.get("status") or {}
    if st.get("observedGeneration", 0) < d["metadata"].get("generation", 0):
        return False
    if not all(st.get(k, 0) == want for k in ("replicas", "updatedReplicas", "readyReplicas",
                                                "availableReplicas")):
        return False
    # No old pod may linger (terminating ones included), and every pod runs the template.
    reqs = parse_selector(",".join(f"{k}={v}" for k, v in
                                   (d["spec"]["selector"].get("matchLabels") or {}).items()))
    pods = [p for p in cluster.store.list("Pod", NAMESPACE)
            if selector_matches(reqs, p["metadata"].get("labels") or {})]
    return all([c.get("image") for c in p["spec"].get("containers") or ()] == images
               for p in pods)


def _holds_env(cluster: Cluster, arg: Obj) -> bool:
    pods = _running(cluster, arg["selector"])
    if not pods:
        return False
    for pod in pods:
        rec = _container_record(cluster, pod, arg.get("container"))
        if rec is None or (rec.get("env") or {}).get(arg["name"]) != str(arg["value"]):
            return False
    return True


def _holds_file(cluster: Cluster, arg: Obj) -> bool:
    from k8slearn.sim import podfiles

    pods = _running(cluster, arg["selector"])
    if not pods:
        return False
    for pod in pods:
        try:
            text = podfiles.read_file(cluster, pod, arg["path"], arg.get("container"))
        except Exception:  # noqa: BLE001 - a goal check never raises
            return False
        if text is None or str(arg.get("contains", "")) not in text:
            return False
    return True


def _holds_claim(cluster: Cluster, arg: Obj) -> bool:
    pvc = cluster.store.get("PersistentVolumeClaim", NAMESPACE, arg["name"])
    return pvc is not None and (pvc.get("status") or {}).get("phase") == arg["status"]


_HOLDS: dict[str, Callable[[Cluster, Obj], bool]] = {
    "pods": _holds_pods,
    "node": _holds_node,
    "rollout": _holds_rollout,
    "env": _holds_env,
    "file": _holds_file,
    "claim": _holds_claim,
}


# --------------------------------------------------------------------------- the tracker


class GoalTracker:
    """Follows one exercise's goal across observations; JSON-native state in ``.state``."""

    def __init__(self, spec: Obj, cluster: Cluster | None = None) -> None:
        self.spec = spec
        self.state: Obj = {"last_seq": 0, "reached": False, "failed": None, "nodes": {}}
        if cluster is not None:
            self.state["last_seq"] = _event_seq(cluster)
            self._activate(spec, "0", cluster, _event_seq(cluster))

    # -- public --------------------------------------------------------------------------
    @property
    def reached(self) -> bool:
        return bool(self.state["reached"])

    @property
    def failed_reason(self) -> str | None:
        """Why the exercise failed (English), or None; see ``failed_message`` for Korean."""
        failed = self.state["failed"]
        return failed["en"] if failed else None

    def failed_message(self, lang: str) -> str | None:
        """Why the exercise failed, in ``lang`` ("ko" or "en"), or None."""
        failed = self.state["failed"]
        if not failed:
            return None
        return failed["ko"] if lang.startswith("ko") else failed["en"]

    def observe(self, cluster: Cluster) -> bool:
        """Take the cluster's current state and new events into account; True once reached."""
        if self.state["reached"] or self.state["failed"]:
            return self.reached
        events = _new_events(cluster, self.state["last_seq"])
        seq = _event_seq(cluster)
        try:
            at = self._eval(self.spec, "0", cluster, events, seq)
        except (KeyError, TypeError, ValueError, IndexError):
            # A spec that skipped validate_goal (or state from an older format): never raise
            # into the caller's loop; the goal simply is not reached.
            at = None
        self.state["last_seq"] = seq
        if self.state["failed"]:
            return False
        if at is not None:
            self.state["reached"] = True
        return self.reached

    def to_dict(self) -> Obj:
        return {"spec": self.spec, "state": self.state}

    @classmethod
    def from_dict(cls, d: Obj) -> GoalTracker:
        tracker = cls(d["spec"])
        tracker.state = d["state"]
        return tracker

    # -- activation ----------------------------------------------------------------------
    def _activate(self, spec: Obj, path: str, cluster: Cluster, since: int) -> None:
        kind, arg = next(iter(spec.items()))
        node: Obj = {"since": since}
        if kind in ("all", "any"):
            for i, sub in enumerate(arg):
                self._activate(sub, f"{path}.{i}", cluster, since)
        elif kind == "then":
            node["stage"] = 0
            node["done_at"] = []
            self._activate(arg[0], f"{path}.0", cluster, since)
        elif kind in CONSTRAINTS:
            self._activate(arg, f"{path}.0", cluster, since)
        elif kind == "event":
            node["count"] = 0
        elif kind == "replaced":
            node["before"] = [p["metadata"]["name"] for p in _pods(cluster, arg["selector"])
                              if not _terminating(p)]
        elif kind == "traffic":
            counters = (cluster.state.get("traffic") or {}).get(
                f"{NAMESPACE}/{arg['service']}") or {}
            node["base"] = dict(counters.get("served") or {})
        elif kind == "pending_then_scheduled":
            node["pending"] = [p["metadata"]["name"] for p in _pods(cluster, arg["selector"])
                               if not p["spec"].get("nodeName") and not _terminating(p)]
        self.state["nodes"][path] = node

    # -- evaluation: the event seq at which the goal was reached, or None ----------------
    def _eval(self, spec: Obj, path: str, cluster: Cluster, events: list[list[Any]],
              seq: int) -> int | None:
        kind, arg = next(iter(spec.items()))
        node = self.state["nodes"][path]
        if kind in _HOLDS:
            return seq if _HOLDS[kind](cluster, arg) else None
        if kind == "all":
            ats = [self._eval(sub, f"{path}.{i}", cluster, events, seq)
                   for i, sub in enumerate(arg)]
            return None if any(a is None for a in ats) else max(ats, default=seq)  # type: ignore[type-var]
        if kind == "any":
            ats = [self._eval(sub, f"{path}.{i}", cluster, events, seq)
                   for i, sub in enumerate(arg)]
            hits = [a for a in ats if a is not None]
            return min(hits) if hits else None
        if kind == "then":
            return self._eval_then(arg, path, node, cluster, events, seq)
        if kind in CONSTRAINTS:
            return self._eval_constraint(kind, arg, path, cluster, events, seq)
        return _HISTORY[kind](self, arg, node, cluster, [e for e in events if e[0] > node["since"]],
                              seq)

    def _eval_then(self, arg: list[Obj], path: str, node: Obj, cluster: Cluster,
                   events: list[list[Any]], seq: int) -> int | None:
        while node["stage"] < len(arg):
            i = node["stage"]
            at = self._eval(arg[i], f"{path}.{i}", cluster, events, seq)
            if at is None:
                return None
            node["done_at"].append(at)
            node["stage"] = i + 1
            if i + 1 < len(arg):
                self._activate(arg[i + 1], f"{path}.{i + 1}", cluster, at)
        return node["done_at"][-1]

    def _eval_constraint(self, kind: str, arg: Obj, path: str, cluster: Cluster,
                         events: list[list[Any]], seq: int) -> int | None:
        inner_kind = next(iter(arg))
        if inner_kind == "event":  # only "never" takes an event (see validate_goal)
            inner = self.state["nodes"][f"{path}.0"]
            violated = any(e[0] > inner["since"] and _event_matches(arg["event"], e)
                           for e in events)
        else:
            holds = _HOLDS[inner_kind](cluster, arg[inner_kind])
            violated = holds if kind == "never" else not holds
        if violated and not self.state["failed"]:
            self.state["failed"] = _describe_violation(kind, arg)
        return None if violated else seq


def _event_matches(arg: Obj, row: list[Any]) -> bool:
    _seq, _t, kind, _ns, name, type_, reason, message, _comp = row
    if reason != arg["reason"]:
        return False
    if "kind" in arg and kind != arg["kind"]:
        return False
    if "name" in arg and name != arg["name"]:
        return False
    if "name_prefix" in arg and not str(name).startswith(arg["name_prefix"]):
        return False
    if "type" in arg and type_ != arg["type"]:
        return False
    return "message_contains" not in arg or arg["message_contains"] in str(message)


def _describe_violation(kind: str, arg: Obj) -> dict[str, str]:
    """Why a constraint broke, in English and Korean."""
    inner_kind, inner = next(iter(arg.items()))
    if inner_kind == "pods" and kind == "always":
        sel = inner.get("selector") or "*"
        ready_en, ready_ko = ("ready ", "준비된 ") if inner.get("ready") else ("", "")
        if "max" in inner:
            return {"en": f"more than {inner['max']} {ready_en}pods matching {sel} at once",
                    "ko": f"{sel}에 맞는 {ready_ko}파드가 한때 {inner['max']}개를 넘었다"}
        if "min" in inner:
            return {"en": f"fewer than {inner['min']} {ready_en}pods matching {sel} at once",
                    "ko": f"{sel}에 맞는 {ready_ko}파드가 한때 {inner['min']}개보다 적었다"}
    if inner_kind == "event" and kind == "never":
        return {"en": f"a {inner['reason']} event happened",
                "ko": f"{inner['reason']} 이벤트가 일어났다"}
    if kind == "always":
        return {"en": f"this stopped holding: {inner_kind} {inner}",
                "ko": f"이 조건이 깨졌다: {inner_kind} {inner}"}
    return {"en": f"this must never happen: {inner_kind} {inner}",
            "ko": f"일어나면 안 되는 일이 일어났다: {inner_kind} {inner}"}


# --------------------------------------------------------------------------- history goals


def _hist_event(tracker: GoalTracker, arg: Obj, node: Obj, cluster: Cluster,
                events: list[list[Any]], seq: int) -> int | None:
    need = arg.get("count", 1)
    if node["count"] >= need:
        return node.get("at", seq)
    for row in events:
        if row[0] <= node.get("seen", node["since"]):
            continue
        node["seen"] = row[0]
        if _event_matches(arg, row):
            node["count"] += 1
            if node["count"] >= need:
                node["at"] = row[0]
                return row[0]
    return None


def _hist_replaced(tracker: GoalTracker, arg: Obj, node: Obj, cluster: Cluster,
                   events: list[list[Any]], seq: int) -> int | None:
    if "at" in node:
        return node["at"]
    before = node["before"]
    now = {p["metadata"]["name"]: p for p in _pods(cluster, arg["selector"])}
    gone = [n for n in before if n not in now or _terminating(now[n])]
    fresh = [p for n, p in now.items()
             if n not in before and not _terminating(p)
             and (p.get("status") or {}).get("phase") == "Running"
             and any(r.get("kind") == "ReplicaSet"
                     for r in p["metadata"].get("ownerReferences") or ())]
    need = arg.get("count", 1)
    if len(gone) >= need and len(fresh) >= need:
        node["at"] = seq
        return seq
    return None


def _hist_traffic(tracker: GoalTracker, arg: Obj, node: Obj, cluster: Cluster,
                  events: list[list[Any]], seq: int) -> int | None:
    if "at" in node:
        return node["at"]
    counters = (cluster.state.get("traffic") or {}).get(f"{NAMESPACE}/{arg['service']}") or {}
    served = counters.get("served") or {}
    base = node["base"]
    delta = {pod: n - base.get(pod, 0) for pod, n in served.items() if n > base.get(pod, 0)}
    if sum(delta.values()) < arg.get("min_requests", 1):
        return None
    if len(delta) < arg.get("distinct_pods", 0):
        return None
    if "skipped" in arg:
        skipped = _matching_pods(cluster, arg["skipped"])
        if not _count_ok(len(skipped), arg["skipped"]) or not skipped:
            return None
        if any(p["metadata"]["name"] in delta for p in skipped):
            return None
    node["at"] = seq
    return seq


def _hist_pending(tracker: GoalTracker, arg: Obj, node: Obj, cluster: Cluster,
                  events: list[list[Any]], seq: int) -> int | None:
    if "at" in node:
        return node["at"]
    reqs = parse_selector(arg["selector"])
    for row in events:
        if row[0] <= node.get("seen", node["since"]):
            continue
        node["seen"] = row[0]
        kind, name, reason = row[2], row[4], row[6]
        if kind != "Pod":
            continue
        if reason == "FailedScheduling" and name not in node["pending"]:
            pod = cluster.store.get("Pod", NAMESPACE, name)
            if pod is not None and selector_matches(reqs, pod["metadata"].get("labels") or {}):
                node["pending"].append(name)
        elif reason == "Scheduled" and name in node["pending"]:
            node["at"] = row[0]
            return row[0]
    return None


_HISTORY: dict[str, Callable[[GoalTracker, Obj, Obj, Cluster, list[list[Any]], int],
                             int | None]] = {
    "event": _hist_event,
    "replaced": _hist_replaced,
    "traffic": _hist_traffic,
    "pending_then_scheduled": _hist_pending,
}

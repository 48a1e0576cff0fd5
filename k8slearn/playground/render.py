"""Cluster -> HTML fragments for the board (the page and the socket render the same partials).

Every top-level element of a socket message carries a stable id and ``hx-swap-oob``; htmx's ws
extension swaps each one out of band. A change re-renders only what it touched, so a presenter's
cluster watched by 500 students costs one small render per change, not a full board.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from django.template import loader
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import mark_safe

from k8slearn.playground import board as vm
from k8slearn.playground import why as whys

if TYPE_CHECKING:
    from django.template.backends.django import Template

    from k8slearn.sim.cluster import Cluster

Changes = dict[str, dict[str, Any]]
EVENTS_KEPT = vm.EVENTS_SHOWN  # rows the browser keeps; older ones get a delete
OUTPUT_CAP = 20_000  # characters of one kubectl output shown; the rest is cut with a note
ANNOUNCE_MAX = 3  # lines per update in the live region (more is noise for a screen reader)
_SERVICE_KINDS = ("Service", "Endpoints", "EndpointSlice")
_DEPLOY_KINDS = ("Deployment", "ReplicaSet")
# What this process last sent per (sandbox, lang): the panels' view-models (a panel whose view
# did not change is not sent again), the traffic counters (not API objects, so the store's change
# log cannot report them) and play/pause/speed (the sandbox's, not the cluster's).
_sent: dict[tuple[str, str], dict[str, Any]] = {}


def _sandbox_key(cluster: Cluster, sandbox: Any) -> str:
    return str(getattr(sandbox, "id", None) or id(cluster))


def _memo(cluster: Cluster, sandbox: Any) -> dict[str, Any]:
    return _sent.setdefault((_sandbox_key(cluster, sandbox), translation.get_language()), {})


def forget(sandbox_id: str) -> None:
    """Drop what was remembered for a sandbox that left this process."""
    for key in [k for k in _sent if k[0] == sandbox_id]:
        del _sent[key]


@cache
def _tpl(name: str) -> Template:
    return loader.get_template(f"playground/{name}")


def _render(name: str, ctx: dict[str, Any]) -> str:
    return _tpl(name).render(ctx)


# Rendered cards and event rows, keyed by everything they show (frozen view-models): a board
# re-sent to 500 students, or a column redrawn for one pod, renders each unchanged card once.
_CACHE: dict[tuple[Any, ...], str] = {}
CACHE_LIMIT = 20_000


def _cached(name: str, var: str, view: Any, oob: bool = False) -> str:
    key = (name, translation.get_language(), oob, view)
    html = _CACHE.get(key)
    if html is None:
        if len(_CACHE) >= CACHE_LIMIT:
            _CACHE.clear()
        html = _CACHE[key] = _render(name, {var: view, "oob": oob})
    return html


@dataclass(frozen=True, slots=True)
class _NodeButtons:
    name: str
    ready: str
    cordoned: bool


@dataclass(frozen=True, slots=True)
class _DeploymentButtons:
    id: str
    name: str
    replicas: int
    image: str
    previous_image: str


@dataclass(frozen=True, slots=True)
class _ServiceButtons:
    name: str
    stream_rate: int


@dataclass(frozen=True, slots=True)
class _ServiceSummary:
    ready_count: int
    total: int
    served_total: int
    failed: int


@dataclass(frozen=True, slots=True)
class _ServiceHead:
    name: str
    type: str
    cluster_ip: str
    ports: str
    dns: str
    selector: str


# The buttons and rows below are cached by exactly what they show: a panel redrawn because one
# number changed re-renders only that number's part. (mark_safe: autoescaped template output.)
def _with_cards(cols: list[vm.Column]) -> list[vm.Column]:
    for col in cols:
        col.cards = mark_safe("".join(_cached("_pod.html", "pod", p) for p in col.pods))
        if col.node is not None:
            n = col.node
            n.actions = mark_safe(_cached("_node_actions.html", "node",
                                          _NodeButtons(n.name, n.ready, n.cordoned)))
    return cols


def _with_deployment_buttons(views: list[vm.DeploymentView]) -> list[vm.DeploymentView]:
    for d in views:
        d.actions = mark_safe(_cached("_deployment_actions.html", "d", _DeploymentButtons(
            d.id, d.name, d.replicas, d.image, d.previous_image)))
    return views


def _with_service_rows(views: list[vm.ServiceView]) -> list[vm.ServiceView]:
    for sv in views:
        sv.rows = mark_safe("".join(_cached("_endpoint_row.html", "e", e) for e in sv.endpoints))
        sv.actions = mark_safe(_cached("_service_actions.html", "s", _ServiceButtons(sv.name,
                                                                          sv.stream_rate)))
        sv.head = mark_safe(_cached("_service_head.html", "s", _ServiceHead(
            sv.name, sv.type, sv.cluster_ip, sv.ports, sv.dns, sv.selector)))
        sv.summary = mark_safe(_cached("_service_summary.html", "s", _ServiceSummary(
            sv.ready_count, len(sv.endpoints), sv.served_total, sv.failed)))
        sv.thead = mark_safe(_cached("_endpoint_thead.html", "s", None))
    return views


def _rows(views: list[vm.EventView]) -> str:
    return mark_safe("".join(_cached("_event_row.html", "ev", v) for v in views))


def _sandbox_ctx(cluster: Cluster, sandbox: Any) -> dict[str, Any]:
    return {
        "clock": {"text": vm.clock_text(cluster.now), "now_ms": cluster.clock.now_ms,
                  "speed": getattr(sandbox, "speed", 1),
                  "paused": getattr(sandbox, "paused", False),
                  "next_due": cluster.next_due()},
        "sandbox": sandbox,
    }


# -- whole board ---------------------------------------------------------------------------
def board_context(cluster: Cluster, lang: str, *, sandbox: Any = None) -> dict[str, Any]:
    """Context for ``playground/board.html`` (the /play/ page includes it with this)."""
    ctx = _sandbox_ctx(cluster, sandbox)
    ctx["board"] = board = vm.board(cluster)
    _with_cards(board.columns)
    _with_deployment_buttons(board.deployments)
    _with_service_rows(board.services)
    ctx["event_rows"] = _rows(list(reversed(
        _event_views(cluster, cluster.events[-vm.EVENTS_SHOWN:], lang))))
    ctx["goals"] = _goal_items(sandbox, lang)
    ctx["oob"] = False
    return ctx


def full_board(cluster: Cluster, lang: str, *, sandbox: Any = None,
               to_group: bool = False) -> str:
    """Every fragment: the whole board, swapped in as one element (#board). ``to_group``: it
    goes to every socket of the sandbox, so later updates may leave out what it holds (a board
    for one page or one new socket must not: the others have not seen it)."""
    with translation.override(lang):
        ctx = board_context(cluster, lang, sandbox=sandbox)
        ctx["oob"] = True
        board = ctx["board"]
        if to_group:
            _memo(cluster, sandbox).update({
                "controls": (ctx["clock"]["speed"], ctx["clock"]["paused"]),
                "traffic": vm.traffic_fingerprint(cluster), "deployments": board.deployments,
                "services": board.services, "configmaps": board.configmaps})
        return _render("board.html", ctx)


# -- what changed --------------------------------------------------------------------------
def changed_fragments(cluster: Cluster, changes: Changes | None, lang: str, *,
                      sandbox: Any = None, since_seq: int | None = None,
                      with_clock: bool = True) -> str:
    """Fragments for the objects in ``changes`` (``cluster.changes_since(v)``), new event rows,
    and (``with_clock``) the clock. None -> the full board. ``since_seq`` (event seq at version
    v) makes the event rows exact; without it they are found from the changed Event objects."""
    if changes is None:
        return full_board(cluster, lang, sandbox=sandbox, to_group=True)
    with translation.override(lang):
        parts: list[str] = []
        if "Node" in changes:
            parts.append(_columns(cluster))  # rare (fail/recover/cordon/add): redo all columns
        elif "Pod" in changes:
            parts.append(_pods(cluster, changes, sandbox))
        if any(k in changes for k in _DEPLOY_KINDS):
            parts.append(_deployments(cluster, sandbox))
        if any(k in changes for k in _SERVICE_KINDS) or _traffic_changed(cluster, sandbox):
            parts.append(_services(cluster, sandbox))
        if "ConfigMap" in changes:
            parts.append(_configmaps(cluster, sandbox))
        if "Event" in changes:
            parts.append(_new_events(cluster, changes, lang, since_seq))
        if with_clock:
            parts.append(_clock(cluster, sandbox))
        return "".join(parts)


def _columns(cluster: Cluster) -> str:
    cols = _with_cards(vm.columns(cluster))
    return _render("_columns.html", {"board": {"columns": cols}, "oob": True})


def _pods(cluster: Cluster, changes: Changes, sandbox: Any = None) -> str:
    """Cards of changed pods; a pod that just left the Pending column (bound) redraws both
    lists it moved between, since the browser cannot tell where its old card is."""
    names = vm.node_names(cluster)
    just_bound = _just_bound(changes)
    out: list[str] = []
    redo: set[str] = set()
    touched: set[str] = set()  # nodes whose capacity bar to redraw
    now = cluster.now
    for key, pod in changes["Pod"].items():
        if pod is None:
            ns, _, name = key.partition("/")
            out.append(f'<div id="{escape(vm.dom_id("pod", ns, name))}" hx-swap-oob="delete">'
                       "</div>")
            touched |= names  # which node it was on is gone with it
            continue
        view = vm.pod_view(pod, now, names)
        touched.add(view.column)
        if view.column == vm.PENDING or key in just_bound:
            redo.update((vm.PENDING, view.column))
        else:
            out.append(_cached("_pod.html", "pod", view, oob=True))
    for col in vm.columns(cluster, only=redo, nodes_only=touched - redo):
        if col.key in redo:
            _with_cards([col])
            out.append(_render("_pod_list.html", {"col": col, "oob": True}))
        if col.node is not None:
            out.append(_capacity(cluster, sandbox, col.node))
    return "".join(out)


@dataclass(frozen=True, slots=True)
class _Capacity:
    name: str
    cpu_pct: int
    mem_pct: int
    cpu_text: str
    mem_text: str
    pod_count: int


def _capacity(cluster: Cluster, sandbox: Any, node: vm.NodeView) -> str:
    """A node's capacity bars, unless its browsers show these numbers already."""
    view = _Capacity(node.name, node.cpu_pct, node.mem_pct, node.cpu_text, node.mem_text,
                     node.pod_count)
    memo = _memo(cluster, sandbox)
    if memo.get(f"cap-{node.name}") == view:
        return ""
    memo[f"cap-{node.name}"] = view
    return _cached("_capacity.html", "node", view, oob=True)


def _just_bound(changes: Changes) -> set[str]:
    """Pods the scheduler bound in this batch (their Scheduled event is in it too)."""
    out = set()
    for ev in (changes.get("Event") or {}).values():
        if ev is not None and ev.get("reason") == "Scheduled":
            inv = ev.get("involvedObject") or {}
            out.add(f"{inv.get('namespace') or 'default'}/{inv.get('name')}")
    return out


def _panel(cluster: Cluster, sandbox: Any, name: str, views: list[Any]) -> str:
    """``_<name>.html`` for ``views``, or "" when this sandbox's browsers already have it."""
    memo = _memo(cluster, sandbox)
    if memo.get(name) == views:
        return ""
    memo[name] = views
    return _render(f"_{name}.html", {name: views, "oob": True})


def _deployments(cluster: Cluster, sandbox: Any = None) -> str:
    views = _with_deployment_buttons(vm.deployments(cluster))
    return _panel(cluster, sandbox, "deployments", views)


def _services(cluster: Cluster, sandbox: Any = None) -> str:
    return _panel(cluster, sandbox, "services", _with_service_rows(vm.services(cluster)))


def _configmaps(cluster: Cluster, sandbox: Any = None) -> str:
    return _panel(cluster, sandbox, "configmaps", vm.configmaps(cluster))


def _traffic_changed(cluster: Cluster, sandbox: Any) -> bool:
    # Traffic counters live in cluster.state, not the store: remember what was drawn.
    memo = _memo(cluster, sandbox)
    fp = vm.traffic_fingerprint(cluster)
    if memo.get("traffic", "") == fp:  # (nothing drawn yet: no traffic shown)
        return False
    memo["traffic"] = fp
    return True


# -- events --------------------------------------------------------------------------------
def _event_views(cluster: Cluster, events: list[dict[str, Any]], lang: str) -> list[vm.EventView]:
    burst = whys.Burst(events)
    return [vm.EventView(
        id=f"event-{e['seq']}", seq=e["seq"], time=vm.clock_text(e["time_ms"] / 1000),
        type=e["type"], reason=e["reason"], kind=e["kind"], name=e["name"],
        message=e["message"], why=whys.why_text(e, lang, cluster, burst),
        important=whys.important(e)) for e in events]


def _new_events(cluster: Cluster, changes: Changes, lang: str, since_seq: int | None) -> str:
    log = cluster.events
    if since_seq is None:
        new = _events_from_changes(log, changes)
    else:
        new = [e for e in log[-vm.EVENTS_SHOWN * 4:] if e["seq"] > since_seq]
    new = new[-EVENTS_KEPT:]
    if not new:
        return ""
    views = _event_views(cluster, new, lang)
    first, last = new[0]["seq"], new[-1]["seq"]
    drop = range(max(1, first - EVENTS_KEPT), max(1, last - EVENTS_KEPT + 1))
    return _render("_event_rows.html", {
        "event_rows": _rows(list(reversed(views))), "drop": [f"event-{s}" for s in drop],
        "announce": [v.why for v in views if v.important][-ANNOUNCE_MAX:]})


def _events_from_changes(log: list[dict[str, Any]], changes: Changes) -> list[dict[str, Any]]:
    """The newest run of occurrences whose Event objects changed in this batch."""
    series = set()
    for ev in changes["Event"].values():
        if ev is not None:
            inv = ev.get("involvedObject") or {}
            series.add((inv.get("name"), ev.get("reason"), ev.get("message")))
    out = []
    for e in reversed(log):
        if (e["name"], e["reason"], e["message"]) not in series:
            break
        out.append(e)
    return out[::-1]


# -- small fragments P1 sends on its own ---------------------------------------------------
def _clock(cluster: Cluster, sandbox: Any) -> str:
    ctx = _sandbox_ctx(cluster, sandbox)
    ctx["oob"] = True
    html = _render("_clock.html", ctx)
    # The buttons only when play/pause/speed changed (see _time_controls.html for why).
    memo = _memo(cluster, sandbox)
    state = (ctx["clock"]["speed"], ctx["clock"]["paused"])
    if memo.get("controls") != state:
        memo["controls"] = state
        html += _render("_time_controls.html", ctx)
    return html


def sync(cluster: Cluster, lang: str, *, sandbox: Any = None) -> str:
    """For a socket whose page shows the current objects: the clock, the time controls and
    the goals, which may have moved since the page was drawn."""
    with translation.override(lang):
        ctx = _sandbox_ctx(cluster, sandbox)
        ctx["oob"] = True
        return (_render("_clock.html", ctx) + _render("_time_controls.html", ctx)
                + goals(cluster, lang, sandbox=sandbox))


def clock(cluster: Cluster, lang: str, *, sandbox: Any = None) -> str:
    """The heartbeat: the virtual clock, plus what changed outside the store's change log
    (the time controls after pause/speed, the Service panels after traffic)."""
    with translation.override(lang):
        html = _clock(cluster, sandbox)
        if _traffic_changed(cluster, sandbox):
            html += _services(cluster, sandbox)
        return html


def terminal_output(line: str, result: Any, lang: str) -> str:
    """One command and its output, appended to the terminal. ``result`` has ``output`` and
    ``error`` (a StepResult) or ``stdout``/``stderr`` (a KubectlResult)."""
    out = getattr(result, "output", None)
    if out is None:
        out = getattr(result, "stdout", "") or ""
    err = getattr(result, "error", None)
    if err is None:
        err = getattr(result, "stderr", "") or ""
    text = out + (("\n" if out and not out.endswith("\n") else "") + err if err else "")
    capped = len(text) > OUTPUT_CAP
    with translation.override(lang):
        return _render("_terminal_entry.html", {
            "line": line, "text": text[:OUTPUT_CAP], "capped": capped, "cap": OUTPUT_CAP,
            "failed": bool(err) and not out})


def error(message: str, lang: str) -> str:
    """A message for the learner in the alert area (replaces the previous one)."""
    with translation.override(lang):
        return _render("_error.html", {"message": message, "oob": True})


def _goal_items(sandbox: Any, lang: str) -> list[dict[str, Any]]:
    reached = getattr(sandbox, "reached", {}) or {}
    items = []
    for ex in getattr(sandbox, "exercises", None) or ():
        ex_id = _field(ex, "id", "")
        # The exercise's short title (its prompt, with hints, stands above the board).
        text = _field(ex, "title", None) or _field(ex, "prompt", "")
        items.append({"id": ex_id, "title": _lang_text(text, lang),
                      "reached": bool(reached.get(ex_id))})
    return items


def _field(obj: Any, name: str, default: Any = None) -> Any:
    return obj.get(name, default) if isinstance(obj, dict) else getattr(obj, name, default)


def _lang_text(value: Any, lang: str) -> str:
    if isinstance(value, dict):
        return str(value.get(lang) or value.get("en") or value.get("ko") or "")
    return str(value or "")


def goals(cluster: Cluster | None, lang: str, *, sandbox: Any = None) -> str:
    """The exercise list with reached marks (empty element when there are none)."""
    with translation.override(lang):
        return _render("_goals.html", {"goals": _goal_items(sandbox, lang), "oob": True})

"""Cluster -> HTML fragments for the board (the page and the socket render the same partials).

Every top-level element of a socket message carries a stable id and ``hx-swap-oob``; htmx's ws
extension swaps each one out of band. A change re-renders only what it touched, so a presenter's
cluster watched by 500 students costs one small render per change, not a full board.
"""

from __future__ import annotations

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
# What this process last drew per (sandbox, lang) for the two things the store's change log
# cannot report: traffic counters (cluster.state) and play/pause/speed (the sandbox's).
_traffic_seen: dict[tuple[str, str], str] = {}
_controls_seen: dict[tuple[str, str], tuple[int, bool]] = {}


def _sandbox_key(cluster: Cluster, sandbox: Any) -> str:
    return str(getattr(sandbox, "id", None) or id(cluster))


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


def _with_cards(cols: list[vm.Column]) -> list[vm.Column]:
    for col in cols:  # (mark_safe: each card is autoescaped template output)
        col.cards = mark_safe("".join(_cached("_pod.html", "pod", p) for p in col.pods))
    return cols


def _rows(views: list[vm.EventView]) -> str:
    return mark_safe("".join(_cached("_event_row.html", "ev", v) for v in views))


def _sandbox_ctx(cluster: Cluster, sandbox: Any) -> dict[str, Any]:
    return {
        "clock": {"text": vm.clock_text(cluster.now), "speed": getattr(sandbox, "speed", 1),
                  "paused": getattr(sandbox, "paused", False),
                  "next_due": cluster.next_due()},
        "sandbox": sandbox,
    }


# -- whole board ---------------------------------------------------------------------------
def board_context(cluster: Cluster, lang: str, *, sandbox: Any = None) -> dict[str, Any]:
    """Context for ``playground/board.html`` (the /play/ page includes it with this)."""
    ctx = _sandbox_ctx(cluster, sandbox)
    ctx["board"] = vm.board(cluster)
    _with_cards(ctx["board"].columns)
    ctx["event_rows"] = _rows(list(reversed(
        _event_views(cluster, cluster.events[-vm.EVENTS_SHOWN:], lang))))
    ctx["goals"] = _goal_items(sandbox, lang)
    ctx["oob"] = False
    return ctx


def full_board(cluster: Cluster, lang: str, *, sandbox: Any = None) -> str:
    """Every fragment: the whole board, swapped in as one element (#board)."""
    with translation.override(lang):
        ctx = board_context(cluster, lang, sandbox=sandbox)
        ctx["oob"] = True
        key = (_sandbox_key(cluster, sandbox), lang)
        _controls_seen[key] = (ctx["clock"]["speed"], ctx["clock"]["paused"])
        _traffic_seen[key] = vm.traffic_fingerprint(cluster)
        return _render("board.html", ctx)


# -- what changed --------------------------------------------------------------------------
def changed_fragments(cluster: Cluster, changes: Changes | None, lang: str, *,
                      sandbox: Any = None, since_seq: int | None = None) -> str:
    """Fragments for the objects in ``changes`` (``cluster.changes_since(v)``), new event rows,
    and the clock. None -> the full board. ``since_seq`` (event seq at version v) makes the
    event rows exact; without it they are found from the changed Event objects."""
    if changes is None:
        return full_board(cluster, lang, sandbox=sandbox)
    with translation.override(lang):
        parts: list[str] = []
        if "Node" in changes:
            parts.append(_columns(cluster))  # rare (fail/recover/cordon/add): redo all columns
        elif "Pod" in changes:
            parts.append(_pods(cluster, changes))
        if any(k in changes for k in _DEPLOY_KINDS):
            parts.append(_deployments(cluster))
        if any(k in changes for k in _SERVICE_KINDS) or _traffic_changed(cluster, sandbox, lang):
            parts.append(_services(cluster))
        if "ConfigMap" in changes:
            parts.append(_configmaps(cluster))
        if "Event" in changes:
            parts.append(_new_events(cluster, changes, lang, since_seq))
        parts.append(_clock(cluster, sandbox))
        return "".join(parts)


def _columns(cluster: Cluster) -> str:
    cols = _with_cards(vm.columns(cluster))
    return _render("_columns.html", {"board": {"columns": cols}, "oob": True})


def _pods(cluster: Cluster, changes: Changes) -> str:
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
    for col in vm.columns(cluster, only=redo | touched):
        if col.key in redo:
            _with_cards([col])
            out.append(_render("_pod_list.html", {"col": col, "oob": True}))
        if col.node is not None:
            out.append(_render("_capacity.html", {"node": col.node, "oob": True}))
    return "".join(out)


def _just_bound(changes: Changes) -> set[str]:
    """Pods the scheduler bound in this batch (their Scheduled event is in it too)."""
    out = set()
    for ev in (changes.get("Event") or {}).values():
        if ev is not None and ev.get("reason") == "Scheduled":
            inv = ev.get("involvedObject") or {}
            out.add(f"{inv.get('namespace') or 'default'}/{inv.get('name')}")
    return out


def _deployments(cluster: Cluster) -> str:
    return _render("_deployments.html", {"deployments": vm.deployments(cluster), "oob": True})


def _services(cluster: Cluster) -> str:
    return _render("_services.html", {"services": vm.services(cluster), "oob": True})


def _configmaps(cluster: Cluster) -> str:
    return _render("_configmaps.html", {"configmaps": vm.configmaps(cluster), "oob": True})


def _traffic_changed(cluster: Cluster, sandbox: Any, lang: str) -> bool:
    # Traffic counters live in cluster.state, not the store: remember what was drawn. Another
    # process may have drawn newer numbers; then this redraws once more, which is harmless.
    key = (_sandbox_key(cluster, sandbox), lang)
    fp = vm.traffic_fingerprint(cluster)
    if _traffic_seen.get(key) == fp:
        return False
    _traffic_seen[key] = fp
    return bool(fp)


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
    key = (_sandbox_key(cluster, sandbox), translation.get_language())
    state = (ctx["clock"]["speed"], ctx["clock"]["paused"])
    if _controls_seen.get(key) != state:
        _controls_seen[key] = state
        html += _render("_time_controls.html", ctx)
    return html


def clock(cluster: Cluster, lang: str, *, sandbox: Any = None) -> str:
    """The heartbeat: the virtual clock, plus what changed outside the store's change log
    (the time controls after pause/speed, the Service panels after traffic)."""
    with translation.override(lang):
        html = _clock(cluster, sandbox)
        if _traffic_changed(cluster, sandbox, lang):
            html += _services(cluster)
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
        # The exercise's words (``prompt``, or a ``title``); its ``goal`` is a spec, not text.
        text = _field(ex, "prompt", None) or _field(ex, "title", "")
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

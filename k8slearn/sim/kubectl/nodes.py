"""cordon / uncordon / drain (kubectl/pkg/drain), logs and top."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from k8slearn.sim import apiserver
from k8slearn.sim.errors import ApiError
from k8slearn.sim.kubectl.get import list_objects, no_resources, selector_filter
from k8slearn.sim.kubectl.parse import CmdError, Parsed
from k8slearn.sim.kubectl.result import KubectlResult
from k8slearn.sim.kubectl.tabwriter import tabwrite
from k8slearn.sim.kubectl.util import api_error_text, get_object, namespace, resolve_type
from k8slearn.sim.objects import cpu_millis, memory_bytes

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
NODE = apiserver.RESOURCES["Node"]


def _nodes(cluster: Cluster, p: Parsed) -> list[Obj]:
    reqs = selector_filter(p)
    if reqs is not None:
        return list_objects(cluster, NODE, None, reqs)
    if not p.args:
        raise CmdError("error: USAGE: cordon NODE [flags]\nSee 'kubectl cordon -h' for help and "
                       "examples".replace("cordon", p.command.split(" ")[0]))
    out = []
    for a in p.args:
        name = a.split("/", 1)[1] if a.startswith(("node/", "nodes/")) else a
        out.append(get_object(cluster, NODE, "", name))
    return out


def _set_unschedulable(cluster: Cluster, node: Obj, value: bool) -> bool:
    if bool((node.get("spec") or {}).get("unschedulable")) == value:
        return False
    new = copy.deepcopy(node)
    if value:
        new.setdefault("spec", {})["unschedulable"] = True
    else:
        new.setdefault("spec", {}).pop("unschedulable", None)
    apiserver.update(cluster, new)
    return True


def cmd_cordon(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    cordon = p.command == "cordon"
    out = []
    for node in _nodes(cluster, p):
        name = node["metadata"]["name"]
        changed = _set_unschedulable(cluster, node, cordon)
        word = "cordoned" if cordon else "uncordoned"
        out.append(f"node/{name} {word}\n" if changed else f"node/{name} already {word}\n")
    return KubectlResult(0, "".join(out), "")


def _controller(pod: Obj) -> Obj | None:
    for ref in pod["metadata"].get("ownerReferences") or ():
        if ref.get("controller"):
            return ref
    return None


def cmd_drain(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    nodes = _nodes(cluster, p)
    out: list[str] = []
    err: list[str] = []
    failures: list[str] = []
    pending: list[str] = []
    for node in nodes:
        name = node["metadata"]["name"]
        changed = _set_unschedulable(cluster, node, True)
        out.append(f"node/{name} cordoned\n" if changed else f"node/{name} already cordoned\n")
    for node in nodes:
        name = node["metadata"]["name"]
        pods = [pd for pd in cluster.store.pods_on_node(name)
                if pd.get("status", {}).get("phase") not in ("Succeeded", "Failed")]
        pods.sort(key=lambda pd: (pd["metadata"].get("namespace", ""), pd["metadata"]["name"]))
        fatal: dict[str, list[str]] = {}
        warn: dict[str, list[str]] = {}
        evict = []
        for pd in pods:
            ref = f"{pd['metadata'].get('namespace')}/{pd['metadata']['name']}"
            ctl = _controller(pd)
            if ctl is not None and ctl.get("kind") == "DaemonSet":
                key = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
                if p.get("ignore-daemonsets"):
                    warn.setdefault("ignoring DaemonSet-managed Pods", []).append(ref)
                else:
                    fatal.setdefault(key, []).append(ref)
                continue
            ok = True
            if ctl is None:
                if p.get("force"):
                    warn.setdefault("deleting Pods that declare no controller", []).append(ref)
                else:
                    # kubectl's constant already starts with "cannot delete", and errors()
                    # prefixes it again: real output says "cannot delete cannot delete Pods…".
                    fatal.setdefault("cannot delete Pods that declare no controller (use --force "
                                     "to override)",
                                     []).append(ref)
                    ok = False
            if any("emptyDir" in v for v in (pd.get("spec") or {}).get("volumes") or ()):
                if p.get("delete-emptydir-data") or p.get("delete-local-data"):
                    warn.setdefault("deleting Pods with local storage", []).append(ref)
                else:
                    fatal.setdefault("Pods with local storage (use --delete-emptydir-data to "
                                     "override)", []).append(ref)
                    ok = False
            if ok:
                evict.append(pd)
        if fatal:
            msgs = [f"cannot delete {k}: {', '.join(v)}" for k, v in fatal.items()]
            text = msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"
            err.append(f'error: unable to drain node "{name}" due to error: {text}, '
                       "continuing command...\n")
            failures.extend(msgs)
            pending.append(name)
            continue
        if warn:
            err.append("Warning: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in warn.items())
                       + "\n")
        for pd in evict:
            meta = pd["metadata"]
            out.append(f"evicting pod {meta.get('namespace')}/{meta['name']}\n")
        for pd in evict:
            meta = pd["metadata"]
            try:
                apiserver.delete(cluster, "Pod", meta.get("namespace"), meta["name"],
                                 grace_period=p.get("grace-period"))
            except ApiError as exc:
                err.append(api_error_text(exc) + "\n")
                continue
            out.append(f"pod/{meta['name']} evicted\n")
        out.append(f"node/{name} drained\n")
    if pending:
        err.append("There are pending nodes to be drained:\n" +
                   "".join(f" {n}\n" for n in pending))
        # An aggregate error: kubectl prints each one on its own line, without "error: ".
        err.append("".join(f"{f}\n" for f in failures))
        return KubectlResult(1, "".join(out), "".join(err))
    return KubectlResult(0, "".join(out), "".join(err))


# -- logs ------------------------------------------------------------------------------------
def _pick_pod(cluster: Cluster, p: Parsed, ns: str) -> tuple[Obj, str]:
    """(pod, stderr note) for `logs POD`, `logs pod/x`, `logs deploy/web`."""
    if not p.args:
        raise CmdError("error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
                       "POD or TYPE/NAME is a required argument for the logs command\n"
                       "See 'kubectl logs -h' for help and examples")
    target = p.args[0]
    if "/" not in target:
        return get_object(cluster, apiserver.RESOURCES["Pod"], ns, target), ""
    t, _, name = target.partition("/")
    res = resolve_type(t)
    obj = get_object(cluster, res, ns, name)
    if res.kind == "Pod":
        return obj, ""
    if res.kind not in ("Deployment", "ReplicaSet", "Service"):
        raise CmdError(f"error: cannot get the logs from {res.plural}.{res.group}".rstrip("."))
    if res.kind == "Service":
        sel = obj["spec"].get("selector") or {}
        match = {"matchLabels": sel}
    else:
        match = obj["spec"].get("selector") or {}
    from k8slearn.sim.objects import match_label_selector

    pods = [pd for pd in cluster.store.list("Pod", ns)
            if match_label_selector(match, pd["metadata"].get("labels") or {})]
    if not pods:
        raise CmdError("error: timed out waiting for the condition")
    pods.sort(key=lambda pd: pd["metadata"]["name"])
    note = f"Found {len(pods)} pods, using pod/{pods[0]['metadata']['name']}\n" \
        if len(pods) > 1 else ""
    return pods[0], note


def cmd_logs(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    if p.get("follow"):
        raise CmdError("error: -f/--follow is not available in this sandbox: logs do not "
                       "stream; run the command again to see new lines")
    ns = namespace(p)
    pod, note = _pick_pod(cluster, p, ns)
    name = pod["metadata"]["name"]
    containers = [c["name"] for c in pod["spec"].get("containers") or ()]
    inits = [c["name"] for c in pod["spec"].get("initContainers") or ()]
    cname = p.get("container") or (p.args[1] if len(p.args) > 1 else None)
    if cname is None:
        cname = containers[0]
        if len(containers) + len(inits) > 1:
            note += (f'Defaulted container "{cname}" out of: '
                     f"{', '.join(containers + [i + ' (init)' for i in inits])}\n")
    elif cname not in containers and cname not in inits:
        raise CmdError(f"error: container {cname} is not valid for pod {name}")
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    statuses = statuses + ((pod.get("status") or {}).get("initContainerStatuses") or [])
    cs = next((s for s in statuses if s.get("name") == cname), None)
    previous = bool(p.get("previous"))
    if previous:
        if cs is None or not (cs.get("lastState") or {}).get("terminated"):
            raise CmdError(f'Error from server (BadRequest): previous terminated container '
                           f'"{cname}" in pod "{name}" not found', stdout="")
    elif cs is None or not cs.get("state") or (
            "waiting" in cs["state"] and not (cs.get("lastState") or {}).get("terminated")):
        # A container that never ran has no log; a crash-looping one shows its last run.
        reason = ((cs or {}).get("state") or {}).get("waiting", {}).get("reason") or \
            "ContainerCreating"
        raise CmdError(f'Error from server (BadRequest): container "{cname}" in pod "{name}" is '
                       f"waiting to start: {reason}", stdout="")
    try:
        from k8slearn.sim import kubelet

        text = kubelet.container_logs(cluster, ns, name, cname, previous)  # type: ignore[attr-defined]
    except (AttributeError, NotImplementedError):
        text = ""
    tail = p.get("tail")
    if tail is not None and tail >= 0:
        lines = text.splitlines(keepends=True)
        text = "".join(lines[-tail:]) if tail else ""
    return KubectlResult(0, text, note)


# -- top -------------------------------------------------------------------------------------
def _usage(cluster: Cluster, pod: Obj) -> dict[str, tuple[int, int]]:
    try:
        from k8slearn.sim import kubelet

        return dict(kubelet.usage(cluster, pod))  # type: ignore[attr-defined]
    except (AttributeError, NotImplementedError):
        raise CmdError("error: Metrics API not available") from None


def _top_table(rows: list[list[str]]) -> str:
    # top prints every cell tab-terminated, so the last column is padded too.
    return tabwrite("".join("".join(c + "\t" for c in r) + "\n" for r in rows), 6, 3)


def cmd_top_pod(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    all_ns = bool(p.get("all-namespaces"))
    ns = None if all_ns else namespace(p)
    reqs = selector_filter(p)
    pods = list_objects(cluster, apiserver.RESOURCES["Pod"], ns, reqs)
    if p.args:
        pods = [pd for pd in pods if pd["metadata"]["name"] == p.args[0]]
        if not pods:
            raise CmdError(f'error: pods "{p.args[0]}" not found')
    pods = [pd for pd in pods if (pd.get("status") or {}).get("phase") == "Running"]
    if not pods:
        return KubectlResult(0, "", no_resources(ns, True))
    head = (["NAMESPACE"] if all_ns else []) + ["NAME"]
    rows = [head + (["NAME"] if p.get("containers") else []) + ["CPU(cores)", "MEMORY(bytes)"]]
    for pd in pods:
        usage = _usage(cluster, pd)
        pre = ([pd["metadata"].get("namespace", "")] if all_ns else []) + [pd["metadata"]["name"]]
        if p.get("containers"):
            for cname, (cpu, mem) in usage.items():
                rows.append(pre + [cname, f"{cpu}m", f"{mem // (1024 * 1024)}Mi"])
        else:
            cpu = sum(u[0] for u in usage.values())
            mem = sum(u[1] for u in usage.values())
            rows.append(pre + [f"{cpu}m", f"{mem // (1024 * 1024)}Mi"])
    if p.get("no-headers"):
        rows = rows[1:]
    return KubectlResult(0, _top_table(rows), "")


def cmd_top_node(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    reqs = selector_filter(p)
    nodes = list_objects(cluster, NODE, None, reqs)
    if p.args:
        nodes = [n for n in nodes if n["metadata"]["name"] == p.args[0]]
        if not nodes:
            raise CmdError(f'Error from server (NotFound): nodes "{p.args[0]}" not found')
    rows = [["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"]]
    for n in nodes:
        name = n["metadata"]["name"]
        cpu = mem = 0
        for pd in cluster.store.pods_on_node(name):
            if (pd.get("status") or {}).get("phase") == "Running":
                for c, m in _usage(cluster, pd).values():
                    cpu += c
                    mem += m
        alloc = (n.get("status") or {}).get("allocatable") or {}
        acpu = cpu_millis(alloc.get("cpu", "1")) or 1
        amem = memory_bytes(alloc.get("memory", "1")) or 1
        rows.append([name, f"{cpu}m", f"{cpu * 100 // acpu}%", f"{mem // (1024 * 1024)}Mi",
                     f"{mem * 100 // amem}%"])
    if p.get("no-headers"):
        rows = rows[1:]
    return KubectlResult(0, _top_table(rows), "")


def cmd_top_bare(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    if p.args:
        from k8slearn.sim.kubectl.parse import unknown_command

        raise unknown_command(p.args[0], "kubectl top", ["node", "pod"])
    raise CmdError("error: Required resource not specified.\nSee 'kubectl top -h' for help and "
                   "examples")

"""``kubectl get`` output: human tables (printers.go), ``-o json|yaml|name``, HumanDuration.

Row functions take the object as stored (real Kubernetes JSON) and the current virtual time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml

from k8slearn.sim.kubectl.durations import age, human_duration, short_human_duration
from k8slearn.sim.objects import parse_rfc3339

Obj = dict[str, Any]
__all__ = ["age", "human_duration", "short_human_duration"]


# -- pods ----------------------------------------------------------------------------------
def _restartable(c: Obj | None) -> bool:
    return bool(c) and c.get("restartPolicy") == "Always"  # type: ignore[union-attr]


def _cond_true(status: Obj, ctype: str) -> bool:
    return any(c.get("type") == ctype and c.get("status") == "True"
               for c in status.get("conditions") or ())


def pod_columns(pod: Obj, now: float) -> tuple[str, str, str, int, float | None]:
    """(READY, STATUS, RESTARTS cell, restart count, last restart time) as printPod computes."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    meta = pod.get("metadata") or {}
    restarts = 0
    sidecar_restarts = 0
    total = len(spec.get("containers") or [])
    ready = 0
    last_restart: float | None = None
    last_sidecar_restart: float | None = None
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for cond in status.get("conditions") or ():
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    inits = {c.get("name"): c for c in spec.get("initContainers") or ()}
    total += sum(1 for c in inits.values() if _restartable(c))

    def finished(cs: Obj) -> float | None:
        term = (cs.get("lastState") or {}).get("terminated") or {}
        at = term.get("finishedAt")
        return parse_rfc3339(at) if at else None

    initializing = False
    n_init = len(spec.get("initContainers") or [])
    for i, cs in enumerate(status.get("initContainerStatuses") or ()):
        restarts += int(cs.get("restartCount") or 0)
        f = finished(cs)
        if f is not None and (last_restart is None or f > last_restart):
            last_restart = f
        is_sidecar = _restartable(inits.get(cs.get("name")))
        if is_sidecar:
            sidecar_restarts += int(cs.get("restartCount") or 0)
            if f is not None and (last_sidecar_restart is None or f > last_sidecar_restart):
                last_sidecar_restart = f
        state = cs.get("state") or {}
        term = state.get("terminated")
        waiting = state.get("waiting")
        if term is not None and term.get("exitCode", 0) == 0:
            continue
        if is_sidecar and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if term is not None:
            if not term.get("reason"):
                if term.get("signal"):
                    reason = f"Init:Signal:{term['signal']}"
                else:
                    reason = f"Init:ExitCode:{term.get('exitCode', 0)}"
            else:
                reason = "Init:" + term["reason"]
        elif waiting is not None and waiting.get("reason") and \
                waiting.get("reason") != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{n_init}"
        initializing = True
        break

    if not initializing or _cond_true(status, "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            f = finished(cs)
            if f is not None and (last_restart is None or f > last_restart):
                last_restart = f
            state = cs.get("state") or {}
            waiting, term = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif term is not None and term.get("reason"):
                reason = term["reason"]
            elif term is not None:
                if term.get("signal"):
                    reason = f"Signal:{term['signal']}"
                else:
                    reason = f"ExitCode:{term.get('exitCode', 0)}"
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _cond_true(status, "Ready") else "NotReady"

    if meta.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    cell = str(restarts)
    if restarts and last_restart is not None:
        cell = f"{restarts} ({human_duration(now - last_restart)} ago)"
    return f"{ready}/{total}", reason, cell, restarts, last_restart


def pod_ip(pod: Obj) -> str:
    status = pod.get("status") or {}
    ips = status.get("podIPs") or []
    ip = (ips[0].get("ip") if ips else None) or status.get("podIP") or ""
    return ip


# -- helpers for the other kinds ----------------------------------------------------------
def format_labels(labels: dict[str, str] | None) -> str:
    if not labels:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def format_label_selector(sel: Obj | None) -> str:
    """metav1.FormatLabelSelector."""
    if not sel:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for req in sel.get("matchExpressions") or ():
        op = req.get("operator")
        key = req.get("key")
        vals = ",".join(sorted(req.get("values") or []))
        if op == "In":
            parts.append(f"{key} in ({vals})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({vals})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    s = ",".join(parts)
    return s or "<none>"


def _containers_images(spec: Obj) -> tuple[str, str]:
    cs = (((spec.get("template") or {}).get("spec") or {}).get("containers")) or []
    return (",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs))


def _node_roles(node: Obj) -> str:
    roles = []
    for k, v in (node["metadata"].get("labels") or {}).items():
        if k.startswith("node-role.kubernetes.io/"):
            roles.append(k.split("/", 1)[1])
        elif k == "kubernetes.io/role" and v:
            roles.append(v)
    roles = sorted(r for r in dict.fromkeys(roles) if r)
    return ",".join(roles) if roles else "<none>"


def node_status(node: Obj) -> str:
    status = []
    for c in (node.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            status.append("Ready" if c.get("status") == "True" else "NotReady")
    if not status:
        status.append("Unknown")
    if (node.get("spec") or {}).get("unschedulable"):
        status.append("SchedulingDisabled")
    return ",".join(status)


def service_external_ip(svc: Obj) -> str:
    spec = svc.get("spec") or {}
    typ = spec.get("type") or "ClusterIP"
    ext = spec.get("externalIPs") or []
    if typ in ("ClusterIP", "NodePort"):
        return ",".join(ext) if ext else "<none>"
    if typ == "LoadBalancer":
        ings = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        ips = [i.get("ip") or i.get("hostname") for i in ings if i.get("ip") or i.get("hostname")]
        ips += ext
        return ",".join(ips) if ips else "<pending>"
    if typ == "ExternalName":
        return spec.get("externalName") or "<none>"
    return "<unknown>"


def service_ports(svc: Obj) -> str:
    out = []
    for p in (svc.get("spec") or {}).get("ports") or ():
        proto = p.get("protocol") or "TCP"
        if p.get("nodePort"):
            out.append(f"{p.get('port')}:{p['nodePort']}/{proto}")
        else:
            out.append(f"{p.get('port')}/{proto}")
    return ",".join(out) if out else "<none>"


def format_endpoints(ep: Obj) -> str:
    subsets = ep.get("subsets") or []
    if not subsets:
        return "<none>"
    items: list[str] = []
    count, more = 0, False
    for ss in subsets:
        addrs = ss.get("addresses") or []
        ports = ss.get("ports") or []
        if not ports:
            count += len(addrs)
            for a in addrs:
                if len(items) == 3:
                    more = True
                    break
                items.append(a.get("ip", ""))
            continue
        for p in ports:
            count += len(addrs)
            for a in addrs:
                if len(items) == 3:
                    more = True
                    break
                items.append(f"{a.get('ip', '')}:{p.get('port')}")
    s = ",".join(items)
    if more:
        return f"{s} + {count - 3} more..."
    return s or "<none>"


def _slice_ports(es: Obj) -> str:
    ports = [str(p.get("port")) for p in es.get("ports") or () if p.get("port") is not None]
    return ",".join(ports) if ports else "<unset>"


def _slice_endpoints(es: Obj) -> str:
    addrs = [a for e in es.get("endpoints") or () for a in e.get("addresses") or ()]
    if not addrs:
        return "<unset>"
    if len(addrs) > 3:
        return ",".join(addrs[:3]) + f" + {len(addrs) - 3} more..."
    return ",".join(addrs)


_ACCESS = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX",
           "ReadWriteOncePod": "RWOP"}


def access_modes(modes: list[str] | None) -> str:
    return ",".join(_ACCESS.get(m, m) for m in modes or ())


# -- tables --------------------------------------------------------------------------------
Row = Callable[[Obj, float, bool], list[str]]


def _pod_row(o: Obj, now: float, wide: bool) -> list[str]:
    rdy, st, rs, _n, _t = pod_columns(o, now)
    row = [o["metadata"]["name"], rdy, st, rs, age(o["metadata"].get("creationTimestamp"), now)]
    if wide:
        spec, status = o.get("spec") or {}, o.get("status") or {}
        gates = spec.get("readinessGates") or []
        gate_cell = "<none>"
        if gates:
            true = sum(1 for g in gates if _cond_true(status, g.get("conditionType", "")))
            gate_cell = f"{true}/{len(gates)}"
        row += [pod_ip(o) or "<none>", spec.get("nodeName") or "<none>",
                status.get("nominatedNodeName") or "<none>", gate_cell]
    return row


def _deploy_row(o: Obj, now: float, wide: bool) -> list[str]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    row = [o["metadata"]["name"], f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
           str(st.get("updatedReplicas", 0)), str(st.get("availableReplicas", 0)),
           age(o["metadata"].get("creationTimestamp"), now)]
    if wide:
        names, images = _containers_images(spec)
        row += [names, images, format_label_selector(spec.get("selector"))]
    return row


def _rs_row(o: Obj, now: float, wide: bool) -> list[str]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    row = [o["metadata"]["name"], str(spec.get("replicas", 0)), str(st.get("replicas", 0)),
           str(st.get("readyReplicas", 0)), age(o["metadata"].get("creationTimestamp"), now)]
    if wide:
        names, images = _containers_images(spec)
        row += [names, images, format_label_selector(spec.get("selector"))]
    return row


def _svc_row(o: Obj, now: float, wide: bool) -> list[str]:
    spec = o.get("spec") or {}
    row = [o["metadata"]["name"], spec.get("type") or "ClusterIP",
           spec.get("clusterIP") or "<none>", service_external_ip(o), service_ports(o),
           age(o["metadata"].get("creationTimestamp"), now)]
    if wide:
        row.append(format_labels(spec.get("selector")))
    return row


def _node_row(o: Obj, now: float, wide: bool) -> list[str]:
    st = o.get("status") or {}
    info = st.get("nodeInfo") or {}
    row = [o["metadata"]["name"], node_status(o), _node_roles(o),
           age(o["metadata"].get("creationTimestamp"), now), info.get("kubeletVersion", "")]
    if wide:
        addrs = st.get("addresses") or []
        internal = [a["address"] for a in addrs if a.get("type") == "InternalIP"]
        external = [a["address"] for a in addrs if a.get("type") == "ExternalIP"]
        row += [internal[0] if internal else "<none>", external[0] if external else "<none>",
                info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
                info.get("containerRuntimeVersion") or "<unknown>"]
    return row


def _simple(cells: Callable[[Obj], list[str]]) -> Row:
    def row(o: Obj, now: float, wide: bool) -> list[str]:
        return [o["metadata"]["name"], *cells(o), age(o["metadata"].get("creationTimestamp"), now)]
    return row


def _pvc_cells(o: Obj) -> list[str]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    phase = "Terminating" if o["metadata"].get("deletionTimestamp") else st.get("phase", "")
    cap = (st.get("capacity") or {}).get("storage", "")
    vol = spec.get("volumeName", "")
    modes = access_modes(st.get("accessModes")) if vol else ""
    return [phase, vol, cap if vol else "", modes, spec.get("storageClassName") or "",
            spec.get("volumeAttributesClassName") or "<unset>"]


def _pv_cells(o: Obj) -> list[str]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    ref = spec.get("claimRef") or {}
    claim = f"{ref.get('namespace')}/{ref.get('name')}" if ref.get("name") else ""
    phase = "Terminating" if o["metadata"].get("deletionTimestamp") else st.get("phase", "")
    return [(spec.get("capacity") or {}).get("storage", ""), access_modes(spec.get("accessModes")),
            spec.get("persistentVolumeReclaimPolicy", ""), phase, claim,
            spec.get("storageClassName") or "", spec.get("volumeAttributesClassName") or "<unset>",
            st.get("reason", "")]


def _sc_row(o: Obj, now: float, wide: bool) -> list[str]:
    name = o["metadata"]["name"]
    ann = o["metadata"].get("annotations") or {}
    if ann.get("storageclass.kubernetes.io/is-default-class") == "true" or \
            ann.get("storageclass.beta.kubernetes.io/is-default-class") == "true":
        name += " (default)"
    return [name, o.get("provisioner", ""), o.get("reclaimPolicy") or "Delete",
            o.get("volumeBindingMode") or "Immediate",
            "true" if o.get("allowVolumeExpansion") else "false",
            age(o["metadata"].get("creationTimestamp"), now)]


def _event_row(o: Obj, now: float, wide: bool) -> list[str]:
    inv = o.get("involvedObject") or {}
    last = o.get("lastTimestamp") or o.get("eventTime") or o["metadata"].get("creationTimestamp")
    obj = f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}"
    row = [age(last, now), o.get("type", ""), o.get("reason", ""), obj,
           (o.get("message") or "").strip()]
    return row


def _event_wide(o: Obj, now: float) -> list[str]:
    inv = o.get("involvedObject") or {}
    src = o.get("source") or {}
    source = src.get("component", "") + (", " + src["host"] if src.get("host") else "")
    last = o.get("lastTimestamp") or o["metadata"].get("creationTimestamp")
    return [age(last, now), o.get("type", ""), o.get("reason", ""),
            f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}",
            inv.get("fieldPath", ""), source, (o.get("message") or "").strip(),
            age(o.get("firstTimestamp"), now), str(o.get("count", 1)), o["metadata"]["name"]]


TABLES: dict[str, tuple[list[str], list[str], Row]] = {
    "Pod": (["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
            ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"], _pod_row),
    "Deployment": (["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
                   ["CONTAINERS", "IMAGES", "SELECTOR"], _deploy_row),
    "ReplicaSet": (["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
                   ["CONTAINERS", "IMAGES", "SELECTOR"], _rs_row),
    "Service": (["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], ["SELECTOR"],
                _svc_row),
    "Node": (["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
             ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"],
             _node_row),
    "Endpoints": (["NAME", "ENDPOINTS", "AGE"], [], _simple(lambda o: [format_endpoints(o)])),
    "EndpointSlice": (["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"], [],
                      _simple(lambda o: [o.get("addressType", ""), _slice_ports(o),
                                         _slice_endpoints(o)])),
    "ConfigMap": (["NAME", "DATA", "AGE"], [],
                  _simple(lambda o: [str(len(o.get("data") or {}) +
                                         len(o.get("binaryData") or {}))])),
    "Secret": (["NAME", "TYPE", "DATA", "AGE"], [],
               _simple(lambda o: [o.get("type") or "Opaque", str(len(o.get("data") or {}))])),
    "PersistentVolumeClaim": (["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES",
                               "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE"], [],
                              _simple(_pvc_cells)),
    "PersistentVolume": (["NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS",
                          "CLAIM", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "REASON", "AGE"], [],
                         _simple(_pv_cells)),
    "StorageClass": (["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE",
                      "ALLOWVOLUMEEXPANSION", "AGE"], [], _sc_row),
    "Namespace": (["NAME", "STATUS", "AGE"], [],
                  _simple(lambda o: [(o.get("status") or {}).get("phase", "Active")])),
    "Event": (["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
              ["SUBOBJECT", "SOURCE", "FIRST SEEN", "COUNT", "NAME"], lambda o, n, w: (
                  _event_wide(o, n) if w else _event_row(o, n, False))),
}


def table_rows(kind: str, objs: list[Obj], now: float, *, wide: bool = False,
               namespace_col: bool = False, show_labels: bool = False,
               prefix: str = "", headers: bool = True,
               label_columns: list[str] | None = None) -> list[list[str]]:
    """Header + one row per object, as kubectl's HumanReadablePrinter lays them out."""
    base, extra, row_fn = TABLES[kind]
    head = list(base)
    if wide:
        if kind == "Event":
            head = ["LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE",
                    "FIRST SEEN", "COUNT", "NAME"]
        else:
            head += extra
    label_columns = label_columns or []
    head += [c.split("/")[-1].upper() for c in label_columns]
    if show_labels:
        head.append("LABELS")
    if namespace_col:
        head.insert(0, "NAMESPACE")
    rows = [head] if headers else []
    for o in objs:
        r = row_fn(o, now, wide)
        if prefix and kind != "Event":
            r[0] = prefix + r[0]
        labels = o["metadata"].get("labels") or {}
        r += [labels.get(c, "") for c in label_columns]
        if show_labels:
            r.append(format_labels(labels))
        if namespace_col:
            r.insert(0, o["metadata"].get("namespace") or "")
        rows.append(r)
    return rows


# -- structured output ---------------------------------------------------------------------
def to_json(obj: Any) -> str:
    """encoding/json + json.Indent with 4 spaces, map keys sorted (unstructured objects)."""
    text = json.dumps(obj, indent=4, sort_keys=True, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text + "\n"


class _GoYamlDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Quote ambiguous strings with double quotes, as go-yaml does."""


def _repr_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = None
    if "\n" in data:
        style = "|"
    else:
        tag = dumper.resolve(yaml.ScalarNode, data, (True, False))
        if tag != "tag:yaml.org,2002:str" or data == "" or data != data.strip():
            style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_GoYamlDumper.add_representer(str, _repr_str)


def to_yaml(obj: Any) -> str:
    return yaml.dump(obj, Dumper=_GoYamlDumper, default_flow_style=False, sort_keys=True,
                     allow_unicode=True, width=1 << 30)


def as_list(items: list[Obj]) -> Obj:
    return {"apiVersion": "v1", "items": items, "kind": "List",
            "metadata": {"resourceVersion": ""}}

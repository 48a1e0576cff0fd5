"""``kubectl describe``: the layouts of pkg/describe/describe.go.

Each describer writes lines with ``\\t`` between label and value (``PrefixWriter`` levels are two
spaces each) and the whole text goes through one tabwriter (minwidth 0, padding 2), which is what
makes blocks of consecutive ``Label:\\tvalue`` lines align and others not.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from k8slearn.sim import apiserver
from k8slearn.sim.kubectl.get import list_objects, selector_filter
from k8slearn.sim.kubectl.parse import CmdError, Parsed
from k8slearn.sim.kubectl.printers import (
    age,
    format_endpoints,
    format_label_selector,
    format_labels,
)
from k8slearn.sim.kubectl.result import KubectlResult
from k8slearn.sim.kubectl.tabwriter import tabwrite
from k8slearn.sim.kubectl.util import namespace, plural_group, resolve_type
from k8slearn.sim.objects import EPOCH, cpu_millis, format_cpu, memory_bytes, parse_rfc3339

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
L0, L1, L2, L3 = "", "  ", "    ", "      "
SKIP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
MAX_ANNOTATION_LEN = 140


def rfc1123z(stamp: str | None) -> str:
    if not stamp:
        return "<unset>"
    when = EPOCH + _dt.timedelta(seconds=parse_rfc3339(stamp))
    return when.strftime("%a, %d %b %Y %H:%M:%S +0000")


def labels_lines(title: str, labels: dict[str, str] | None, indent: str = "") -> list[str]:
    out = [f"{indent}{title}:\t"]
    if not labels:
        return [out[0] + "<none>\n"]
    for i, k in enumerate(sorted(labels)):
        if i == 0:
            out[0] += f"{k}={labels[k]}\n"
        else:
            out.append(f"{indent}\t{k}={labels[k]}\n")
    return out


def annotation_lines(title: str, ann: dict[str, str] | None, indent: str = "") -> list[str]:
    ann = {k: v for k, v in (ann or {}).items() if k not in SKIP_ANNOTATIONS}
    head = f"{indent}{title}:\t"
    if not ann:
        return [head + "<none>\n"]
    out: list[str] = []
    for i, k in enumerate(sorted(ann)):
        prefix = head if i == 0 else f"{indent}\t"
        value = ann[k].rstrip("\n") if ann[k].endswith("\n") else ann[k]
        if len(value) + len(k) + 2 > MAX_ANNOTATION_LEN or "\n" in value:
            out.append(f"{prefix}{k}:\n")
            for s in value.split("\n"):
                short = s if len(s) <= MAX_ANNOTATION_LEN - 2 else s[:MAX_ANNOTATION_LEN - 2] + "..."
                out.append(f"{indent}\t  {short}\n")
        else:
            out.append(f"{prefix}{k}: {value}\n")
    return out


def tolerations_lines(title: str, tols: list[Obj] | None, indent: str = "") -> list[str]:
    head = f"{indent}{title}:\t"
    if not tols:
        return [head + "<none>\n"]
    out = []
    for i, t in enumerate(sorted(tols, key=lambda t: t.get("key", ""))):
        s = t.get("key", "")
        if t.get("value"):
            s += f"={t['value']}"
        if t.get("effect"):
            s += f":{t['effect']}"
        if t.get("operator") == "Exists" and not t.get("value"):
            s += " op=Exists" if t.get("key") or t.get("effect") else "op=Exists"
        if t.get("tolerationSeconds") is not None:
            s += f" for {t['tolerationSeconds']}s"
        out.append((head if i == 0 else f"{indent}\t") + s + "\n")
    return out


def _probe(p: Obj) -> str:
    attrs = (f"delay={p.get('initialDelaySeconds', 0)}s timeout={p.get('timeoutSeconds', 1)}s "
             f"period={p.get('periodSeconds', 10)}s #success={p.get('successThreshold', 1)} "
             f"#failure={p.get('failureThreshold', 3)}")
    if "exec" in p:
        return f"exec [{' '.join(p['exec'].get('command') or [])}] {attrs}"
    if "httpGet" in p:
        h = p["httpGet"]
        scheme = (h.get("scheme") or "HTTP").lower()
        return f"http-get {scheme}://{h.get('host', '')}:{h.get('port')}{h.get('path', '')} {attrs}"
    if "tcpSocket" in p:
        return f"tcp-socket {p['tcpSocket'].get('host', '')}:{p['tcpSocket'].get('port')} {attrs}"
    if "grpc" in p:
        return f"grpc <pod>:{p['grpc'].get('port')} {p['grpc'].get('service', '')} {attrs}"
    return f"unknown {attrs}"


def _state_lines(title: str, state: Obj) -> list[str]:
    if "running" in state:
        return [f"{L2}{title}:\tRunning\n",
                f"{L3}Started:\t{rfc1123z(state['running'].get('startedAt'))}\n"]
    if "terminated" in state:
        t = state["terminated"]
        out = [f"{L2}{title}:\tTerminated\n"]
        if t.get("reason"):
            out.append(f"{L3}Reason:\t{t['reason']}\n")
        if t.get("message"):
            out.append(f"{L3}Message:\t{t['message']}\n")
        out.append(f"{L3}Exit Code:\t{t.get('exitCode', 0)}\n")
        if t.get("signal"):
            out.append(f"{L3}Signal:\t{t['signal']}\n")
        out.append(f"{L3}Started:\t{rfc1123z(t.get('startedAt'))}\n")
        out.append(f"{L3}Finished:\t{rfc1123z(t.get('finishedAt'))}\n")
        return out
    out = [f"{L2}{title}:\tWaiting\n"]
    reason = (state.get("waiting") or {}).get("reason")
    if reason:
        out.append(f"{L3}Reason:\t{reason}\n")
    return out


def container_lines(label: str, containers: list[Obj], statuses: list[Obj] | None,
                    space: str = "") -> list[str]:
    out = [f"{space}{label}:\n"]
    by_name = {s.get("name"): s for s in statuses or ()}
    for c in containers:
        st = by_name.get(c.get("name")) if statuses is not None else None
        ok = st is not None
        out.append(f"{L1}{' ' if space else ''}{c.get('name')}:\n")
        if ok:
            out.append(f"{L2}Container ID:\t{st.get('containerID', '')}\n")  # type: ignore[union-attr]
        out.append(f"{L2}Image:\t{c.get('image', '')}\n")
        if ok:
            out.append(f"{L2}Image ID:\t{st.get('imageID', '')}\n")  # type: ignore[union-attr]
        ports = [f"{p.get('containerPort')}/{p.get('protocol', 'TCP')}" for p in c.get("ports")
                 or ()]
        hports = [f"{p.get('hostPort', 0)}/{p.get('protocol', 'TCP')}" for p in c.get("ports")
                  or ()]
        out.append(f"{L2}{'Ports' if len(ports) > 1 else 'Port'}:\t{', '.join(ports) or '<none>'}\n")
        out.append(f"{L2}{'Host Ports' if len(hports) > 1 else 'Host Port'}:\t"
                   f"{', '.join(hports) or '<none>'}\n")
        for key, title in (("command", "Command"), ("args", "Args")):
            if c.get(key):
                out.append(f"{L2}{title}:\n")
                for arg in c[key]:
                    for line in str(arg).split("\n"):
                        out.append(f"{L3}{line}\n")
        if ok:
            out += _state_lines("State", st.get("state") or {})  # type: ignore[union-attr]
            last = (st.get("lastState") or {})  # type: ignore[union-attr]
            if last.get("terminated"):
                out += _state_lines("Last State", last)
            out.append(f"{L2}Ready:\t{'True' if st.get('ready') else 'False'}\n")  # type: ignore[union-attr]
            out.append(f"{L2}Restart Count:\t{st.get('restartCount', 0)}\n")  # type: ignore[union-attr]
        res = c.get("resources") or {}
        for key, title in (("limits", "Limits"), ("requests", "Requests")):
            if res.get(key):
                out.append(f"{L2}{title}:\n")
                for name in sorted(res[key]):
                    out.append(f"{L3}{name}:\t{res[key][name]}\n")
        for key, title in (("livenessProbe", "Liveness"), ("readinessProbe", "Readiness"),
                           ("startupProbe", "Startup")):
            if c.get(key):
                out.append(f"{L2}{title}:\t{_probe(c[key])}\n")
        if c.get("envFrom"):
            out.append(f"{L2}Environment Variables from:\n")
            for ef in c["envFrom"]:
                if "configMapRef" in ef:
                    ref = ef["configMapRef"]
                    out.append(f"{L3}{ref.get('name')}\tConfigMap\twith prefix "
                               f"'{ef.get('prefix', '')}'\tOptional: "
                               f"{str(bool(ref.get('optional'))).lower()}\n"
                               if ef.get("prefix") else
                               f"{L3}{ref.get('name')}\tConfigMap\tOptional: "
                               f"{str(bool(ref.get('optional'))).lower()}\n")
                elif "secretRef" in ef:
                    ref = ef["secretRef"]
                    out.append(f"{L3}{ref.get('name')}\tSecret\tOptional: "
                               f"{str(bool(ref.get('optional'))).lower()}\n")
        env = c.get("env") or []
        if not env:
            out.append(f"{L2}Environment:\t<none>\n")
        else:
            out.append(f"{L2}Environment:\n")
            for e in env:
                vf = e.get("valueFrom")
                if vf is None:
                    for i, s in enumerate(str(e.get("value", "")).split("\n")):
                        out.append(f"{L3}{e.get('name')}:\t{s}\n" if i == 0 else f"{L3}\t{s}\n")
                elif "configMapKeyRef" in vf:
                    r = vf["configMapKeyRef"]
                    out.append(f"{L3}{e.get('name')}:\t<set to the key '{r.get('key')}' of config "
                               f"map '{r.get('name')}'>\tOptional: "
                               f"{str(bool(r.get('optional'))).lower()}\n")
                elif "secretKeyRef" in vf:
                    r = vf["secretKeyRef"]
                    out.append(f"{L3}{e.get('name')}:\t<set to the key '{r.get('key')}' in secret "
                               f"'{r.get('name')}'>\tOptional: "
                               f"{str(bool(r.get('optional'))).lower()}\n")
                elif "fieldRef" in vf:
                    r = vf["fieldRef"]
                    out.append(f"{L3}{e.get('name')}:\t ({r.get('apiVersion', 'v1')}:"
                               f"{r.get('fieldPath')})\n")
                else:
                    out.append(f"{L3}{e.get('name')}:\t<set>\n")
        mounts = sorted(c.get("volumeMounts") or [], key=lambda m: m.get("mountPath", ""))
        if not mounts:
            out.append(f"{L2}Mounts:\t<none>\n")
        else:
            out.append(f"{L2}Mounts:\n")
            for m in mounts:
                flags = ["ro" if m.get("readOnly") else "rw"]
                if m.get("subPath"):
                    flags.append(f'path="{m["subPath"]}"')
                out.append(f"{L3}{m.get('mountPath')} from {m.get('name')} ({','.join(flags)})\n")
    return out


def volume_lines(volumes: list[Obj] | None, space: str = "") -> list[str]:
    if not volumes:
        return [f"{space}Volumes:\t<none>\n"]
    out = [f"{space}Volumes:\n"]
    for v in volumes:
        out.append(f"{L1}{' ' if space else ''}{v.get('name')}:\n")
        if "emptyDir" in v:
            ed = v["emptyDir"] or {}
            out.append(f"{L2}Type:\tEmptyDir (a temporary directory that shares a pod's "
                       f"lifetime)\n    Medium:\t{ed.get('medium', '')}\n    SizeLimit:\t"
                       f"{ed.get('sizeLimit', '<unset>')}\n")
        elif "configMap" in v:
            cm = v["configMap"]
            out.append(f"{L2}Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t"
                       f"{cm.get('name')}\n    Optional:\t{str(bool(cm.get('optional'))).lower()}\n")
        elif "secret" in v:
            s = v["secret"]
            out.append(f"{L2}Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t"
                       f"{s.get('secretName')}\n    Optional:\t"
                       f"{str(bool(s.get('optional'))).lower()}\n")
        elif "persistentVolumeClaim" in v:
            c = v["persistentVolumeClaim"]
            out.append(f"{L2}Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim "
                       f"in the same namespace)\n    ClaimName:\t{c.get('claimName')}\n    "
                       f"ReadOnly:\t{str(bool(c.get('readOnly'))).lower()}\n")
        elif "hostPath" in v:
            h = v["hostPath"]
            out.append(f"{L2}Type:\tHostPath (bare host directory volume)\n    Path:\t"
                       f"{h.get('path')}\n    HostPathType:\t{h.get('type', '')}\n")
        else:
            out.append(f"{L2}<unknown>\n")
    return out


def events_for(cluster: Cluster, obj: Obj) -> list[Obj]:
    meta = obj["metadata"]
    evs = [e for e in cluster.store.iter("Event")
           if (e.get("involvedObject") or {}).get("uid") == meta.get("uid")
           and (e.get("involvedObject") or {}).get("name") == meta["name"]]
    return sorted(evs, key=lambda e: parse_rfc3339(e.get("lastTimestamp") or
                                                   e["metadata"]["creationTimestamp"]))


def event_lines(cluster: Cluster, obj: Obj) -> list[str]:
    """DescribeEvents; the tabwriter is flushed before the table (``\\f`` marker)."""
    evs = events_for(cluster, obj)
    if not evs:
        return ["Events:\t<none>\n"]
    out = ["\f", "Events:\n  Type\tReason\tAge\tFrom\tMessage\n",
           f"{L1}----\t------\t----\t----\t-------\n"]
    now = cluster.now
    for e in evs:
        first = age(e.get("firstTimestamp"), now)
        if (e.get("count") or 1) > 1:
            interval = f"{age(e.get('lastTimestamp'), now)} (x{e['count']} over {first})"
        else:
            interval = first
        src = (e.get("source") or {}).get("component") or e.get("reportingComponent", "")
        out.append(f"{L1}{e.get('type', '')}\t{e.get('reason', '')}\t{interval}\t{src}\t"
                   f"{(e.get('message') or '').strip()}\n")
    return out


def render(lines: list[str]) -> str:
    """Join describer output and run it through the tabwriter (``\\f`` = Flush)."""
    chunks = "".join(lines).split("\f")
    return "".join(tabwrite(c, 0, 2) for c in chunks)


def controlled_by(obj: Obj) -> str:
    for ref in obj["metadata"].get("ownerReferences") or ():
        if ref.get("controller"):
            return f"{ref.get('kind')}/{ref.get('name')}"
    return ""


def qos_class(pod: Obj) -> str:
    if (pod.get("status") or {}).get("qosClass"):
        return str(pod["status"]["qosClass"])
    containers = (pod.get("spec") or {}).get("containers") or []
    reqs = [(c.get("resources") or {}).get("requests") or {} for c in containers]
    lims = [(c.get("resources") or {}).get("limits") or {} for c in containers]
    if not any(reqs) and not any(lims):
        return "BestEffort"
    for r, lim in zip(reqs, lims, strict=False):
        for res in ("cpu", "memory"):
            if res not in lim or (res in r and r[res] != lim[res]):
                return "Burstable"
    return "Guaranteed"


def pod_template_lines(tpl: Obj, _level: int = 0) -> list[str]:
    meta, spec = tpl.get("metadata") or {}, tpl.get("spec") or {}
    out = ["Pod Template:\n", *labels_lines("  Labels", meta.get("labels"))]
    if meta.get("annotations"):
        out += annotation_lines("  Annotations", meta.get("annotations"))
    if spec.get("serviceAccountName"):
        out.append(f"{L1}Service Account:\t{spec['serviceAccountName']}\n")
    if spec.get("initContainers"):
        out += container_lines("Init Containers", spec["initContainers"], None, "  ")
    out += container_lines("Containers", spec.get("containers") or [], None, "  ")
    out += volume_lines(spec.get("volumes"), "  ")
    if spec.get("priorityClassName"):
        out.append(f"{L1}Priority Class Name:\t{spec['priorityClassName']}\n")
    out += labels_lines("  Node-Selectors", spec.get("nodeSelector"))
    out += tolerations_lines("  Tolerations", spec.get("tolerations"))
    return out


from k8slearn.sim.kubectl.describe_kinds import DESCRIBERS  # noqa: E402


def cmd_describe(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    if not p.args:
        raise CmdError('error: You must specify the type of resource to describe. Use "kubectl '
                       'api-resources" for a complete list of supported resources.\n')
    all_ns = bool(p.get("all-namespaces"))
    ns = namespace(p)
    reqs = selector_filter(p)
    targets: list[tuple[Any, Obj]] = []
    errors: list[str] = []
    if "/" in p.args[0]:
        pairs = []
        for a in p.args:
            t, _, n = a.partition("/")
            pairs.append((resolve_type(t), n))
    else:
        res = resolve_type(p.args[0])
        pairs = [(res, n) for n in p.args[1:]]
        if not pairs:
            objs = list_objects(cluster, res, None if all_ns else ns, reqs)
            targets = [(res, o) for o in objs]
            if not objs:
                where = "" if all_ns or not res.namespaced else f" in {ns} namespace"
                return KubectlResult(0, "", f"No resources found{where}.\n"
                                     if where else "No resources found\n")
    for res, n in pairs:
        o = cluster.store.get(res.kind, ns if res.namespaced else None, n)
        if o is not None:
            targets.append((res, o))
            continue
        prefixed = [x for x in list_objects(cluster, res, ns if res.namespaced else None, None)
                    if x["metadata"]["name"].startswith(n)]
        if prefixed:
            targets += [(res, x) for x in prefixed]
        else:
            errors.append(f'Error from server (NotFound): {plural_group(res)} "{n}" not found\n')
    texts = []
    for res, o in targets:
        fn = DESCRIBERS.get(res.kind)
        if fn is None:
            from k8slearn.sim.kubectl.describe_kinds import describe_generic

            texts.append(describe_generic(cluster, o, bool(p.get("show-events", True))))
        else:
            texts.append(fn(cluster, o, bool(p.get("show-events", True))))
    return KubectlResult(1 if errors else 0, "\n\n".join(texts), "".join(errors))


_ = (apiserver, format_label_selector, format_labels, format_endpoints, cpu_millis, format_cpu,
     memory_bytes)

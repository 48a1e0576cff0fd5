"""Per-kind describers (Pod, Deployment, ReplicaSet, Node, Service, ConfigMap, Secret, …)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from k8slearn.sim.kubectl import describe as d
from k8slearn.sim.kubectl.describe_storage import describe_pv, describe_pvc, describe_sc
from k8slearn.sim.kubectl.printers import format_label_selector, format_labels
from k8slearn.sim.objects import (
    cpu_millis,
    format_cpu,
    format_memory,
    match_label_selector,
    memory_bytes,
)

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
L0, L1, L2 = d.L0, d.L1, d.L2


def _events(cluster: Cluster, obj: Obj, show: bool) -> list[str]:
    return d.event_lines(cluster, obj) if show else []


def describe_pod(cluster: Cluster, pod: Obj, show_events: bool) -> str:
    meta, spec, st = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    out = [f"Name:\t{meta['name']}\n", f"Namespace:\t{meta.get('namespace', '')}\n"]
    out.append(f"Priority:\t{spec.get('priority', 0)}\n")
    if spec.get("priorityClassName"):
        out.append(f"Priority Class Name:\t{spec['priorityClassName']}\n")
    out.append(f"Service Account:\t{spec.get('serviceAccountName', 'default')}\n")
    node = spec.get("nodeName")
    out.append(f"Node:\t{node}/{st.get('hostIP', '')}\n" if node else "Node:\t<none>\n")
    if st.get("startTime"):
        out.append(f"Start Time:\t{d.rfc1123z(st['startTime'])}\n")
    out += d.labels_lines("Labels", meta.get("labels"))
    out += d.annotation_lines("Annotations", meta.get("annotations"))
    if meta.get("deletionTimestamp") and st.get("phase") not in ("Succeeded", "Failed"):
        left = d.parse_rfc3339(meta["deletionTimestamp"]) - cluster.now
        from k8slearn.sim.kubectl.printers import human_duration

        out.append(f"Status:\tTerminating (lasts {human_duration(left)})\n")
        out.append(f"Termination Grace Period:\t{meta.get('deletionGracePeriodSeconds', 30)}s\n")
    else:
        out.append(f"Status:\t{st.get('phase', '')}\n")
    if st.get("reason"):
        out.append(f"Reason:\t{st['reason']}\n")
    if st.get("message"):
        out.append(f"Message:\t{st['message']}\n")
    out.append(f"IP:\t{st.get('podIP', '')}\n")
    ips = st.get("podIPs") or ([{"ip": st["podIP"]}] if st.get("podIP") else [])
    if ips:
        out.append("IPs:\n")
        out += [f"{L1}IP:\t{ip.get('ip')}\n" for ip in ips]
    else:
        out.append("IPs:\t<none>\n")
    ctl = d.controlled_by(pod)
    if ctl:
        out.append(f"Controlled By:\t{ctl}\n")
    if st.get("nominatedNodeName"):
        out.append(f"NominatedNodeName:\t{st['nominatedNodeName']}\n")
    if spec.get("initContainers"):
        out += d.container_lines("Init Containers", spec["initContainers"],
                                 st.get("initContainerStatuses") or [])
    out += d.container_lines("Containers", spec.get("containers") or [],
                             st.get("containerStatuses") or [])
    if st.get("conditions"):
        out.append("Conditions:\n  Type\tStatus\n")
        out += [f"{L1}{c.get('type')} \t{c.get('status')} \n" for c in st["conditions"]]
    out += d.volume_lines(spec.get("volumes"))
    out.append(f"QoS Class:\t{d.qos_class(pod)}\n")
    out += d.labels_lines("Node-Selectors", spec.get("nodeSelector"))
    out += d.tolerations_lines("Tolerations", spec.get("tolerations"))
    out += _events(cluster, pod, show_events)
    return d.render(out)


def _rs_list(rss: list[Obj]) -> str:
    if not rss:
        return "<none>"
    return ", ".join(f"{rs['metadata']['name']} ({(rs.get('status') or {}).get('replicas', 0)}/"
                     f"{(rs.get('spec') or {}).get('replicas', 0)} replicas created)" for rs in rss)


def _deployment_rss(cluster: Cluster, dep: Obj) -> tuple[Obj | None, list[Obj]]:
    try:
        from k8slearn.sim.controllers import deployment as dc

        new, old = dc.replicasets_of(cluster, dep)  # type: ignore[attr-defined]
        return new, list(old)
    except (AttributeError, ImportError, NotImplementedError):
        pass
    from k8slearn.sim.kubectl.rollout import _equal_ignore_hash, replicasets

    rss = replicasets(cluster, dep)
    new = next((rs for rs in rss if _equal_ignore_hash(rs["spec"]["template"],
                                                       dep["spec"]["template"])), None)
    old = [rs for rs in rss if rs is not new and (rs.get("spec") or {}).get("replicas", 0) > 0]
    return new, old


def describe_deployment(cluster: Cluster, dep: Obj, show_events: bool) -> str:
    meta, spec, st = dep["metadata"], dep.get("spec") or {}, dep.get("status") or {}
    out = [f"Name:\t{meta['name']}\n", f"Namespace:\t{meta.get('namespace', '')}\n",
           f"CreationTimestamp:\t{d.rfc1123z(meta.get('creationTimestamp'))}\n"]
    out += d.labels_lines("Labels", meta.get("labels"))
    out += d.annotation_lines("Annotations", meta.get("annotations"))
    out.append(f"Selector:\t{format_label_selector(spec.get('selector'))}\n")
    out.append(f"Replicas:\t{spec.get('replicas', 1)} desired | {st.get('updatedReplicas', 0)} "
               f"updated | {st.get('replicas', 0)} total | {st.get('availableReplicas', 0)} "
               f"available | {st.get('unavailableReplicas', 0)} unavailable\n")
    strategy = spec.get("strategy") or {}
    out.append(f"StrategyType:\t{strategy.get('type', 'RollingUpdate')}\n")
    out.append(f"MinReadySeconds:\t{spec.get('minReadySeconds', 0)}\n")
    ru = strategy.get("rollingUpdate")
    if ru is not None:
        out.append(f"RollingUpdateStrategy:\t{ru.get('maxUnavailable', '25%')} max unavailable, "
                   f"{ru.get('maxSurge', '25%')} max surge\n")
    out += d.pod_template_lines(spec.get("template") or {})
    if st.get("conditions"):
        out.append("Conditions:\n  Type\tStatus\tReason\n")
        out.append(f"{L1}----\t------\t------\n")
        out += [f"{L1}{c.get('type')} \t{c.get('status')}\t{c.get('reason', '')}\n"
                for c in st["conditions"]]
    new, old = _deployment_rss(cluster, dep)
    out.append(f"OldReplicaSets:\t{_rs_list(old)}\n")
    out.append(f"NewReplicaSet:\t{_rs_list([new] if new else [])}\n")
    out += _events(cluster, dep, show_events)
    return d.render(out)


def describe_replicaset(cluster: Cluster, rs: Obj, show_events: bool) -> str:
    meta, spec, st = rs["metadata"], rs.get("spec") or {}, rs.get("status") or {}
    out = [f"Name:\t{meta['name']}\n", f"Namespace:\t{meta.get('namespace', '')}\n",
           f"Selector:\t{format_label_selector(spec.get('selector'))}\n"]
    out += d.labels_lines("Labels", meta.get("labels"))
    out += d.annotation_lines("Annotations", meta.get("annotations"))
    ctl = d.controlled_by(rs)
    if ctl:
        out.append(f"Controlled By:\t{ctl}\n")
    out.append(f"Replicas:\t{st.get('replicas', 0)} current / {spec.get('replicas', 1)} desired\n")
    counts = {"Running": 0, "Pending": 0, "Succeeded": 0, "Failed": 0}
    for pod in cluster.store.pods_owned_by(meta.get("uid", "")):
        phase = (pod.get("status") or {}).get("phase", "Pending")
        if phase in counts:
            counts[phase] += 1
    out.append(f"Pods Status:\t{counts['Running']} Running / {counts['Pending']} Waiting / "
               f"{counts['Succeeded']} Succeeded / {counts['Failed']} Failed\n")
    out += d.pod_template_lines(spec.get("template") or {})
    if st.get("conditions"):
        out.append("Conditions:\n  Type\tStatus\tReason\n")
        out.append(f"{L1}----\t------\t------\n")
        out += [f"{L1}{c.get('type')} \t{c.get('status')}\t{c.get('reason', '')}\n"
                for c in st["conditions"]]
    out += _events(cluster, rs, show_events)
    return d.render(out)


def _pct(part: int, whole: int) -> int:
    return int(part / whole * 100) if whole else 0


def _pod_requests(pod: Obj) -> tuple[int, int, int, int]:
    cr = cl = mr = ml = 0
    for c in (pod.get("spec") or {}).get("containers") or ():
        res = c.get("resources") or {}
        cr += cpu_millis((res.get("requests") or {}).get("cpu", 0))
        cl += cpu_millis((res.get("limits") or {}).get("cpu", 0))
        mr += memory_bytes((res.get("requests") or {}).get("memory", 0))
        ml += memory_bytes((res.get("limits") or {}).get("memory", 0))
    return cr, cl, mr, ml


def _cpu(m: int) -> str:
    return "0" if m == 0 else format_cpu(m)


def _mem(b: int) -> str:
    return "0" if b == 0 else format_memory(b)


def describe_node(cluster: Cluster, node: Obj, show_events: bool) -> str:
    meta, spec, st = node["metadata"], node.get("spec") or {}, node.get("status") or {}
    from k8slearn.sim.kubectl.printers import _node_roles

    out = [f"Name:\t{meta['name']}\n", f"Roles:\t{_node_roles(node)}\n"]
    out += d.labels_lines("Labels", meta.get("labels"))
    out += d.annotation_lines("Annotations", meta.get("annotations"))
    out.append(f"CreationTimestamp:\t{d.rfc1123z(meta.get('creationTimestamp'))}\n")
    taints = sorted(spec.get("taints") or [],
                    key=lambda t: f"{t.get('effect', '')},{t.get('key', '')}")
    if not taints:
        out.append("Taints:\t<none>\n")
    for i, t in enumerate(taints):
        s = t.get("key", "") + (f"={t['value']}" if t.get("value") else "") + f":{t.get('effect')}"
        out.append(("Taints:\t" if i == 0 else "\t") + s + "\n")
    out.append(f"Unschedulable:\t{'true' if spec.get('unschedulable') else 'false'}\n")
    conds = st.get("conditions") or []
    ready = next((c for c in conds if c.get("type") == "Ready"), {})
    out += ["Lease:\n", f"{L1}HolderIdentity:\t{meta['name']}\n", f"{L1}AcquireTime:\t<unset>\n",
            f"{L1}RenewTime:\t{d.rfc1123z(ready.get('lastHeartbeatTime'))}\n"]
    if conds:
        out.append("Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\t"
                   "Message\n")
        out.append(f"{L1}----\t------\t-----------------\t------------------\t------\t-------\n")
        for c in conds:
            out.append(f"{L1}{c.get('type')} \t{c.get('status')} \t"
                       f"{d.rfc1123z(c.get('lastHeartbeatTime'))} \t"
                       f"{d.rfc1123z(c.get('lastTransitionTime'))} \t{c.get('reason', '')} \t"
                       f"{c.get('message', '')}\n")
    out.append("Addresses:\n")
    out += [f"{L1}{a.get('type')}:\t{a.get('address')}\n" for a in st.get("addresses") or ()]
    for title, key in (("Capacity", "capacity"), ("Allocatable", "allocatable")):
        if st.get(key):
            out.append(f"{title}:\n")
            out += [f"  {k}:\t{st[key][k]}\n" for k in sorted(st[key])]
    info = st.get("nodeInfo") or {}
    out.append("System Info:\n")
    for label, k in (("Machine ID", "machineID"), ("System UUID", "systemUUID"),
                     ("Boot ID", "bootID"), ("Kernel Version", "kernelVersion"),
                     ("OS Image", "osImage"), ("Operating System", "operatingSystem"),
                     ("Architecture", "architecture"),
                     ("Container Runtime Version", "containerRuntimeVersion"),
                     ("Kubelet Version", "kubeletVersion"),
                     ("Kube-Proxy Version", "kubeProxyVersion")):
        out.append(f"  {label}:\t{info.get(k, '')}\n")
    if spec.get("podCIDR"):
        out.append(f"PodCIDR:\t{spec['podCIDR']}\n")
        out.append(f"PodCIDRs:\t{','.join(spec.get('podCIDRs') or [spec['podCIDR']])}\n")
    pods = [p for p in cluster.store.pods_on_node(meta["name"])
            if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
    pods.sort(key=lambda p: (p["metadata"].get("namespace", ""), p["metadata"]["name"]))
    alloc = st.get("allocatable") or st.get("capacity") or {}
    acpu, amem = cpu_millis(alloc.get("cpu", 0)), memory_bytes(alloc.get("memory", 0))
    out.append(f"Non-terminated Pods:\t({len(pods)} in total)\n")
    out.append(f"{L1}Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits"
               "\tAge\n")
    out.append(f"{L1}---------\t----\t\t------------\t----------\t---------------\t-------------"
               "\t---\n")
    tot = [0, 0, 0, 0]
    for p in pods:
        cr, cl, mr, ml = _pod_requests(p)
        tot = [tot[0] + cr, tot[1] + cl, tot[2] + mr, tot[3] + ml]
        out.append(f"{L1}{p['metadata'].get('namespace')}\t{p['metadata']['name']}\t\t"
                   f"{_cpu(cr)} ({_pct(cr, acpu)}%)\t{_cpu(cl)} ({_pct(cl, acpu)}%)\t"
                   f"{_mem(mr)} ({_pct(mr, amem)}%)\t{_mem(ml)} ({_pct(ml, amem)}%)\t"
                   f"{d.age(p['metadata'].get('creationTimestamp'), cluster.now)}\n")
    out.append("Allocated resources:\n  (Total limits may be over 100 percent, i.e., "
               "overcommitted.)\n")
    out.append(f"{L1}Resource\tRequests\tLimits\n{L1}--------\t--------\t------\n")
    out.append(f"{L1}cpu\t{_cpu(tot[0])} ({_pct(tot[0], acpu)}%)\t{_cpu(tot[1])} "
               f"({_pct(tot[1], acpu)}%)\n")
    out.append(f"{L1}memory\t{_mem(tot[2])} ({_pct(tot[2], amem)}%)\t{_mem(tot[3])} "
               f"({_pct(tot[3], amem)}%)\n")
    out.append(f"{L1}ephemeral-storage\t0 (0%)\t0 (0%)\n")
    out += _events(cluster, node, show_events)
    return d.render(out)


def describe_service(cluster: Cluster, svc: Obj, show_events: bool) -> str:
    meta, spec = svc["metadata"], svc.get("spec") or {}
    out = [f"Name:\t{meta['name']}\n", f"Namespace:\t{meta.get('namespace', '')}\n"]
    out += d.labels_lines("Labels", meta.get("labels"))
    out += d.annotation_lines("Annotations", meta.get("annotations"))
    out.append(f"Selector:\t{format_labels(spec.get('selector')) if spec.get('selector') else ''}"
               "\n")
    out.append(f"Type:\t{spec.get('type', 'ClusterIP')}\n")
    if spec.get("ipFamilyPolicy"):
        out.append(f"IP Family Policy:\t{spec['ipFamilyPolicy']}\n")
    if spec.get("ipFamilies"):
        out.append(f"IP Families:\t{','.join(spec['ipFamilies'])}\n")
    out.append(f"IP:\t{spec.get('clusterIP', '')}\n")
    if spec.get("clusterIPs"):
        out.append(f"IPs:\t{','.join(spec['clusterIPs'])}\n")
    if spec.get("externalIPs"):
        out.append(f"External IPs:\t{','.join(spec['externalIPs'])}\n")
    if spec.get("externalName"):
        out.append(f"External Name:\t{spec['externalName']}\n")
    ep = cluster.store.get("Endpoints", meta.get("namespace"), meta["name"]) or {}
    for sp in spec.get("ports") or ():
        name = sp.get("name") or "<unset>"
        proto = sp.get("protocol", "TCP")
        out.append(f"Port:\t{name}\t{sp.get('port')}/{proto}\n")
        out.append(f"TargetPort:\t{sp.get('targetPort', sp.get('port'))}/{proto}\n")
        if sp.get("nodePort"):
            out.append(f"NodePort:\t{name}\t{sp['nodePort']}/{proto}\n")
        out.append(f"Endpoints:\t{_endpoints_for_port(ep, sp.get('name') or '')}\n")
    out.append(f"Session Affinity:\t{spec.get('sessionAffinity', 'None')}\n")
    if spec.get("externalTrafficPolicy"):
        out.append(f"External Traffic Policy:\t{spec['externalTrafficPolicy']}\n")
    if spec.get("internalTrafficPolicy"):
        out.append(f"Internal Traffic Policy:\t{spec['internalTrafficPolicy']}\n")
    out += _events(cluster, svc, show_events)
    return d.render(out)


def _endpoints_for_port(ep: Obj, port_name: str) -> str:
    """formatEndpoints(endpoints, ports={name}): "<none>" without subsets, else maybe ""."""
    subsets = ep.get("subsets") or []
    if not subsets:
        return "<none>"
    items: list[str] = []
    count = 0
    for ss in subsets:
        addrs = ss.get("addresses") or []
        for port in ss.get("ports") or ():
            if (port.get("name") or "") != port_name:
                continue
            count += len(addrs)
            items += [f"{a.get('ip')}:{port.get('port')}" for a in addrs]
    if len(items) > 3:
        return ",".join(items[:3]) + f" + {count - 3} more..."
    return ",".join(items)


def describe_configmap(cluster: Cluster, cm: Obj, show_events: bool) -> str:
    meta = cm["metadata"]
    out = [f"Name:\t{meta['name']}\n", f"Namespace:\t{meta.get('namespace', '')}\n"]
    out += d.labels_lines("Labels", meta.get("labels"))
    out += d.annotation_lines("Annotations", meta.get("annotations"))
    out.append("\nData\n====\n")
    for k in sorted(cm.get("data") or {}):
        out.append(f"{k}:\n----\n{cm['data'][k]}\n")
    out.append("\nBinaryData\n====\n")
    for k in sorted(cm.get("binaryData") or {}):
        out.append(f"{k}: {len(base64.b64decode(cm['binaryData'][k] + '=='))} bytes\n")
    out.append("\n")
    out += _events(cluster, cm, show_events)
    return d.render(out)


def describe_secret(cluster: Cluster, s: Obj, show_events: bool) -> str:
    meta = s["metadata"]
    out = [f"Name:\t{meta['name']}\n", f"Namespace:\t{meta.get('namespace', '')}\n"]
    out += d.labels_lines("Labels", meta.get("labels"))
    out += d.annotation_lines("Annotations", meta.get("annotations"))
    out.append(f"\nType:\t{s.get('type', 'Opaque')}\n\nData\n====\n")
    for k in sorted(s.get("data") or {}):
        try:
            n = len(base64.b64decode(s["data"][k]))
        except ValueError:
            n = 0
        out.append(f"{k}:\t{n} bytes\n")
    return d.render(out)


def describe_namespace(cluster: Cluster, ns: Obj, show_events: bool) -> str:
    meta = ns["metadata"]
    labels = dict(meta.get("labels") or {})
    labels.setdefault("kubernetes.io/metadata.name", meta["name"])
    out = [f"Name:\t{meta['name']}\n", *d.labels_lines("Labels", labels),
           *d.annotation_lines("Annotations", meta.get("annotations")),
           f"Status:\t{(ns.get('status') or {}).get('phase', 'Active')}\n",
           "\nNo resource quota.\n\nNo LimitRange resource.\n"]
    return d.render(out)


def describe_generic(cluster: Cluster, obj: Obj, show_events: bool) -> str:
    meta = obj["metadata"]
    out = [f"Name:\t{meta['name']}\n"]
    if meta.get("namespace"):
        out.append(f"Namespace:\t{meta['namespace']}\n")
    out += d.labels_lines("Labels", meta.get("labels"))
    out += d.annotation_lines("Annotations", meta.get("annotations"))
    out.append(f"API Version:\t{obj.get('apiVersion', '')}\nKind:\t{obj.get('kind', '')}\n")
    for key in ("spec", "status", "data"):
        if obj.get(key):
            out.append(f"{key.capitalize()}:\n")
            out += _generic_lines(obj[key], 1)
    out += _events(cluster, obj, show_events)
    return d.render(out)


def _generic_lines(value: Any, level: int) -> list[str]:
    pad = "  " * level
    out: list[str] = []
    if isinstance(value, dict):
        for k in sorted(value):
            v = value[k]
            if isinstance(v, dict | list) and v:
                out.append(f"{pad}{k[:1].upper()}{k[1:]}:\n")
                out += _generic_lines(v, level + 1)
            else:
                out.append(f"{pad}{k[:1].upper()}{k[1:]}:\t{v}\n")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                out += _generic_lines(item, level)
            else:
                out.append(f"{pad}{item}\n")
    return out


DESCRIBERS: dict[str, Callable[[Cluster, Obj, bool], str]] = {
    "PersistentVolume": describe_pv, "PersistentVolumeClaim": describe_pvc,
    "StorageClass": describe_sc,
    "Pod": describe_pod, "Deployment": describe_deployment, "ReplicaSet": describe_replicaset,
    "Node": describe_node, "Service": describe_service, "ConfigMap": describe_configmap,
    "Secret": describe_secret, "Namespace": describe_namespace,
}
_ = match_label_selector

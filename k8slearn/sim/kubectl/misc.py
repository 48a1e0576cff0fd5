"""scale, set image, expose, label/annotate, version, cluster-info, api-resources."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from k8slearn.sim import apiserver
from k8slearn.sim.errors import ApiError
from k8slearn.sim.kubectl.get import list_objects, selector_filter
from k8slearn.sim.kubectl.parse import CmdError, Parsed
from k8slearn.sim.kubectl.result import KubectlResult
from k8slearn.sim.kubectl.tabwriter import table
from k8slearn.sim.kubectl.util import (
    Resource,
    api_error_text,
    get_object,
    namespace,
    qualified,
    split_type_name,
)

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
CLIENT_VERSION = "v1.30.4"
KUSTOMIZE_VERSION = "v5.0.4-0.20230601165947-6ce0bf390ce3"


def _update(cluster: Cluster, obj: Obj) -> Obj:
    try:
        return apiserver.update(cluster, obj)
    except ApiError as exc:
        raise CmdError(api_error_text(exc)) from None


def _targets(cluster: Cluster, p: Parsed, what: str) -> list[tuple[Resource, Obj]]:
    reqs = selector_filter(p)
    pairs = split_type_name(p.args, what)
    if not pairs and p.args and (reqs is not None or p.get("all")):
        res = split_type_name([p.args[0], "x"], what)[0][0]
        objs = list_objects(cluster, res, namespace(p), reqs)
        return [(res, o) for o in objs]
    if not pairs:
        raise CmdError("error: required resource not specified")
    return [(res, get_object(cluster, res, namespace(p), n)) for res, n in pairs]


# -- scale -----------------------------------------------------------------------------------
def cmd_scale(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    if not p.has("replicas"):
        raise CmdError('error: required flag(s) "replicas" not set')
    replicas = p.get("replicas")
    if replicas < 0:
        raise CmdError("error: The --replicas=COUNT flag is required, and COUNT must be greater "
                       "than or equal to 0")
    if not p.args:
        raise CmdError("error: required resource not specified")
    out = []
    for res, obj in _targets(cluster, p, "scale"):
        if res.kind not in ("Deployment", "ReplicaSet"):
            raise CmdError(f'error: no scaler has been implemented for {{"{res.group}" '
                           f'"{res.kind}"}}')
        name = obj["metadata"]["name"]
        current = p.get("current-replicas")
        if current is not None and current != obj["spec"].get("replicas", 1):
            raise CmdError(f"error: Expected replicas to be {current}, was "
                           f"{obj['spec'].get('replicas', 1)}")
        new = copy.deepcopy(obj)
        new["spec"]["replicas"] = replicas
        _update(cluster, new)
        out.append(f"{qualified(res)}/{name} scaled\n")
    return KubectlResult(0, "".join(out), "")


# -- set image -------------------------------------------------------------------------------
def cmd_set_image(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    args = list(p.args)
    pairs = [a for a in args if "=" in a]
    resources = [a for a in args if "=" not in a]
    if not resources or not pairs:
        raise CmdError("error: at least one image update is required\nSee 'kubectl set image -h' "
                       "for help and examples" if resources else
                       "error: one or more resources must be specified as <resource> <name> or "
                       "<resource>/<name>\nSee 'kubectl set image -h' for help and examples")
    images: dict[str, str] = {}
    for pair in pairs:
        cname, _, image = pair.partition("=")
        if not image:
            raise CmdError(f"error: invalid image update {pair}: expected CONTAINER=IMAGE")
        images[cname] = image
    p2 = Parsed(p.command, resources, p.flags, p.given)
    out = []
    for res, obj in _targets(cluster, p2, "set image"):
        if res.kind not in ("Deployment", "ReplicaSet", "Pod"):
            raise CmdError(f"error: cannot set image on a {res.kind} in this sandbox")
        new = copy.deepcopy(obj)
        spec = new["spec"]["template"]["spec"] if res.kind != "Pod" else new["spec"]
        containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
        for cname, image in images.items():
            hit = [c for c in containers if cname in ("*", c.get("name"))]
            if not hit:
                raise CmdError(f'error: unable to find container named "{cname}"')
            for c in hit:
                c["image"] = image
        if new == obj:
            continue  # kubectl skips an empty patch silently
        _update(cluster, new)
        out.append(f"{qualified(res)}/{obj['metadata']['name']} image updated\n")
    return KubectlResult(0, "".join(out), "")


def cmd_set_bare(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    if p.args and p.args[0] in ("env", "resources", "selector", "serviceaccount", "subject"):
        raise CmdError(f'error: "kubectl set {p.args[0]}" is not simulated in this sandbox; '
                       '"kubectl set image" is')
    from k8slearn.sim.kubectl.parse import unknown_command

    if p.args:
        raise unknown_command(p.args[0], "kubectl set", ["env", "image", "resources",
                                                         "selector", "serviceaccount", "subject"])
    raise CmdError("error: Required resource not specified.\nSee 'kubectl set -h' for help and "
                   "examples")


# -- expose ----------------------------------------------------------------------------------
def _port_value(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def cmd_expose(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    if not p.args:
        raise CmdError("error: You must provide one or more resources by argument or filename.\n"
                       "Example resource specifications include:\n   '-f rsrc.yaml'\n"
                       "   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'")
    pairs = split_type_name(p.args, "expose")
    if len(pairs) != 1:
        raise CmdError("error: expose takes exactly one resource in this sandbox")
    res, name = pairs[0]
    obj = get_object(cluster, res, namespace(p), name)
    if res.kind == "Deployment" or res.kind == "ReplicaSet":
        sel = (obj["spec"].get("selector") or {})
        if sel.get("matchExpressions"):
            raise CmdError("error: couldn't convert expressions - \"" + name + "\" to map: "
                           "expressions are not supported by a Service selector")
        selector = dict(sel.get("matchLabels") or {})
        pod_spec = obj["spec"]["template"].get("spec") or {}
    elif res.kind == "Pod":
        selector = dict(obj["metadata"].get("labels") or {})
        pod_spec = obj.get("spec") or {}
        if not selector:
            raise CmdError("error: couldn't retrieve selectors via --selector flag or "
                           "introspection: the pod has no labels")
    elif res.kind == "Service":
        selector = dict(obj["spec"].get("selector") or {})
        pod_spec = {}
    else:
        raise CmdError(f"error: cannot expose a {res.kind}")
    if p.get("selector"):
        selector = dict(kv.split("=", 1) for kv in p.get("selector").split(",") if "=" in kv)
    ports: list[Obj] = []
    if p.get("port"):
        ports = [{"port": int(x), "protocol": p.get("protocol") or "TCP"}
                 for x in str(p.get("port")).split(",") if x.isdigit()]
        if not ports:
            raise CmdError(f'error: invalid port "{p.get("port")}"')
    else:
        for c in pod_spec.get("containers") or ():
            for cp in c.get("ports") or ():
                ports.append({"port": cp["containerPort"], "protocol": cp.get("protocol", "TCP")})
        if res.kind == "Service":
            ports = [{"port": sp["port"], "protocol": sp.get("protocol", "TCP")}
                     for sp in obj["spec"].get("ports") or ()]
        if not ports:
            raise CmdError("error: couldn't find port via --port flag or introspection\nSee "
                           "'kubectl expose -h' for help and examples")
    for i, port in enumerate(ports):
        if len(ports) > 1:
            port["name"] = f"port-{i + 1}"
        port["targetPort"] = _port_value(p.get("target-port")) if p.get("target-port") else \
            port["port"]
    svc_name = p.get("name") or name
    spec: Obj = {"ports": ports, "selector": selector}
    if p.get("type"):
        spec["type"] = p.get("type")
    if p.get("cluster-ip"):
        spec["clusterIP"] = p.get("cluster-ip")
    labels = dict(obj["metadata"].get("labels") or {})
    svc: Obj = {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": svc_name, "namespace": namespace(p)}, "spec": spec}
    if labels:
        svc["metadata"]["labels"] = labels
    try:
        apiserver.create(cluster, svc)
    except ApiError as exc:
        raise CmdError(api_error_text(exc)) from None
    return KubectlResult(0, f"service/{svc_name} exposed\n", "")


# -- label / annotate ------------------------------------------------------------------------
def cmd_label(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    annotate = p.command == "annotate"
    field = "annotations" if annotate else "labels"
    args = list(p.args)
    changes = [a for a in args if "=" in a or a.endswith("-")]
    rest = [a for a in args if a not in changes]
    if not changes and not p.get("list"):
        raise CmdError("error: at least one " + ("annotation" if annotate else "label") +
                       " update is required")
    sets: dict[str, str] = {}
    removes: list[str] = []
    for ch in changes:
        if "=" in ch:
            k, _, v = ch.partition("=")
            sets[k] = v
        else:
            removes.append(ch[:-1])
    p2 = Parsed(p.command, rest, p.flags, p.given)
    out = []
    verb = "annotated" if annotate else "labeled"
    for res, obj in _targets(cluster, p2, p.command):
        cur = dict(obj["metadata"].get(field) or {})
        for k, v in sets.items():
            if k in cur and cur[k] != v and not p.get("overwrite"):
                raise CmdError(f"error: '{k}' already has a value ({cur[k]}), and --overwrite "
                               "is false")
        new_vals = dict(cur)
        new_vals.update(sets)
        for k in removes:
            new_vals.pop(k, None)
        name = obj["metadata"]["name"]
        # label.go updateDataChangeMsg: "not labeled" / "labeled" / "unlabeled" (the object
        # got smaller without --overwrite); annotate always says "annotated".
        word = verb
        if new_vals != cur:
            new = copy.deepcopy(obj)
            new["metadata"][field] = new_vals
            if not annotate and not p.get("overwrite") and \
                    len(json.dumps(new_vals)) < len(json.dumps(cur)):
                word = "unlabeled"
            _update(cluster, new)
        elif not annotate:
            word = "not labeled"
        out.append(f"{qualified(res)}/{name} {word}\n")
    return KubectlResult(0, "".join(out), "")


# -- information -----------------------------------------------------------------------------
def cmd_version(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    fmt = p.get("output")
    if fmt in ("json", "yaml"):
        from k8slearn.sim.kubectl import printers

        info = {"clientVersion": {"major": "1", "minor": "30", "gitVersion": CLIENT_VERSION,
                                  "gitCommit": "", "gitTreeState": "clean",
                                  "buildDate": "2024-08-14T19:00:00Z", "goVersion": "go1.22.5",
                                  "compiler": "gc", "platform": "linux/amd64"},
                "kustomizeVersion": KUSTOMIZE_VERSION}
        if not p.get("client"):
            info["serverVersion"] = dict(info["clientVersion"])
        text = printers.to_json(info) if fmt == "json" else printers.to_yaml(info)
        return KubectlResult(0, text, "")
    if fmt:
        raise CmdError("error: --output must be 'yaml' or 'json'")
    out = f"Client Version: {CLIENT_VERSION}\nKustomize Version: {KUSTOMIZE_VERSION}\n"
    if not p.get("client"):
        out += f"Server Version: {CLIENT_VERSION}\n"
    return KubectlResult(0, out, "")


def cmd_cluster_info(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    if p.args and p.args[0] == "dump":
        raise CmdError("error: \"kubectl cluster-info dump\" is not available in this sandbox")
    out = "Kubernetes control plane is running at https://127.0.0.1:6443\n"
    if cluster.store.get("Service", "kube-system", "kube-dns") is not None:
        out += ("CoreDNS is running at https://127.0.0.1:6443/api/v1/namespaces/kube-system/"
                "services/kube-dns:dns/proxy\n")
    out += "\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n"
    return KubectlResult(0, out, "")


_VERBS = "[create delete deletecollection get list patch update watch]"


def cmd_api_resources(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    rows = [["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]]
    res_list = sorted(apiserver.RESOURCES.values(), key=lambda r: (r.group, r.plural))
    ns_filter = p.get("namespaced") if p.has("namespaced") else None
    for r in res_list:
        if ns_filter is not None and r.namespaced != ns_filter:
            continue
        rows.append([r.plural, ",".join(r.short), r.api_version, str(r.namespaced).lower(),
                     r.kind])
    if p.get("output") == "name":
        return KubectlResult(0, "".join(f"{r[0]}{'.' + r[2].split('/')[0] if '/' in r[2] else ''}"
                                        "\n" for r in rows[1:]), "")
    return KubectlResult(0, table(rows), "")

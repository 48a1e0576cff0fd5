"""Imperative ``kubectl create <kind> NAME …`` generators (deployment, service, configmap,
secret generic, namespace), building the same objects real kubectl sends."""

from __future__ import annotations

import base64
import copy
from typing import TYPE_CHECKING, Any

from k8slearn.sim import apiserver
from k8slearn.sim.errors import ApiError
from k8slearn.sim.kubectl import printers
from k8slearn.sim.kubectl.parse import CmdError, Parsed
from k8slearn.sim.kubectl.result import KubectlResult
from k8slearn.sim.kubectl.util import api_error_text, namespace, qualified

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]


def _one_name(p: Parsed, cmd: str) -> str:
    if len(p.args) != 1:
        raise CmdError(f"error: exactly one NAME is required, got {len(p.args)}\n"
                       f"See 'kubectl {cmd} -h' for help and examples")
    return p.args[0]


def _finish(cluster: Cluster, p: Parsed, obj: Obj) -> KubectlResult:
    res = apiserver.RESOURCES[obj["kind"]]
    name = obj["metadata"]["name"]
    dry = p.get("dry-run")
    fmt = p.get("output") or ""
    if fmt and fmt not in ("json", "yaml", "name"):
        raise CmdError(f'error: unable to match a printer suitable for the output format "{fmt}"'
                       ", allowed formats are: json,name,yaml")
    if p.get("save-config"):
        from k8slearn.sim.kubectl.apply import LAST_APPLIED, last_applied

        obj["metadata"].setdefault("annotations", {})[LAST_APPLIED] = last_applied(obj)
    try:
        if dry in ("client", "true"):
            stored = client_side(obj, explicit_namespace=p.has("namespace"))
        elif dry == "server":
            stored = apiserver.prepare_create(cluster, obj)
        elif dry not in (None, "", "none", "false"):
            raise CmdError(f'error: Invalid dry-run value ({dry}). Must be "none", "server", or '
                           '"client".')
        else:
            stored = apiserver.create(cluster, obj)
    except ApiError as exc:
        raise CmdError(api_error_text(exc)) from None
    if fmt == "json":
        return KubectlResult(0, printers.to_json(stored), "")
    if fmt == "yaml":
        return KubectlResult(0, printers.to_yaml(stored), "")
    suffix = " (dry run)" if dry == "client" or dry == "true" else (
        " (server dry run)" if dry == "server" else "")
    if fmt == "name":
        return KubectlResult(0, f"{qualified(res)}/{name}\n", "")
    return KubectlResult(0, f"{qualified(res)}/{name} created{suffix}\n", "")


def client_side(obj: Obj, explicit_namespace: bool) -> Obj:
    """The object as a client-side dry run prints it: what kubectl would send, with Go's zero
    values showing (``creationTimestamp: null``, ``status: {}``), no namespace unless -n."""
    out = copy.deepcopy(obj)
    meta = out["metadata"]
    if not explicit_namespace:
        meta.pop("namespace", None)
    meta["creationTimestamp"] = None
    tpl = (out.get("spec") or {}).get("template")
    if isinstance(tpl, dict):
        tpl.setdefault("metadata", {})["creationTimestamp"] = None
    if out["kind"] == "Service":
        out["status"] = {"loadBalancer": {}}
    elif out["kind"] in ("Deployment", "Pod", "Namespace"):
        out["status"] = {}
    return out


def container_name(image: str) -> str:
    """kubectl create deployment: the image's last path part without tag or digest."""
    name = image.split("/")[-1]
    name = name.split(":")[0].split("@")[0]
    return name.replace("_", "-")


def cmd_create_deployment(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    name = _one_name(p, "create deployment")
    images = p.get("image") or []
    if not images:
        raise CmdError('error: required flag(s) "image" not set')
    replicas = p.get("replicas")
    if replicas is None:
        replicas = 1
    port = p.get("port")
    if port is None:
        port = -1
    if len(images) > 1 and port >= 0:
        raise CmdError("error: cannot expose multiple containers")
    containers: list[Obj] = []
    seen: dict[str, None] = {}
    for image in images:
        cname = container_name(image)
        if cname in seen:
            cname = f"{cname}-{len(seen)}"
        seen[cname] = None
        c: Obj = {"name": cname, "image": image, "resources": {}}
        if port >= 0:
            c["ports"] = [{"containerPort": port}]
        containers.append(c)
    labels = {"app": name}
    obj: Obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace(p), "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "strategy": {},
            "template": {"metadata": {"labels": dict(labels)},
                         "spec": {"containers": containers}},
        },
    }
    return _finish(cluster, p, obj)


def _parse_tcp(specs: list[str]) -> list[Obj]:
    ports: list[Obj] = []
    for spec in specs:
        for item in spec.split(","):
            port, _, target = item.partition(":")
            try:
                pn = int(port)
                tn: int | str = int(target) if target and target.isdigit() else (target or pn)
            except ValueError:
                raise CmdError(f'error: invalid port "{item}"') from None
            ports.append({"name": f"{port}-{target or port}", "port": pn, "protocol": "TCP",
                          "targetPort": tn})
    return ports


def cmd_create_service(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    kind = p.command.split(" ")[-1]
    name = _one_name(p, p.command)
    tcp = p.get("tcp") or []
    cluster_ip = p.get("clusterip")
    if not tcp and cluster_ip != "None":
        raise CmdError("error: at least one tcp port specifier must be provided")
    type_ = {"clusterip": "ClusterIP", "nodeport": "NodePort", "loadbalancer": "LoadBalancer"}[kind]
    ports = _parse_tcp(tcp)
    if kind == "nodeport" and p.get("node-port"):
        for port in ports:
            port["nodePort"] = p.get("node-port")
    spec: Obj = {"ports": ports, "selector": {"app": name}, "type": type_}
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    obj: Obj = {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "namespace": namespace(p), "labels": {"app": name}},
                "spec": spec}
    return _finish(cluster, p, obj)


def cmd_create_service_bare(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    if p.args:
        from k8slearn.sim.kubectl.parse import unknown_command

        raise unknown_command(p.args[0], "kubectl create service",
                              ["clusterip", "externalname", "loadbalancer", "nodeport"])
    raise CmdError("error: Required resource not specified.\nSee 'kubectl create service -h' "
                   "for help and examples")


def _literals(p: Parsed) -> dict[str, str]:
    if p.get("from-file") or p.get("from-env-file"):
        raise CmdError("error: this sandbox has no files: use --from-literal=KEY=VALUE instead")
    data: dict[str, str] = {}
    for lit in p.get("from-literal") or []:
        key, eq, value = lit.partition("=")
        if not eq or not key:
            raise CmdError(f"error: invalid literal source {lit}, expected key=value")
        if key in data:
            raise CmdError(f'error: cannot add key "{key}", another key by that name already '
                           "exists in Data for ConfigMap")
        data[key] = value
    return data


def cmd_create_configmap(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    name = _one_name(p, "create configmap")
    obj: Obj = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": namespace(p)}}
    data = _literals(p)
    if data:
        obj["data"] = dict(sorted(data.items()))
    return _finish(cluster, p, obj)


def cmd_create_secret(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    name = _one_name(p, "create secret generic")
    data = {k: base64.b64encode(v.encode()).decode() for k, v in sorted(_literals(p).items())}
    obj: Obj = {"apiVersion": "v1", "kind": "Secret", "type": p.get("type") or "Opaque",
                "metadata": {"name": name, "namespace": namespace(p)}}
    if data:
        obj["data"] = data
    return _finish(cluster, p, obj)


def cmd_create_secret_bare(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    if p.args and p.args[0] in ("tls", "docker-registry"):
        raise CmdError(f'error: "kubectl create secret {p.args[0]}" needs files, which this '
                       "sandbox does not have; use \"kubectl create secret generic NAME "
                       '--from-literal=KEY=VALUE"')
    if p.args:
        from k8slearn.sim.kubectl.parse import unknown_command

        raise unknown_command(p.args[0], "kubectl create secret",
                              ["docker-registry", "generic", "tls"])
    raise CmdError("error: Required resource not specified.\nSee 'kubectl create secret -h' "
                   "for help and examples")


def cmd_create_namespace(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    name = _one_name(p, "create namespace")
    return _finish(cluster, p, {"apiVersion": "v1", "kind": "Namespace",
                                "metadata": {"name": name}, "spec": {},
                                "status": {"phase": "Active"}})


UNSIMULATED_CREATE = {"job": "Job", "cronjob": "CronJob", "ingress": "Ingress",
                      "role": "Role", "rolebinding": "RoleBinding", "clusterrole": "ClusterRole",
                      "clusterrolebinding": "ClusterRoleBinding",
                      "serviceaccount": "ServiceAccount", "sa": "ServiceAccount",
                      "poddisruptionbudget": "PodDisruptionBudget", "pdb": "PodDisruptionBudget",
                      "priorityclass": "PriorityClass", "quota": "ResourceQuota",
                      "token": "ServiceAccount token"}


def unsimulated_create(word: str) -> CmdError | None:
    kind = UNSIMULATED_CREATE.get(word)
    if kind is None:
        return None
    return CmdError(f'error: "kubectl create {word}" is not available: this sandbox cluster does '
                    f"not simulate {kind} objects")


def cmd_run(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    """kubectl run NAME --image=IMAGE [--port] [--labels] [--restart] [--env] [-- ARGS…]."""
    if not p.args:
        raise CmdError("error: NAME is required for run\nSee 'kubectl run -h' for help and "
                       "examples")
    if p.get("stdin") or p.get("tty") or p.get("rm"):
        raise CmdError("error: interactive sessions (-i, -t, --rm) are not available in this "
                       "sandbox; create the pod and read it with kubectl logs")
    name, rest = p.args[0], p.args[1:]
    image = p.get("image")
    if not image:
        raise CmdError('error: required flag(s) "image" not set')
    restart = p.get("restart") or "Always"
    if restart not in ("Always", "OnFailure", "Never"):
        raise CmdError(f"error: invalid restart policy: {restart}")
    labels = {"run": name}
    if p.get("labels"):
        labels = {}
        for kv in str(p.get("labels")).split(","):
            k, eq, v = kv.partition("=")
            if not eq:
                raise CmdError(f"error: invalid label spec: {kv}")
            labels[k] = v
    c: Obj = {"name": name, "image": image, "resources": {}}
    if rest:
        c["command" if p.get("command") else "args"] = rest
    if p.get("port"):
        try:
            c["ports"] = [{"containerPort": int(p.get("port"))}]
        except ValueError:
            raise CmdError(f'error: invalid port "{p.get("port")}"') from None
    env = []
    for e in p.get("env") or []:
        k, _, v = e.partition("=")
        env.append({"name": k, "value": v})
    if env:
        c["env"] = env
    obj: Obj = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace(p), "labels": labels},
                "spec": {"containers": [c], "dnsPolicy": "ClusterFirst",
                         "restartPolicy": restart}}
    return _finish(cluster, p, obj)

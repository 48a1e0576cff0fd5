"""Shared helpers: resource lookup, object names as kubectl prints them, error wording."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from k8slearn.sim import apiserver
from k8slearn.sim.errors import ApiError
from k8slearn.sim.kubectl.parse import CmdError, Parsed

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
Resource = apiserver.Resource

# Kinds a real cluster serves but this toy does not: `get` lists them as empty.
UNSIMULATED_NAMES: dict[str, str] = {
    "daemonsets": "DaemonSet", "daemonset": "DaemonSet", "ds": "DaemonSet",
    "statefulsets": "StatefulSet", "statefulset": "StatefulSet", "sts": "StatefulSet",
    "jobs": "Job", "job": "Job", "cronjobs": "CronJob", "cronjob": "CronJob", "cj": "CronJob",
    "ingresses": "Ingress", "ingress": "Ingress", "ing": "Ingress",
    "networkpolicies": "NetworkPolicy", "networkpolicy": "NetworkPolicy", "netpol": "NetworkPolicy",
    "horizontalpodautoscalers": "HorizontalPodAutoscaler", "hpa": "HorizontalPodAutoscaler",
    "poddisruptionbudgets": "PodDisruptionBudget", "pdb": "PodDisruptionBudget",
    "serviceaccounts": "ServiceAccount", "serviceaccount": "ServiceAccount", "sa": "ServiceAccount",
    "roles": "Role", "rolebindings": "RoleBinding", "clusterroles": "ClusterRole",
    "clusterrolebindings": "ClusterRoleBinding", "resourcequotas": "ResourceQuota",
    "quota": "ResourceQuota", "limitranges": "LimitRange", "limits": "LimitRange",
    "replicationcontrollers": "ReplicationController", "rc": "ReplicationController",
    "ingressclasses": "IngressClass", "priorityclasses": "PriorityClass", "pc": "PriorityClass",
    "customresourcedefinitions": "CustomResourceDefinition", "crd": "CustomResourceDefinition",
    "crds": "CustomResourceDefinition", "leases": "Lease",
}


def qualified(res: Resource) -> str:
    """'deployment.apps', 'pod', 'storageclass.storage.k8s.io' (kubectl's NamePrinter)."""
    return f"{res.singular}.{res.group}" if res.group else res.singular


def plural_group(res: Resource) -> str:
    """'deployments.apps', 'pods' (the API's GroupResource, as in NotFound messages)."""
    return f"{res.plural}.{res.group}" if res.group else res.plural


def ref(res: Resource, name: str) -> str:
    return f"{qualified(res)}/{name}"


def resolve_type(word: str) -> Resource:
    res = apiserver.resolve(word)
    if res is None:
        raise CmdError(f'error: the server doesn\'t have a resource type "{word}"')
    return res


def namespace(p: Parsed) -> str:
    return str(p.get("namespace") or "default")


def api_error_text(err: ApiError, source: str | None = None, verb: str = "creating") -> str:
    """How kubectl's CheckErr prints an API error (Invalid gets its special layout)."""
    details = getattr(err, "details", None)
    if err.reason == "Invalid" and details:
        head = f'The {details["kind"]} "{details["name"]}" is invalid: '
        causes = list(details["causes"])
        if len(causes) == 1:
            return head + causes[0]
        return head + "\n" + "\n".join(f"* {c}" for c in causes)
    if err.reason == "Invalid" and " is invalid: " in err.message:
        return "The " + err.message
    msg = err.message
    if source is not None:
        msg = f'error when {verb} "{source}": {msg}'
    return f"Error from server ({err.reason}): {msg}"


def get_object(cluster: Cluster, res: Resource, ns: str, name: str) -> Obj:
    obj = cluster.store.get(res.kind, ns if res.namespaced else None, name)
    if obj is None:
        raise CmdError(f'Error from server (NotFound): {plural_group(res)} "{name}" not found')
    return obj


def split_type_name(args: list[str], what: str = "get") -> list[tuple[Resource, str]]:
    """['deploy/web', 'pod/x'] or ['deploy', 'web', 'nginx'] -> [(Resource, name)]."""
    if not args:
        return []
    if "/" in args[0]:
        out = []
        for a in args:
            if "/" not in a:
                raise CmdError("error: there is no need to specify a resource type as a separate "
                               "argument when passing arguments in resource/name form (e.g. "
                               f"'kubectl {what} resource/<resource_name>' instead of 'kubectl "
                               f"{what} resource resource/<resource_name>'")
            t, _, n = a.partition("/")
            if not n:
                raise CmdError("error: arguments in resource/name form must have a single "
                               "resource and name")
            out.append((resolve_type(t), n))
        return out
    res = resolve_type(args[0])
    return [(res, n) for n in args[1:]]


def parse_bool_env(value: str | None) -> bool:
    return bool(value) and value.lower() in ("1", "true", "yes")  # type: ignore[union-attr]

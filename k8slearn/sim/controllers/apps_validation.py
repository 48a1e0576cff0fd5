"""Deployments and ReplicaSets as the API server shapes them: defaulting and validation.

Defaulting follows ``pkg/apis/apps/v1/defaults.go`` (``SetDefaults_Deployment``,
``SetDefaults_ReplicaSet``); the pod template gets the pod-spec defaults from the Pod defaulter
(``pods.py``) so that the stored template reads like a real one (``dnsPolicy: ClusterFirst``,
``imagePullPolicy`` …). Validation messages use the API's wording from
``pkg/apis/apps/validation``, including Go's ``%#v`` spelling of maps and selectors:
``spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does
not match template `labels```.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from k8slearn.sim import apiserver
from k8slearn.sim.controllers.deployment_util import semantic
from k8slearn.sim.objects import match_label_selector

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]

# One learner's sandbox, not a datacenter: a Deployment or ReplicaSet asks for at most this many.
MAX_REPLICAS_IN_SANDBOX = 1000
# SetDefaults_PodSpec fields that a real pod template shows; the Pod defaulter also adds
# admission-time fields (tolerations, priority, serviceAccountName) that belong to pods only.
TEMPLATE_SPEC_DEFAULTS = ("restartPolicy", "terminationGracePeriodSeconds", "dnsPolicy",
                          "schedulerName", "securityContext")
PERCENT = re.compile(r"^[0-9]+%$")
PERCENT_MSG = ("a valid percent string must be a numeric string followed by an ending '%' "
               "(e.g. '1%' or '93%', regex used for validation is '[0-9]+%')")


# -- defaulting ------------------------------------------------------------------------------
def default_template(cluster: Cluster, owner: Obj) -> None:
    """Give spec.template the pod-spec defaults a real API server stores with it."""
    template = owner.setdefault("spec", {}).setdefault("template", {})
    if not isinstance(template, dict) or not isinstance(template.get("spec"), dict):
        return
    spec = template["spec"]
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": owner["metadata"].get("name", ""),
                        "namespace": owner["metadata"].get("namespace")},
           "spec": copy.deepcopy(spec)}
    for fn in apiserver.DEFAULTERS.get("Pod", ()):
        fn(cluster, pod)
    defaulted = pod["spec"]
    for key in TEMPLATE_SPEC_DEFAULTS:
        if key not in spec and key in defaulted:
            spec[key] = defaulted[key]
    for part in ("containers", "initContainers"):
        if isinstance(spec.get(part), list) and isinstance(defaulted.get(part), list):
            spec[part] = defaulted[part]


@apiserver.defaulter("Deployment")
def default_deployment(cluster: Cluster, d: Obj) -> None:
    """SetDefaults_Deployment: 1 replica, RollingUpdate 25%/25%, 10 old RSs kept, 600 s."""
    spec = d.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    if isinstance(strategy, dict):
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            ru = strategy.setdefault("rollingUpdate", {})
            if isinstance(ru, dict):
                ru.setdefault("maxUnavailable", "25%")
                ru.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    # minReadySeconds defaults to 0 and, like every zero int32 with omitempty, is not shown.
    default_template(cluster, d)


@apiserver.defaulter("ReplicaSet")
def default_replicaset(cluster: Cluster, rs: Obj) -> None:
    """SetDefaults_ReplicaSet: 1 replica."""
    spec = rs.setdefault("spec", {})
    if isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        default_template(cluster, rs)


# -- Go's %#v, for error messages ------------------------------------------------------------
def go_map(m: dict[str, str] | None) -> str:
    """map[string]string{"app":"web"}, keys sorted as fmt prints maps; nil when missing."""
    if m is None:
        return "map[string]string(nil)"
    return "map[string]string{" + ", ".join(f'"{k}":"{m[k]}"' for k in sorted(m)) + "}"


def go_selector(sel: Obj) -> str:
    exprs = sel.get("matchExpressions")
    if exprs is None:
        expr_text = "[]v1.LabelSelectorRequirement(nil)"
    else:
        items = []
        for e in exprs:
            vals = e.get("values")
            vtext = "[]string(nil)" if vals is None else (
                "[]string{" + ", ".join(f'"{v}"' for v in vals) + "}")
            items.append(f'v1.LabelSelectorRequirement{{Key:"{e.get("key", "")}", '
                         f'Operator:"{e.get("operator", "")}", Values:{vtext}}}')
        expr_text = "[]v1.LabelSelectorRequirement{" + ", ".join(items) + "}"
    return (f"v1.LabelSelector{{MatchLabels:{go_map(sel.get('matchLabels'))}, "
            f"MatchExpressions:{expr_text}}}")


def go_value(v: Any) -> str:
    """field.Error's value: strings quoted, numbers bare."""
    return f'"{v}"' if isinstance(v, str) else str(v)


# -- validation ------------------------------------------------------------------------------
def _check_replicas(value: Any, path: str) -> list[str]:
    if not isinstance(value, int) or isinstance(value, bool):
        return [f"{path}: Invalid value: {go_value(value)}: must be an integer"]
    if value < 0:
        return [f"{path}: Invalid value: {value}: must be greater than or equal to 0"]
    if value > MAX_REPLICAS_IN_SANDBOX:
        return [f"{path}: Invalid value: {value}: must be less than or equal to "
                f"{MAX_REPLICAS_IN_SANDBOX} (the most this sandbox allows)"]
    return []


def _check_nonnegative(spec: Obj, field: str) -> list[str]:
    value = spec.get(field)
    if isinstance(value, int) and value < 0:
        return [f"spec.{field}: Invalid value: {value}: must be greater than or equal to 0"]
    return []


def _check_selector_and_template(spec: Obj, kind: str) -> list[str]:
    causes: list[str] = []
    sel = spec.get("selector")
    if not isinstance(sel, dict) or sel is None:
        causes.append("spec.selector: Required value")
        sel = None
    elif not sel.get("matchLabels") and not sel.get("matchExpressions"):
        # Upstream says "deployment" for ReplicaSets too (the validation code is shared).
        causes.append(f"spec.selector: Invalid value: {go_selector(sel)}: "
                      "empty selector is invalid for deployment")
        sel = None
    template = spec.get("template")
    if not isinstance(template, dict):
        return [*causes, "spec.template: Required value"]
    labels = (template.get("metadata") or {}).get("labels")
    if sel is not None and not match_label_selector(sel, labels or {}):
        causes.append(f"spec.template.metadata.labels: Invalid value: {go_map(labels)}: "
                      "`selector` does not match template `labels`")
    causes.extend(_check_pod_template(template.get("spec") or {}))
    return causes


def _check_pod_template(spec: Obj) -> list[str]:
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        return ["spec.template.spec.containers: Required value"]
    causes: list[str] = []
    seen: dict[str, None] = {}
    for i, c in enumerate(containers):
        path = f"spec.template.spec.containers[{i}]"
        name = c.get("name") if isinstance(c, dict) else None
        if not name:
            causes.append(f"{path}.name: Required value")
        elif name in seen:
            causes.append(f'{path}.name: Duplicate value: "{name}"')
        else:
            seen[name] = None
        if isinstance(c, dict) and not c.get("image"):
            causes.append(f"{path}.image: Required value")
    policy = spec.get("restartPolicy", "Always")
    if policy != "Always":
        causes.append(f'spec.template.spec.restartPolicy: Unsupported value: "{policy}": '
                      'supported values: "Always"')
    return causes


def _check_int_or_percent(value: Any, path: str) -> list[str]:
    if isinstance(value, str):
        if not PERCENT.match(value):
            return [f'{path}: Invalid value: "{value}": {PERCENT_MSG}']
        return []
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            return [f"{path}: Invalid value: {value}: must be greater than or equal to 0"]
        return []
    return [f"{path}: Invalid value: {go_value(value)}: must be an integer or percentage "
            "(e.g '5%')"]


def _int_or_percent_value(value: Any) -> int:
    if isinstance(value, str):
        try:
            return int(value.rstrip("%"))
        except ValueError:
            return 0
    return value if isinstance(value, int) else 0


def _check_strategy(spec: Obj) -> list[str]:
    strategy = spec.get("strategy") or {}
    stype = strategy.get("type")
    ru = strategy.get("rollingUpdate")
    if stype == "Recreate":
        if ru is not None:
            return ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy "
                    "`type` is 'Recreate'"]
        return []
    if stype != "RollingUpdate":
        return [f'spec.strategy.type: Unsupported value: "{stype}": supported values: '
                '"Recreate", "RollingUpdate"']
    ru = ru or {}
    path = "spec.strategy.rollingUpdate"
    unavailable, surge = ru.get("maxUnavailable"), ru.get("maxSurge")
    causes = _check_int_or_percent(unavailable, f"{path}.maxUnavailable")
    causes += _check_int_or_percent(surge, f"{path}.maxSurge")
    if _int_or_percent_value(unavailable) == 0 and _int_or_percent_value(surge) == 0:
        causes.append(f"{path}.maxUnavailable: Invalid value: {go_value(unavailable)}: "
                      "may not be 0 when `maxSurge` is 0")
    if isinstance(unavailable, str) and PERCENT.match(unavailable) and (
            _int_or_percent_value(unavailable) > 100):
        causes.append(f'{path}.maxUnavailable: Invalid value: "{unavailable}": '
                      "must not be greater than 100%")
    return causes


def _check_selector_immutable(new: Obj, old: Obj | None) -> list[str]:
    if old is None:
        return []
    sel, old_sel = new["spec"].get("selector"), old["spec"].get("selector")
    if isinstance(sel, dict) and semantic(sel) != semantic(old_sel):
        return [f"spec.selector: Invalid value: {go_selector(sel)}: field is immutable"]
    return []


@apiserver.validator("Deployment")
def validate_deployment(cluster: Cluster, d: Obj, old: Obj | None) -> list[str]:
    spec = d.get("spec")
    if not isinstance(spec, dict):
        return ["spec: Required value"]
    causes = _check_replicas(spec.get("replicas"), "spec.replicas")
    causes += _check_selector_and_template(spec, "Deployment")
    causes += _check_strategy(spec)
    for field in ("minReadySeconds", "revisionHistoryLimit"):
        causes += _check_nonnegative(spec, field)
    deadline = spec.get("progressDeadlineSeconds")
    if isinstance(deadline, int) and deadline <= spec.get("minReadySeconds", 0):
        causes.append(f"spec.progressDeadlineSeconds: Invalid value: {deadline}: must be "
                      "greater than minReadySeconds")
    causes += _check_selector_immutable(d, old)
    return causes


@apiserver.validator("ReplicaSet")
def validate_replicaset(cluster: Cluster, rs: Obj, old: Obj | None) -> list[str]:
    spec = rs.get("spec")
    if not isinstance(spec, dict):
        return ["spec: Required value"]
    causes = _check_replicas(spec.get("replicas"), "spec.replicas")
    causes += _check_selector_and_template(spec, "ReplicaSet")
    causes += _check_nonnegative(spec, "minReadySeconds")
    causes += _check_selector_immutable(rs, old)
    return causes

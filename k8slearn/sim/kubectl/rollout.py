"""``kubectl rollout status|history|undo|pause|resume|restart`` for Deployments.

All of this is client-side logic in real kubectl (polymorphichelpers), so it lives here and reads
the Deployment and its ReplicaSets from the store. ``rollout status`` does not block in the
sandbox: it prints where the rollout is now.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from k8slearn.sim import apiserver
from k8slearn.sim.errors import ApiError
from k8slearn.sim.kubectl.parse import CmdError, Parsed
from k8slearn.sim.kubectl.result import KubectlResult
from k8slearn.sim.kubectl.tabwriter import tabwrite
from k8slearn.sim.kubectl.util import (
    api_error_text,
    get_object,
    namespace,
    plural_group,
    resolve_type,
)
from k8slearn.sim.objects import get_condition, rfc3339

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
SKIP_ANNOTATIONS = (REVISION, "deployment.kubernetes.io/revision-history",
                    "deployment.kubernetes.io/desired-replicas",
                    "deployment.kubernetes.io/max-replicas",
                    "kubectl.kubernetes.io/last-applied-configuration")


def _target(cluster: Cluster, p: Parsed, verb: str) -> Obj:
    args = p.args
    if not args:
        raise CmdError("error: required resource not specified")
    if "/" in args[0]:
        t, _, name = args[0].partition("/")
        rest = args[1:]
    else:
        t = args[0]
        if len(args) < 2:
            raise CmdError("error: required resource not specified")
        name, rest = args[1], args[2:]
    if rest:
        raise CmdError(f"error: rollout {verb} takes a single deployment in this sandbox")
    res = resolve_type(t)
    if res.kind != "Deployment":
        what = {"status": "status viewer", "history": "history viewer",
                "undo": "rollbacker"}.get(verb, "")
        if what:
            raise CmdError(f'error: no {what} has been implemented for {{"{res.group}" '
                           f'"{res.kind}"}}')
        gerund = {"pause": "pausing", "resume": "resuming", "restart": "restarting"}.get(verb,
                                                                                       verb)
        raise CmdError(f'error: {plural_group(res)} "{name}" {gerund} is not supported')
    return get_object(cluster, res, namespace(p), name)


def replicasets(cluster: Cluster, dep: Obj) -> list[Obj]:
    uid = dep["metadata"].get("uid")
    out = []
    for rs in cluster.store.list("ReplicaSet", dep["metadata"].get("namespace")):
        for ref in rs["metadata"].get("ownerReferences") or ():
            if ref.get("uid") == uid and ref.get("controller"):
                out.append(rs)
    return out


def revision(rs: Obj) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def status_message(dep: Obj) -> tuple[str, bool, str | None]:
    """(message, done, error) exactly as DeploymentStatusViewer.Status (section 1.13)."""
    meta, spec, st = dep["metadata"], dep.get("spec") or {}, dep.get("status") or {}
    name = meta["name"]
    if meta.get("generation", 0) > st.get("observedGeneration", 0):
        return "Waiting for deployment spec update to be observed...\n", False, None
    cond = get_condition(dep, "Progressing")
    if cond is not None and cond.get("reason") == "ProgressDeadlineExceeded":
        return "", False, f'deployment "{name}" exceeded its progress deadline'
    replicas = spec.get("replicas", 1)
    updated = st.get("updatedReplicas", 0)
    if updated < replicas:
        return (f'Waiting for deployment "{name}" rollout to finish: {updated} out of {replicas} '
                "new replicas have been updated...\n", False, None)
    if st.get("replicas", 0) > updated:
        return (f'Waiting for deployment "{name}" rollout to finish: '
                f"{st.get('replicas', 0) - updated} old replicas are pending termination...\n",
                False, None)
    available = st.get("availableReplicas", 0)
    if available < updated:
        return (f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} '
                "updated replicas are available...\n", False, None)
    return f'deployment "{name}" successfully rolled out\n', True, None


def cmd_status(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    dep = _target(cluster, p, "status")
    msg, _done, error = status_message(dep)
    if error:
        return KubectlResult(1, "", f"error: {error}\n")
    return KubectlResult(0, msg, "")


def _template_text(tpl: Obj) -> str:
    """The 'Pod Template:' block of ``rollout history --revision=N``.

    Real kubectl writes DescribePodTemplate through a bare PrefixWriter (no tabwriter), so the
    label/value separators stay literal tab characters.
    """
    from k8slearn.sim.kubectl.describe import pod_template_lines

    return "".join(pod_template_lines(tpl, 0))


def cmd_history(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    dep = _target(cluster, p, "history")
    history: dict[int, Obj] = {}
    for rs in replicasets(cluster, dep):
        rev = revision(rs)
        if rev > 0:
            history[rev] = rs
    head = f"deployment.apps/{dep['metadata']['name']}"
    want = p.get("revision") or 0
    if want:
        rs = history.get(want)
        if rs is None:
            raise CmdError("error: unable to find the specified revision")
        tpl = copy.deepcopy(rs["spec"]["template"])
        cause = (rs["metadata"].get("annotations") or {}).get(CHANGE_CAUSE)
        if cause:
            tpl.setdefault("metadata", {}).setdefault("annotations", {})[CHANGE_CAUSE] = cause
        return KubectlResult(0, f"{head} with revision #{want}\n{_template_text(tpl)}\n", "")
    if not history:
        return KubectlResult(0, f"{head} \nNo rollout history found.\n", "")
    lines = "REVISION\tCHANGE-CAUSE\n"
    for rev in sorted(history):
        cause = (history[rev]["metadata"].get("annotations") or {}).get(CHANGE_CAUSE) or "<none>"
        lines += f"{rev}\t{cause}\n"
    return KubectlResult(0, f"{head} \n{tabwrite(lines, 0, 2)}\n", "")


def _equal_ignore_hash(a: Obj, b: Obj) -> bool:
    a, b = copy.deepcopy(a), copy.deepcopy(b)
    for t in (a, b):
        (t.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
    return a == b


def cmd_undo(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    dep = _target(cluster, p, "undo")
    name = dep["metadata"]["name"]
    if (dep.get("spec") or {}).get("paused"):
        raise CmdError("error: you cannot rollback a paused deployment; resume it first with "
                       "'kubectl rollout resume' and try again")
    history = {revision(rs): rs for rs in replicasets(cluster, dep) if revision(rs) > 0}
    requested = p.get("to-revision") or 0
    if requested:
        if requested not in history:
            raise CmdError(f"error: unable to find specified revision {requested} in history")
        rs = history[requested]
    else:
        revs = sorted(history)
        if len(revs) < 2:
            raise CmdError(f'error: no rollout history found for deployment "{name}"')
        rs = history[revs[-2]]
    if _equal_ignore_hash(rs["spec"]["template"], dep["spec"]["template"]):
        # kubectl prints the revision that was asked for (0 when none was).
        return KubectlResult(0, f"deployment.apps/{name} skipped rollback (current template "
                             f"already matches revision {requested})\n", "")
    new = copy.deepcopy(dep)
    tpl = copy.deepcopy(rs["spec"]["template"])
    (tpl.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
    new["spec"]["template"] = tpl
    ann = {k: v for k, v in (dep["metadata"].get("annotations") or {}).items()
           if k in SKIP_ANNOTATIONS}
    ann.update({k: v for k, v in (rs["metadata"].get("annotations") or {}).items()
                if k not in SKIP_ANNOTATIONS})
    new["metadata"]["annotations"] = ann
    _update(cluster, new)
    return KubectlResult(0, f"deployment.apps/{name} rolled back\n", "")


def _update(cluster: Cluster, obj: Obj) -> None:
    try:
        apiserver.update(cluster, obj)
    except ApiError as exc:
        raise CmdError(api_error_text(exc)) from None


def cmd_pause(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    pause = p.command.endswith("pause")
    dep = _target(cluster, p, "pause" if pause else "resume")
    name = dep["metadata"]["name"]
    paused = bool((dep.get("spec") or {}).get("paused"))
    if pause and paused:
        raise CmdError(f'error: deployments.apps "{name}" is already paused')
    if not pause and not paused:
        raise CmdError(f'error: deployments.apps "{name}" is not paused')
    new = copy.deepcopy(dep)
    if pause:
        new["spec"]["paused"] = True
    else:
        new["spec"].pop("paused", None)
    _update(cluster, new)
    return KubectlResult(0, f"deployment.apps/{name} {'paused' if pause else 'resumed'}\n", "")


def cmd_restart(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    dep = _target(cluster, p, "restart")
    name = dep["metadata"]["name"]
    if (dep.get("spec") or {}).get("paused"):
        raise CmdError(f'error: deployments.apps "{name}" can\'t restart paused deployment '
                       "(run rollout resume first)")
    new = copy.deepcopy(dep)
    tmeta = new["spec"].setdefault("template", {}).setdefault("metadata", {})
    ann = tmeta.get("annotations") or {}
    ann["kubectl.kubernetes.io/restartedAt"] = rfc3339(cluster.now)
    tmeta["annotations"] = ann
    _update(cluster, new)
    return KubectlResult(0, f"deployment.apps/{name} restarted\n", "")


def cmd_rollout_bare(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    if p.args:
        from k8slearn.sim.kubectl.parse import unknown_command

        raise unknown_command(p.args[0], "kubectl rollout",
                              ["history", "pause", "restart", "resume", "status", "undo"])
    raise CmdError("error: Required resource not specified.\nSee 'kubectl rollout -h' for help "
                   "and examples")

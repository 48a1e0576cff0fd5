"""``kubectl apply -f -``, ``kubectl create -f -`` and ``kubectl delete``.

Apply is atomic in this sandbox: every document is parsed, schema-checked, defaulted and
validated (a dry run) before anything is written; if one fails, the cluster is unchanged.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from k8slearn.sim import apiserver, manifests
from k8slearn.sim.errors import ApiError
from k8slearn.sim.kubectl.get import list_objects, selector_filter
from k8slearn.sim.kubectl.parse import CmdError, Parsed
from k8slearn.sim.kubectl.result import KubectlResult
from k8slearn.sim.kubectl.util import (
    Resource,
    api_error_text,
    namespace,
    plural_group,
    qualified,
    resolve_type,
)

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
SERVER_OWNED = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields",
                "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink")


def read_stdin(p: Parsed, stdin: str | None, verb: str) -> tuple[str, str]:
    """(text, source name) for ``-f -``; explains that only standard input exists here."""
    files = p.get("filename") or []
    if not files:
        if verb == "apply":
            raise CmdError("error: must specify one of -f and -k")
        raise CmdError("error: must specify one of -f and -k\n\n"
                       if verb == "create" else "error: must specify -f")
    for f in files:
        if f != "-":
            raise CmdError(f'error: the path "{f}" does not exist (this sandbox has no file '
                           f"system: paste the manifest and use \"kubectl {verb} -f -\")")
    if stdin is None or not stdin.strip():
        raise CmdError(f"error: no objects passed to {verb}")
    return stdin, "STDIN"


def go_json(obj: Any) -> str:
    """json.Marshal of an unstructured object: sorted keys, compact, HTML-escaped."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _clean_manifest(obj: Obj, res: Resource, ns: str) -> Obj:
    obj = copy.deepcopy(obj)
    obj.pop("status", None)
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        obj["metadata"] = meta
    if res.namespaced:
        meta["namespace"] = meta.get("namespace") or ns
    for k in SERVER_OWNED:
        meta.pop(k, None)
    return obj


def last_applied(obj: Obj) -> str:
    """The annotation kubectl stores: the manifest with an empty annotations map, + "\\n"."""
    rec = copy.deepcopy(obj)
    ann = rec["metadata"].setdefault("annotations", {}) or {}
    ann.pop(LAST_APPLIED, None)
    rec["metadata"]["annotations"] = ann
    return go_json(rec) + "\n"


# Strategic-merge keys of the lists apply merges item by item (patchMergeKey in the API types).
MERGE_KEYS = {"containers": ("name",), "initContainers": ("name",), "env": ("name",),
              "volumes": ("name",), "volumeMounts": ("mountPath",),
              "imagePullSecrets": ("name",), "ports": ("containerPort", "port")}


def _merge_key(field: str, items: list[Any]) -> str | None:
    for key in MERGE_KEYS.get(field, ()):
        if items and all(isinstance(i, dict) and key in i for i in items):
            return key
    return None


def _merge_list(field: str, live: list[Any], new: list[Any], old: list[Any]) -> list[Any]:
    """Strategic 3-way merge of a keyed list: manifest items merged into the live ones with the
    same key; items dropped from the manifest since last apply are removed; items someone else
    added (not in last-applied) are kept."""
    key = _merge_key(field, new)
    if key is None or not all(isinstance(i, dict) and key in i for i in live):
        return copy.deepcopy(new)
    live_by = {i[key]: i for i in live}
    old_by = {i[key]: i for i in old if isinstance(i, dict) and key in i}
    out = []
    for item in new:
        merged = copy.deepcopy(live_by.get(item[key], {}))
        prev = old_by.get(item[key], {})
        _merge(merged, item, prev if isinstance(prev, dict) else {})
        out.append(merged)
    wanted = {i[key] for i in new}
    out += [copy.deepcopy(i) for i in live if i[key] not in wanted and i[key] not in old_by]
    return out


def _merge(dst: Obj, new: Obj, old: Obj) -> None:
    """3-way merge of maps: keys dropped from the manifest since last apply are removed."""
    for k in list(old):
        if k not in new and k in dst:
            del dst[k]
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            prev = old.get(k) if isinstance(old.get(k), dict) else {}
            _merge(dst[k], v, prev)
        elif isinstance(v, list) and isinstance(dst.get(k), list):
            prev_list = old.get(k) if isinstance(old.get(k), list) else []
            dst[k] = _merge_list(k, dst[k], v, prev_list)
        else:
            dst[k] = copy.deepcopy(v)


def merged_object(live: Obj, manifest: Obj) -> tuple[Obj, bool]:
    """(object to store, whether the live object lacked the last-applied annotation)."""
    ann = (live["metadata"].get("annotations") or {}).get(LAST_APPLIED)
    try:
        old = json.loads(ann) if ann else {}
    except ValueError:
        old = {}
    if not isinstance(old, dict):
        old = {}
    new = copy.deepcopy(live)
    new.pop("status", None)
    _merge(new, manifest, old)
    new["metadata"].setdefault("annotations", {})
    if new["metadata"]["annotations"] is None:
        new["metadata"]["annotations"] = {}
    new["metadata"]["annotations"][LAST_APPLIED] = last_applied(manifest)
    if "status" in live:
        new["status"] = live["status"]
    return new, not ann


class _Plan:
    """One document's outcome in the dry run: (resource, object to write, action)."""

    def __init__(self, res: Resource, obj: Obj, action: str, warning: str = "") -> None:
        self.res, self.obj, self.action, self.warning = res, obj, action, warning


def _schema(obj: Obj, res: Resource, source: str, verb: str) -> None:
    problem = manifests.schema_errors(obj)
    if problem is None:
        return
    what, detail = problem
    if what == "decode":
        version = res.api_version.split("/")[-1]
        raise CmdError(f'Error from server (BadRequest): error when {verb} "{source}": '
                       f'{res.kind} in version "{version}" cannot be handled as a {res.kind}: '
                       f"{detail}")
    causes = list(detail)
    name = manifests.object_name(obj)
    head = f'The {res.kind} "{name}" is invalid: '
    raise CmdError(head + (causes[0] if len(causes) == 1 else
                           "\n" + "\n".join(f"* {c}" for c in causes)))


def plan(cluster: Cluster, p: Parsed, text: str, source: str, mode: str) -> list[_Plan]:
    """Parse, check and dry-run every document. ``mode`` is "apply" or "create"."""
    try:
        docs = manifests.load(text, source)
    except manifests.ManifestError as exc:
        raise CmdError(str(exc)) from None
    ns_flag = p.get("namespace")
    default_ns = namespace(p)
    plans: list[_Plan] = []
    pending: dict[tuple[str, str, str], Obj] = {}
    rng_state = cluster.rng.getstate()
    state_copy = copy.deepcopy(cluster.state)
    added_ns: list[str] = []
    try:
        for doc in docs:
            try:
                res = manifests.check_kind(doc, source)
            except manifests.ManifestError as exc:
                raise CmdError(str(exc)) from None
            doc_ns = manifests.object_namespace(doc)
            if res.namespaced and ns_flag and doc_ns and doc_ns != ns_flag:
                raise CmdError(f'error: the namespace from the provided object "{doc_ns}" does '
                               f'not match the namespace "{ns_flag}". You must pass '
                               f"'--namespace={doc_ns}' to perform this operation.")
            manifest = _clean_manifest(doc, res, default_ns)
            name = manifests.object_name(manifest)
            ns = manifest["metadata"].get("namespace", "") if res.namespaced else ""
            live = pending.get((res.kind, ns, name)) or (
                cluster.store.get(res.kind, ns or None, name) if name else None)
            verb = "patching" if live is not None and mode == "apply" else "creating"
            _schema(manifest, res, source, verb)
            if not name:
                gv = res.api_version if "/" in res.api_version else "/" + res.api_version
                raise CmdError(f'error: error when retrieving current configuration of:\n'
                               f'Resource: "{gv}, Resource={res.plural}", GroupVersionKind: '
                               f'"{gv}, Kind={res.kind}"\nName: "", Namespace: '
                               f'"{ns}"\nfrom server for: "{source}": resource name may not be '
                               "empty")
            try:
                if live is None:
                    obj = copy.deepcopy(manifest)
                    if mode == "apply":
                        ann = obj["metadata"].setdefault("annotations", {}) or {}
                        obj["metadata"]["annotations"] = ann
                        ann[LAST_APPLIED] = last_applied(manifest)
                    checked = apiserver.prepare_create(cluster, obj)
                    plans.append(_Plan(res, obj, "created"))
                    if res.kind == "Namespace":
                        cluster.store.objects.setdefault("Namespace", {})[f"/{name}"] = checked
                        added_ns.append(name)
                    pending[(res.kind, ns, name)] = checked
                elif mode == "create":
                    raise ApiError("AlreadyExists",
                                   f'{plural_group(res)} "{name}" already exists', 409)
                else:
                    new, missing = merged_object(live, manifest)
                    warning = ""
                    if missing:
                        warning = (f"Warning: resource {plural_group(res)}/{name} is missing the "
                                   f"{LAST_APPLIED} annotation which is required by kubectl "
                                   "apply. kubectl apply should only be used on resources "
                                   "created declaratively by either kubectl create --save-config "
                                   "or kubectl apply. The missing annotation will be patched "
                                   "automatically.\n")
                    if (res.kind, ns, name) in pending and live is pending[(res.kind, ns, name)]:
                        checked = new
                        action = "configured"
                    else:
                        checked, old = apiserver.prepare_update(cluster, new)
                        action = "unchanged" if apiserver._same(checked, old) else "configured"
                    plans.append(_Plan(res, new, action, warning))
                    pending[(res.kind, ns, name)] = checked
            except ApiError as exc:
                raise CmdError(api_error_text(exc, source, verb)) from None
    finally:
        for n in added_ns:
            cluster.store.objects.get("Namespace", {}).pop(f"/{n}", None)
        cluster.rng.setstate(rng_state)
        if cluster.state != state_copy:
            cluster.state.clear()
            cluster.state.update(state_copy)
    _check_room(cluster, plans)
    return plans


def _check_room(cluster: Cluster, plans: list[_Plan]) -> None:
    """The sandbox's object limits, checked for the whole batch before anything is written."""
    store = cluster.store
    new_pods = sum(1 for pl in plans if pl.action == "created" and pl.res.kind == "Pod")
    new_other = sum(1 for pl in plans if pl.action == "created" and pl.res.kind != "Pod")
    max_pods = getattr(apiserver, "MAX_PODS", None)
    if new_pods and max_pods is not None and store.count("Pod") + new_pods > max_pods:
        raise CmdError(f"Error from server (Forbidden): this sandbox runs at most {max_pods} "
                       "pods; delete some first")
    others = store.count() - store.count("Pod") - store.count("Event")
    if new_other and others + new_other > apiserver.MAX_OBJECTS:
        raise CmdError(f"Error from server (Forbidden): this sandbox holds at most "
                       f"{apiserver.MAX_OBJECTS} objects (pods and events not counted); delete "
                       "something first")


def write(cluster: Cluster, plans: list[_Plan], source: str) -> tuple[str, str]:
    out, err = [], []
    for pl in plans:
        name = pl.obj["metadata"]["name"]
        if pl.warning:
            err.append(pl.warning)
        if pl.action == "created":
            ns = pl.obj["metadata"].get("namespace")
            if cluster.store.get(pl.res.kind, ns if pl.res.namespaced else None, name):
                new, _ = merged_object(
                    cluster.store.get(pl.res.kind, ns if pl.res.namespaced else None, name)
                    or {}, pl.obj)
                apiserver.update(cluster, new)
                out.append(f"{qualified(pl.res)}/{name} configured\n")
                continue
            apiserver.create(cluster, pl.obj)
        elif pl.action == "configured":
            apiserver.update(cluster, pl.obj)
        out.append(f"{qualified(pl.res)}/{name} {pl.action}\n")
    return "".join(out), "".join(err)


def cmd_apply(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    if p.get("server-side"):
        raise CmdError("error: --server-side apply is not simulated in this sandbox; use "
                       "client-side \"kubectl apply -f -\"")
    if p.get("kustomize"):
        raise CmdError("error: kustomize (-k) is not available in this sandbox")
    text, source = read_stdin(p, stdin, "apply")
    plans = plan(cluster, p, text, source, "apply")
    dry = p.get("dry-run")
    if dry:
        suffix = " (server dry run)" if dry == "server" else " (dry run)"
        return KubectlResult(0, "".join(f"{qualified(pl.res)}/{pl.obj['metadata']['name']} "
                                        f"{pl.action}{suffix}\n" for pl in plans), "")
    out, err = _write_guarded(cluster, plans, source)
    return KubectlResult(0, out, err)


def _write_guarded(cluster: Cluster, plans: list[_Plan], source: str) -> tuple[str, str]:
    """Write every plan; if one still fails (the dry run passed), put back what was written."""
    before: list[tuple[str, str | None, str, Obj | None]] = []
    for pl in plans:
        meta = pl.obj["metadata"]
        ns = meta.get("namespace") if pl.res.namespaced else None
        old = cluster.store.get(pl.res.kind, ns, meta["name"])
        before.append((pl.res.kind, ns, meta["name"], copy.deepcopy(old)))
    try:
        return write(cluster, plans, source)
    except Exception as exc:
        for kind, ns, name, old in reversed(before):
            now = cluster.store.get(kind, ns, name)
            if old is None and now is not None:
                cluster.store.remove(kind, ns, name)
            elif old is not None and now != old:
                if now is None:
                    cluster.store.add(old)
                else:
                    cluster.store.update(old)
        if isinstance(exc, ApiError):
            raise CmdError(api_error_text(exc, source)) from None
        raise


def cmd_create_file(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    if p.args:
        from k8slearn.sim.kubectl.create import unsimulated_create

        problem = unsimulated_create(p.args[0])
        if problem is not None:
            raise problem
        raise CmdError(f"error: Unexpected args: [{' '.join(p.args)}]\nSee 'kubectl create -h' "
                       "for help and examples")
    if not p.get("filename"):
        raise CmdError("error: must specify one of -f and -k\n\nSee 'kubectl create -h' for "
                       "help and examples")
    text, source = read_stdin(p, stdin, "create")
    plans = plan(cluster, p, text, source, "create")
    if p.get("dry-run"):
        return KubectlResult(0, "".join(f"{qualified(pl.res)}/{pl.obj['metadata']['name']} "
                                        "created (dry run)\n" for pl in plans), "")
    if p.get("save-config"):
        for pl in plans:
            pl.obj["metadata"].setdefault("annotations", {})[LAST_APPLIED] = last_applied(
                pl.obj)
    out, err = _write_guarded(cluster, plans, source)
    return KubectlResult(0, out, err)


# -- delete ----------------------------------------------------------------------------------
PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public")


def _delete_one(cluster: Cluster, res: Resource, ns: str, name: str, grace: int | None,
                force: bool) -> str:
    if res.kind == "Namespace" and name in PROTECTED_NAMESPACES and \
            cluster.store.get("Namespace", None, name) is not None:
        # The NamespaceLifecycle admission plugin refuses these.
        raise ApiError("Forbidden", f'namespaces "{name}" is forbidden: this namespace may not '
                       "be deleted", 403)
    apiserver.delete(cluster, res.kind, ns if res.namespaced else None, name,
                     grace_period=grace)
    word = "force deleted" if force and grace == 0 else "deleted"
    return f'{qualified(res)} "{name}" {word}\n'


def cmd_delete(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    grace = p.get("grace-period")
    grace = -1 if grace is None else grace
    force = bool(p.get("force"))
    if p.get("now"):
        if grace != -1:
            raise CmdError("error: --now and --grace-period cannot be specified together")
        grace = 1
    if grace == 0 and not force:
        grace = 1
    if force and grace < 0:
        grace = 0
    g: int | None = None if grace < 0 else grace
    err = ""
    if force and g == 0:
        err = ("Warning: Immediate deletion does not wait for confirmation that the running "
               "resource has been terminated. The resource may continue to run on the cluster "
               "indefinitely.\n")
    targets: list[tuple[Resource, str, str]] = []  # (res, ns, name)
    ns = namespace(p)
    if p.get("filename"):
        if p.args:
            raise CmdError("error: when paths, URLs, or stdin is provided as input, you may not "
                           "specify resource arguments as well")
        text, source = read_stdin(p, stdin, "delete")
        try:
            docs = manifests.load(text, source)
            for doc in docs:
                res = manifests.check_kind(doc, source)
                dns = manifests.object_namespace(doc) or ns
                targets.append((res, dns, manifests.object_name(doc)))
        except manifests.ManifestError as exc:
            raise CmdError(str(exc)) from None
        out, errs = _run_deletes(cluster, targets, g, force, source)
        return KubectlResult(1 if errs else 0, out, err + errs)
    if not p.args:
        raise CmdError("error: You must provide one or more resources by argument or filename.\n"
                       "Example resource specifications include:\n   '-f rsrc.yaml'\n"
                       "   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'")
    reqs = selector_filter(p)
    all_ns = bool(p.get("all-namespaces"))
    if "/" in p.args[0]:
        for a in p.args:
            t, _, n = a.partition("/")
            if not n:
                raise CmdError("error: there is no need to specify a resource type as a "
                               "separate argument when passing arguments in resource/name form")
            targets.append((resolve_type(t), ns, n))
    else:
        types = [resolve_type(t) for t in p.args[0].split(",")]
        names = p.args[1:]
        if names and (reqs is not None or p.get("all")):
            raise CmdError("error: name cannot be provided when a selector is specified")
        if not names and reqs is None and not p.get("all"):
            raise CmdError('error: resource(s) were provided, but no name was specified')
        for res in types:
            if names:
                targets.extend((res, ns, n) for n in names)
            else:
                for o in list_objects(cluster, res, None if all_ns else ns, reqs):
                    targets.append((res, o["metadata"].get("namespace") or ns,
                                    o["metadata"]["name"]))
        if not names and not targets:
            return KubectlResult(0, "No resources found\n", err)
    out, errs = _run_deletes(cluster, targets, g, force, None)
    if p.get("ignore-not-found"):
        errs = ""
    return KubectlResult(1 if errs else 0, out, err + errs)


def _run_deletes(cluster: Cluster, targets: list[tuple[Resource, str, str]], grace: int | None,
                 force: bool, source: str | None) -> tuple[str, str]:
    out, errs = [], []
    for res, ns, name in targets:
        try:
            out.append(_delete_one(cluster, res, ns, name, grace, force))
        except ApiError as exc:
            errs.append(api_error_text(exc, source, "deleting") + "\n")
    return "".join(out), "".join(errs)

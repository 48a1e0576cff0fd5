"""``kubectl get``: tables, ``-o wide|json|yaml|name``, ``-l``, ``-A``, names, ``kind/name``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from k8slearn.sim import apiserver
from k8slearn.sim.kubectl import jsonpath, printers
from k8slearn.sim.kubectl.parse import CmdError, Parsed
from k8slearn.sim.kubectl.result import KubectlResult
from k8slearn.sim.kubectl.tabwriter import table
from k8slearn.sim.kubectl.util import (
    UNSIMULATED_NAMES,
    Resource,
    namespace,
    plural_group,
    qualified,
    resolve_type,
)
from k8slearn.sim.objects import parse_selector, selector_matches

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]

ALL_KINDS = ["Pod", "Service", "Deployment", "ReplicaSet"]
OUTPUTS = ("", "wide", "json", "yaml", "name")
ALLOWED_FORMATS = ("custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,"
                   "jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml")


FIELD_SELECTORS: dict[str, list[str]] = {
    "Pod": ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
            "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
            "status.nominatedNodeName"],
    "Event": ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
              "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
              "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"],
    "Node": ["spec.unschedulable"],
    "Secret": ["type"],
    "Namespace": ["status.phase"],
    "ReplicaSet": ["status.replicas"],
}


def field_filter(p: Parsed, res: Resource) -> Any:
    """--field-selector: equality terms on the fields the API server indexes for the kind."""
    text = p.get("field-selector")
    if not text:
        return None
    terms = []
    for raw in text.split(","):
        term = raw.strip()
        if not term:
            continue
        op = "!=" if "!=" in term else ("==" if "==" in term else "=")
        key, _, value = term.partition(op)
        key = key.strip()
        allowed = ["metadata.name", "metadata.namespace", *FIELD_SELECTORS.get(res.kind, [])]
        if key not in allowed:
            gv = res.api_version if "/" in res.api_version else "/" + res.api_version
            label = p.get("selector") or ""
            raise CmdError(f'Error from server (BadRequest): Unable to find "{gv}, Resource='
                           f'{res.plural}" that match label selector "{label}", field selector '
                           f'"{text}": "{key}" is not a known field selector: only '
                           '"metadata.name", "metadata.namespace"')
        terms.append((key, op != "!=", value.strip()))

    def keep(obj: Obj) -> bool:
        for key, eq, value in terms:
            cur: Any = obj
            for part in key.split("."):
                cur = cur.get(part) if isinstance(cur, dict) else None
            if isinstance(cur, bool):
                cur = "true" if cur else "false"
            cur = "" if cur is None else str(cur)
            if (cur == value) != eq:
                return False
        return True

    return keep


def custom_columns(spec: str, objs: list[Obj], headers: bool) -> str:
    """-o custom-columns=NAME:.metadata.name,STATUS:.status.phase"""
    cols = []
    for part in spec.split(","):
        head, sep, path = part.partition(":")
        if not sep or not path:
            raise CmdError("error: custom-columns format specified but no custom columns given"
                           if not part else f'error: unexpected custom-columns spec: {part}, '
                           "expected <header>:<json-path-expr>")
        cols.append((head, path.strip().strip("{}")))
    rows = [[h for h, _ in cols]] if headers else []
    for o in objs:
        row = []
        for _, path in cols:
            try:
                vals = jsonpath.evaluate(path, o)
            except jsonpath.JsonPathError as exc:
                raise CmdError(f"error: {exc}") from None
            row.append(",".join(jsonpath._fmt(v) for v in vals) if vals else "<none>")
        rows.append(row)
    return table(rows)


def check_output(fmt: str) -> None:
    if fmt in OUTPUTS or fmt.startswith(("jsonpath=", "custom-columns=")):
        return
    base = fmt.split("=", 1)[0]
    if base in ("jsonpath", "custom-columns", "go-template", "template", "jsonpath-as-json",
                "custom-columns-file", "go-template-file", "jsonpath-file", "templatefile"):
        raise CmdError(f'error: output format "{base}" is not supported in this sandbox; use '
                       "-o wide, -o yaml, -o json or -o name")
    raise CmdError(f'error: unable to match a printer suitable for the output format "{fmt}", '
                   f"allowed formats are: {ALLOWED_FORMATS}")


def selector_filter(p: Parsed) -> Any:
    sel = p.get("selector")
    if not sel:
        return None
    try:
        return parse_selector(sel)
    except ValueError as exc:
        raise CmdError(f"error: {exc}") from None


def list_objects(cluster: Cluster, res: Resource, ns: str | None, reqs: Any) -> list[Obj]:
    objs = cluster.store.list(res.kind, ns if res.namespaced else None)
    if reqs is not None:
        objs = [o for o in objs if selector_matches(reqs, o["metadata"].get("labels") or {})]
    return sorted(objs, key=lambda o: (o["metadata"].get("namespace") or "", _list_name(o)))


def _list_name(obj: Obj) -> str:
    """The API server lists in key order: by name. Real Event names are
    "<object>.<hex first-seen time>", so events sort by object, then in time order; ours end in a
    series digest instead, so sort by "<object>." and let the stable sort keep creation order."""
    if obj["kind"] == "Event":
        return obj["metadata"]["name"].rpartition(".")[0] + "."
    return str(obj["metadata"]["name"])


def no_resources(ns: str | None, namespaced: bool) -> str:
    if ns is None or not namespaced:
        return "No resources found\n"
    return f"No resources found in {ns} namespace.\n"


def _parse_targets(args: list[str]) -> tuple[list[tuple[Resource | str, list[str]]], bool]:
    """-> ([(resource or unsimulated kind, names)], several types requested)."""
    if "/" in args[0]:
        out: list[tuple[Resource | str, list[str]]] = []
        for a in args:
            if "/" not in a:
                raise CmdError("error: there is no need to specify a resource type as a separate "
                               "argument when passing arguments in resource/name form (e.g. "
                               "'kubectl get resource/<resource_name>' instead of 'kubectl get "
                               "resource resource/<resource_name>'")
            t, _, n = a.partition("/")
            if not t or not n:
                raise CmdError("error: arguments in resource/name form must have a single "
                               "resource and name")
            res = _type(t)
            if out and out[-1][0] == res:
                out[-1][1].append(n)
            else:
                out.append((res, [n]))
        kinds = {(r.kind if isinstance(r, Resource) else r): None for r, _ in out}
        return out, len(kinds) > 1
    types = args[0].split(",")
    names = args[1:]
    if any("/" in n for n in names):
        raise CmdError("error: there is no need to specify a resource type as a separate "
                       "argument when passing arguments in resource/name form (e.g. "
                       "'kubectl get resource/<resource_name>' instead of 'kubectl get "
                       "resource resource/<resource_name>'")
    out = []
    for t in types:
        if t.lower() == "all":
            out.extend((apiserver.RESOURCES[k], list(names)) for k in ALL_KINDS)
        else:
            out.append((_type(t), list(names)))
    return out, len(out) > 1


def _type(word: str) -> Resource | str:
    if not word:
        raise CmdError('error: the server doesn\'t have a resource type ""')
    base = word.lower().split(".")[0]
    if apiserver.resolve(word) is None and base in UNSIMULATED_NAMES:
        return UNSIMULATED_NAMES[base]
    return resolve_type(word)


def cmd_get(cluster: Cluster, p: Parsed, stdin: str | None) -> KubectlResult:
    if p.get("watch") or p.get("watch-only"):
        raise CmdError("error: --watch is not available in this sandbox: the cluster only moves "
                       "when you advance time, so run the command again to see the new state")
    fmt = p.get("output") or ""
    check_output(fmt)
    if p.flags.get("filename"):
        raise CmdError("error: get -f is not supported in this sandbox; name the resources "
                       "instead (e.g. kubectl get deployment web)")
    if not p.args:
        raise CmdError('You must specify the type of resource to get. Use "kubectl '
                       'api-resources" for a complete list of supported resources.\n\n'
                       "error: Required resource not specified.\nUse \"kubectl explain "
                       '<resource>" for a detailed description of that resource (e.g. kubectl '
                       "explain pods).\nSee 'kubectl get -h' for help and examples")
    targets, several = _parse_targets(p.args)
    all_ns = bool(p.get("all-namespaces"))
    if all_ns and any(names for _, names in targets):
        raise CmdError("error: a resource cannot be retrieved by name across all namespaces")
    ns = None if all_ns else namespace(p)
    reqs = selector_filter(p)
    if reqs is not None and any(names for _, names in targets):
        raise CmdError("error: name cannot be provided when a selector is specified")
    errors: list[str] = []
    groups: list[tuple[Resource, list[Obj]]] = []
    any_namespaced = False
    for res, names in targets:
        if isinstance(res, str):  # a kind real clusters serve but the toy does not simulate
            for n in names:
                errors.append(f'Error from server (NotFound): {res.lower()}s "{n}" not found')
            any_namespaced = True
            continue
        any_namespaced = any_namespaced or res.namespaced
        if names:
            found = []
            for n in names:
                o = cluster.store.get(res.kind, (ns or "default") if res.namespaced else None, n)
                if o is None:
                    errors.append(f'Error from server (NotFound): {plural_group(res)} "{n}" '
                                  "not found")
                else:
                    found.append(o)
            objs = found
        else:
            objs = list_objects(cluster, res, ns, reqs)
        keep = field_filter(p, res)
        if keep is not None:
            objs = [o for o in objs if keep(o)]
        if objs and p.get("sort-by"):
            try:
                objs = sorted(objs, key=jsonpath.sort_key(p.get("sort-by")))
            except jsonpath.JsonPathError as exc:
                raise CmdError(f"error: {exc}") from None
        if objs:
            groups.append((res, objs))
    if p.get("ignore-not-found"):
        errors = []
    n_names = sum(len(names) for _, names in targets)
    out = render(cluster, p, groups, several, all_ns, fmt, single=n_names == 1)
    err = "".join(e + "\n" for e in errors)
    named = any(names for _, names in targets)
    if not groups and not named and fmt not in ("json", "yaml"):
        err = no_resources(ns, any_namespaced) + err
    return KubectlResult(1 if errors else 0, out, err)


def render(cluster: Cluster, p: Parsed, groups: list[tuple[Resource, list[Obj]]],
           several: bool, all_ns: bool, fmt: str, single: bool = False) -> str:
    objs = [o for _, group in groups for o in group]
    if fmt in ("json", "yaml") or fmt.startswith("jsonpath="):
        if not objs and single:
            return ""
        data = objs[0] if single else printers.as_list(objs)
        if fmt.startswith("jsonpath="):
            try:
                return jsonpath.render(fmt.split("=", 1)[1], data)
            except jsonpath.JsonPathError as exc:
                raise CmdError(f"error: error parsing jsonpath {fmt.split('=', 1)[1]}, "
                               f"{exc}") from None
        return printers.to_json(data) if fmt == "json" else printers.to_yaml(data)
    if fmt.startswith("custom-columns="):
        return custom_columns(fmt.split("=", 1)[1], objs, not p.get("no-headers"))
    if fmt == "name":
        return "".join(f"{qualified(res)}/{o['metadata']['name']}\n"
                       for res, group in groups for o in group)
    blocks = []
    prefix_all = several or bool(p.get("show-kind"))
    for res, group in groups:
        rows = printers.table_rows(
            res.kind, group, cluster.now, wide=fmt == "wide",
            namespace_col=all_ns and res.namespaced, show_labels=bool(p.get("show-labels")),
            prefix=f"{qualified(res)}/" if prefix_all else "", headers=not p.get("no-headers"),
            label_columns=[c for lc in p.get("label-columns") or [] for c in lc.split(",")])
        blocks.append(table(rows))
    return "\n".join(blocks)

"""Manifests: YAML text -> checked Kubernetes objects, with kubectl's error wording.

* ``load(text, source)`` parses one or more ``---``-separated YAML documents (``kind: List`` is
  expanded), refusing oversized input, excessive aliasing ("billion laughs"), non-mapping
  documents and documents without ``apiVersion``/``kind``.
* ``check_kind(obj, source)`` maps the kind to a simulated resource, or explains why not.
* ``schema_errors(obj)`` validates against the Kubernetes 1.30 OpenAPI schema (strict: unknown
  fields are errors) and returns the API server's decoding/validation message.

Everything raises ``ManifestError`` whose ``str()`` is the full kubectl stderr line(s).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from k8slearn.sim import apiserver

Obj = dict[str, Any]

MAX_MANIFEST_BYTES = 256 * 1024
MAX_ALIASES = 100
MAX_NODES = 200_000  # values in one manifest after alias expansion
MAX_DOCUMENTS = 500
MAX_DEPTH = 100  # nesting levels in one document
SCHEMA_VERSION = "1.30"


class ManifestError(Exception):
    """A manifest that kubectl would refuse; ``str()`` is what kubectl prints on stderr."""


# libyaml's parser when PyYAML was built with it (10-20x faster on big pastes), else pure Python.
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """SafeLoader minus timestamps (go-yaml keeps ``2024-01-01`` a string) plus the ``=`` value."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_value(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(node.value)


_Loader.add_constructor("tag:yaml.org,2002:value", _construct_value)


def _parse_error(source: str, exc: yaml.YAMLError) -> ManifestError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {mark.line + 1}: " if mark is not None else ""
    return ManifestError(f"error: error parsing {source}: error converting YAML to JSON: "
                         f"yaml: {where}{problem}")


def _to_json(value: Any, budget: list[int], source: str,
             path: dict[int, None] | None = None) -> Any:
    """YAML value -> JSON-native value (str keys), counting nodes to stop alias bombs and
    refusing self-referencing anchors (``&a [*a]``)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise ManifestError(f"error: error parsing {source}: error converting YAML to JSON: "
                            "yaml: document contains excessive aliasing")
    path = {} if path is None else path
    if isinstance(value, dict | list):
        if id(value) in path:
            raise ManifestError(f"error: error parsing {source}: error converting YAML to JSON: "
                                "yaml: anchor value contains itself")
        if len(path) > MAX_DEPTH:
            raise ManifestError(f"error: error parsing {source}: error converting YAML to JSON: "
                                "yaml: exceeded max depth")
        path[id(value)] = None
        try:
            if isinstance(value, list):
                return [_to_json(v, budget, source, path) for v in value]
            out = {}
            for k, v in value.items():
                if k is None:
                    key = "null"
                elif isinstance(k, bool):
                    key = "true" if k else "false"
                elif isinstance(k, str):
                    key = k
                elif isinstance(k, int | float):
                    key = json.dumps(k)
                else:
                    raise ManifestError(f"error: error parsing {source}: error converting YAML "
                                        "to JSON: yaml: unsupported map key type")
                out[key] = _to_json(v, budget, source, path)
            return out
        finally:
            del path[id(value)]
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        raise ManifestError(f"error: error parsing {source}: error converting YAML to JSON: "
                            f"json: unsupported value: {value}")
    if isinstance(value, bytes | set | tuple):
        raise ManifestError(f"error: error parsing {source}: error converting YAML to JSON: "
                            "yaml: unsupported value type")
    if isinstance(value, float) and value == int(value) and abs(value) < 2**53:
        return value
    return value


def load(text: str | None, source: str = "STDIN") -> list[Obj]:
    """Parse a (multi-document) manifest into objects; ``kind: List`` items are expanded."""
    if text is None or not text.strip():
        raise ManifestError(f"error: no objects passed to apply (nothing was read from {source})"
                            if source == "STDIN" else f"error: no objects passed from {source}")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_MANIFEST_BYTES:
        raise ManifestError(
            f"error: the manifest from {source} is {size} bytes; this sandbox accepts at most "
            f"{MAX_MANIFEST_BYTES} bytes (256 KiB) per command")
    if "\x00" in text:
        raise ManifestError(f"error: error parsing {source}: error converting YAML to JSON: "
                            "yaml: control characters are not allowed")
    try:
        aliases = depth = 0
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ManifestError(f"error: error parsing {source}: error converting YAML "
                                        "to JSON: yaml: exceeded max depth")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise ManifestError(
                        f"error: error parsing {source}: error converting YAML to JSON: yaml: "
                        f"document contains excessive aliasing (more than {MAX_ALIASES} aliases)")
        raw_docs = list(yaml.load_all(text, Loader=_Loader))
    except ManifestError:
        raise
    except yaml.YAMLError as exc:
        raise _parse_error(source, exc) from None
    except RecursionError:
        raise ManifestError(f"error: error parsing {source}: error converting YAML to JSON: "
                            "yaml: exceeded max depth") from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise ManifestError(f"error: error parsing {source}: error converting YAML to JSON: "
                            f"yaml: {exc}") from None
    budget = [MAX_NODES]
    objs: list[Obj] = []
    for doc in raw_docs:
        if doc is None:
            continue
        doc = _to_json(doc, budget, source)
        if not isinstance(doc, dict):
            typ = {str: "string", list: "array", bool: "bool"}.get(type(doc), "number")
            raise ManifestError(
                f"error: error parsing {source}: error unmarshaling JSON: while decoding JSON: "
                f"json: cannot unmarshal {typ} into Go value of type map[string]interface {{}}")
        missing = [f"{f} not set" for f in ("apiVersion", "kind")
                   if not isinstance(doc.get(f), str) or not doc.get(f)]
        if missing:
            what = missing[0] if len(missing) == 1 else "[" + ", ".join(missing) + "]"
            raise ManifestError(
                f'error: error validating "{source}": error validating data: {what}; if you '
                "choose to ignore these errors, turn validation off with --validate=false")
        if doc["kind"] == "List" or (doc["kind"].endswith("List") and "items" in doc):
            items = doc.get("items") or []
            if not isinstance(items, list):
                raise ManifestError(f'error: error validating "{source}": error validating '
                                    "data: ValidationError(List.items): invalid type for "
                                    'io.k8s.apimachinery.pkg.apis.meta.v1.List.items: got '
                                    '"map", expected "array"')
            for item in items:
                if not isinstance(item, dict) or not item.get("apiVersion") or \
                        not item.get("kind"):
                    raise ManifestError(
                        f'error: error validating "{source}": error validating data: '
                        "[apiVersion not set, kind not set]; if you choose to ignore these "
                        "errors, turn validation off with --validate=false")
                objs.append(item)
        else:
            objs.append(doc)
        if len(objs) > MAX_DOCUMENTS:
            raise ManifestError(f"error: {source} holds more than {MAX_DOCUMENTS} objects; this "
                                "sandbox applies at most that many at once")
    if not objs:
        raise ManifestError(f"error: no objects passed to apply (nothing was read from {source})")
    return objs


def object_name(obj: Obj) -> str:
    meta = obj.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("name"), str):
        return meta["name"]
    return ""


def object_namespace(obj: Obj) -> str:
    meta = obj.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("namespace"), str):
        return meta["namespace"]
    return ""


def check_kind(obj: Obj, source: str = "STDIN") -> apiserver.Resource:
    """The simulated resource for ``obj``, or a ManifestError in kubectl's words."""
    kind, api_version = obj["kind"], obj["apiVersion"]
    res = apiserver.RESOURCES.get(kind)
    if res is not None and res.api_version == api_version and kind not in ("Event",):
        return res
    if kind in apiserver.UNSUPPORTED_KINDS:
        raise ManifestError(
            f'error: {kind} "{object_name(obj)}" from {source} cannot be created: this sandbox '
            f"cluster does not simulate {kind} objects. It simulates Pods, Deployments, "
            "ReplicaSets, Services, ConfigMaps, Secrets, PersistentVolumeClaims, "
            "PersistentVolumes, StorageClasses and Namespaces.")
    if res is not None and kind == "Event" and res.api_version == api_version:
        return res
    raise ManifestError(
        f'error: resource mapping not found for name: "{object_name(obj)}" namespace: '
        f'"{object_namespace(obj)}" from "{source}": no matches for kind "{kind}" in version '
        f'"{api_version}"\nensure CRDs are installed first')


# -- schema ----------------------------------------------------------------------------------
_VALIDATORS: dict[str, Any] = {}
_DEFS: dict[str, Any] = {}


def _validator(obj: Obj) -> Any:
    import re

    import jsonschema
    from kubernetes_validate import utils
    from referencing import Registry, Resource

    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", obj["apiVersion"])
    key = f"{obj['kind'].lower()}-{api}"
    if key not in _VALIDATORS:
        base = "kubernetes-json-schema/v1.30.0-local-strict"
        schema = utils.schema_contents(f"{base}/{key}.json", SCHEMA_VERSION)
        if not _DEFS:
            _DEFS.update(utils.schema_contents(f"{base}/_definitions.json", SCHEMA_VERSION))
        registry = Resource.from_contents(schema) @ Registry()
        registry = Resource.from_contents(_DEFS) @ registry
        _VALIDATORS[key] = jsonschema.validators.Draft202012Validator(schema, registry=registry)
    return _VALIDATORS[key]


def _path(parts: list[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _deref(schema: Obj) -> tuple[Obj, str | None]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        defs = _DEFS.get("$defs") or _DEFS.get("definitions") or {}
        return defs.get(name, {}), name
    return schema, None


def _go_type(schema: Obj) -> str:
    schema, ref = _deref(schema)
    if ref:
        parts = ref.split(".")
        if ref.endswith("IntOrString"):
            return "intstr.IntOrString"
        if ref.endswith("Quantity"):
            return "resource.Quantity"
        return f"{parts[-2]}.{parts[-1]}" if len(parts) > 1 else ref
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "object")
    if t == "integer":
        return schema.get("format") or "int64"
    if t == "boolean":
        return "bool"
    if t == "number":
        return "float64"
    if t == "array":
        return "[]" + _go_type(schema.get("items") or {})
    if t == "object" and "additionalProperties" in schema:
        return "map[string]" + _go_type(schema.get("additionalProperties") or {})
    return str(t or "interface {}")


def _struct_of(root: Obj, parts: list[Any], kind: str) -> str:
    """Name of the Go struct that holds the field at ``parts`` (for json's type errors)."""
    schema, struct = root, kind
    for p in parts[:-1]:
        schema, ref = _deref(schema)
        if ref:
            struct = ref.rsplit(".", 1)[-1]
        if isinstance(p, int):
            schema = schema.get("items") or {}
        else:
            schema = (schema.get("properties") or {}).get(p) or schema.get(
                "additionalProperties") or {}
    _, ref = _deref(schema)
    if ref:
        struct = ref.rsplit(".", 1)[-1]
    return struct


def _json_type(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def schema_errors(obj: Obj) -> tuple[str, str | list[str]] | None:
    """Check ``obj`` against the 1.30 schema.

    Returns None, ``("decode", message)`` for what the server rejects while decoding (wrong
    types, unknown fields: "cannot be handled as a Deployment: …"), or ``("invalid", causes)``
    for missing required fields (``spec.selector: Required value``).
    """
    try:
        validator = _validator(obj)
    except Exception:  # no schema for this kind: nothing to check
        return None
    root = validator.schema
    type_errs: list[str] = []
    unknown: list[str] = []
    required: list[str] = []
    other: list[str] = []
    for err in validator.iter_errors(obj):
        parts = list(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            props = err.schema.get("properties") or {}
            for k in err.instance:
                if k not in props:
                    unknown.append(f'unknown field "{_path([*parts, k])}"')
        elif err.validator == "type" and parts:
            kind = obj["kind"]
            struct = _struct_of(root, parts, kind)
            field = ".".join(str(p) for p in parts if not isinstance(p, int))
            got = _json_type(err.instance)
            if got == "number" and not isinstance(err.instance, bool):
                got = f"number {err.instance}" if isinstance(err.instance, float) else got
            type_errs.append(f"json: cannot unmarshal {got} into Go struct field "
                             f"{struct}.{field} of type {_go_type(err.schema)}")
        elif err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else "?"
            required.append(f"{_path([*parts, missing])}: Required value")
        else:
            other.append(f"{_path(parts)}: Invalid value: {json.dumps(err.instance)[:80]}: "
                         f"{err.message[:200]}")
    if type_errs:
        return "decode", type_errs[0]
    if unknown:
        return "decode", "strict decoding error: " + ", ".join(dict.fromkeys(unknown))
    causes = required + other
    if causes:
        return "invalid", causes
    return None

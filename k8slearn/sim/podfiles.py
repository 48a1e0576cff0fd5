"""What a pod's containers see: environment variables and mounted volumes.

- **env / envFrom** are resolved once, when a container starts (section 7 of the behaviour
  notes), so a ConfigMap edited later is not seen until the container restarts. A missing,
  non-optional ConfigMap or Secret (or key) fails the start with ``CreateContainerConfigError``
  and the kubelet's wording (``configmap "x" not found``); the kubelet retries every 10 s.
- **Volumes**: configMap/secret volumes become files (``{key: content}``) in
  ``prec["mounts"]``; after the source changes, the kubelet rewrites them about 60 s later (its
  sync period plus cache TTL). ``emptyDir`` lives and dies with the pod. A
  ``persistentVolumeClaim`` must be Bound before the containers start; its files live in
  ``cluster.state["volumes"][<pvc uid>]`` (``{path relative to the mount: content}``), so they
  outlive the pod and the next pod that mounts the claim sees them.
- ``write_file`` / ``read_file`` are what ``kubectl exec … sh -c 'echo x > /data/f'`` / ``cat``
  would do: a path under a mount goes to that volume; anything else goes to the container's own
  writable layer, which is lost when the container restarts.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from k8slearn.sim.errors import ApiError

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]


def _data(obj: Obj) -> dict[str, str]:
    """A ConfigMap's data, or a Secret's data decoded from base64 (plus stringData)."""
    if obj["kind"] == "ConfigMap":
        return dict(obj.get("data") or {})
    out = {}
    for k, v in (obj.get("data") or {}).items():
        try:
            out[k] = base64.b64decode(str(v), validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            out[k] = str(v)
    out.update(obj.get("stringData") or {})
    return out


def _source(cluster: Cluster, kind: str, ns: str, name: str) -> Obj | None:
    return cluster.store.get(kind, ns, name)


def resolve_env(cluster: Cluster, pod: Obj, container: Obj) -> tuple[dict[str, str], str | None]:
    """(environment, None) or ({}, the CreateContainerConfigError message)."""
    ns = pod["metadata"].get("namespace") or "default"
    env: dict[str, str] = {}
    for src in container.get("envFrom") or ():
        prefix = src.get("prefix") or ""
        for field, kind, label in (("configMapRef", "ConfigMap", "configmap"),
                                   ("secretRef", "Secret", "secret")):
            ref = src.get(field)
            if not ref:
                continue
            obj = _source(cluster, kind, ns, ref.get("name", ""))
            if obj is None:
                if ref.get("optional"):
                    continue
                return {}, f'{label} "{ref.get("name")}" not found'
            for k, v in _data(obj).items():
                env[prefix + k] = v
    for var in container.get("env") or ():
        name = var.get("name", "")
        if "value" in var or "valueFrom" not in var:
            env[name] = str(var.get("value", ""))
            continue
        vf = var["valueFrom"] or {}
        for field, kind, label in (("configMapKeyRef", "ConfigMap", "configmap"),
                                   ("secretKeyRef", "Secret", "secret")):
            ref = vf.get(field)
            if not ref:
                continue
            obj = _source(cluster, kind, ns, ref.get("name", ""))
            if obj is None:
                if ref.get("optional"):
                    break
                return {}, f'{label} "{ref.get("name")}" not found'
            data = _data(obj)
            if ref.get("key") not in data:
                if ref.get("optional"):
                    break
                return {}, f"couldn't find key {ref.get('key')} in {kind} {ns}/{ref.get('name')}"
            env[name] = data[ref["key"]]
        if "fieldRef" in vf:
            env[name] = _field(pod, (vf["fieldRef"] or {}).get("fieldPath", ""))
        if "resourceFieldRef" in vf:
            rf = vf["resourceFieldRef"] or {}
            part, _, res = str(rf.get("resource", "")).partition(".")
            env[name] = str(((container.get("resources") or {}).get(part) or {}).get(res, "0"))
    return env, None


def _field(pod: Obj, path: str) -> str:
    meta, spec, status = pod["metadata"], pod["spec"], pod.get("status") or {}
    simple = {"metadata.name": meta.get("name"), "metadata.namespace": meta.get("namespace"),
              "metadata.uid": meta.get("uid"), "spec.nodeName": spec.get("nodeName"),
              "spec.serviceAccountName": spec.get("serviceAccountName"),
              "status.podIP": status.get("podIP"), "status.hostIP": status.get("hostIP")}
    if path in simple:
        return str(simple[path] or "")
    for part in ("labels", "annotations"):
        prefix = f"metadata.{part}['"
        if path.startswith(prefix) and path.endswith("']"):
            return str((meta.get(part) or {}).get(path[len(prefix):-2], ""))
    return ""


def mount_volumes(cluster: Cluster, pod: Obj, prec: Obj) -> tuple[str | None, bool]:
    """Set up every volume into ``prec["mounts"]``. Returns (FailedMount message or None,
    waiting-for-claim flag)."""
    ns = pod["metadata"].get("namespace") or "default"
    mounts: dict[str, Obj] = {}
    refs: list[str] = []
    for vol in pod["spec"].get("volumes") or ():
        vname = vol.get("name", "")
        if "configMap" in vol or "secret" in vol:
            is_cm = "configMap" in vol
            ref = vol["configMap"] if is_cm else vol["secret"]
            kind = "ConfigMap" if is_cm else "Secret"
            src_name = ref.get("name" if is_cm else "secretName", "")
            refs.append(f"{kind}/{ns}/{src_name}")
            obj = _source(cluster, kind, ns, src_name)
            if obj is None and not ref.get("optional"):
                label = "configmap" if is_cm else "secret"
                return (f'MountVolume.SetUp failed for volume "{vname}" : {label} "{src_name}" '
                        "not found"), False
            mounts[vname] = {"type": kind, "source": src_name,
                             "files": _files(obj, ref.get("items")) if obj else {}}
        elif "persistentVolumeClaim" in vol:
            claim_name = vol["persistentVolumeClaim"].get("claimName", "")
            claim = cluster.store.get("PersistentVolumeClaim", ns, claim_name)
            if claim is None or claim.get("status", {}).get("phase") != "Bound":
                return None, True
            mounts[vname] = {"type": "PersistentVolumeClaim", "pvc": claim["metadata"]["uid"],
                             "files": {}}
        else:
            mounts[vname] = {"type": "emptyDir" if "emptyDir" in vol else "other", "files": {}}
    prec["mounts"] = mounts
    index = cluster.state["kubelet"].setdefault("refs", {})
    for r in refs:
        index.setdefault(r, {})[prec["uid"]] = None
    prec["refs"] = refs
    return None, False


def _files(obj: Obj, items: list[Obj] | None) -> dict[str, str]:
    data = _data(obj)
    if not items:
        return data
    return {it.get("path", it.get("key")): data[it["key"]] for it in items if it.get("key") in data}


def refresh_mounts(cluster: Cluster, pod: Obj, prec: Obj) -> bool:
    """Re-read configMap/secret volumes (the ~60 s delayed update); True if files changed."""
    ns = pod["metadata"].get("namespace") or "default"
    changed = False
    items_by_vol = {v.get("name"): (v.get("configMap") or v.get("secret") or {}).get("items")
                    for v in pod["spec"].get("volumes") or ()}
    for vname, m in prec.get("mounts", {}).items():
        if m["type"] not in ("ConfigMap", "Secret"):
            continue
        obj = _source(cluster, m["type"], ns, m["source"])
        files = _files(obj, items_by_vol.get(vname)) if obj else m["files"]
        if files != m["files"]:
            m["files"] = files
            changed = True
    return changed


def release_refs(cluster: Cluster, prec: Obj) -> None:
    index = cluster.state["kubelet"].get("refs", {})
    for r in prec.get("refs") or ():
        index.get(r, {}).pop(prec["uid"], None)
        if r in index and not index[r]:
            del index[r]


def mount_files(cluster: Cluster, prec: Obj, volume: str) -> dict[str, str]:
    """The files of one mounted volume ({path relative to the mount: content})."""
    m = prec.get("mounts", {}).get(volume)
    if m is None:
        return {}
    if m["type"] == "PersistentVolumeClaim":
        return dict(cluster.state.get("volumes", {}).get(m["pvc"], {}))
    return dict(m["files"])


def _locate(cluster: Cluster, pod: Obj, prec: Obj, container: str | None,
            path: str) -> tuple[dict[str, str], str, bool]:
    """(file table, key in it, read-only) for ``path`` as seen from ``container``."""
    specs = pod["spec"].get("containers") or []
    c = next((s for s in specs if s.get("name") == container), specs[0] if specs else {})
    best: Obj | None = None
    for vm in c.get("volumeMounts") or ():
        mp = vm.get("mountPath", "").rstrip("/")
        if (path == mp or path.startswith(mp + "/")) and (
                best is None or len(mp) > len(best["mountPath"].rstrip("/"))):
            best = vm
    if best is not None and best.get("name") in prec.get("mounts", {}):
        m = prec["mounts"][best["name"]]
        rel = path[len(best["mountPath"].rstrip("/")):].lstrip("/")
        if best.get("subPath"):
            rel = best["subPath"] + ("/" + rel if rel else "")
        if m["type"] == "PersistentVolumeClaim":
            table = cluster.state.setdefault("volumes", {}).setdefault(m["pvc"], {})
            return table, rel, bool(best.get("readOnly"))
        return m["files"], rel, m["type"] in ("ConfigMap", "Secret") or bool(best.get("readOnly"))
    crec = prec["containers"].get(c.get("name"), {})
    return crec.setdefault("fs", {}), path, False


def write_file(cluster: Cluster, pod: Obj, path: str, content: str,
               container: str | None = None) -> None:
    """Write ``content`` to ``path`` inside the pod (a PVC mount keeps it across pods)."""
    prec = cluster.state.get("kubelet", {}).get("pods", {}).get(pod["metadata"]["uid"])
    if prec is None:
        raise ApiError("BadRequest", f"pod {pod['metadata']['name']} is not running", 400)
    table, key, read_only = _locate(cluster, pod, prec, container, path)
    if read_only:
        raise ApiError("BadRequest", f"sh: can't create {path}: Read-only file system", 400)
    table[key] = content


def read_file(cluster: Cluster, pod: Obj, path: str, container: str | None = None) -> str | None:
    """The content of ``path`` inside the pod, or None if there is no such file."""
    prec = cluster.state.get("kubelet", {}).get("pods", {}).get(pod["metadata"]["uid"])
    if prec is None:
        return None
    table, key, _ro = _locate(cluster, pod, prec, container, path)
    return table.get(key)

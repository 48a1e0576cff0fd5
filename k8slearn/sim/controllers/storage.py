"""Persistent storage: StorageClass, PersistentVolumeClaim and PersistentVolume.

One controller plays three real ones, because a learner sees them as one story:
- the **persistentvolume-controller** (``pkg/controller/volume/persistentvolume``) binds claims
  to volumes, asks for dynamic provisioning and reclaims released volumes;
- the **external provisioner** of the default class (minikube's ``k8s.io/minikube-hostpath``)
  creates the PersistentVolume ``pvc-<claim uid>`` a couple of virtual seconds later;
- the **pvc-protection / pv-protection** controllers remove the ``kubernetes.io/pvc-protection``
  finalizer only when no pod uses the claim any more, so a deleted claim in use stays Terminating.

A claim's life: Pending -> (ExternalProvisioning, Provisioning, 2 s, ProvisioningSucceeded)
-> Bound, the volume Bound to it. Deleting the claim (once unused) releases the volume; with
reclaimPolicy Delete the volume goes too, and with it the files the kubelet kept for the claim in
``cluster.state["volumes"][<claim uid>]``.

Keys are prefixed with the kind: ``pvc:<ns>/<name>`` and ``pv:/<name>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from k8slearn.sim import apiserver
from k8slearn.sim.controllers import Controller, split_key
from k8slearn.sim.errors import ApiError
from k8slearn.sim.events import record_event
from k8slearn.sim.objects import memory_bytes, parse_quantity
from k8slearn.sim.store import obj_key
from k8slearn.sim.timers import bootstrap, timer

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]

COMPONENT = "persistentvolume-controller"
PROVISIONER = "k8s.io/minikube-hostpath"
# The external provisioner reports as <name>_<host>_<uuid>; the uuid is fixed: it is one pod.
PROVISIONER_COMPONENT = f"{PROVISIONER}_minikube_3c9b8a7e-5f0e-4c55-9d1a-6e2a1f4b7c21"
PROVISIONING_SECONDS = 2.0
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
ANN_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANN_PROVISIONER_BETA = "volume.beta.kubernetes.io/storage-provisioner"
ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
VOLUME_SOURCES = ("hostPath", "local", "nfs", "csi", "iscsi", "fc", "awsElasticBlockStore",
                  "gcePersistentDisk", "azureDisk", "cephfs", "rbd")


# -- StorageClass --------------------------------------------------------------------------
@bootstrap
def create_default_storage_class(cluster: Cluster) -> None:
    """minikube's `standard` class: the default, provisioned at once by the hostpath provisioner."""
    apiserver.create(cluster, {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "standard",
                     "annotations": {DEFAULT_CLASS_ANNOTATION: "true"},
                     "labels": {"addonmanager.kubernetes.io/mode": "EnsureExists"}},
        "provisioner": PROVISIONER,
    })


@apiserver.defaulter("StorageClass")
def default_storage_class(cluster: Cluster, sc: Obj) -> None:
    sc.setdefault("reclaimPolicy", "Delete")
    sc.setdefault("volumeBindingMode", "Immediate")


@apiserver.validator("StorageClass")
def validate_storage_class(cluster: Cluster, sc: Obj, old: Obj | None) -> list[str]:
    causes = []
    if not sc.get("provisioner"):
        causes.append("provisioner: Required value")
    if sc.get("reclaimPolicy") not in ("Delete", "Retain"):
        causes.append(f'reclaimPolicy: Unsupported value: "{sc.get("reclaimPolicy")}": '
                      'supported values: "Delete", "Retain"')
    if sc.get("volumeBindingMode") not in ("Immediate", "WaitForFirstConsumer"):
        causes.append(f'volumeBindingMode: Unsupported value: "{sc.get("volumeBindingMode")}": '
                      'supported values: "Immediate", "WaitForFirstConsumer"')
    if old is not None:
        for field in ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"):
            if sc.get(field) != old.get(field):
                causes.append(f"{field}: Forbidden: updates to {field} are forbidden.")
    return causes


def default_class(cluster: Cluster) -> Obj | None:
    """The default StorageClass; with several, the newest wins (as since v1.26)."""
    found = None
    for sc in cluster.store.iter("StorageClass"):
        if (sc["metadata"].get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION) == "true":
            found = sc
    return found


# -- PersistentVolumeClaim -----------------------------------------------------------------
@apiserver.defaulter("PersistentVolumeClaim")
def default_pvc(cluster: Cluster, pvc: Obj) -> None:
    spec = pvc.setdefault("spec", {})
    spec.setdefault("volumeMode", "Filesystem")
    meta = pvc["metadata"]
    is_create = not meta.get("uid")
    stored = cluster.store.get("PersistentVolumeClaim", meta.get("namespace"), meta.get("name", ""))
    if not is_create and stored is not None:
        # An update that omits what the admission plugin and the binder filled in keeps it.
        for field in ("storageClassName", "volumeName"):
            if field not in spec and field in stored["spec"]:
                spec[field] = stored["spec"][field]
    if is_create and "storageClassName" not in spec:
        # The DefaultStorageClass admission plugin, on create only; "" means "no class".
        sc = default_class(cluster)
        if sc is not None:
            spec["storageClassName"] = sc["metadata"]["name"]
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    if storage is not None:
        try:
            parse_quantity(storage)
        except ValueError as exc:
            raise ApiError("BadRequest", 'PersistentVolumeClaim in version "v1" cannot be '
                           f"handled as a PersistentVolumeClaim: {exc}", 400) from exc
    if not meta.get("deletionTimestamp") and PVC_PROTECTION not in (meta.get("finalizers") or []):
        meta["finalizers"] = [*(meta.get("finalizers") or []), PVC_PROTECTION]
    pvc.setdefault("status", {"phase": "Pending"})


@apiserver.validator("PersistentVolumeClaim")
def validate_pvc(cluster: Cluster, pvc: Obj, old: Obj | None) -> list[str]:
    spec = pvc.get("spec") or {}
    causes = _access_mode_causes("spec.accessModes", spec.get("accessModes"))
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    if storage is None:
        causes.append("spec.resources[storage]: Required value")
    elif parse_quantity(storage) <= 0:
        causes.append(f'spec.resources[storage]: Invalid value: "{storage}": must be greater '
                      "than zero")
    if spec.get("volumeMode") not in ("Filesystem", "Block"):
        causes.append(f'spec.volumeMode: Unsupported value: "{spec.get("volumeMode")}": '
                      'supported values: "Block", "Filesystem"')
    if old is not None:
        causes += _pvc_update_causes(cluster, spec, old)
    return causes


def _access_mode_causes(path: str, modes: Any) -> list[str]:
    if not modes:
        return [f"{path}: Required value: at least 1 access mode is required"]
    return [f'{path}: Unsupported value: "{m}": supported values: '
            + ", ".join(f'"{a}"' for a in ACCESS_MODES) for m in modes if m not in ACCESS_MODES]


def _pvc_update_causes(cluster: Cluster, spec: Obj, old: Obj) -> list[str]:
    old_spec = old.get("spec") or {}
    # The controller fills volumeName when it binds; the user may not change anything else.
    strip = ("resources", "volumeName")
    if {k: v for k, v in spec.items() if k not in strip} != \
            {k: v for k, v in old_spec.items() if k not in strip} or \
            spec.get("volumeName", old_spec.get("volumeName")) != old_spec.get("volumeName"):
        return ["spec: Forbidden: spec is immutable after creation except resources.requests "
                "and volumeAttributesClassName for bound claims"]
    new_size = _request_bytes(spec)
    old_size = _request_bytes(old_spec)
    if new_size < old_size:
        return ["spec.resources.requests.storage: Forbidden: field can not be less than "
                "previous value"]
    if new_size > old_size:
        sc = cluster.store.get("StorageClass", None, spec.get("storageClassName") or "")
        if old.get("status", {}).get("phase") != "Bound" or not (sc or {}).get(
                "allowVolumeExpansion"):
            return ["spec: Forbidden: only dynamically provisioned pvc can be resized and the "
                    "storageclass that provisions the pvc must support resize"]
    return []


def _request_bytes(spec: Obj) -> int:
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage", 0)
    return memory_bytes(storage)


# -- PersistentVolume ----------------------------------------------------------------------
@apiserver.defaulter("PersistentVolume")
def default_pv(cluster: Cluster, pv: Obj) -> None:
    spec = pv.setdefault("spec", {})
    spec.setdefault("persistentVolumeReclaimPolicy", "Retain")  # hand-made volumes are kept
    spec.setdefault("volumeMode", "Filesystem")
    meta = pv["metadata"]
    if not meta.get("deletionTimestamp") and PV_PROTECTION not in (meta.get("finalizers") or []):
        meta["finalizers"] = [*(meta.get("finalizers") or []), PV_PROTECTION]
    pv.setdefault("status", {"phase": "Pending"})


@apiserver.validator("PersistentVolume")
def validate_pv(cluster: Cluster, pv: Obj, old: Obj | None) -> list[str]:
    spec = pv.get("spec") or {}
    causes = _access_mode_causes("spec.accessModes", spec.get("accessModes"))
    storage = (spec.get("capacity") or {}).get("storage")
    if storage is None:
        causes.append("spec.capacity: Required value")
    else:
        try:
            parse_quantity(storage)
        except ValueError as exc:
            causes.append(f'spec.capacity[storage]: Invalid value: "{storage}": {exc}')
    if not any(src in spec for src in VOLUME_SOURCES):
        causes.append("spec: Required value: must specify a volume type")
    if spec.get("persistentVolumeReclaimPolicy") not in ("Delete", "Recycle", "Retain"):
        causes.append("spec.persistentVolumeReclaimPolicy: Unsupported value: "
                      f'"{spec.get("persistentVolumeReclaimPolicy")}": supported values: '
                      '"Delete", "Recycle", "Retain"')
    return causes


# -- the controller ------------------------------------------------------------------------
class PersistentVolumeController(Controller):
    name = COMPONENT
    watches = ("PersistentVolumeClaim", "PersistentVolume", "StorageClass", "Pod")

    def keys_for(self, cluster: Cluster, kind: str, obj: Obj, deleted: bool) -> Iterable[str]:
        if kind == "PersistentVolumeClaim":
            keys = [f"pvc:{obj_key(obj)}"]
            if obj["spec"].get("volumeName"):
                keys.append(f"pv:/{obj['spec']['volumeName']}")
            return keys
        if kind == "PersistentVolume":
            keys = [f"pv:{obj_key(obj)}"]
            ref = obj["spec"].get("claimRef")
            if ref:
                keys.append(f"pvc:{ref.get('namespace')}/{ref.get('name')}")
            return keys + (_pending_claims(cluster) if not deleted else [])
        if kind == "StorageClass":
            return _pending_claims(cluster)
        # A Pod: only its claims care (for protection and WaitForFirstConsumer).
        ns = obj["metadata"].get("namespace")
        return [f"pvc:{ns}/{name}" for name in claims_of(obj)]

    def reconcile(self, cluster: Cluster, key: str) -> float | None:
        kind, _, rest = key.partition(":")
        ns, name = split_key(rest)
        if kind == "pvc":
            sync_claim(cluster, ns or "", name)
        else:
            sync_volume(cluster, name)
        return None


def claims_of(pod: Obj) -> list[str]:
    """Names of the PersistentVolumeClaims a pod mounts."""
    return [v["persistentVolumeClaim"]["claimName"] for v in pod["spec"].get("volumes") or ()
            if (v.get("persistentVolumeClaim") or {}).get("claimName")]


def _pending_claims(cluster: Cluster) -> list[str]:
    # Claims are few (a sandbox has a handful); the real controller resyncs them every 15 s.
    return [f"pvc:{obj_key(c)}" for c in cluster.store.iter("PersistentVolumeClaim")
            if (c.get("status") or {}).get("phase") == "Pending"]


def pods_using(cluster: Cluster, pvc: Obj) -> list[Obj]:
    """Pods that still use the claim (not finished), as the pvc-protection controller sees it."""
    meta = pvc["metadata"]
    return [p for p in cluster.store.list("Pod", meta["namespace"])
            if meta["name"] in claims_of(p)
            and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]


def sync_claim(cluster: Cluster, ns: str, name: str) -> None:
    pvc = cluster.store.get("PersistentVolumeClaim", ns, name)
    if pvc is None:
        return
    if pvc["metadata"].get("deletionTimestamp"):
        _finish_claim_deletion(cluster, pvc)
        return
    phase = (pvc.get("status") or {}).get("phase")
    if phase == "Bound":
        _check_bound_claim(cluster, pvc)
    elif phase == "Pending":
        _bind_or_provision(cluster, pvc)


def _finish_claim_deletion(cluster: Cluster, pvc: Obj) -> None:
    meta = pvc["metadata"]
    if pods_using(cluster, pvc):
        return  # kubernetes.io/pvc-protection: stays Terminating while a pod uses it
    finalizers = [f for f in meta.get("finalizers") or () if f != PVC_PROTECTION]
    if finalizers:
        meta["finalizers"] = finalizers
        cluster.store.update(pvc)
        return
    cluster.store.remove("PersistentVolumeClaim", meta["namespace"], meta["name"])


def _check_bound_claim(cluster: Cluster, pvc: Obj) -> None:
    pv = cluster.store.get("PersistentVolume", None, pvc["spec"].get("volumeName") or "")
    if pv is not None:
        return
    pvc["status"]["phase"] = "Lost"
    cluster.store.update(pvc)
    record_event(cluster, pvc, "Warning", "ClaimLost",
                 "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
                 COMPONENT)


def _bind_or_provision(cluster: Cluster, pvc: Obj) -> None:
    pv = _volume_for(cluster, pvc)
    if pv is not None:
        bind(cluster, pvc, pv)
        return
    class_name = pvc["spec"].get("storageClassName") or ""
    if not class_name:
        record_event(cluster, pvc, "Normal", "FailedBinding",
                     "no persistent volumes available for this claim and no storage class is set",
                     COMPONENT)
        return
    sc = cluster.store.get("StorageClass", None, class_name)
    if sc is None:
        record_event(cluster, pvc, "Warning", "ProvisioningFailed",
                     f'storageclass.storage.k8s.io "{class_name}" not found', COMPONENT)
        return
    if sc.get("volumeBindingMode") == "WaitForFirstConsumer" and not pods_using(cluster, pvc):
        record_event(cluster, pvc, "Normal", "WaitForFirstConsumer",
                     "waiting for first consumer to be created before binding", COMPONENT)
        return
    _start_provisioning(cluster, pvc, sc)


def _volume_for(cluster: Cluster, pvc: Obj) -> Obj | None:
    """A volume for the claim: the one that already points at it, else the smallest Available
    static volume that fits (findBestMatchForClaim), ties by name."""
    spec = pvc["spec"]
    uid = pvc["metadata"]["uid"]
    want = _request_bytes(spec)
    best: Obj | None = None
    for pv in cluster.store.iter("PersistentVolume"):
        ref = pv["spec"].get("claimRef")
        if ref and ref.get("uid") == uid:
            return pv
        if spec.get("volumeName") and pv["metadata"]["name"] != spec["volumeName"]:
            continue
        if ref and (ref.get("uid") or (ref.get("namespace"), ref.get("name")) != (
                pvc["metadata"]["namespace"], pvc["metadata"]["name"])):
            continue  # bound, or kept by its admin for another claim
        if pv["metadata"].get("deletionTimestamp") or \
                (pv.get("status") or {}).get("phase") != "Available":
            continue
        if (pv["spec"].get("storageClassName") or "") != (spec.get("storageClassName") or ""):
            continue
        if pv["spec"].get("volumeMode", "Filesystem") != spec.get("volumeMode", "Filesystem"):
            continue
        if not set(spec.get("accessModes") or ()) <= set(pv["spec"].get("accessModes") or ()):
            continue
        size = memory_bytes(pv["spec"]["capacity"]["storage"])
        if size < want:
            continue
        if best is None or (size, pv["metadata"]["name"]) < (
                memory_bytes(best["spec"]["capacity"]["storage"]), best["metadata"]["name"]):
            best = pv
    return best


def _start_provisioning(cluster: Cluster, pvc: Obj, sc: Obj) -> None:
    annotations = pvc["metadata"].setdefault("annotations", {})
    if annotations.get(ANN_PROVISIONER) == sc["provisioner"]:
        return  # already asked; the provisioner's timer is on its way
    annotations[ANN_PROVISIONER] = sc["provisioner"]
    annotations[ANN_PROVISIONER_BETA] = sc["provisioner"]
    cluster.store.update(pvc)
    record_event(cluster, pvc, "Normal", "ExternalProvisioning",
                 "waiting for a volume to be created, either by external provisioner "
                 f'"{sc["provisioner"]}" or manually created by system administrator', COMPONENT)
    if sc["provisioner"] != PROVISIONER:
        return  # nobody runs that provisioner in this cluster: the claim waits, as in reality
    meta = pvc["metadata"]
    record_event(cluster, pvc, "Normal", "Provisioning",
                 f'External provisioner is provisioning volume for claim "{meta["namespace"]}/'
                 f'{meta["name"]}"', PROVISIONER_COMPONENT)
    cluster.clock.call_later(PROVISIONING_SECONDS, "storage.provisioned",
                             [meta["namespace"], meta["name"], meta["uid"]])


@timer("storage.provisioned")
def volume_provisioned(cluster: Cluster, namespace: str, name: str, uid: str) -> None:
    """The hostpath provisioner has made the directory: create the PersistentVolume."""
    pvc = cluster.store.get("PersistentVolumeClaim", namespace, name)
    if pvc is None or pvc["metadata"]["uid"] != uid or pvc["metadata"].get("deletionTimestamp"):
        return
    if (pvc.get("status") or {}).get("phase") != "Pending":
        return
    sc = cluster.store.get("StorageClass", None, pvc["spec"].get("storageClassName") or "")
    if sc is None:
        return
    pv_name = f"pvc-{uid}"
    if cluster.store.get("PersistentVolume", None, pv_name) is None:
        apiserver.create(cluster, _provisioned_volume(pvc, sc, pv_name))
    record_event(cluster, pvc, "Normal", "ProvisioningSucceeded",
                 f"Successfully provisioned volume {pv_name}", PROVISIONER_COMPONENT)


def _provisioned_volume(pvc: Obj, sc: Obj, pv_name: str) -> Obj:
    meta, spec = pvc["metadata"], pvc["spec"]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": pv_name,
                     "annotations": {"pv.kubernetes.io/provisioned-by": sc["provisioner"],
                                     "hostPathProvisionerIdentity": "minikube"}},
        "spec": {
            "accessModes": list(spec["accessModes"]),
            "capacity": {"storage": spec["resources"]["requests"]["storage"]},
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                         "namespace": meta["namespace"], "name": meta["name"],
                         "uid": meta["uid"], "resourceVersion": meta.get("resourceVersion")},
            "hostPath": {"path": f"/tmp/hostpath-provisioner/{meta['namespace']}/{meta['name']}",
                         "type": ""},
            "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
            "storageClassName": sc["metadata"]["name"],
            "volumeMode": spec.get("volumeMode", "Filesystem"),
        },
    }


def bind(cluster: Cluster, pvc: Obj, pv: Obj) -> None:
    """Bind claim and volume both ways, as syncClaim/bindVolumeToClaim/bindClaimToVolume do."""
    pmeta = pvc["metadata"]
    ref = pv["spec"].get("claimRef")
    if not ref:
        pv["metadata"].setdefault("annotations", {})["pv.kubernetes.io/bound-by-controller"] = "yes"
    if not ref or not ref.get("uid"):
        # A free volume, or one its admin pre-bound to this claim by name: record the uid.
        pv["spec"]["claimRef"] = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                  "namespace": pmeta["namespace"], "name": pmeta["name"],
                                  "uid": pmeta["uid"],
                                  "resourceVersion": pmeta.get("resourceVersion")}
    pv.setdefault("status", {})["phase"] = "Bound"
    cluster.store.update(pv)
    annotations = pmeta.setdefault("annotations", {})
    annotations["pv.kubernetes.io/bind-completed"] = "yes"
    if not pvc["spec"].get("volumeName"):
        annotations["pv.kubernetes.io/bound-by-controller"] = "yes"
    pvc["spec"]["volumeName"] = pv["metadata"]["name"]
    pvc["status"] = {"phase": "Bound", "accessModes": list(pv["spec"]["accessModes"]),
                     "capacity": dict(pv["spec"]["capacity"])}
    cluster.store.update(pvc)


def sync_volume(cluster: Cluster, name: str) -> None:
    pv = cluster.store.get("PersistentVolume", None, name)
    if pv is None:
        return
    ref = pv["spec"].get("claimRef")
    claim = None
    if ref:
        claim = cluster.store.get("PersistentVolumeClaim", ref.get("namespace"), ref.get("name"))
        if claim is not None and claim["metadata"]["uid"] != ref.get("uid"):
            claim = None  # a new claim with the same name is not this volume's claim
    if pv["metadata"].get("deletionTimestamp"):
        if claim is None or (pv.get("status") or {}).get("phase") != "Bound":
            _remove_volume(cluster, pv)
        return
    phase = (pv.get("status") or {}).get("phase")
    if not ref or not ref.get("uid"):
        # Free, or pre-bound by its admin to a claim by name: Available until that claim binds.
        if phase != "Available":
            pv.setdefault("status", {})["phase"] = "Available"
            cluster.store.update(pv)
        return
    if claim is None and phase in ("Bound", "Released", "Pending", "Available", None):
        _reclaim(cluster, pv)


def _reclaim(cluster: Cluster, pv: Obj) -> None:
    """The claim is gone: Delete removes the volume (and its data), Retain keeps it Released."""
    if pv["spec"].get("persistentVolumeReclaimPolicy") == "Delete":
        _remove_volume(cluster, pv)
        return
    if (pv.get("status") or {}).get("phase") != "Released":
        pv.setdefault("status", {})["phase"] = "Released"
        cluster.store.update(pv)


def _remove_volume(cluster: Cluster, pv: Obj) -> None:
    ref = pv["spec"].get("claimRef") or {}
    if pv["spec"].get("persistentVolumeReclaimPolicy") == "Delete" and ref.get("uid"):
        cluster.state.get("volumes", {}).pop(ref["uid"], None)
    cluster.store.remove("PersistentVolume", None, pv["metadata"]["name"])

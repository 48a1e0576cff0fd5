"""Describers for storage: PersistentVolume, PersistentVolumeClaim, StorageClass."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from k8slearn.sim.kubectl import describe as d
from k8slearn.sim.kubectl.printers import access_modes, format_labels, human_duration

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
L2 = d.L2


def _events(cluster: Cluster, obj: Obj, show: bool) -> list[str]:
    return d.event_lines(cluster, obj) if show else []


def _go_list(items: list[str] | None) -> str:
    """fmt's %v of a []string: [a b]."""
    return "[" + " ".join(items or []) + "]"


def _volume_status(cluster: Cluster, obj: Obj) -> str:
    meta = obj["metadata"]
    if meta.get("deletionTimestamp"):
        left = d.parse_rfc3339(meta["deletionTimestamp"]) - cluster.now
        return f"Terminating (lasts {human_duration(-left)})"
    return str((obj.get("status") or {}).get("phase", ""))


def describe_pv(cluster: Cluster, pv: Obj, show_events: bool) -> str:
    meta, spec, st = pv["metadata"], pv.get("spec") or {}, pv.get("status") or {}
    out = [f"Name:\t{meta['name']}\n", *d.labels_lines("Labels", meta.get("labels")),
           *d.annotation_lines("Annotations", meta.get("annotations")),
           f"Finalizers:\t{_go_list(meta.get('finalizers'))}\n",
           f"StorageClass:\t{spec.get('storageClassName', '')}\n",
           f"Status:\t{_volume_status(cluster, pv)}\n"]
    ref = spec.get("claimRef") or {}
    claim = f"{ref.get('namespace', '')}/{ref.get('name', '')}" if ref else ""
    out += [f"Claim:\t{claim}\n",
            f"Reclaim Policy:\t{spec.get('persistentVolumeReclaimPolicy', '')}\n",
            f"Access Modes:\t{access_modes(spec.get('accessModes'))}\n"]
    if spec.get("volumeMode"):
        out.append(f"VolumeMode:\t{spec['volumeMode']}\n")
    out += [f"Capacity:\t{(spec.get('capacity') or {}).get('storage', '')}\n",
            "Node Affinity:\t<none>\n" if not spec.get("nodeAffinity") else
            "Node Affinity:\t\n", f"Message:\t{st.get('message', '')}\n", "Source:\n"]
    if "hostPath" in spec:
        h = spec["hostPath"]
        out.append(f"{L2}Type:\tHostPath (bare host directory volume)\n    Path:\t"
                   f"{h.get('path')}\n    HostPathType:\t{h.get('type', '')}\n")
    elif "local" in spec:
        out.append(f"{L2}Type:\tLocalVolume (a persistent volume backed by local storage on a "
                   f"node)\n    Path:\t{spec['local'].get('path')}\n")
    elif "csi" in spec:
        csi = spec["csi"]
        out.append(f"{L2}Type:\tCSI (a Container Storage Interface (CSI) volume source)\n"
                   f"    Driver:\t{csi.get('driver', '')}\n    FSType:\t{csi.get('fsType', '')}"
                   f"\n    VolumeHandle:\t{csi.get('volumeHandle', '')}\n"
                   f"    ReadOnly:\t{str(bool(csi.get('readOnly'))).lower()}\n")
    out += _events(cluster, pv, show_events)
    return d.render(out)


def describe_pvc(cluster: Cluster, pvc: Obj, show_events: bool) -> str:
    meta, spec, st = pvc["metadata"], pvc.get("spec") or {}, pvc.get("status") or {}
    out = [f"Name:\t{meta['name']}\n", f"Namespace:\t{meta.get('namespace', '')}\n",
           f"StorageClass:\t{spec.get('storageClassName', '')}\n",
           f"Status:\t{_volume_status(cluster, pvc)}\n",
           f"Volume:\t{spec.get('volumeName', '')}\n",
           *d.labels_lines("Labels", meta.get("labels")),
           *d.annotation_lines("Annotations", meta.get("annotations")),
           f"Finalizers:\t{_go_list(meta.get('finalizers'))}\n"]
    bound = bool(spec.get("volumeName"))
    out.append(f"Capacity:\t{(st.get('capacity') or {}).get('storage', '') if bound else ''}\n")
    out.append(f"Access Modes:\t{access_modes(st.get('accessModes')) if bound else ''}\n")
    if spec.get("volumeMode"):
        out.append(f"VolumeMode:\t{spec['volumeMode']}\n")
    users = sorted(p["metadata"]["name"] for p in cluster.store.list("Pod", meta.get("namespace"))
                   if any((v.get("persistentVolumeClaim") or {}).get("claimName") == meta["name"]
                          for v in (p.get("spec") or {}).get("volumes") or ()))
    if not users:
        out.append("Used By:\t<none>\n")
    for i, name in enumerate(users):
        out.append(("Used By:\t" if i == 0 else "\t") + name + "\n")
    out += _events(cluster, pvc, show_events)
    return d.render(out)


def describe_sc(cluster: Cluster, sc: Obj, show_events: bool) -> str:
    meta = sc["metadata"]
    ann = meta.get("annotations") or {}
    default = "true" in (ann.get("storageclass.kubernetes.io/is-default-class"),
                         ann.get("storageclass.beta.kubernetes.io/is-default-class"))
    expand = sc.get("allowVolumeExpansion")
    out = [f"Name:\t{meta['name']}\n", f"IsDefaultClass:\t{'Yes' if default else 'No'}\n",
           f"Annotations:\t{format_labels(ann) if ann else ''}\n",
           f"Provisioner:\t{sc.get('provisioner', '')}\n",
           f"Parameters:\t{format_labels(sc.get('parameters'))}\n",
           f"AllowVolumeExpansion:\t{'<unset>' if expand is None else str(bool(expand))}\n"]
    opts = sc.get("mountOptions") or []
    out.append(f"MountOptions:\t{'<none>' if not opts else ''}\n")
    out += [f"  {o}\n" for o in opts]
    if sc.get("reclaimPolicy"):
        out.append(f"ReclaimPolicy:\t{sc['reclaimPolicy']}\n")
    if sc.get("volumeBindingMode"):
        out.append(f"VolumeBindingMode:\t{sc['volumeBindingMode']}\n")
    out += _events(cluster, sc, show_events)
    return d.render(out)

"""Node objects as the kubelet registers them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from k8slearn.sim import apiserver
from k8slearn.sim.objects import cpu_millis, format_cpu, format_memory, memory_bytes, rfc3339

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

KUBELET_VERSION = "v1.30.4"
MAX_PODS = 110


def node_manifest(
    cluster: Cluster,
    name: str,
    cpu: str = "2",
    memory: str = "4Gi",
    labels: dict[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    now = rfc3339(cluster.now)
    index = len(cluster.store.list("Node")) + 1
    capacity = {
        "cpu": format_cpu(cpu_millis(cpu)),
        "memory": format_memory(memory_bytes(memory)),
        "pods": str(MAX_PODS),
        "ephemeral-storage": "20Gi",
    }
    node_labels = {
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        **(labels or {}),
    }
    conditions = [
        {"type": t, "status": "False", "reason": r, "message": m,
         "lastHeartbeatTime": now, "lastTransitionTime": now}
        for t, r, m in (
            ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        )
    ]
    conditions.append({"type": "Ready", "status": "True", "reason": "KubeletReady",
                       "message": "kubelet is posting ready status",
                       "lastHeartbeatTime": now, "lastTransitionTime": now})
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": node_labels},
        "spec": {"podCIDR": f"10.244.{index}.0/24", "taints": list(taints or [])},
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": conditions,
            "addresses": [
                {"type": "InternalIP", "address": f"192.168.49.{index + 1}"},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION,
                "containerRuntimeVersion": "containerd://1.7.20",
                "operatingSystem": "linux",
                "architecture": "amd64",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.1.0-25-amd64",
            },
        },
    }


def add_node(
    cluster: Cluster,
    name: str,
    cpu: str = "2",
    memory: str = "4Gi",
    labels: dict[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    node = node_manifest(cluster, name, cpu, memory, labels, taints)
    if not node["spec"]["taints"]:
        del node["spec"]["taints"]
    return apiserver.create(cluster, node)

"""A hand-built, frozen cluster scenario for kubectl output tests (goldens).

Objects go in through ``apiserver.create`` (so they are defaulted like real ones) and their status
is written straight into the store; the clock is moved without running controllers, so the
picture stays exactly as built whatever the controllers would do next.
"""

from __future__ import annotations

import copy
from typing import Any

from k8slearn.sim import Cluster, apiserver
from k8slearn.sim.events import record_event
from k8slearn.sim.objects import rfc3339

Obj = dict[str, Any]
HASH = "7c5ddbdf54"


def at(cluster: Cluster, seconds: float) -> None:
    """Move virtual time without running anything."""
    cluster.clock.now_ms = int(seconds * 1000)


def set_status(cluster: Cluster, kind: str, ns: str | None, name: str, status: Obj,
               **meta: Any) -> Obj:
    obj = cluster.store.get(kind, ns, name)
    assert obj is not None, (kind, name)
    obj = copy.deepcopy(obj)
    obj["status"] = status
    obj["metadata"].update(meta)
    return cluster.store.update(obj)


def running_status(cluster: Cluster, node: str, ip: str, started: float,
                   container: str = "nginx", image: str = "nginx:1.25", restarts: int = 0,
                   last_finished: float | None = None) -> Obj:
    node_obj = cluster.store.get("Node", None, node)
    assert node_obj is not None
    host = node_obj["status"]["addresses"][0]["address"]
    cs: Obj = {"name": container, "ready": True, "restartCount": restarts, "started": True,
               "image": image, "imageID": f"docker.io/library/{image}",
               "containerID": f"containerd://{'0' * 8}{ip.replace('.', '')}",
               "state": {"running": {"startedAt": rfc3339(started + 2)}}}
    if last_finished is not None:
        cs["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error",
                                          "startedAt": rfc3339(started),
                                          "finishedAt": rfc3339(last_finished)}}
    t = rfc3339(started)
    return {
        "phase": "Running", "hostIP": host, "hostIPs": [{"ip": host}], "podIP": ip,
        "podIPs": [{"ip": ip}], "startTime": t, "qosClass": "BestEffort",
        "conditions": [
            {"type": "PodReadyToStartContainers", "status": "True", "lastTransitionTime": t},
            {"type": "Initialized", "status": "True", "lastTransitionTime": t},
            {"type": "Ready", "status": "True", "lastTransitionTime": t},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": t},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": t},
        ],
        "containerStatuses": [cs],
    }


def scenario(seed: int = 7) -> Cluster:
    """Deployment web (3 pods, one restarted), a crash-looping pod, a pending pod, Service web,
    its Endpoints, a ConfigMap, a Secret and events, observed at t = 5 min."""
    c = Cluster.create(seed=seed, nodes=3)
    tpl = {"metadata": {"labels": {"app": "web"}},
           "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25",
                                    "ports": [{"containerPort": 80}]}]}}
    dep = apiserver.create(c, {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "template": copy.deepcopy(tpl)}})
    rs_tpl = copy.deepcopy(tpl)
    rs_tpl["metadata"]["labels"]["pod-template-hash"] = HASH
    rs = apiserver.create(c, {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": f"web-{HASH}", "namespace": "default",
                     "labels": {"app": "web", "pod-template-hash": HASH},
                     "annotations": {"deployment.kubernetes.io/desired-replicas": "3",
                                     "deployment.kubernetes.io/max-replicas": "4",
                                     "deployment.kubernetes.io/revision": "1"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                          "name": "web", "uid": dep["metadata"]["uid"],
                                          "controller": True, "blockOwnerDeletion": True}]},
        "spec": {"replicas": 3,
                 "selector": {"matchLabels": {"app": "web", "pod-template-hash": HASH}},
                 "template": rs_tpl}})
    owner = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs["metadata"]["name"],
              "uid": rs["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    pods = [("web-7c5ddbdf54-2xkqv", "node-1", "10.244.1.2"),
            ("web-7c5ddbdf54-8fz9d", "node-2", "10.244.2.2"),
            ("web-7c5ddbdf54-tq4mb", "node-3", "10.244.3.2")]
    for i, (name, node, ip) in enumerate(pods):
        apiserver.create(c, {"apiVersion": "v1", "kind": "Pod",
                             "metadata": {"name": name, "namespace": "default",
                                          "labels": {"app": "web", "pod-template-hash": HASH},
                                          "ownerReferences": copy.deepcopy(owner)},
                             "spec": {**copy.deepcopy(rs_tpl["spec"]), "nodeName": node}})
        st = running_status(c, node, ip, 1, restarts=1 if i == 1 else 0,
                            last_finished=200 if i == 1 else None)
        set_status(c, "Pod", "default", name, st)
    set_status(c, "ReplicaSet", "default", rs["metadata"]["name"],
               {"replicas": 3, "fullyLabeledReplicas": 3, "readyReplicas": 3,
                "availableReplicas": 3, "observedGeneration": 1})
    set_status(c, "Deployment", "default", "web", {
        "observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3,
        "availableReplicas": 3,
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
             "message": "Deployment has minimum availability.",
             "lastUpdateTime": rfc3339(4), "lastTransitionTime": rfc3339(4)},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
             "message": f'ReplicaSet "web-{HASH}" has successfully progressed.',
             "lastUpdateTime": rfc3339(4), "lastTransitionTime": rfc3339(0)}]},
        annotations={"deployment.kubernetes.io/revision": "1"})
    # A bare pod that keeps crashing, and one that cannot be scheduled.
    at(c, 30)
    apiserver.create(c, {"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": "crasher", "namespace": "default",
                                      "labels": {"run": "crasher"}},
                         "spec": {"containers": [{"name": "app", "image": "busybox:1.36",
                                                  "command": ["sh", "-c", "exit 1"]}],
                                  "nodeName": "node-2"}})
    st = running_status(c, "node-2", "10.244.2.3", 30, container="app", image="busybox:1.36",
                        restarts=4, last_finished=250)
    st["containerStatuses"][0].update(
        {"ready": False, "started": False,
         "state": {"waiting": {"reason": "CrashLoopBackOff",
                               "message": "back-off 1m20s restarting failed container=app "
                                          "pod=crasher_default(x)"}}})
    st["conditions"][2]["status"] = "False"
    st["conditions"][3]["status"] = "False"
    set_status(c, "Pod", "default", "crasher", st)
    apiserver.create(c, {"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": "big", "namespace": "default",
                                      "labels": {"run": "big"}},
                         "spec": {"containers": [{"name": "big", "image": "nginx:1.25",
                                                  "resources": {"requests": {"cpu": "8"}}}]}})
    set_status(c, "Pod", "default", "big", {
        "phase": "Pending", "qosClass": "Burstable",
        "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                        "message": "0/3 nodes are available: 3 Insufficient cpu.",
                        "lastTransitionTime": rfc3339(30)}]})
    at(c, 40)
    svc = apiserver.create(c, {"apiVersion": "v1", "kind": "Service",
                               "metadata": {"name": "web", "namespace": "default",
                                            "labels": {"app": "web"}},
                               "spec": {"selector": {"app": "web"},
                                        "ports": [{"port": 80, "targetPort": 80}]}})
    ep = c.store.get("Endpoints", "default", "web")
    if ep is None:
        apiserver.create(c, {"apiVersion": "v1", "kind": "Endpoints",
                             "metadata": {"name": "web", "namespace": "default",
                                          "labels": {"app": "web"}}})
    ep = copy.deepcopy(c.store.get("Endpoints", "default", "web"))
    ep["subsets"] = [{"addresses": [{"ip": ip, "nodeName": node,
                                     "targetRef": {"kind": "Pod", "name": name,
                                                   "namespace": "default"}}
                                    for name, node, ip in pods],
                      "ports": [{"port": 80, "protocol": "TCP"}]}]
    c.store.update(ep)
    apiserver.create(c, {"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "app-config", "namespace": "default"},
                         "data": {"color": "blue", "mode": "prod"}})
    apiserver.create(c, {"apiVersion": "v1", "kind": "Secret",
                         "metadata": {"name": "db", "namespace": "default"},
                         "type": "Opaque", "data": {"password": "czNjcjN0"}})
    # Events, in the order the controllers would have emitted them.
    c.state.pop("event_log", None)
    at(c, 0)
    record_event(c, dep, "Normal", "ScalingReplicaSet",
                 f"Scaled up replica set web-{HASH} from 0 to 3", "deployment-controller")
    for name, _node, _ip in pods:
        record_event(c, rs, "Normal", "SuccessfulCreate", f"Created pod: {name}",
                     "replicaset-controller")
    at(c, 1)
    pod0 = c.store.get("Pod", "default", pods[0][0])
    assert pod0 is not None
    record_event(c, pod0, "Normal", "Scheduled",
                 f"Successfully assigned default/{pods[0][0]} to node-1", "default-scheduler")
    record_event(c, pod0, "Normal", "Pulling", 'Pulling image "nginx:1.25"', "kubelet",
                 field_path="spec.containers{nginx}", host="node-1")
    at(c, 2)
    record_event(c, pod0, "Normal", "Pulled", 'Successfully pulled image "nginx:1.25" in 1.2s '
                 "(1.2s including waiting). Image size: 71026652 bytes.", "kubelet",
                 field_path="spec.containers{nginx}", host="node-1")
    record_event(c, pod0, "Normal", "Created", "Created container: nginx", "kubelet",
                 field_path="spec.containers{nginx}", host="node-1")
    record_event(c, pod0, "Normal", "Started", "Started container nginx", "kubelet",
                 field_path="spec.containers{nginx}", host="node-1")
    crasher = c.store.get("Pod", "default", "crasher")
    assert crasher is not None
    for t in (60, 120, 250):
        at(c, t)
        record_event(c, crasher, "Warning", "BackOff", "Back-off restarting failed container "
                     f"app in pod crasher_default({crasher['metadata']['uid']})", "kubelet",
                     field_path="spec.containers{app}", host="node-2")
    big = c.store.get("Pod", "default", "big")
    assert big is not None
    at(c, 30)
    record_event(c, big, "Warning", "FailedScheduling", "0/3 nodes are available: 3 "
                 "Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims "
                 "found for incoming pod.", "default-scheduler")
    # A hostPath PersistentVolume bound to a claim (the docs' task-pv-volume example).
    at(c, 60)
    apiserver.create(c, {"apiVersion": "v1", "kind": "PersistentVolume",
                         "metadata": {"name": "task-pv-volume", "labels": {"type": "local"}},
                         "spec": {"storageClassName": "manual", "capacity": {"storage": "10Gi"},
                                  "accessModes": ["ReadWriteOnce"],
                                  "hostPath": {"path": "/mnt/data"}}})
    apiserver.create(c, {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                         "metadata": {"name": "task-pv-claim", "namespace": "default"},
                         "spec": {"storageClassName": "manual", "accessModes": ["ReadWriteOnce"],
                                  "resources": {"requests": {"storage": "3Gi"}}}})
    pv = copy.deepcopy(c.store.get("PersistentVolume", None, "task-pv-volume"))
    pv["spec"]["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": "default",
                              "name": "task-pv-claim", "apiVersion": "v1"}
    pv["status"] = {"phase": "Bound"}
    c.store.update(pv)
    pvc = copy.deepcopy(c.store.get("PersistentVolumeClaim", "default", "task-pv-claim"))
    pvc["spec"]["volumeName"] = "task-pv-volume"
    pvc["status"] = {"phase": "Bound", "accessModes": ["ReadWriteOnce"],
                     "capacity": {"storage": "10Gi"}}
    c.store.update(pvc)
    at(c, 300)
    assert svc is not None
    return c

"""Imperative kubectl commands against a live cluster: create, delete, scale, set image, rollout,
expose, label/annotate, cordon/drain, logs, top, version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from k8slearn.sim import Cluster, apiserver
from k8slearn.sim.kubectl.rollout import status_message


def ok(cluster: Cluster, line: str, stdin: str | None = None) -> str:
    r = cluster.kubectl(line, stdin)
    assert r.exit_code == 0, (line, r.stderr)
    return r.stdout


def err(cluster: Cluster, line: str) -> str:
    r = cluster.kubectl(line)
    assert r.exit_code != 0, (line, r.stdout)
    return r.stderr


@pytest.fixture
def web(cluster: Cluster) -> Cluster:
    ok(cluster, "create deployment web --image=nginx:1.25 --replicas=3")
    cluster.advance(30)
    return cluster


# -- create ----------------------------------------------------------------------------------
def test_create_deployment_builds_what_real_kubectl_sends(cluster: Cluster) -> None:
    assert ok(cluster, "create deployment web --image=nginx:1.25 --replicas=3 --port=80") == \
        "deployment.apps/web created\n"
    d = cluster.get("Deployment", "web")
    assert d is not None
    assert d["metadata"]["labels"] == {"app": "web"}
    assert d["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    c = d["spec"]["template"]["spec"]["containers"][0]
    assert (c["name"], c["image"], c["ports"]) == ("nginx", "nginx:1.25",
                                                   [{"containerPort": 80, "protocol": "TCP"}])
    ok(cluster, "create deployment reg --image=registry.k8s.io/e2e-test-images/agnhost:2.39")
    reg = cluster.get("Deployment", "reg")
    assert reg is not None
    assert reg["spec"]["template"]["spec"]["containers"][0]["name"] == "agnhost"


def test_create_errors(cluster: Cluster) -> None:
    assert err(cluster, "create deployment web") == 'error: required flag(s) "image" not set\n'
    assert err(cluster, "create deployment") == (
        "error: exactly one NAME is required, got 0\n"
        "See 'kubectl create deployment -h' for help and examples\n")
    ok(cluster, "create deployment web --image=nginx")
    assert err(cluster, "create deployment web --image=nginx") == (
        'Error from server (AlreadyExists): deployments.apps "web" already exists\n')
    assert "Invalid value" in err(cluster, "create deployment Bad_Name --image=nginx")


def test_create_service_configmap_secret_namespace(cluster: Cluster) -> None:
    assert ok(cluster, "create service clusterip web --tcp=80:8080") == "service/web created\n"
    svc = cluster.get("Service", "web")
    assert svc is not None
    assert svc["spec"]["ports"][0] == {"name": "80-8080", "port": 80, "protocol": "TCP",
                                       "targetPort": 8080}
    assert svc["spec"]["selector"] == {"app": "web"}
    ok(cluster, "create service nodeport np --tcp=80:80 --node-port=30080")
    assert "80:30080/TCP" in ok(cluster, "get svc np")
    assert ok(cluster, "create configmap cfg --from-literal=color=blue --from-literal=n=1") == \
        "configmap/cfg created\n"
    cm = cluster.get("ConfigMap", "cfg")
    assert cm is not None and cm["data"] == {"color": "blue", "n": "1"}
    assert ok(cluster, "create secret generic db --from-literal=password=s3cr3t") == \
        "secret/db created\n"
    s = cluster.get("Secret", "db")
    assert s is not None and s["data"] == {"password": "czNjcjN0"} and s["type"] == "Opaque"
    assert ok(cluster, "create namespace team-a") == "namespace/team-a created\n"
    assert "team-a" in ok(cluster, "get ns")


def test_create_dry_run_yaml_writes_nothing(cluster: Cluster) -> None:
    out = ok(cluster, "create deployment web --image=nginx --dry-run=client -o yaml")
    assert yaml.safe_load(out)["kind"] == "Deployment"
    assert cluster.get("Deployment", "web") is None


# -- delete ----------------------------------------------------------------------------------
def test_delete_forms(web: Cluster) -> None:
    pods = [p.name for p in web.pods(selector="app=web")]
    assert ok(web, f"delete pod {pods[0]}") == f'pod "{pods[0]}" deleted\n'
    r = web.kubectl(f"delete pod/{pods[1]} --force --grace-period=0")
    assert r.stdout == f'pod "{pods[1]}" force deleted\n'
    assert r.stderr == ("Warning: Immediate deletion does not wait for confirmation that the "
                        "running resource has been terminated. The resource may continue to run "
                        "on the cluster indefinitely.\n")
    assert web.store.get("Pod", "default", pods[1]) is None
    assert err(web, "delete pod nope") == 'Error from server (NotFound): pods "nope" not found\n'
    assert err(web, "delete pods") == ("error: resource(s) were provided, but no name was "
                                       "specified\n")
    out = ok(web, "delete pods -l app=web")
    assert out.count("deleted") >= 2
    assert ok(web, "delete deployment web") == 'deployment.apps "web" deleted\n'
    assert err(web, "delete").startswith("error: You must provide one or more resources")


def test_delete_now_and_grace_period_conflict(cluster: Cluster) -> None:
    assert err(cluster, "delete pod x --now --grace-period=5") == (
        "error: --now and --grace-period cannot be specified together\n")


# -- scale / set image / rollout -------------------------------------------------------------
def test_scale(web: Cluster) -> None:
    assert ok(web, "scale deployment web --replicas=5") == "deployment.apps/web scaled\n"
    assert ok(web, "scale --replicas=2 deploy/web") == "deployment.apps/web scaled\n"
    d = web.get("Deployment", "web")
    assert d is not None and d["spec"]["replicas"] == 2
    assert err(web, "scale deployment web") == 'error: required flag(s) "replicas" not set\n'
    assert "1000" in err(web, "scale deployment web --replicas=1001")
    assert err(web, "scale deployment nope --replicas=1") == (
        'Error from server (NotFound): deployments.apps "nope" not found\n')


def test_set_image_and_rollout(web: Cluster) -> None:
    assert ok(web, "rollout status deployment/web") == 'deployment "web" successfully rolled out\n'
    assert ok(web, "set image deployment/web nginx=nginx:1.26") == \
        "deployment.apps/web image updated\n"
    assert ok(web, "rollout status deploy web") == \
        "Waiting for deployment spec update to be observed...\n"
    assert err(web, "set image deployment/web app=nginx:1.26") == \
        'error: unable to find container named "app"\n'
    web.advance(120)
    assert ok(web, "rollout status deployment/web") == \
        'deployment "web" successfully rolled out\n'
    assert ok(web, "rollout history deployment/web") == (
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n")
    assert ok(web, "rollout undo deployment/web") == "deployment.apps/web rolled back\n"
    web.advance(120)
    assert ok(web, "rollout history deployment/web").splitlines()[2:] == [
        "2         <none>", "3         <none>", ""]
    d = web.get("Deployment", "web")
    assert d is not None
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    assert ok(web, "rollout undo deployment/web --to-revision=3") == (
        "deployment.apps/web skipped rollback (current template already matches revision 3)\n")
    assert err(web, "rollout undo deployment/web --to-revision=9") == (
        "error: unable to find specified revision 9 in history\n")
    out = ok(web, "rollout history deployment/web --revision=3")
    assert out.startswith("deployment.apps/web with revision #3\nPod Template:\n  Labels:\tapp=web")


def test_pause_resume_restart(web: Cluster) -> None:
    assert ok(web, "rollout pause deployment/web") == "deployment.apps/web paused\n"
    assert err(web, "rollout pause deployment/web") == (
        'error: deployments.apps "web" is already paused\n')
    assert err(web, "rollout restart deployment/web") == (
        "error: deployments.apps \"web\" can't restart paused deployment (run rollout resume "
        "first)\n")
    assert err(web, "rollout undo deployment/web").startswith(
        "error: you cannot rollback a paused deployment; resume it first")
    assert ok(web, "rollout resume deployment/web") == "deployment.apps/web resumed\n"
    assert err(web, "rollout resume deployment/web") == (
        'error: deployments.apps "web" is not paused\n')
    assert ok(web, "rollout restart deployment/web") == "deployment.apps/web restarted\n"
    d = web.get("Deployment", "web")
    assert d is not None
    assert d["spec"]["template"]["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:30Z"}


def _vectors() -> dict[str, Any]:
    here = Path(__file__).parent / "k8s-vectors.json"
    path = here if here.exists() else Path("/work/shared/design/k8s-vectors.json")
    return json.loads(path.read_text())


@pytest.mark.parametrize("case", _vectors()["rollout_status_messages"]["cases"],
                         ids=lambda c: c.get("expected", c.get("expected_error", ""))[:40])
def test_rollout_status_vectors(case: dict[str, Any]) -> None:
    dep = {"metadata": {"name": case["name"], "generation": case["generation"]},
           "spec": {"replicas": case.get("spec_replicas", 1)},
           "status": {"observedGeneration": case["observedGeneration"],
                      "updatedReplicas": case.get("updated", 0),
                      "replicas": case.get("replicas", 0),
                      "availableReplicas": case.get("available", 0)}}
    if case.get("progressing_reason"):
        dep["status"]["conditions"] = [{"type": "Progressing", "status": "False",
                                        "reason": case["progressing_reason"]}]
    msg, done, error = status_message(dep)
    if "expected_error" in case:
        assert error == case["expected_error"]
    else:
        assert (msg, done) == (case["expected"], case["done"])


def test_rollout_status_exit_1_on_deadline(web: Cluster) -> None:
    d = web.store.get("Deployment", "default", "web")
    assert d is not None
    d["status"]["conditions"] = [{"type": "Progressing", "status": "False",
                                  "reason": "ProgressDeadlineExceeded"}]
    web.store.update(d)
    r = web.kubectl("rollout status deployment/web")
    assert (r.exit_code, r.stderr) == (1, 'error: deployment "web" exceeded its progress '
                                          "deadline\n")


# -- expose / label / annotate ---------------------------------------------------------------
def test_expose(web: Cluster) -> None:
    assert ok(web, "expose deployment web --port=80 --target-port=8080") == \
        "service/web exposed\n"
    svc = web.get("Service", "web")
    assert svc is not None
    assert svc["spec"]["selector"] == {"app": "web"}
    assert svc["spec"]["ports"][0]["targetPort"] == 8080
    assert err(web, "expose deployment web --port=80") == (
        'Error from server (AlreadyExists): services "web" already exists\n')
    assert "couldn't find port" in err(web, "expose deployment web --name=other")


def test_label_and_annotate(web: Cluster) -> None:
    assert ok(web, "label deployment web tier=frontend") == "deployment.apps/web labeled\n"
    assert err(web, "label deployment web tier=backend") == (
        "error: 'tier' already has a value (frontend), and --overwrite is false\n")
    assert ok(web, "label deployment web tier=backend --overwrite") == \
        "deployment.apps/web labeled\n"
    assert ok(web, "label deployment web tier-") == "deployment.apps/web unlabeled\n"
    assert ok(web, "annotate deployment web note=hello") == "deployment.apps/web annotated\n"
    pod = web.pods(selector="app=web")[0].name
    assert ok(web, f"label pod {pod} canary=true") == f"pod/{pod} labeled\n"
    assert ok(web, "label nodes node-1 disk=ssd") == "node/node-1 labeled\n"


# -- nodes -----------------------------------------------------------------------------------
def test_cordon_uncordon(cluster: Cluster) -> None:
    assert ok(cluster, "cordon node-1") == "node/node-1 cordoned\n"
    assert ok(cluster, "cordon node-1") == "node/node-1 already cordoned\n"
    assert "Ready,SchedulingDisabled" in ok(cluster, "get nodes")
    assert ok(cluster, "uncordon node-1") == "node/node-1 uncordoned\n"
    assert err(cluster, "cordon node-9") == 'Error from server (NotFound): nodes "node-9" not found\n'


def test_drain_refuses_unmanaged_pods_without_force(web: Cluster) -> None:
    apiserver.create(web, {"apiVersion": "v1", "kind": "Pod",
                           "metadata": {"name": "lonely", "namespace": "default"},
                           "spec": {"nodeName": "node-1",
                                    "containers": [{"name": "a", "image": "nginx"}]}})
    r = web.kubectl("drain node-1")
    assert r.exit_code == 1
    assert r.stdout == "node/node-1 cordoned\n"
    # Yes, real kubectl says "cannot delete cannot delete" (the constant repeats the prefix).
    assert r.stderr == (
        'error: unable to drain node "node-1" due to error: cannot delete cannot delete Pods that '
        "declare no controller (use --force to override): default/lonely, continuing command...\n"
        "There are pending nodes to be drained:\n node-1\n"
        "cannot delete cannot delete Pods that declare no controller (use --force to override): "
        "default/lonely\n")
    r = web.kubectl("drain node-1 --force --ignore-daemonsets")
    assert r.exit_code == 0
    assert r.stderr == "Warning: deleting Pods that declare no controller: default/lonely\n"
    assert "evicting pod default/lonely\n" in r.stdout
    assert "pod/lonely evicted\n" in r.stdout
    assert r.stdout.endswith("node/node-1 drained\n")


def test_drain_refuses_emptydir_without_flag(cluster: Cluster) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "cache", "namespace": "default",
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                             "name": "x", "uid": "u", "controller": True}]},
           "spec": {"nodeName": "node-2", "volumes": [{"name": "tmp", "emptyDir": {}}],
                    "containers": [{"name": "a", "image": "nginx"}]}}
    apiserver.create(cluster, pod)
    r = cluster.kubectl("drain node-2")
    assert "cannot delete Pods with local storage (use --delete-emptydir-data to override): " \
           "default/cache" in r.stderr
    r = cluster.kubectl("drain node-2 --delete-emptydir-data")
    assert r.exit_code == 0 and "pod/cache evicted" in r.stdout


# -- logs / top / info -----------------------------------------------------------------------
def test_logs(web: Cluster) -> None:
    pod = web.pods(selector="app=web")[0].name
    r = web.kubectl(f"logs {pod}")
    assert r.exit_code == 0
    r = web.kubectl("logs deploy/web")
    assert r.exit_code == 0 and r.stderr.startswith("Found 3 pods, using pod/")
    assert err(web, "logs nope") == 'Error from server (NotFound): pods "nope" not found\n'
    assert err(web, f"logs {pod} -c other") == f"error: container other is not valid for pod {pod}\n"
    assert err(web, f"logs {pod} --previous") == (
        f'Error from server (BadRequest): previous terminated container "nginx" in pod "{pod}" '
        "not found\n")
    tail = web.kubectl(f"logs {pod} --tail=1").stdout
    assert tail.count("\n") <= 1


def test_logs_of_a_creating_container(cluster: Cluster) -> None:
    ok(cluster, "create deployment web --image=nginx:1.25")
    cluster.advance(0.1)
    pods = cluster.pods(selector="app=web")
    if pods and pods[0]["status"].get("containerStatuses"):
        state = pods[0]["status"]["containerStatuses"][0]["state"]
        if "waiting" in state:
            r = cluster.kubectl(f"logs {pods[0].name}")
            assert r.stderr.startswith(f'Error from server (BadRequest): container "nginx" in pod '
                                       f'"{pods[0].name}" is waiting to start: ')


def test_top(web: Cluster) -> None:
    out = ok(web, "top pods")
    lines = out.splitlines()
    assert lines[0] == "NAME                   CPU(cores)   MEMORY(bytes)   "
    assert len(lines) == 4 and all(ln.split()[1].endswith("m") for ln in lines[1:])
    nodes = ok(web, "top nodes").splitlines()
    assert nodes[0].split() == ["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"]
    assert len(nodes) == 4


def test_version_and_cluster_info(cluster: Cluster) -> None:
    assert ok(cluster, "version") == ("Client Version: v1.30.4\n"
                                      "Kustomize Version: v5.0.4-0.20230601165947-6ce0bf390ce3\n"
                                      "Server Version: v1.30.4\n")
    assert ok(cluster, "cluster-info").startswith(
        "Kubernetes control plane is running at https://127.0.0.1:6443\n")
    assert "deployments" in ok(cluster, "api-resources")


def test_set_image_to_the_same_image_prints_nothing(web: Cluster) -> None:
    r = web.kubectl("set image deployment/web nginx=nginx:1.25")
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "")


def test_logs_of_a_crash_looping_container_show_the_last_run(cluster: Cluster) -> None:
    ok(cluster, 'run crash --image=busybox -- sh -c "echo hi; exit 1"')
    cluster.advance(60)
    pod = cluster.get("Pod", "crash")
    assert pod is not None
    state = pod["status"]["containerStatuses"][0]["state"]
    assert "waiting" in state
    assert cluster.kubectl("logs crash").exit_code == 0
    assert cluster.kubectl("logs crash --previous").exit_code == 0


def test_dry_run_yaml_is_what_real_kubectl_prints_and_applies_back(cluster: Cluster) -> None:
    out = ok(cluster, "create deployment web --image=nginx --dry-run=client -o yaml")
    assert out == """apiVersion: apps/v1
kind: Deployment
metadata:
  creationTimestamp: null
  labels:
    app: web
  name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  strategy: {}
  template:
    metadata:
      creationTimestamp: null
      labels:
        app: web
    spec:
      containers:
      - image: nginx
        name: nginx
        resources: {}
status: {}
"""
    assert ok(cluster, "apply -f -", out) == "deployment.apps/web created\n"
    pod_yaml = ok(cluster, "run x --image=nginx --dry-run=client -o yaml")
    assert "  dnsPolicy: ClusterFirst\n  restartPolicy: Always\nstatus: {}\n" in pod_yaml
    assert ok(cluster, "apply -f -", pod_yaml) == "pod/x created\n"
    assert ok(cluster, "get deploy web -o yaml").startswith("apiVersion: apps/v1\nkind: Deployment")
    again = ok(cluster, "get deploy web -o yaml")
    assert ok(cluster, "apply -f -", again) == "deployment.apps/web configured\n"


def test_system_namespaces_cannot_be_deleted(cluster: Cluster) -> None:
    assert err(cluster, "delete namespace default") == (
        'Error from server (Forbidden): namespaces "default" is forbidden: this namespace may '
        "not be deleted\n")
    ok(cluster, "create namespace scratch")
    assert ok(cluster, "delete ns scratch") == 'namespace "scratch" deleted\n'

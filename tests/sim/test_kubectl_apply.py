"""kubectl apply / create -f / delete -f: real manifests, 3-way updates, atomicity, errors."""

from __future__ import annotations

import json

import pytest
from manifests_examples import (
    EXEC_LIVENESS,
    GAME_DEMO_CONFIGMAP,
    LIST,
    MEMORY_DEMO,
    MY_SERVICE,
    NGINX_DEPLOYMENT,
    PV_AND_CLAIM,
    SECRET,
    SIMPLE_POD,
)

from k8slearn.sim import Cluster
from k8slearn.sim.kubectl.apply import LAST_APPLIED


@pytest.mark.parametrize(("text", "expected"), [
    (NGINX_DEPLOYMENT, "deployment.apps/nginx-deployment created\n"),
    (MY_SERVICE, "service/my-service created\n"),
    (SIMPLE_POD, "pod/nginx created\n"),
    (GAME_DEMO_CONFIGMAP, "configmap/game-demo created\n"),
    (SECRET, "secret/mysecret created\n"),
    (PV_AND_CLAIM, "persistentvolume/task-pv-volume created\n"
                   "persistentvolumeclaim/task-pv-claim created\n"),
    (MEMORY_DEMO, "namespace/mem-example created\npod/memory-demo created\n"),
    (EXEC_LIVENESS, "pod/liveness-exec created\n"),
    (LIST, "configmap/one created\nconfigmap/two created\n"),
])
def test_doc_examples_apply(cluster: Cluster, text: str, expected: str) -> None:
    r = cluster.kubectl("apply -f -", stdin=text)
    assert (r.exit_code, r.stdout, r.stderr) == (0, expected, "")
    again = cluster.kubectl("apply -f -", stdin=text)
    assert again.exit_code == 0
    assert again.stdout == expected.replace(" created", " unchanged")


def test_apply_stores_last_applied_configuration(cluster: Cluster) -> None:
    cluster.kubectl("apply -f -", stdin=NGINX_DEPLOYMENT)
    d = cluster.get("Deployment", "nginx-deployment")
    assert d is not None
    ann = d["metadata"]["annotations"][LAST_APPLIED]
    assert ann.endswith("}\n")
    assert json.loads(ann) == {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"annotations": {}, "labels": {"app": "nginx"}, "name": "nginx-deployment",
                     "namespace": "default"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "nginx"}},
                 "template": {"metadata": {"labels": {"app": "nginx"}},
                              "spec": {"containers": [{"image": "nginx:1.14.2", "name": "nginx",
                                                       "ports": [{"containerPort": 80}]}]}}}}
    assert ann.startswith('{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations"')


def test_apply_update_changes_spec_and_removes_dropped_fields(cluster: Cluster) -> None:
    with_label = NGINX_DEPLOYMENT.replace("    app: nginx\nspec:", "    app: nginx\n    tier: web\n"
                                          "spec:")
    assert cluster.kubectl("apply -f -", stdin=with_label).exit_code == 0
    r = cluster.kubectl("apply -f -", stdin=NGINX_DEPLOYMENT.replace("nginx:1.14.2",
                                                                     "nginx:1.16.1"))
    assert r.stdout == "deployment.apps/nginx-deployment configured\n"
    d = cluster.get("Deployment", "nginx-deployment")
    assert d is not None
    assert d["metadata"]["labels"] == {"app": "nginx"}  # "tier" was in last-applied only
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.16.1"
    assert d["metadata"]["generation"] == 2


def test_apply_keeps_fields_set_by_others(cluster: Cluster) -> None:
    cluster.kubectl("apply -f -", stdin=NGINX_DEPLOYMENT)
    cluster.kubectl("label deployment nginx-deployment owner=ops")
    cluster.kubectl("apply -f -", stdin=NGINX_DEPLOYMENT.replace("replicas: 3", "replicas: 4"))
    d = cluster.get("Deployment", "nginx-deployment")
    assert d is not None
    assert d["metadata"]["labels"] == {"app": "nginx", "owner": "ops"}
    assert d["spec"]["replicas"] == 4


def test_apply_over_imperative_object_warns(cluster: Cluster) -> None:
    cluster.kubectl("create configmap game-demo --from-literal=a=b")
    r = cluster.kubectl("apply -f -", stdin=GAME_DEMO_CONFIGMAP)
    assert r.exit_code == 0 and r.stdout == "configmap/game-demo configured\n"
    assert r.stderr.startswith("Warning: resource configmaps/game-demo is missing the "
                               "kubectl.kubernetes.io/last-applied-configuration annotation")


def test_failed_multi_document_apply_changes_nothing(cluster: Cluster) -> None:
    cluster.kubectl("apply -f -", stdin=NGINX_DEPLOYMENT)
    before = cluster.snapshot()
    bad = (MEMORY_DEMO + "---\n" + NGINX_DEPLOYMENT.replace("nginx:1.14.2", "nginx:1.16.1")
           + "---\n" + SIMPLE_POD + "---\n"
           + NGINX_DEPLOYMENT.replace("nginx-deployment", "other").replace("replicas: 3",
                                                                           "replicas: -1"))
    r = cluster.kubectl("apply -f -", stdin=bad)
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.startswith('The Deployment "other" is invalid: spec.replicas')
    assert cluster.snapshot() == before


def test_failed_apply_on_a_later_unknown_field_changes_nothing(cluster: Cluster) -> None:
    before = cluster.snapshot()
    r = cluster.kubectl("apply -f -", stdin=MY_SERVICE + "---\n" +
                        SIMPLE_POD.replace("image:", "imagee:"))
    assert r.stderr == (
        'Error from server (BadRequest): error when creating "STDIN": Pod in version "v1" cannot '
        'be handled as a Pod: strict decoding error: unknown field "spec.containers[0].imagee"\n')
    assert cluster.snapshot() == before


def test_wrong_type_message(cluster: Cluster) -> None:
    r = cluster.kubectl("apply -f -", stdin=NGINX_DEPLOYMENT.replace("replicas: 3",
                                                                     'replicas: "3"'))
    assert r.stderr == (
        'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" '
        "cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field "
        "DeploymentSpec.spec.replicas of type int32\n")


def test_validation_error_from_the_api_server(cluster: Cluster) -> None:
    r = cluster.kubectl("apply -f -", stdin=NGINX_DEPLOYMENT.replace("replicas: 3",
                                                                     "replicas: -1"))
    assert r.exit_code == 1
    assert r.stderr.startswith('The Deployment "nginx-deployment" is invalid: spec.replicas: '
                               "Invalid value: -1: must be greater than or equal to 0")


def test_replicas_limit(cluster: Cluster) -> None:
    r = cluster.kubectl("apply -f -", stdin=NGINX_DEPLOYMENT.replace("replicas: 3",
                                                                     "replicas: 5000"))
    assert r.exit_code == 1 and "spec.replicas" in r.stderr and "5000" in r.stderr
    assert cluster.get("Deployment", "nginx-deployment") is None


def test_unsupported_kind_is_named(cluster: Cluster) -> None:
    ds = NGINX_DEPLOYMENT.replace("kind: Deployment", "kind: DaemonSet").replace(
        "  replicas: 3\n", "")
    r = cluster.kubectl("apply -f -", stdin=ds)
    assert r.exit_code == 1
    assert "DaemonSet" in r.stderr and "does not simulate" in r.stderr


def test_namespace_mismatch(cluster: Cluster) -> None:
    r = cluster.kubectl("apply -n kube-system -f -", stdin=MEMORY_DEMO)
    assert r.stderr == ('error: the namespace from the provided object "mem-example" does not '
                        'match the namespace "kube-system". You must pass '
                        "'--namespace=mem-example' to perform this operation.\n")


def test_namespace_flag_applies_to_objects_without_one(cluster: Cluster) -> None:
    r = cluster.kubectl("apply -f - -n kube-public", stdin=SIMPLE_POD)
    assert r.exit_code == 0
    assert cluster.get("Pod", "nginx", namespace="kube-public") is not None


def test_missing_namespace(cluster: Cluster) -> None:
    r = cluster.kubectl("apply -f - -n nowhere", stdin=SIMPLE_POD)
    assert r.exit_code == 1
    assert r.stderr == ('Error from server (NotFound): error when creating "STDIN": namespaces '
                        '"nowhere" not found\n')


def test_files_are_explained(cluster: Cluster) -> None:
    r = cluster.kubectl("apply -f deployment.yaml")
    assert r.exit_code == 1 and 'kubectl apply -f -' in r.stderr
    assert cluster.kubectl("apply").stderr == "error: must specify one of -f and -k\n"
    assert cluster.kubectl("apply -f -", stdin="").exit_code == 1


def test_dry_run(cluster: Cluster) -> None:
    r = cluster.kubectl("apply -f - --dry-run=client", stdin=SIMPLE_POD)
    assert r.stdout == "pod/nginx created (dry run)\n"
    assert cluster.get("Pod", "nginx") is None


def test_create_from_stdin_and_already_exists(cluster: Cluster) -> None:
    assert cluster.kubectl("create -f -", stdin=SIMPLE_POD).stdout == "pod/nginx created\n"
    r = cluster.kubectl("create -f -", stdin=SIMPLE_POD)
    assert r.stderr == ('Error from server (AlreadyExists): error when creating "STDIN": pods '
                        '"nginx" already exists\n')


def test_delete_from_stdin(cluster: Cluster) -> None:
    cluster.kubectl("apply -f -", stdin=LIST)
    r = cluster.kubectl("delete -f -", stdin=LIST)
    assert r.stdout == 'configmap "one" deleted\nconfigmap "two" deleted\n'
    r = cluster.kubectl("delete -f -", stdin=LIST)
    assert r.exit_code == 1
    assert r.stderr == ('Error from server (NotFound): error when deleting "STDIN": configmaps '
                        '"one" not found\nError from server (NotFound): error when deleting '
                        '"STDIN": configmaps "two" not found\n')


def test_changed_template_starts_a_rollout(cluster: Cluster) -> None:
    cluster.kubectl("apply -f -", stdin=NGINX_DEPLOYMENT)
    cluster.advance(60)
    cluster.kubectl("apply -f -", stdin=NGINX_DEPLOYMENT.replace("nginx:1.14.2", "nginx:1.16.1"))
    cluster.advance(120)
    r = cluster.kubectl("rollout history deployment/nginx-deployment")
    assert r.stdout == ("deployment.apps/nginx-deployment \nREVISION  CHANGE-CAUSE\n"
                        "1         <none>\n2         <none>\n\n")


def test_a_write_that_fails_after_the_dry_run_is_rolled_back(
        cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    from k8slearn.sim import apiserver
    from k8slearn.sim.errors import ApiError

    real_create = apiserver.create
    calls = {"n": 0}

    def flaky(c: Cluster, obj: dict) -> dict:  # type: ignore[type-arg]
        calls["n"] += 1
        if calls["n"] == 2:
            raise ApiError("Forbidden", "quota exceeded", 403)
        return real_create(c, obj)

    monkeypatch.setattr(apiserver, "create", flaky)
    r = cluster.kubectl("apply -f -", stdin=LIST)
    assert r.exit_code == 1
    assert r.stderr == ('Error from server (Forbidden): error when creating "STDIN": quota '
                        "exceeded\n")
    assert cluster.get("ConfigMap", "one") is None and cluster.get("ConfigMap", "two") is None


NODEPORT_SVC = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
"""


def test_reapply_keeps_allocated_node_port_and_cluster_ip(cluster: Cluster) -> None:
    cluster.kubectl("apply -f -", stdin=NODEPORT_SVC)
    before = cluster.get("Service", "web")
    assert before is not None
    r = cluster.kubectl("apply -f -", stdin=NODEPORT_SVC.replace("8080", "9090"))
    assert r.stdout == "service/web configured\n"
    after = cluster.get("Service", "web")
    assert after is not None
    assert after["spec"]["ports"][0]["nodePort"] == before["spec"]["ports"][0]["nodePort"]
    assert after["spec"]["clusterIP"] == before["spec"]["clusterIP"]
    assert after["spec"]["ports"][0]["targetPort"] == 9090


def test_containers_merge_by_name(cluster: Cluster) -> None:
    two = NGINX_DEPLOYMENT + "      - name: sidecar\n        image: busybox\n"
    cluster.kubectl("apply -f -", stdin=two)
    cluster.kubectl("apply -f -", stdin=NGINX_DEPLOYMENT.replace("nginx:1.14.2", "nginx:1.16.1"))
    d = cluster.get("Deployment", "nginx-deployment")
    assert d is not None
    assert [c["name"] for c in d["spec"]["template"]["spec"]["containers"]] == ["nginx"]


def test_object_limit_is_checked_for_the_whole_batch(
        cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    from k8slearn.sim import apiserver

    others = cluster.store.count() - cluster.store.count("Pod") - cluster.store.count("Event")
    monkeypatch.setattr(apiserver, "MAX_OBJECTS", others + 1)
    before = cluster.snapshot()
    r = cluster.kubectl("apply -f -", stdin=LIST)
    assert r.exit_code == 1 and "this sandbox holds at most" in r.stderr
    assert cluster.snapshot() == before

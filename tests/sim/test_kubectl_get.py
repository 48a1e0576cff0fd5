"""kubectl get: resource names, selection, output formats and the error wording."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from kubectl_helpers import scenario

from k8slearn.sim import Cluster


@pytest.fixture(scope="module")
def frozen() -> Cluster:
    return scenario()


def test_empty_namespace_goes_to_stderr_with_exit_0(cluster: Cluster) -> None:
    r = cluster.kubectl("get pods")
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "No resources found in default "
                                                 "namespace.\n")
    r = cluster.kubectl("get pods -n kube-public")
    assert r.stderr == "No resources found in kube-public namespace.\n"
    assert cluster.kubectl("get pods -A").stderr == "No resources found\n"
    assert cluster.kubectl("get pv").stderr == "No resources found\n"


def test_not_found(cluster: Cluster) -> None:
    r = cluster.kubectl("get pod nope")
    assert (r.exit_code, r.stdout, r.stderr) == (
        1, "", 'Error from server (NotFound): pods "nope" not found\n')
    r = cluster.kubectl("get deploy nope")
    assert r.stderr == 'Error from server (NotFound): deployments.apps "nope" not found\n'


def test_unknown_type_and_missing_type(cluster: Cluster) -> None:
    r = cluster.kubectl("get foo")
    assert r.stderr == 'error: the server doesn\'t have a resource type "foo"\n'
    r = cluster.kubectl("get")
    assert r.exit_code == 1
    assert r.stderr.startswith('You must specify the type of resource to get. Use "kubectl '
                               'api-resources" for a complete list of supported resources.\n\n'
                               "error: Required resource not specified.\n")


def test_watch_is_refused_clearly(cluster: Cluster) -> None:
    r = cluster.kubectl("get pods -w")
    assert r.exit_code == 1 and "--watch is not available in this sandbox" in r.stderr


def test_bad_output_format(cluster: Cluster) -> None:
    r = cluster.kubectl("get pods -o xml")
    assert r.stderr.startswith('error: unable to match a printer suitable for the output format '
                               '"xml", allowed formats are: custom-columns,')


def test_several_names_some_missing(frozen: Cluster) -> None:
    r = frozen.kubectl("get pods crasher nope big")
    assert r.exit_code == 1
    assert r.stdout.splitlines()[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [ln.split()[0] for ln in r.stdout.splitlines()[1:]] == ["crasher", "big"]
    assert r.stderr == 'Error from server (NotFound): pods "nope" not found\n'


def test_kind_slash_name_and_mixed_kinds(frozen: Cluster) -> None:
    r = frozen.kubectl("get deploy/web svc/web")
    assert r.exit_code == 0
    assert "deployment.apps/web" in r.stdout and "service/web" in r.stdout
    assert "\n\nNAME " in r.stdout  # one table per kind, separated by a blank line


def test_type_and_slash_form_cannot_mix(frozen: Cluster) -> None:
    r = frozen.kubectl("get pods deploy/web")
    assert r.exit_code == 1 and "there is no need to specify a resource type" in r.stderr


def test_label_selector(frozen: Cluster) -> None:
    r = frozen.kubectl("get pods -l app=web")
    assert [ln.split()[0] for ln in r.stdout.splitlines()[1:]] == [
        "web-7c5ddbdf54-2xkqv", "web-7c5ddbdf54-8fz9d", "web-7c5ddbdf54-tq4mb"]
    r = frozen.kubectl("get pods -l 'run in (big,crasher)' -o name")
    assert r.stdout == "pod/big\npod/crasher\n"
    r = frozen.kubectl("get pods -l app=nothing")
    assert r.stderr == "No resources found in default namespace.\n"


def test_json_single_object_and_list(frozen: Cluster) -> None:
    one = json.loads(frozen.kubectl("get deploy web -o json").stdout)
    assert one["kind"] == "Deployment" and one["metadata"]["name"] == "web"
    many = json.loads(frozen.kubectl("get pods -o json").stdout)
    assert many["kind"] == "List" and many["apiVersion"] == "v1"
    assert len(many["items"]) == 5 and many["metadata"] == {"resourceVersion": ""}


def test_yaml_round_trips(frozen: Cluster) -> None:
    doc = yaml.safe_load(frozen.kubectl("get svc web -o yaml").stdout)
    assert doc["spec"]["selector"] == {"app": "web"}
    assert isinstance(doc["metadata"]["resourceVersion"], str)


def test_all_namespaces_adds_namespace_column(frozen: Cluster) -> None:
    r = frozen.kubectl("get svc -A")
    assert r.stdout.splitlines()[0].startswith("NAMESPACE   NAME ")


def test_label_columns(frozen: Cluster) -> None:
    r = frozen.kubectl("get pods -L app -l app=web")
    assert r.stdout.splitlines()[0].split()[-1] == "APP"
    assert r.stdout.splitlines()[1].split()[-1] == "web"


def test_no_headers(frozen: Cluster) -> None:
    r = frozen.kubectl("get deploy --no-headers")
    assert r.stdout.split() == ["web", "3/3", "3", "3", "5m"]


def test_unsimulated_kinds_list_as_empty(cluster: Cluster) -> None:
    r = cluster.kubectl("get daemonsets")
    assert (r.exit_code, r.stderr) == (0, "No resources found in default namespace.\n")


def test_events_wide_has_extra_columns(frozen: Cluster) -> None:
    head = frozen.kubectl("get events -o wide").stdout.splitlines()[0]
    assert re.split(r"\s{3,}", head)[:4] == ["LAST SEEN", "TYPE", "REASON", "OBJECT"]
    assert "SUBOBJECT" in head and "FIRST SEEN" in head and head.rstrip().endswith("NAME")


def test_storage_tables(cluster: Cluster) -> None:
    heads = {
        "pvc": "NAME   STATUS    VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   "
               "VOLUMEATTRIBUTESCLASS   AGE",
    }
    pvc = """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
"""
    assert cluster.kubectl("apply -f -", pvc).exit_code == 0
    assert cluster.kubectl("get pvc").stdout.splitlines()[0] == heads["pvc"]


def test_jsonpath_output(frozen: Cluster) -> None:
    r = frozen.kubectl("get pods -l app=web -o jsonpath='{.items[*].metadata.name}'")
    assert r.stdout == "web-7c5ddbdf54-2xkqv web-7c5ddbdf54-8fz9d web-7c5ddbdf54-tq4mb"
    r = frozen.kubectl("get deploy web -o jsonpath={.spec.replicas}")
    assert r.stdout == "3"
    r = frozen.kubectl("""get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.name}{"\\t"}{.status.podIP}{"\\n"}{end}'""")
    assert r.stdout.splitlines()[0] == "web-7c5ddbdf54-2xkqv\t10.244.1.2"
    r = frozen.kubectl("get cm app-config -o jsonpath={.data.color}")
    assert r.stdout == "blue"


def test_sort_by(frozen: Cluster) -> None:
    r = frozen.kubectl("get pods --sort-by=.metadata.creationTimestamp -o name")
    assert r.stdout.splitlines()[-2:] == ["pod/big", "pod/crasher"]
    r = frozen.kubectl("get events --sort-by=.lastTimestamp")
    assert r.exit_code == 0 and r.stdout.splitlines()[-1].startswith("50s ")


def test_run_creates_a_pod(cluster: Cluster) -> None:
    r = cluster.kubectl("run nginx --image=nginx:1.25 --port=80")
    assert (r.exit_code, r.stdout) == (0, "pod/nginx created\n")
    pod = cluster.get("Pod", "nginx")
    assert pod is not None and pod["metadata"]["labels"] == {"run": "nginx"}
    c = pod["spec"]["containers"][0]
    assert (c["name"], c["image"], c["ports"][0]["containerPort"]) == ("nginx", "nginx:1.25", 80)
    r = cluster.kubectl("run box --image=busybox --restart=Never -- sleep 3600")
    pod = cluster.get("Pod", "box")
    assert pod is not None and pod["spec"]["containers"][0]["args"] == ["sleep", "3600"]
    assert cluster.kubectl("run x").stderr == 'error: required flag(s) "image" not set\n'


def test_named_json_not_found_prints_nothing_to_stdout(cluster: Cluster) -> None:
    r = cluster.kubectl("get pod nope -o json")
    assert (r.exit_code, r.stdout) == (1, "")


def test_create_of_unsimulated_kinds(cluster: Cluster) -> None:
    r = cluster.kubectl("create job pi --image=perl")
    assert r.exit_code == 1 and "does not simulate Job objects" in r.stderr


def test_field_selector(frozen: Cluster) -> None:
    r = frozen.kubectl("get pods --field-selector status.phase=Pending -o name")
    assert r.stdout == "pod/big\n"
    r = frozen.kubectl("get pods --field-selector=spec.nodeName=node-2,status.phase!=Pending "
                       "-o name")
    assert r.stdout == "pod/crasher\npod/web-7c5ddbdf54-8fz9d\n"
    r = frozen.kubectl("get events --field-selector type=Warning")
    assert [ln.split()[1] for ln in r.stdout.splitlines()[1:]] == ["Warning", "Warning"]
    r = frozen.kubectl("get pods --field-selector foo=bar")
    assert r.exit_code == 1 and '"foo" is not a known field selector' in r.stderr


def test_custom_columns(frozen: Cluster) -> None:
    r = frozen.kubectl("get pods -l app=web -o custom-columns=NAME:.metadata.name,"
                       "NODE:.spec.nodeName,GATES:.spec.readinessGates")
    assert r.stdout.splitlines()[:2] == ["NAME                   NODE     GATES",
                                         "web-7c5ddbdf54-2xkqv   node-1   <none>"]

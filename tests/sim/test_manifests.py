"""manifests.py: parsing, limits, kind mapping and schema errors in kubectl's words."""

from __future__ import annotations

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

from k8slearn.sim import manifests
from k8slearn.sim.manifests import ManifestError, load, schema_errors


@pytest.mark.parametrize("text", [NGINX_DEPLOYMENT, MY_SERVICE, SIMPLE_POD, GAME_DEMO_CONFIGMAP,
                                  SECRET, PV_AND_CLAIM, MEMORY_DEMO, EXEC_LIVENESS, LIST])
def test_doc_examples_parse_and_pass_the_schema(text: str) -> None:
    for obj in load(text):
        manifests.check_kind(obj)
        assert schema_errors(obj) is None


def test_multi_document_and_list_expansion() -> None:
    assert [o["kind"] for o in load(PV_AND_CLAIM)] == ["PersistentVolume",
                                                       "PersistentVolumeClaim"]
    assert [o["metadata"]["name"] for o in load(LIST)] == ["one", "two"]
    assert len(load("---\n" + SIMPLE_POD + "---\n---\n")) == 1


def test_timestamps_and_numbers_stay_json() -> None:
    obj = load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n"
               "  day: 2024-01-01\n  n: '3'\n")[0]
    assert obj["data"] == {"day": "2024-01-01", "n": "3"}


def _err(text: str | None) -> str:
    with pytest.raises(ManifestError) as exc:
        load(text)
    return str(exc.value)


def test_missing_apiversion_and_kind() -> None:
    assert _err("metadata:\n  name: x\n") == (
        'error: error validating "STDIN": error validating data: [apiVersion not set, kind not '
        "set]; if you choose to ignore these errors, turn validation off with --validate=false")
    assert _err("apiVersion: v1\nmetadata: {name: x}\n") == (
        'error: error validating "STDIN": error validating data: kind not set; if you choose '
        "to ignore these errors, turn validation off with --validate=false")


def test_non_mapping_documents() -> None:
    assert "cannot unmarshal array into Go value of type map[string]interface {}" in _err(
        "- a\n- b\n")
    assert "cannot unmarshal string into Go value" in _err("just text\n")


def test_yaml_syntax_error_names_the_line() -> None:
    msg = _err("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   bad: [\n")
    assert msg.startswith("error: error parsing STDIN: error converting YAML to JSON: yaml: "
                          "line ")


def test_billion_laughs_is_refused() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for i in range(1, 9):
        name = chr(ord("a") + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n" + "\n".join(
        "  " + ln for ln in lines) + "\n"
    assert "excessive aliasing" in _err(text)


def test_aliases_within_the_count_limit_still_have_a_node_budget() -> None:
    # 9 levels x 9 aliases = 81 aliases (under 100) but 9**9 values once expanded.
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for i in range(1, 10):
        name = f"l{i}"
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n" + "\n".join(
        "  " + ln for ln in lines) + "\n"
    assert "excessive aliasing" in _err(text)


def test_a_few_aliases_are_fine() -> None:
    text = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels: &l {app: web}\n"
            "spec:\n  containers:\n  - name: a\n    image: nginx\n"
            "  nodeSelector: *l\n")
    assert load(text)[0]["spec"]["nodeSelector"] == {"app": "web"}


def test_self_referencing_anchor_and_deep_nesting() -> None:
    assert "contains itself" in _err("&a [*a]\n")
    assert "depth" in _err("apiVersion: v1\nkind: Pod\nx: " + "[" * 5000 + "]" * 5000
                               + "\n")


def test_size_limit() -> None:
    big = SIMPLE_POD + "#" + "x" * (manifests.MAX_MANIFEST_BYTES + 1) + "\n"
    assert "this sandbox accepts at most 262144 bytes" in _err(big)


def test_empty_input() -> None:
    assert _err("") .startswith("error: no objects passed to apply")
    assert _err("---\n# only a comment\n").startswith("error: no objects passed to apply")


def test_unknown_and_unsupported_kinds() -> None:
    with pytest.raises(ManifestError) as exc:
        manifests.check_kind({"apiVersion": "v1", "kind": "Foo", "metadata": {"name": "x"}})
    assert str(exc.value) == ('error: resource mapping not found for name: "x" namespace: "" '
                              'from "STDIN": no matches for kind "Foo" in version "v1"\n'
                              "ensure CRDs are installed first")
    with pytest.raises(ManifestError) as exc:
        manifests.check_kind({"apiVersion": "apps/v1", "kind": "DaemonSet",
                              "metadata": {"name": "x"}})
    assert "does not simulate DaemonSet objects" in str(exc.value)
    with pytest.raises(ManifestError) as exc:
        manifests.check_kind({"apiVersion": "extensions/v1beta1", "kind": "Deployment",
                              "metadata": {"name": "x"}})
    assert 'no matches for kind "Deployment" in version "extensions/v1beta1"' in str(exc.value)


def test_schema_unknown_field() -> None:
    obj = load(NGINX_DEPLOYMENT.replace("image:", "imagee:"))[0]
    assert schema_errors(obj) == (
        "decode", 'strict decoding error: unknown field "spec.template.spec.containers[0].imagee"')


def test_schema_wrong_type() -> None:
    obj = load(NGINX_DEPLOYMENT.replace("replicas: 3", 'replicas: "3"'))[0]
    assert schema_errors(obj) == (
        "decode", "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas "
                  "of type int32")
    obj = load(SIMPLE_POD.replace("containerPort: 80", "containerPort: eighty"))[0]
    assert schema_errors(obj) == (
        "decode", "json: cannot unmarshal string into Go struct field "
                  "ContainerPort.spec.containers.ports.containerPort of type int32")


def test_schema_required_field() -> None:
    obj = load(SIMPLE_POD.replace("  - name: nginx\n    image", "  - image"))[0]
    assert schema_errors(obj) == ("invalid", ["spec.containers[0].name: Required value"])

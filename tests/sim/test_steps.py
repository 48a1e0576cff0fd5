"""Steps: the shared vocabulary of playground buttons, lesson solutions and tests."""

from __future__ import annotations

import pytest

from k8slearn.sim import scenarios
from k8slearn.sim.steps import STEP_KINDS, StepResult, run_step, validate_step


@pytest.fixture
def web():
    return scenarios.build("web")


def test_a_kubectl_step_returns_kubectls_own_output_with_or_without_the_prefix(web):
    assert run_step(web, {"kubectl": "kubectl get deployments"}).output.startswith("NAME")
    result = run_step(web, {"kubectl": "scale deployment web --replicas=5"})
    assert result == StepResult(True, "deployment.apps/web scaled\n", "")


def test_kubectl_steps_store_the_change_and_controllers_act_when_time_advances(web):
    run_step(web, {"scale": {"deployment": "web", "replicas": 5}})
    assert len(web.pods("app=web")) == 3
    run_step(web, {"advance": 10})
    assert len(web.pods("app=web", phase="Running")) == 5


def test_a_failing_kubectl_line_comes_back_as_an_error_not_an_exception(web):
    result = run_step(web, {"kubectl": "get pods nope"})
    assert not result.ok and 'pods "nope" not found' in result.error


def test_kill_container_by_selector_restarts_the_first_running_pod_in_place(web):
    first = sorted(p["metadata"]["name"] for p in web.pods("app=web"))[0]
    result = run_step(web, {"kill_container": {"selector": "app=web"}})
    assert result.ok and first in result.output
    run_step(web, {"advance": 10})
    assert " 1 (" in web.kubectl(f"get pod {first}").stdout


def test_kill_container_by_container_name_alone_picks_the_first_running_pod_with_it(web):
    first = sorted(p["metadata"]["name"] for p in web.pods("app=web"))[0]
    result = run_step(web, {"kill_container": {"container": "web"}})
    assert result.ok and f"pod/{first}" in result.output
    assert run_step(web, {"kill_container": {"container": "sidecar"}}) == StepResult(
        False, "", "no Running pod has a container named sidecar")
    assert validate_step({"delete_pod": {"container": "web"}}) == [
        "delete_pod: unknown key 'container' (allowed: pod, selector)",
        "delete_pod: give either 'pod' or 'selector'"]


def test_delete_pod_by_selector_uses_kubectl_delete(web):
    result = run_step(web, {"delete_pod": {"selector": "app=web"}})
    assert result.ok and result.output.startswith('pod "web-') and "deleted" in result.output


def test_a_selector_that_matches_no_running_pod_says_so(web):
    result = run_step(web, {"kill_container": {"selector": "app=nothing"}})
    assert result == StepResult(False, "", "no Running pod matches app=nothing")


def test_set_image_defaults_to_the_first_container_and_undo_rolls_back(web):
    assert run_step(web, {"set_image": {"deployment": "web", "image": "nginx:1.26"}}).output == (
        "deployment.apps/web image updated\n")
    run_step(web, {"advance": 60})
    assert run_step(web, {"undo": {"deployment": "web"}}).output == (
        "deployment.apps/web rolled back\n")


def test_chaos_and_node_steps_reach_the_facade(web):
    assert run_step(web, {"fail_node": "node-2"}).ok
    assert run_step(web, {"recover_node": "node-2"}).ok
    assert run_step(web, {"add_node": {}}).output.startswith("node/node-4 joined")
    assert run_step(web, {"cordon": "node-1"}).output == "node/node-1 cordoned\n"
    assert run_step(web, {"uncordon": "node-1"}).output == "node/node-1 uncordoned\n"
    assert run_step(web, {"fail_node": "node-9"}).error == 'nodes "node-9" not found'


def test_traffic_reports_requests_per_pod(web):
    result = run_step(web, {"traffic": {"service": "web", "requests": 30}})
    assert result.ok and result.output.startswith("30 requests to service/web:")
    assert result.output.count("web-") == 3


def test_fault_on_one_pod_by_selector_leaves_the_others_alone():
    probes = scenarios.build("probes")
    assert run_step(probes, {"fault": {"selector": "app=web", "fault": "readiness"}}).ok
    run_step(probes, {"advance": 20})
    assert probes.kubectl("get pods").stdout.count("0/1") == 1


def test_configmap_step_creates_then_replaces_data(web):
    assert run_step(web, {"configmap": {"name": "c", "data": {"A": "1"}}}).output == (
        "configmap/c created\n")
    assert run_step(web, {"configmap": {"name": "c", "data": {"A": "2"}}}).output == (
        "configmap/c configured\n")


def test_exec_runs_in_the_first_running_pod(web):
    result = run_step(web, {"exec": {"selector": "app=web", "command": "printenv HOSTNAME"}})
    assert result.ok and result.output.startswith("web-")


def test_step_runs_one_reconcile_round_or_reports_a_quiet_cluster(web):
    run_step(web, {"scale": {"deployment": "web", "replicas": 4}})
    assert "deployment-controller" in run_step(web, {"step": {}}).output


@pytest.mark.parametrize("step, message", [
    ({"foo": 1}, 'unknown step "foo"'),
    ({"advance": 0}, "advance: must be a number of seconds"),
    ({"advance": 99999}, "at most 3600"),
    ({"scale": {"deployment": "web"}}, "scale: 'replicas' is missing"),
    ({"scale": {"deployment": "web", "replicas": -1, "x": 1}}, "unknown key 'x'"),
    ({"kill_container": {}}, "give either 'pod' or 'selector'"),
    ({"fault": {"target": "app=web", "fault": "boom"}}, "must be one of"),
    ("advance 10", "exactly one key"),
    ({"advance": 1, "step": {}}, "exactly one key"),
])
def test_bad_steps_are_described_and_never_raise(web, step, message):
    assert any(message in e for e in validate_step(step))
    result = run_step(web, step)
    assert not result.ok and message in result.error


def test_every_step_kind_has_a_runner_and_a_valid_example():
    examples = {
        "kubectl": "get pods", "apply": "kind: ConfigMap", "advance": 1, "step": {},
        "kill_container": {"pod": "x"}, "delete_pod": {"selector": "app=web"},
        "fail_node": "node-1", "recover_node": "node-1", "add_node": {}, "cordon": "node-1",
        "uncordon": "node-1", "drain": "node-1", "scale": {"deployment": "w", "replicas": 1},
        "set_image": {"deployment": "w", "image": "i"}, "undo": {"deployment": "w"},
        "restart": {"deployment": "w"}, "traffic": {"service": "web"},
        "stream": {"service": "web", "rate": 5},
        "fault": {"target": "app=web", "fault": "crash"},
        "configmap": {"name": "c", "data": {"k": "v"}}, "exec": {"pod": "p", "command": "env"},
    }
    assert set(examples) == set(STEP_KINDS)
    for kind, arg in examples.items():
        assert validate_step({kind: arg}) == [], kind

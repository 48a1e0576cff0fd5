"""kubectl's printers against the vectors (k8s-vectors.json): HumanDuration for every AGE case,
printPod for every pod case, plus the tabwriter that lays out columns."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from k8slearn.sim.kubectl.printers import (
    format_endpoints,
    format_label_selector,
    human_duration,
    node_status,
    pod_columns,
    service_external_ip,
    service_ports,
    short_human_duration,
    table_rows,
    to_json,
    to_yaml,
)
from k8slearn.sim.kubectl.tabwriter import table, tabwrite


def _vectors() -> dict[str, Any]:
    here = Path(__file__).parent / "k8s-vectors.json"
    path = here if here.exists() else Path("/work/shared/design/k8s-vectors.json")
    return json.loads(path.read_text())


VECTORS = _vectors()


@pytest.mark.parametrize("case", VECTORS["human_duration"]["cases"],
                         ids=lambda c: str(c["seconds"]))
def test_human_duration_vectors(case: dict[str, Any]) -> None:
    assert human_duration(case["seconds"]) == case["expected"]


@pytest.mark.parametrize("case", VECTORS["human_duration"]["short_human_duration_cases"],
                         ids=lambda c: str(c["seconds"]))
def test_short_human_duration_vectors(case: dict[str, Any]) -> None:
    assert short_human_duration(case["seconds"]) == case["expected"]


@pytest.mark.parametrize("case", VECTORS["print_pod"]["cases"], ids=lambda c: c["name"])
def test_print_pod_vectors(case: dict[str, Any]) -> None:
    ready, status, cell, count, _ = pod_columns(case["pod"], 0)
    assert ready == case["expected"]["READY"]
    assert status == case["expected"]["STATUS"]
    assert count == case["expected"]["RESTARTS_count"]
    assert cell.split(" ")[0] == str(case["expected"]["RESTARTS_count"])
    # …and through the table printer, as `kubectl get pods` lays it out.
    pod = copy.deepcopy(case["pod"])
    pod["metadata"] = {**pod["metadata"], "name": case["name"].replace("_", "-"),
                       "creationTimestamp": "2026-01-01T00:00:00Z"}
    rows = table_rows("Pod", [pod], 90)
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert rows[1] == [pod["metadata"]["name"], case["expected"]["READY"],
                       case["expected"]["STATUS"], cell, "90s"]


def test_restarts_cell_shows_time_since_last_termination() -> None:
    pod = {"metadata": {}, "spec": {"containers": [{"name": "app"}]},
           "status": {"phase": "Running", "containerStatuses": [
               {"name": "app", "ready": True, "restartCount": 4,
                "state": {"running": {"startedAt": "2026-01-01T00:02:00Z"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                             "finishedAt": "2026-01-01T00:01:57Z"}}}]}}
    # finishedAt is t=117 s; at t=240 s that is 2m3s ago.
    assert pod_columns(pod, 240)[2] == "4 (2m3s ago)"


def test_tabwriter_pads_columns_with_three_spaces_and_leaves_last_column_bare() -> None:
    out = table([["NAME", "READY", "AGE"], ["web-1", "1/1", "5s"], ["a", "0/1", "10m"]])
    assert out == ("NAME    READY   AGE\n"
                   "web-1   1/1     5s\n"
                   "a       0/1     10m\n")


def test_tabwriter_minimum_width_is_six() -> None:
    assert table([["A", "B"], ["x", "y"]]) == "A     B\nx     y\n"


def test_tabwriter_column_blocks_are_broken_by_lines_without_tabs() -> None:
    text = "Name:\tweb\nNamespace:\tdefault\nContainers:\n  a:\tb\n"
    assert tabwrite(text, 0, 2) == ("Name:       web\nNamespace:  default\nContainers:\n"
                                    "  a:  b\n")


def test_tabwriter_empty_cells_still_take_the_column_width() -> None:
    assert tabwrite("a\t\tc\nlonger\tx\ty\n", 0, 2) == "a          c\nlonger  x  y\n"


def test_label_selector_formatting() -> None:
    sel = {"matchLabels": {"b": "2", "a": "1"},
           "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]},
                                {"key": "x", "operator": "DoesNotExist"}]}
    assert format_label_selector(sel) == "a=1,b=2,env in (dev,prod),!x"
    assert format_label_selector(None) == "<none>"


def test_service_cells() -> None:
    svc = {"spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080,
                                                   "protocol": "TCP"},
                                                  {"port": 53, "protocol": "UDP"}]}}
    assert service_ports(svc) == "80:30080/TCP,53/UDP"
    assert service_external_ip(svc) == "<none>"
    assert service_external_ip({"spec": {"type": "LoadBalancer"}}) == "<pending>"
    assert service_ports({"spec": {}}) == "<none>"


def test_endpoints_cell_shows_three_then_more() -> None:
    ep = {"subsets": [{"addresses": [{"ip": f"10.244.1.{i}"} for i in range(1, 6)],
                       "ports": [{"port": 80}]}]}
    assert format_endpoints(ep) == "10.244.1.1:80,10.244.1.2:80,10.244.1.3:80 + 2 more..."
    assert format_endpoints({}) == "<none>"


def test_node_status_cell() -> None:
    node = {"spec": {"unschedulable": True},
            "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}
    assert node_status(node) == "NotReady,SchedulingDisabled"
    assert node_status({"spec": {}, "status": {}}) == "Unknown"


def test_json_is_sorted_four_space_indented_and_html_escaped() -> None:
    assert to_json({"b": 1, "a": "<x>"}) == '{\n    "a": "\\u003cx\\u003e",\n    "b": 1\n}\n'


def test_yaml_quotes_ambiguous_strings_with_double_quotes() -> None:
    out = to_yaml({"rv": "123", "t": "2026-01-01T00:00:00Z", "b": "true", "e": "", "s": "web",
                   "l": ["a"]})
    assert out == ('b: "true"\ne: ""\nl:\n- a\nrv: "123"\ns: web\n'
                   't: "2026-01-01T00:00:00Z"\n')

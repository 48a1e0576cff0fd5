"""Every case of k8s-vectors.json for the scheduler, the kubelet and the pod defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from k8slearn.sim import Cluster, apiserver
from k8slearn.sim.scheduler import balanced_allocation, fit_error, fit_score

VECTORS = json.loads((Path(__file__).parent / "k8s-vectors.json").read_text())


@pytest.mark.parametrize("case", VECTORS["sched_scores"]["cases"])
def test_sched_scores(case: dict) -> None:
    args = (case["requested_cpu_m"], case["requested_mem"], case["alloc_cpu_m"], case["alloc_mem"])
    assert fit_score("LeastAllocated", *args) == case["LeastAllocated"]
    assert fit_score("MostAllocated", *args) == case["MostAllocated"]
    assert balanced_allocation(*args) == case["BalancedAllocation"]


@pytest.mark.parametrize("case", VECTORS["fit_error_messages"]["cases"])
def test_fit_error_messages(case: dict) -> None:
    reasons: dict[str, int] = {}
    for per_node in case["reasons_per_node"]:
        for r in [per_node] if isinstance(per_node, str) else per_node:
            reasons[r] = reasons.get(r, 0) + 1
    msg = fit_error(case["nodes"], reasons)
    assert msg.startswith(case["expected_prefix"])
    assert " preemption: " in msg


def test_fit_error_preemption_suffix() -> None:
    suffix = VECTORS["fit_error_messages"]["preemption_suffix_example"]
    assert fit_error(3, {"Insufficient cpu": 3}).endswith(suffix)


def _crashing_cluster() -> Cluster:
    c = Cluster.create(seed=7, nodes=1)
    apiserver.create(c, {"kind": "Pod", "metadata": {"name": "crash"}, "spec": {"containers": [
        {"name": "app", "image": "busybox:1.36", "command": ["sh", "-c", "sleep 1; exit 1"]}]}})
    return c


def _start_times() -> list[float]:
    c = _crashing_cluster()
    c.advance(1400)
    return [e["time_ms"] / 1000 for e in c.events if e["reason"] == "Started"]


STARTS = _start_times()


@pytest.mark.parametrize("case", VECTORS["crashloop_backoff"]["schedule"],
                         ids=lambda c: f"exit{c['exit_number']}")
def test_crashloop_schedule(case: dict) -> None:
    n = case["exit_number"]
    exit_at = STARTS[n - 1] + 1  # the script exits 1 s after each start
    assert round(STARTS[n] - exit_at, 3) == case["wait_before_restart_s"]
    c = _crashing_cluster()
    c.advance(exit_at + 0.5)
    cs = c.store.get("Pod", "default", "crash")["status"]["containerStatuses"][0]
    if case["status_while_waiting"] is None:
        assert "running" in cs["state"]
    else:
        waiting = cs["state"]["waiting"]
        assert waiting["reason"] == case["status_while_waiting"]
        assert waiting["message"].startswith(f"back-off {case['waiting_message_backoff']} ")
        assert cs["restartCount"] == n - 1
        c.advance(STARTS[n] - c.now)
        cs = c.store.get("Pod", "default", "crash")["status"]["containerStatuses"][0]
    assert "running" in cs["state"]
    assert cs["restartCount"] == case["restart_count_after_restart"]


@pytest.mark.parametrize(("n", "delay"), sorted(
    VECTORS["crashloop_backoff"]["delays_before_restart_n_s"].items()))
def test_crashloop_delays(n: str, delay: int) -> None:
    # restart #n follows exit #n, which came 1 s after start #n-1
    assert round(STARTS[int(n)] - STARTS[int(n) - 1] - 1, 3) == delay


@pytest.mark.parametrize(("field", "value"), sorted(VECTORS["defaults"]["pod"].items()))
def test_pod_defaults(cluster: Cluster, field: str, value: object) -> None:
    p = apiserver.create(cluster, {"kind": "Pod", "metadata": {"name": "d"},
                                   "spec": {"containers": [{"name": "a", "image": "nginx"}]}})
    assert p["spec"][field] == value


@pytest.mark.parametrize(("field", "value"), sorted(VECTORS["defaults"]["probe"].items()))
def test_probe_defaults(cluster: Cluster, field: str, value: object) -> None:
    p = apiserver.create(cluster, {"kind": "Pod", "metadata": {"name": "d"}, "spec": {
        "containers": [{"name": "a", "image": "nginx", "livenessProbe": {"httpGet": {
            "port": 80}}, "readinessProbe": {"tcpSocket": {"port": 80}}}]}})
    for kind in ("livenessProbe", "readinessProbe"):
        assert p["spec"]["containers"][0][kind][field] == value


@pytest.mark.parametrize(("field", "value"), sorted(
    VECTORS["defaults"]["node_lifecycle"].items()))
def test_node_lifecycle_defaults(cluster: Cluster, field: str, value: int) -> None:
    from k8slearn.sim import nodelifecycle
    from k8slearn.sim.pods import DEFAULT_TOLERATION_SECONDS

    ours = {
        "node_monitor_period_s": cluster.settings["node_monitor_period"],
        "node_monitor_grace_period_s": cluster.settings["node_monitor_grace_period"],
        "kubelet_node_status_update_frequency_s": nodelifecycle.HEARTBEAT_PERIOD,
        "default_not_ready_toleration_seconds": DEFAULT_TOLERATION_SECONDS,
        "default_unreachable_toleration_seconds": DEFAULT_TOLERATION_SECONDS,
        "node_monitor_grace_period_s_v1_32_plus": nodelifecycle.NODE_MONITOR_GRACE_PERIOD_V1_32,
        "node_startup_grace_period_s": nodelifecycle.NODE_STARTUP_GRACE_PERIOD,
        "node_lease_duration_s": nodelifecycle.NODE_LEASE_DURATION,
    }
    assert ours[field] == value

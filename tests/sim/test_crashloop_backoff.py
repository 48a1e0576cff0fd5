"""CrashLoopBackOff: the kubelet's restart back-off (behaviour notes 3.3)."""

from __future__ import annotations

from pod_helpers import create_pod, cstatus, events, messages, pod, state_of

from k8slearn.sim import Cluster
from k8slearn.sim.kubelet import in_backoff, next_backoff


def _start_times(cluster: Cluster, name: str) -> list[float]:
    return [e["time_ms"] / 1000 for e in events(cluster, name, "Started")]


def test_crashloop_waits_10_20_40_seconds(cluster: Cluster) -> None:
    create_pod(cluster, "crash", "busybox:1.36", command=["sh", "-c", "sleep 1; exit 1"])
    cluster.advance(200)
    starts = _start_times(cluster, "crash")
    waits = [round(b - a - 1, 3) for a, b in zip(starts, starts[1:])]
    assert waits[:5] == [0, 10, 20, 40, 80]


def test_crashloop_waiting_state_and_backoff_event(cluster: Cluster) -> None:
    p = create_pod(cluster, "web-x", "busybox:1.36", command=["sh", "-c", "sleep 1; exit 1"])
    cluster.advance(4)  # start ~0.55 s, exit, restart at once, exit again ~2.6 s
    assert state_of(cluster, "web-x") == ("waiting", "CrashLoopBackOff")
    uid = p["metadata"]["uid"]
    assert cstatus(cluster, "web-x")["state"]["waiting"]["message"] == (
        f"back-off 10s restarting failed container=app pod=web-x_default({uid})")
    assert messages(cluster, "web-x", "BackOff") == [
        f"Back-off restarting failed container app in pod web-x_default({uid})"]
    assert cstatus(cluster, "web-x")["lastState"]["terminated"]["exitCode"] == 1
    assert pod(cluster, "web-x")["status"]["phase"] == "Running"


def test_backoff_caps_at_five_minutes() -> None:
    entry = None
    delays = []
    for i in range(9):
        entry = next_backoff(entry, i * 1000)
        delays.append(entry[0])
    assert delays == [10, 20, 40, 80, 160, 300, 300, 300, 300]


def test_backoff_entry_expires_after_ten_minutes() -> None:
    entry = next_backoff(next_backoff(None, 0), 1000)  # 20 s
    assert in_backoff(entry, 1000 + 5_000, 1000 + 5_000)
    # finishedAt − lastUpdate > 600 s: the container ran > 10 min, restart at once, 10 s again
    assert not in_backoff(entry, 1000 + 601_000, 1000 + 601_000)
    assert next_backoff(entry, 1000 + 601_000)[0] == 10


def test_container_that_ran_11_minutes_restarts_immediately(cluster: Cluster) -> None:
    create_pod(cluster, "slow", "busybox:1.36", command=["sh", "-c", "sleep 660; exit 1"])
    cluster.advance(2000)
    starts = _start_times(cluster, "slow")
    waits = [round(b - a - 660, 3) for a, b in zip(starts, starts[1:])]
    assert len(waits) >= 2 and set(waits) == {0}


def test_kill_twice_quickly_backs_off_10s(cluster: Cluster) -> None:
    create_pod(cluster, "web-x")
    cluster.advance(5)
    cluster.kill_container("web-x")
    cluster.kill_container("web-x")
    assert state_of(cluster, "web-x") == ("waiting", "CrashLoopBackOff")
    cluster.advance(9.9)
    assert state_of(cluster, "web-x") == ("waiting", "CrashLoopBackOff")
    cluster.advance(0.1)
    assert state_of(cluster, "web-x") == ("running", None)
    assert cstatus(cluster, "web-x")["restartCount"] == 2

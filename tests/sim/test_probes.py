"""Liveness, readiness and startup probes (behaviour notes 3.4)."""

from __future__ import annotations

from pod_helpers import condition, create_pod, cstatus, messages, state_of

from k8slearn.sim import Cluster

HTTP = {"httpGet": {"path": "/", "port": 80}}


def test_without_readiness_probe_running_container_is_ready_at_once(cluster: Cluster) -> None:
    create_pod(cluster, "web-x")
    cluster.advance(2.1)
    assert cstatus(cluster, "web-x")["ready"] is True


def test_readiness_starts_as_failure_until_first_success(cluster: Cluster) -> None:
    create_pod(cluster, "web-x", readinessProbe={**HTTP, "initialDelaySeconds": 5})
    cluster.advance(3)
    assert state_of(cluster, "web-x") == ("running", None)
    assert cstatus(cluster, "web-x")["ready"] is False
    assert condition(cluster, "web-x", "Ready")["status"] == "False"
    cluster.advance(5)
    assert cstatus(cluster, "web-x")["ready"] is True


def test_readiness_failure_keeps_pod_running_but_not_ready(cluster: Cluster) -> None:
    create_pod(cluster, "web-x", readinessProbe=dict(HTTP))
    cluster.advance(5)
    assert cstatus(cluster, "web-x")["ready"] is True
    cluster.set_fault("web-x", "readiness")
    cluster.advance(30)  # 3 failures, 10 s apart
    cs = cstatus(cluster, "web-x")
    assert cs["ready"] is False and "running" in cs["state"] and cs["restartCount"] == 0
    assert condition(cluster, "web-x", "Ready")["reason"] == "ContainersNotReady"
    assert messages(cluster, "web-x", "Unhealthy")[0] == (
        "Readiness probe failed: HTTP probe failed with statuscode: 503")
    cluster.set_fault("web-x", "readiness", on=False)
    cluster.advance(10)
    assert cstatus(cluster, "web-x")["ready"] is True


def test_liveness_failure_restarts_container_after_three_failures(cluster: Cluster) -> None:
    create_pod(cluster, "web-x", livenessProbe=dict(HTTP))
    cluster.advance(5)
    cluster.set_fault("web-x", "liveness")
    cluster.advance(19)
    assert cstatus(cluster, "web-x")["restartCount"] == 0
    cluster.advance(11)
    assert cstatus(cluster, "web-x")["restartCount"] == 1
    assert messages(cluster, "web-x", "Unhealthy")[0] == (
        "Liveness probe failed: HTTP probe failed with statuscode: 500")
    assert messages(cluster, "web-x", "Killing") == [
        "Container app failed liveness probe, will be restarted"]


def test_exec_liveness_probe_from_the_docs(cluster: Cluster) -> None:
    # kubernetes.io "Define a liveness command": healthy for 30 s, then the file is removed.
    create_pod(cluster, "liveness-exec", "registry.k8s.io/busybox",
               args=["/bin/sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; "
                     "sleep 600"],
               command=None,
               livenessProbe={"exec": {"command": ["cat", "/tmp/healthy"]},
                              "initialDelaySeconds": 5, "periodSeconds": 5})
    cluster.advance(35)
    assert cstatus(cluster, "liveness-exec")["restartCount"] == 0
    cluster.advance(15)
    assert cstatus(cluster, "liveness-exec")["restartCount"] == 1
    assert messages(cluster, "liveness-exec", "Unhealthy")[0] == (
        "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory")


def test_startup_probe_holds_back_liveness_and_readiness(cluster: Cluster) -> None:
    create_pod(cluster, "slow", startupProbe={**HTTP, "periodSeconds": 10,
                                               "initialDelaySeconds": 20},
               livenessProbe=dict(HTTP))
    cluster.set_fault("slow", "liveness")
    cluster.advance(15)
    cs = cstatus(cluster, "slow")
    assert cs["started"] is False and cs["ready"] is False and cs["restartCount"] == 0
    cluster.advance(10)
    assert cstatus(cluster, "slow")["started"] is True


def test_probe_on_a_wrong_port_is_connection_refused(cluster: Cluster) -> None:
    create_pod(cluster, "web-x", readinessProbe={"httpGet": {"path": "/", "port": 8080}})
    cluster.advance(15)
    assert cstatus(cluster, "web-x")["ready"] is False
    assert "connect: connection refused" in messages(cluster, "web-x", "Unhealthy")[0]


def test_pods_without_probes_schedule_no_timers(cluster: Cluster) -> None:
    for i in range(20):
        create_pod(cluster, f"p{i}")
    cluster.advance(10)
    assert cluster.next_due() is None

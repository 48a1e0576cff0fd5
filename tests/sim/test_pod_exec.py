"""kubectl exec's little shell: env, files on volumes, errors."""

from __future__ import annotations

import pytest
from pod_helpers import create_pod

from k8slearn.sim import ApiError, Cluster, apiserver
from k8slearn.sim.podexec import exec_command


def test_exec_env_shows_configmap_values(cluster: Cluster) -> None:
    apiserver.create(cluster, {"kind": "ConfigMap", "metadata": {"name": "cfg"},
                               "data": {"COLOR": "blue"}})
    create_pod(cluster, "app", envFrom=[{"configMapRef": {"name": "cfg"}}])
    cluster.advance(5)
    assert exec_command(cluster, "default", "app", None, ["printenv", "COLOR"]) == (0, "blue\n")
    assert exec_command(cluster, "default", "app", None,
                        ["sh", "-c", "echo color=$COLOR"]) == (0, "color=blue\n")


def test_exec_writes_and_reads_files(cluster: Cluster) -> None:
    create_pod(cluster, "app", volumes=[{"name": "scratch", "emptyDir": {}}],
               volumeMounts=[{"name": "scratch", "mountPath": "/cache"}])
    cluster.advance(5)
    run = exec_command
    assert run(cluster, "default", "app", None,
               ["sh", "-c", "echo hi > /cache/a && echo there >> /cache/a"]) == (0, "")
    assert run(cluster, "default", "app", None, ["cat", "/cache/a"]) == (0, "hi\nthere\n")
    assert run(cluster, "default", "app", None, ["ls", "/cache"]) == (0, "a\n")
    code, out = run(cluster, "default", "app", None, ["cat", "/nope"])
    assert code == 1 and "No such file or directory" in out
    code, out = run(cluster, "default", "app", None, ["curl", "localhost"])
    assert code == 127 and 'exec: "curl": executable file not found' in out


def test_exec_into_a_container_that_is_not_running(cluster: Cluster) -> None:
    create_pod(cluster, "app")
    cluster.advance(0.5)
    with pytest.raises(ApiError) as err:
        exec_command(cluster, "default", "app", None, ["env"])
    assert 'container not found ("app")' in err.value.message

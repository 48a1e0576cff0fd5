"""Fuzzing kubectl: whatever a learner types or pastes, run() returns a KubectlResult, never
raises, and bad input gets a non-zero exit code with a message."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8slearn.sim import Cluster
from k8slearn.sim.kubectl import KubectlResult, run

WORDS = ["get", "describe", "apply", "create", "delete", "scale", "set", "image", "rollout",
         "status", "history", "undo", "pause", "resume", "restart", "expose", "label",
         "annotate", "cordon", "uncordon", "drain", "logs", "top", "pod", "node", "version",
         "deployment", "deploy", "web", "pods", "svc", "service", "clusterip", "configmap",
         "secret", "generic", "namespace", "nodes", "node-1", "deploy/web", "pod/x", "all",
         "-o", "wide", "json", "yaml", "name", "-l", "app=web", "-A", "-n", "default",
         "--replicas=3", "--replicas", "-1", "--image=nginx:1.25", "nginx=nginx:1.26", "-f", "-",
         "--force", "--grace-period=0", "--to-revision=1", "--tcp=80:8080", "--port=80",
         "--from-literal=a=b", "--show-labels", "--overwrite", "app-", "x=y", "--", "'", '"',
         "--tail=2", "-c", "--previous", "--all", "--selector", "=", ",", "/", "ä", "\x00"]

YAMLISH = st.lists(st.sampled_from([
    "apiVersion: v1\n", "apiVersion: apps/v1\n", "kind: Pod\n", "kind: Deployment\n",
    "kind: Service\n", "kind: List\n", "kind: DaemonSet\n", "metadata:\n", "  name: web\n",
    "  name: 'Bad Name'\n", "  namespace: nope\n", "spec:\n", "  replicas: 3\n",
    "  replicas: -3\n", "  replicas: 'x'\n", "  selector:\n", "    matchLabels:\n",
    "      app: web\n", "  template:\n", "    metadata:\n", "      labels:\n", "        app: web\n",
    "    spec:\n", "      containers:\n", "      - name: nginx\n", "        image: nginx\n",
    "  containers:\n", "  - name: c\n", "    image: busybox\n", "  ports:\n", "  - port: 80\n",
    "items:\n", "- a\n", "---\n", "&a [*a]\n", "*b\n", "{", "}", "[", "]", ": ", "- ", "\t",
    "data:\n", "  k: v\n", "  n: 1\n", "null\n", "~\n", "!!binary aGk=\n", "? x\n", "  ",
    "status: {}\n", "extra: field\n",
]), max_size=30).map("".join)


@pytest.fixture(scope="module")
def shared() -> Cluster:
    c = Cluster.create(seed=3, nodes=2)
    c.kubectl("create deployment web --image=nginx:1.25 --replicas=2")
    c.advance(20)
    return c


def _check(r: object) -> None:
    assert isinstance(r, KubectlResult)
    assert isinstance(r.stdout, str) and isinstance(r.stderr, str)
    if r.exit_code != 0:
        assert r.stderr, "a failure must say why"
    assert "internal error" not in r.stderr, r.stderr


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(WORDS), max_size=8))
def test_random_argv(shared: Cluster, words: list[str]) -> None:
    _check(run(shared, " ".join(words)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_random_text_lines(shared: Cluster, line: str) -> None:
    _check(run(shared, line))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(YAMLISH, st.sampled_from(["apply -f -", "create -f -", "delete -f -",
                                 "apply -f - --dry-run=client"]))
def test_random_manifests(shared: Cluster, text: str, line: str) -> None:
    r = run(shared, line, text)
    _check(r)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_random_unicode_manifests(shared: Cluster, text: str) -> None:
    _check(run(shared, "apply -f -", text))


def test_non_string_input_is_refused_politely(shared: Cluster) -> None:
    r = run(shared, None)  # type: ignore[arg-type]
    assert r.exit_code == 1 and r.stderr
    r = run(shared, "apply -f -", b"bytes")  # type: ignore[arg-type]
    assert r.exit_code == 1 and r.stderr


def test_internal_errors_become_exit_1(monkeypatch: pytest.MonkeyPatch, shared: Cluster) -> None:
    from k8slearn.sim.kubectl import get

    def boom(*a: object, **k: object) -> None:
        raise ZeroDivisionError

    monkeypatch.setattr(get, "cmd_get", boom)
    r = run(shared, "get pods")
    assert (r.exit_code, r.stdout, r.stderr) == (
        1, "", "error: internal error in the simulator: ZeroDivisionError\n")


SESSION = [
    "create deployment web --image=nginx:1.25 --replicas=3",
    "create deployment api --image=busybox:1.36 --replicas=2",
    "scale deployment web --replicas=5", "scale deploy/web --replicas=0",
    "set image deployment/web nginx=nginx:1.26", "set image deploy/web nginx=nginx:doesnotexist",
    "rollout status deployment/web", "rollout history deployment/web",
    "rollout undo deployment/web", "rollout undo deployment/web --to-revision=1",
    "rollout pause deployment/web", "rollout resume deployment/web",
    "rollout restart deployment/web", "expose deployment web --port=80",
    "delete deployment web", "delete pods -l app=web", "delete pods --all --force",
    "get pods -o wide", "get all", "get events", "get rs -o yaml", "get ep,endpointslices",
    "describe pods", "describe deployment", "describe rs", "describe nodes", "describe svc",
    "cordon node-1", "uncordon node-1", "drain node-2 --ignore-daemonsets --force",
    "logs deploy/web", "logs deploy/web --previous", "top pods", "top nodes",
    "label pods -l app=web tier=fe --overwrite", "annotate deploy web note=x --overwrite",
    "create service nodeport web --tcp=80:80", "create configmap cfg --from-literal=a=b",
    "run solo --image=nginx", "delete pod solo --now", "get pods -A --show-labels",
]


@settings(max_examples=int(__import__("os").environ.get("KUBECTL_FUZZ_SESSIONS", "25")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(SESSION), st.sampled_from([0, 1, 5, 30, 120])),
                min_size=1, max_size=12))
def test_random_sessions_with_time_passing(steps: list[tuple[str, int]]) -> None:
    c = Cluster.create(seed=11, nodes=2)
    for line, wait in steps:
        _check(run(c, line))
        c.advance(wait)
    for line in ("get all", "describe deployments", "describe pods", "get events -A"):
        _check(run(c, line))

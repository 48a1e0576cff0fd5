"""Golden files for kubectl output, compared byte for byte (kwok-style).

Regenerate after an intended change with:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/sim/test_kubectl_golden.py

then review every diff against real kubectl (v1.30) output before committing: real kubectl is the
spec. The scenario (tests/sim/kubectl_helpers.py) is hand-built with a fixed seed and does not run
the controllers, so these files only change when kubectl's printers do.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kubectl_helpers import scenario

GOLDEN = Path(__file__).parent / "golden" / "kubectl"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

CASES = {
    "get-pods": "get pods",
    "get-pods-wide": "get pods -o wide",
    "get-pods-all-namespaces-labels": "get pods -A --show-labels",
    "get-pods-name": "get pods -o name",
    "get-deploy": "get deployments",
    "get-deploy-wide": "get deploy -o wide",
    "get-deploy-yaml": "get deployment web -o yaml",
    "get-rs": "get rs",
    "get-rs-wide": "get replicasets -o wide",
    "get-svc": "get svc",
    "get-svc-wide": "get services -o wide",
    "get-ep": "get endpoints",
    "get-nodes": "get nodes",
    "get-nodes-wide": "get nodes -o wide",
    "get-ns": "get namespaces",
    "get-cm": "get configmaps",
    "get-cm-json": "get cm app-config -o json",
    "get-secret": "get secrets",
    "get-events": "get events",
    "get-all": "get all",
    "describe-pod": "describe pod web-7c5ddbdf54-2xkqv",
    "describe-pod-crashloop": "describe pod crasher",
    "describe-pod-pending": "describe pod big",
    "describe-deployment": "describe deployment web",
    "describe-rs": "describe rs web-7c5ddbdf54",
    "describe-svc": "describe svc web",
    "describe-node": "describe node node-2",
    "describe-cm": "describe configmap app-config",
    "get-pv": "get pv",
    "get-pvc": "get pvc",
    "describe-pv": "describe pv task-pv-volume",
    "describe-pvc": "describe pvc task-pv-claim",
    "describe-sc": "describe storageclass",
    "rollout-history": "rollout history deployment/web",
    "rollout-history-revision": "rollout history deployment/web --revision=1",
    "rollout-status": "rollout status deployment/web",
}


@pytest.fixture(scope="module")
def frozen():  # type: ignore[no-untyped-def]
    return scenario()


@pytest.mark.parametrize("name", list(CASES))
def test_golden(frozen, name: str) -> None:  # type: ignore[no-untyped-def]
    result = frozen.kubectl(CASES[name])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    path = GOLDEN / f"{name}.txt"
    if UPDATE or not path.exists():
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(f"$ kubectl {CASES[name]}\n{result.stdout}")
        if not UPDATE:
            pytest.fail(f"golden file {path.name} was missing and has been written; review it")
    expected = path.read_text()
    assert f"$ kubectl {CASES[name]}\n{result.stdout}" == expected

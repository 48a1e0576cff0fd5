from __future__ import annotations

import pytest

from k8slearn.sim import Cluster


@pytest.fixture
def cluster() -> Cluster:
    """A small default cluster: 3 nodes (2 CPU, 4Gi each), seed 7, virtual t=0."""
    return Cluster.create(seed=7, nodes=3)

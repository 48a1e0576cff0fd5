"""kube-proxy's iptables probabilities against the vectors (k8s-vectors.json,
"iptables_probabilities", made by a port of proxier.go writeServiceToEndpointRules)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from svc_helpers import isolated_cluster, make_pod, make_service, mark_ready

from k8slearn.sim.services import choose_endpoint, rule_probabilities

VECTORS = json.loads((Path(__file__).parent / "k8s-vectors.json").read_text())
CASES = VECTORS["iptables_probabilities"]["cases"]


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case['endpoints']}-endpoints")
def test_rule_probabilities_match_kube_proxy(case):
    assert rule_probabilities(case["endpoints"]) == case["rule_probabilities"]


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case['endpoints']}-endpoints")
def test_effective_share_of_each_endpoint_matches(case):
    # The chance of reaching rule i and matching it: prod_{j<i}(1 - p_j) * p_i; the last rule
    # takes whatever is left. Every endpoint ends with the same share, 1/n.
    probs = [float(p) for p in case["rule_probabilities"][:-1]] + [1.0]
    left = 1.0
    for p in probs:
        assert left * p == pytest.approx(case["effective_share_each"], abs=1e-9)
        left *= 1 - p


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case['endpoints']}-endpoints")
def test_drawn_shares_are_close_to_the_vector_share(case):
    n = case["endpoints"]
    cluster = isolated_cluster(seed=1234)
    counts = [0] * n
    draws = 6000
    for _ in range(draws):
        counts[choose_endpoint(cluster, n)] += 1
    for count in counts:
        assert abs(count / draws - case["effective_share_each"]) < 0.025


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case['endpoints']}-endpoints")
def test_service_traffic_spreads_over_n_ready_pods(case):
    n = case["endpoints"]
    cluster = isolated_cluster(seed=99)
    make_service(cluster)
    names = [f"web-{i}" for i in range(n)]
    for name in names:
        mark_ready(cluster, make_pod(cluster, name))
    served = cluster.send_traffic("web", 3000)
    for name in names:
        assert abs(served.count(name) / 3000 - case["effective_share_each"]) < 0.03

"""A steady stream of traffic: N new connections every virtual second until stopped."""

from __future__ import annotations

from k8slearn.sim import scenarios
from k8slearn.sim.steps import run_step


def served_total(cluster) -> int:
    counters = cluster.state["traffic"]["default/web"]
    return sum(counters["served"].values()) + counters["failed"]


def test_stream_sends_rate_requests_each_virtual_second_until_stopped():
    c = scenarios.build("web")
    assert run_step(c, {"stream": {"service": "web", "rate": 5}}).ok
    c.advance(10)
    assert served_total(c) == 50
    assert run_step(c, {"stream": {"service": "web", "rate": 0}}).ok
    c.advance(10)
    assert served_total(c) == 50


def test_changing_the_rate_replaces_the_stream_instead_of_adding_one():
    c = scenarios.build("web")
    run_step(c, {"stream": {"service": "web", "rate": 5}})
    run_step(c, {"stream": {"service": "web", "rate": 2}})
    c.advance(3)
    assert served_total(c) == 6


def test_stream_to_a_missing_service_is_an_error_not_an_exception():
    c = scenarios.build("web")
    result = run_step(c, {"stream": {"service": "nope", "rate": 5}})
    assert not result.ok
    assert 'services "nope" not found' in result.error


def test_stream_survives_a_snapshot():
    from k8slearn.sim import Cluster

    c = scenarios.build("web")
    run_step(c, {"stream": {"service": "web", "rate": 3}})
    c.advance(2.5)
    twin = Cluster.restore(c.snapshot())
    c.advance(5)
    twin.advance(5)
    assert served_total(c) == served_total(twin) == 21


def test_configmap_step_changes_only_the_keys_it_names():
    c = scenarios.build("config")
    before = dict(c.get("ConfigMap", "web-config")["data"])
    assert run_step(c, {"configmap": {"name": "web-config", "data": {"NEW": "1"}}}).ok
    after = c.get("ConfigMap", "web-config")["data"]
    assert after == {**before, "NEW": "1"}

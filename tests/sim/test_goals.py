"""Exercise goals evaluated against cluster state and the event history since a baseline."""

from __future__ import annotations

import json

import pytest

from k8slearn.sim import scenarios
from k8slearn.sim.goals import GoalTracker, validate_goal
from k8slearn.sim.steps import run_step


def play(cluster, tracker, *steps, slice_s: float = 1.0) -> None:
    """Run steps, observing after each one and after every ``slice_s`` of advanced time."""
    for step in steps:
        if "advance" in step:
            left = step["advance"]
            while left > 0:
                cluster.advance(min(slice_s, left))
                left -= slice_s
                tracker.observe(cluster)
        else:
            assert run_step(cluster, step).ok, step
            tracker.observe(cluster)


def test_history_before_the_baseline_does_not_count():
    c = scenarios.build("web")
    # The scenario's own start-up created pods; that must not satisfy the goal.
    t = GoalTracker({"event": {"reason": "SuccessfulCreate", "kind": "ReplicaSet"}}, c)
    assert not t.observe(c)
    play(c, t, {"delete_pod": {"selector": "app=web"}}, {"advance": 2})
    assert t.reached


def test_event_goal_counts_matching_occurrences():
    c = scenarios.build("web")
    t = GoalTracker({"event": {"reason": "SuccessfulCreate", "name_prefix": "web-",
                               "message_contains": "Created pod", "count": 2}}, c)
    play(c, t, {"delete_pod": {"selector": "app=web"}}, {"advance": 2})
    assert not t.reached
    play(c, t, {"delete_pod": {"selector": "app=web"}}, {"advance": 2})
    assert t.reached


def test_pods_goal_holds_now_with_status_ready_and_restarts():
    c = scenarios.build("web")
    goal = {"pods": {"selector": "app=web", "status": "Running", "ready": True,
                     "restarts_at_least": 1, "count": 1}}
    t = GoalTracker(goal, c)
    assert not t.observe(c)
    play(c, t, {"kill_container": {"selector": "app=web"}}, {"advance": 10})
    assert t.reached


def test_reached_latches_even_when_the_state_changes_again():
    c = scenarios.build("web")
    t = GoalTracker({"pods": {"selector": "app=web", "min": 4}}, c)
    play(c, t, {"scale": {"deployment": "web", "replicas": 4}}, {"advance": 5})
    assert t.reached
    play(c, t, {"scale": {"deployment": "web", "replicas": 1}}, {"advance": 5})
    assert t.reached


def test_replaced_needs_a_pod_gone_and_a_new_one_from_the_replicaset():
    c = scenarios.build("web")
    t = GoalTracker({"replaced": {"selector": "app=web"}}, c)
    play(c, t, {"kill_container": {"selector": "app=web"}}, {"advance": 10})
    assert not t.reached  # a restart in place is not a replacement
    play(c, t, {"delete_pod": {"selector": "app=web"}}, {"advance": 5})
    assert t.reached


def test_rollout_goal_waits_for_the_rollout_to_complete():
    c = scenarios.build("rollout")
    t = GoalTracker({"rollout": {"deployment": "web", "image": "nginx:1.26"}}, c)
    play(c, t, {"set_image": {"deployment": "web", "image": "nginx:1.26"}})
    assert not t.reached
    play(c, t, {"advance": 60})
    assert t.reached


def test_always_fails_the_exercise_once_broken_until_restarted():
    c = scenarios.build("web")
    goal = {"all": [{"pods": {"selector": "app=web", "count": 2}},
                    {"always": {"pods": {"selector": "app=web", "max": 4}}}]}
    t = GoalTracker(goal, c)
    play(c, t, {"scale": {"deployment": "web", "replicas": 6}}, {"advance": 5})
    assert t.failed_reason == "more than 4 pods matching app=web at once"
    assert t.failed_message("ko") == "app=web에 맞는 파드가 한때 4개를 넘었다"
    play(c, t, {"scale": {"deployment": "web", "replicas": 2}}, {"advance": 60})
    assert not t.reached
    restarted = GoalTracker(goal, c)
    assert restarted.observe(c) and restarted.failed_reason is None


def test_a_rolling_update_with_the_default_surge_stays_within_five_pods():
    c = scenarios.build("rollout")
    goal = {"all": [{"rollout": {"deployment": "web", "image": "nginx:1.26"}},
                    {"always": {"pods": {"selector": "app=web", "max": 5}}},
                    {"always": {"pods": {"selector": "app=web", "ready": True, "min": 3}}}]}
    t = GoalTracker(goal, c)
    play(c, t, {"set_image": {"deployment": "web", "image": "nginx:1.26"}}, {"advance": 60},
         slice_s=0.5)
    assert t.reached and t.failed_reason is None


def test_never_an_event():
    c = scenarios.build("web")
    t = GoalTracker({"all": [{"pods": {"selector": "app=web", "count": 4}},
                             {"never": {"event": {"reason": "Killing"}}}]}, c)
    play(c, t, {"delete_pod": {"selector": "app=web"}}, {"advance": 5})
    assert t.failed_reason == "a Killing event happened"


def test_traffic_counts_only_requests_since_the_baseline():
    c = scenarios.build("web")
    run_step(c, {"traffic": {"service": "web", "requests": 30}})
    t = GoalTracker({"traffic": {"service": "web", "distinct_pods": 3, "min_requests": 10}}, c)
    assert not t.observe(c)
    play(c, t, {"traffic": {"service": "web", "requests": 30}})
    assert t.reached


def test_traffic_skips_a_pod_that_is_not_ready():
    c = scenarios.build("probes")
    goal = {"then": [{"pods": {"selector": "app=web", "ready": False, "count": 1}},
                     {"traffic": {"service": "web", "min_requests": 20,
                                  "skipped": {"selector": "app=web", "ready": False}}}]}
    t = GoalTracker(goal, c)
    play(c, t, {"fault": {"selector": "app=web", "fault": "readiness"}}, {"advance": 20},
         {"traffic": {"service": "web", "requests": 20}})
    assert t.reached


def test_node_goal_uses_kubectls_status_column():
    c = scenarios.build("web")
    t = GoalTracker({"node": {"name": "node-1", "status": "Ready,SchedulingDisabled"}}, c)
    play(c, t, {"cordon": "node-1"})
    assert t.reached


def test_pending_then_scheduled_after_a_node_joins():
    c = scenarios.build("bin-packing")
    t = GoalTracker({"pending_then_scheduled": {"selector": "app=web"}}, c)
    play(c, t, {"scale": {"deployment": "web", "replicas": 7}}, {"advance": 5})
    assert not t.reached
    play(c, t, {"add_node": {}}, {"advance": 5})
    assert t.reached


def test_then_requires_order():
    c = scenarios.build("web")
    goal = {"then": [{"node": {"name": "node-1", "status": "Ready,SchedulingDisabled"}},
                     {"event": {"reason": "SuccessfulCreate"}}]}
    t = GoalTracker(goal, c)
    play(c, t, {"delete_pod": {"selector": "app=web"}}, {"advance": 3}, {"cordon": "node-1"})
    assert not t.reached  # the pod was replaced before the cordon
    play(c, t, {"delete_pod": {"selector": "app=web"}}, {"advance": 3})
    assert t.reached


def test_any_is_reached_by_either_branch():
    c = scenarios.build("web")
    t = GoalTracker({"any": [{"pods": {"selector": "app=web", "count": 9}},
                             {"node": {"name": "node-2", "status": "Ready,SchedulingDisabled"}}]}, c)
    play(c, t, {"cordon": "node-2"})
    assert t.reached


def test_env_and_file_goals_read_what_the_containers_see():
    c = scenarios.build("config")
    t = GoalTracker({"env": {"selector": "app=web", "name": "GREETING", "value": "hello"}}, c)
    assert t.observe(c)
    s = scenarios.build("storage")
    t = GoalTracker({"file": {"selector": "app=notes", "path": "/data/note.txt",
                              "contains": "hi"}}, s)
    play(s, t, {"exec": {"selector": "app=notes",
                         "command": "sh -c 'echo hi > /data/note.txt'"}})
    assert t.reached


def test_tracker_round_trips_through_json_mid_exercise():
    c = scenarios.build("web")
    goal = {"then": [{"replaced": {"selector": "app=web"}},
                     {"pods": {"selector": "app=web", "count": 3, "ready": True}}]}
    t = GoalTracker(goal, c)
    play(c, t, {"delete_pod": {"selector": "app=web"}})
    t2 = GoalTracker.from_dict(json.loads(json.dumps(t.to_dict())))
    play(c, t2, {"advance": 5})
    assert t2.reached


@pytest.mark.parametrize("spec, message", [
    ({"podz": {}}, 'unknown goal "podz"'),
    ({"pods": {"selector": "app=web", "colour": "red"}}, "unknown key 'colour'"),
    ({"pods": {"count": 1, "max": 2}}, "either 'count' or 'min'/'max'"),
    ({"pods": {"selector": "app in (", "count": 1}}, "goal.pods.selector"),
    ({"event": {}}, "'reason' is missing"),
    ({"all": []}, "non-empty list"),
    ({"then": [{"pods": {"ready": "yes"}}]}, "goal.then[0].pods.ready must be true or false"),
    ({"always": {"event": {"reason": "X"}}}, "takes a goal that holds now"),
    ({"pods": {}, "node": {}}, "exactly one key"),
])
def test_bad_goals_are_described(spec, message):
    errors = validate_goal(spec)
    assert any(message in e for e in errors), errors

"""Replay a lesson exercise's solution against the simulator core and report what happened.

Used by ``manage.py lessons test`` (the author's report), ``lessons check`` (a goal its solution
does not reach is an error) and the test suite. Pure: no Django, no database, no clock but the
simulator's own.

The solution's steps run one by one with an observation after each, and ``advance`` steps are cut
into 1-second slices with an observation in between, so history constraints (``always``,
``never``) are checked along the way as they would be in the live playground, which observes
after every action and every tick.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from k8slearn.sim import scenarios
from k8slearn.sim.cluster import Cluster
from k8slearn.sim.goals import GoalTracker
from k8slearn.sim.steps import run_step

SLICE = 1.0  # virtual seconds between observations while a solution waits
IDLE_SECONDS = 600  # "does waiting alone reach the goal?" waits this long


def start(playground: Any) -> Cluster:
    """A fresh cluster as the lesson's playground starts it."""
    if playground.scenario:
        return scenarios.build(playground.scenario)
    return scenarios.build_from_manifests(playground.manifests, nodes=playground.nodes)


@dataclass
class StepReport:
    step: dict[str, Any]
    ok: bool
    output: str
    error: str
    reached: bool  # the goal was first reached during this step …
    reached_at: float | None = None  # … at this virtual time (seconds after the start)


@dataclass
class ExerciseReport:
    """What replaying one exercise's solution did."""

    lesson_id: str
    exercise_id: str
    reached: bool = False
    reached_at: float | None = None  # virtual seconds after the exercise started
    failed_reason: str | None = None  # a broken ``always``/``never`` constraint
    reached_before_start: bool = False  # the goal holds before the learner does anything
    reached_by_waiting: bool = False  # waiting alone (IDLE_SECONDS) reaches it
    steps: list[StepReport] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # since the exercise started

    @property
    def ok(self) -> bool:
        return (self.reached and self.failed_reason is None and not self.reached_before_start
                and all(s.ok for s in self.steps))

    def problems(self) -> list[str]:
        """What is wrong with the exercise, in the author's words (empty when it is fine)."""
        out = [f"solution step {i + 1} ({_short(s.step)}) failed: {s.error}"
               for i, s in enumerate(self.steps) if not s.ok]
        if self.reached_before_start:
            out.append("the goal is already reached before the learner does anything")
        if self.failed_reason:
            out.append(f"the solution breaks a constraint of the goal: {self.failed_reason}")
        elif not self.reached:
            out.append("the solution does not reach the goal")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "lesson": self.lesson_id,
            "exercise": self.exercise_id,
            "ok": self.ok,
            "reached": self.reached,
            "reached_at": self.reached_at,
            "failed_reason": self.failed_reason,
            "reached_before_start": self.reached_before_start,
            "reached_by_waiting": self.reached_by_waiting,
            "problems": self.problems(),
            "steps": [{"step": s.step, "ok": s.ok, "output": s.output, "error": s.error,
                       "reached": s.reached} for s in self.steps],
            "events": self.events,
        }


def replay(cluster: Cluster, tracker: GoalTracker, solution: Any,
           started: float | None = None) -> list[StepReport]:
    """Run the steps, observing after every step and every slice of advanced time.

    A step's ``reached`` is true for the step during which the goal was first reached;
    ``reached_at`` on that report is the virtual time of that observation (seconds after
    ``started``, the cluster's time when the exercise began)."""
    started = cluster.now if started is None else started
    reports: list[StepReport] = []
    for step in solution:
        was_reached = tracker.reached
        if isinstance(step, dict) and "advance" in step and isinstance(step["advance"], int | float):
            left = float(step["advance"])
            results = []
            times = []
            while left > 0:  # a 1-second slice, then a look, as the live ticker does
                results.append(run_step(cluster, {"advance": min(SLICE, left)}))
                left -= SLICE
                times.append(_look(cluster, tracker, started))
                if not results[-1].ok:
                    break
            result = results[-1] if results else run_step(cluster, step)  # advance <= 0: error
            output = ""
        else:
            result = run_step(cluster, step)
            times = [_look(cluster, tracker, started)]
            output = result.output
        reached_at = next((t for t in times if t is not None), None) if not was_reached else None
        report = StepReport(step, result.ok, output, result.error, reached_at is not None)
        report.reached_at = reached_at
        reports.append(report)
    return reports


def _look(cluster: Cluster, tracker: GoalTracker, started: float) -> float | None:
    """Observe; the time since ``started`` when the goal is reached now (else None)."""
    tracker.observe(cluster)
    return cluster.now - started if tracker.reached else None


def run_exercise(lesson_id: str, playground: Any, exercise: Any,
                 check_waiting: bool = True) -> ExerciseReport:
    """Replay ``exercise.solution`` on a fresh playground cluster; never raises for bad content."""
    report = ExerciseReport(lesson_id, exercise.id)
    cluster = start(playground)
    started = cluster.now
    first_seq = cluster.state.get("event_seq", 0)
    tracker = GoalTracker(exercise.goal, cluster)
    report.reached_before_start = tracker.observe(cluster)
    report.steps = replay(cluster, tracker, exercise.solution, started)
    report.reached = tracker.reached
    report.reached_at = next((s.reached_at for s in report.steps if s.reached), None)
    report.failed_reason = tracker.failed_reason
    report.events = [_event(e, started) for e in cluster.events if e["seq"] > first_seq]
    if check_waiting:
        idle = start(playground)
        idle_tracker = GoalTracker(exercise.goal, idle)
        replay(idle, idle_tracker, [{"advance": IDLE_SECONDS}])
        report.reached_by_waiting = idle_tracker.reached and not report.reached_before_start
    return report


def _event(row: dict[str, Any], started: float) -> dict[str, Any]:
    return {
        "at": round(row["time_ms"] / 1000 - started, 1),
        "type": row["type"],
        "reason": row["reason"],
        "object": f"{row['kind'].lower()}/{row['name']}",
        "message": row["message"],
    }


def _short(step: Any) -> str:
    text = repr(step)
    return text if len(text) <= 60 else text[:57] + "…"

"""The ``playground:`` block of ``lesson.yaml``: a starting scenario and exercises.

```yaml
playground:
  scenario: web                  # a name from k8slearn.sim.scenarios.SCENARIOS, or:
  # manifests: |                 # your own YAML, applied to an empty 3-node cluster
  #   apiVersion: apps/v1 …
  exercises:
    - id: replace-a-pod
      title: {ko: "…", en: "…"}
      prompt: {ko: "…", en: "…"}
      goal: {replaced: {selector: app=web}}       # k8slearn.sim.goals
      hints:
        - {ko: "…", en: "…"}
      solution:                                   # k8slearn.sim.steps
        - delete_pod: {selector: app=web}
        - advance: 10
```

Validation reports problems through the loader's ``_FileChecker`` so every message carries the
file and line. The parsed block is a :class:`Playground` on ``Lesson.playground``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from k8slearn.sim.goals import validate_goal
from k8slearn.sim.scenarios import SCENARIOS
from k8slearn.sim.steps import validate_step

if TYPE_CHECKING:
    from k8slearn.courses.loader import Text, _FileChecker

PLAYGROUND_KEYS = ("scenario", "manifests", "nodes", "exercises")
MAX_NODES = 10
EXERCISE_KEYS = ("id", "title", "prompt", "goal", "hints", "solution", "paused")
REQUIRED_EXERCISE_KEYS = ("id", "title", "prompt", "goal", "hints", "solution")


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``goal`` is a goal spec (k8slearn.sim.goals), ``solution`` a list of steps
    (k8slearn.sim.steps). ``paused``: start the playground paused (step mode)."""

    id: str
    title: Text
    prompt: Text
    goal: dict[str, Any]
    hints: tuple[Text, ...]
    solution: tuple[dict[str, Any], ...]
    paused: bool = False
    line: int | None = field(default=None, compare=False, repr=False)  # in lesson.yaml
    goal_line: int | None = field(default=None, compare=False, repr=False)
    goal_col: int | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Playground:
    """A lesson's playground: start from ``scenario`` (a name) or from ``manifests`` (YAML)."""

    scenario: str | None
    manifests: str | None
    exercises: tuple[Exercise, ...]
    nodes: int = 3  # with ``manifests``: how many worker nodes the empty cluster has

    def exercise(self, exercise_id: str) -> Exercise | None:
        return next((e for e in self.exercises if e.id == exercise_id), None)


def plain(node: yaml.Node) -> Any:
    """The node as Python data, keeping every mapping key as written (YAML 1.1 would turn a key
    ``on`` into ``True``)."""
    if isinstance(node, yaml.MappingNode):
        return {str(k.value) if isinstance(k, yaml.ScalarNode) else plain(k): plain(v)
                for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [plain(item) for item in node.value]
    return yaml.SafeLoader("").construct_document(node)


def parse_playground(check: _FileChecker, node: yaml.Node) -> Playground | None:
    """Validate the block (errors go to ``check``); the parsed playground or None.

    ``playground: {}`` means "no playground (yet)" and is not an error.
    """
    if isinstance(node, yaml.MappingNode) and not node.value:
        return None
    fields = check.mapping(node, "playground", PLAYGROUND_KEYS, ("exercises",))
    if fields is None:
        return None
    ok = True
    scenario = manifests = None
    if ("scenario" in fields) == ("manifests" in fields):
        check.error(node, "playground needs either 'scenario' (a name) or 'manifests' (YAML)")
        ok = False
    if "scenario" in fields:
        scenario = check.string(fields["scenario"], "playground.scenario")
        if scenario is not None and scenario not in SCENARIOS:
            check.error(fields["scenario"], f"playground.scenario '{scenario}' does not exist "
                        f"(known: {', '.join(sorted(SCENARIOS))})")
            scenario = None
        ok = ok and scenario is not None
    if "manifests" in fields:
        manifests = check.string(fields["manifests"], "playground.manifests")
        ok = ok and manifests is not None and _manifests_ok(check, fields["manifests"], manifests)
    nodes = 3
    if "nodes" in fields:
        value = check.integer(fields["nodes"], "playground.nodes")
        if value is not None and "manifests" not in fields:
            check.error(fields["nodes"], "playground.nodes only goes with 'manifests' "
                        "(a scenario brings its own nodes)")
            value = None
        elif value is not None and not 1 <= value <= MAX_NODES:
            check.error(fields["nodes"], f"playground.nodes must be from 1 to {MAX_NODES}")
            value = None
        ok = ok and value is not None
        nodes = value or 3
    exercises: list[Exercise] = []
    if "exercises" in fields:
        items = check.sequence(fields["exercises"], "playground.exercises")
        if items is not None and not items:
            check.error(fields["exercises"], "playground.exercises is empty; give at least one")
        seen: dict[str, int] = {}
        for index, item in enumerate(items or []):
            exercise = _exercise(check, item, f"playground.exercises[{index}]")
            if exercise is None:
                ok = False
                continue
            if exercise.id in seen:
                check.error(item, f"playground.exercises[{index}].id '{exercise.id}' is already "
                            f"used by playground.exercises[{seen[exercise.id]}]")
                ok = False
                continue
            seen[exercise.id] = index
            exercises.append(exercise)
    if not ok or not exercises:
        return None
    return Playground(scenario, manifests, tuple(exercises), nodes)


def _manifests_ok(check: _FileChecker, node: yaml.Node, text: str) -> bool:
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as err:
        check.error(node, f"playground.manifests is not valid YAML: {err}")
        return False
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            check.error(node, f"playground.manifests document {i + 1} needs 'apiVersion' and "
                        "'kind'")
            return False
    return True


def _exercise(check: _FileChecker, node: yaml.Node, where: str) -> Exercise | None:
    fields = check.mapping(node, where, EXERCISE_KEYS, REQUIRED_EXERCISE_KEYS)
    if fields is None:
        return None
    eid = check.identifier(fields["id"], f"{where}.id") if "id" in fields else None
    title = check.text(fields["title"], f"{where}.title") if "title" in fields else None
    prompt = check.text(fields["prompt"], f"{where}.prompt") if "prompt" in fields else None
    ok = None not in (eid, title, prompt) and set(REQUIRED_EXERCISE_KEYS) <= set(fields)
    goal: dict[str, Any] | None = None
    if "goal" in fields:
        value = plain(fields["goal"])
        problems = validate_goal(value, f"{where}.goal")
        for problem in problems:
            check.error(fields["goal"], problem)
        if problems:
            ok = False
        else:
            goal = value
    hints: list[Text] = []
    if "hints" in fields:
        items = check.sequence(fields["hints"], f"{where}.hints")
        if items is not None and not items:
            check.error(fields["hints"], f"{where}.hints is empty; give at least one hint")
            ok = False
        for i, item in enumerate(items or []):
            hint = check.text(item, f"{where}.hints[{i}]")
            if hint is None:
                ok = False
            else:
                hints.append(hint)
        ok = ok and items is not None
    steps: list[dict[str, Any]] = []
    if "solution" in fields:
        items = check.sequence(fields["solution"], f"{where}.solution")
        if items is not None and not items:
            check.error(fields["solution"], f"{where}.solution is empty; give the steps")
            ok = False
        for i, item in enumerate(items or []):
            step = plain(item)
            problems = validate_step(step)
            for problem in problems:
                check.error(item, f"{where}.solution[{i}]: {problem}")
            if problems:
                ok = False
            else:
                steps.append(step)
        ok = ok and items is not None
    paused = False
    if "paused" in fields:
        value = plain(fields["paused"])
        if not isinstance(value, bool):
            check.error(fields["paused"], f"{where}.paused must be true or false")
            ok = False
        else:
            paused = value
    if not ok or eid is None or title is None or prompt is None or goal is None:
        return None
    goal_mark = fields["goal"].start_mark
    return Exercise(eid, title, prompt, goal, tuple(hints), tuple(steps), paused,
                    node.start_mark.line + 1, goal_mark.line + 1, goal_mark.column + 1)

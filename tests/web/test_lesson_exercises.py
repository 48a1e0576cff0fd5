"""Every lesson exercise is possible: its solution, replayed against the core, reaches its goal.

The solution's steps run one by one with an observation after each, and ``advance`` steps are cut
into 1-second slices with an observation in between, so history constraints (``always``,
``never``) are checked along the way as they would be in the live playground.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from k8slearn.courses import exercises
from k8slearn.courses.exercises import start
from k8slearn.courses.loader import load_course
from k8slearn.sim.goals import GoalTracker

PLAYGROUND_LESSONS = ("self-healing", "rollouts-and-rollbacks", "service-discovery",
                      "bin-packing", "storage-orchestration", "secrets-and-config",
                      "desired-state")


def _course():
    course = load_course(Path(settings.LESSONS_DIR))
    assert [str(e) for e in course.errors] == []
    return course


def _cases() -> list[tuple[str, str]]:
    course = load_course(Path(settings.LESSONS_DIR))
    return [(lesson.id, exercise.id) for lesson in course.lessons if lesson.playground
            for exercise in lesson.playground.exercises]


def replay(cluster, tracker: GoalTracker, solution) -> list[str]:
    """Run the solution (observing after every step and second); the steps that failed."""
    return [f"{r.step}: {r.error}" for r in exercises.replay(cluster, tracker, solution)
            if not r.ok]


def test_the_playground_lessons_have_at_least_two_exercises_each():
    course = _course()
    for lesson_id in PLAYGROUND_LESSONS:
        lesson = course.get(lesson_id)
        assert lesson is not None and lesson.playground is not None, lesson_id
        assert len(lesson.playground.exercises) >= 2, lesson_id
        assert len(lesson.quiz) >= 3, lesson_id
        for exercise in lesson.playground.exercises:
            assert exercise.hints and exercise.solution


@pytest.mark.parametrize("lesson_id, exercise_id", _cases())
def test_the_solution_reaches_the_goal(lesson_id, exercise_id):
    lesson = _course().get(lesson_id)
    exercise = lesson.playground.exercise(exercise_id)
    cluster = start(lesson.playground)
    tracker = GoalTracker(exercise.goal, cluster)
    assert not tracker.observe(cluster), "the goal is reached before the learner did anything"
    problems = replay(cluster, tracker, exercise.solution)
    assert problems == []
    assert tracker.failed_reason is None
    assert tracker.reached


@pytest.mark.parametrize("lesson_id", PLAYGROUND_LESSONS)
def test_the_exercises_can_be_done_in_order_in_one_playground(lesson_id):
    """As on the page: one cluster, every tracker started at once, solutions one after another."""
    playground = _course().get(lesson_id).playground
    cluster = start(playground)
    trackers = {e.id: GoalTracker(e.goal, cluster) for e in playground.exercises}
    for exercise in playground.exercises:
        for step in exercise.solution:
            replay(cluster, trackers[exercise.id], [step])
            for tracker in trackers.values():
                tracker.observe(cluster)
        assert trackers[exercise.id].reached, exercise.id
    assert {i: t.failed_reason for i, t in trackers.items() if t.failed_reason} == {}


@pytest.mark.parametrize("lesson_id, exercise_id", _cases())
def test_waiting_alone_never_reaches_a_goal(lesson_id, exercise_id):
    lesson = _course().get(lesson_id)
    exercise = lesson.playground.exercise(exercise_id)
    cluster = start(lesson.playground)
    tracker = GoalTracker(exercise.goal, cluster)
    replay(cluster, tracker, [{"advance": 600}])
    assert not tracker.reached


BROKEN = textwrap.dedent(
    """\
    playground:
      scenario: web
      exercises:
        - id: broken
          title: {ko: "고장", en: "Broken"}
          prompt: {ko: "해 보자.", en: "Try it."}
          goal: {podz: {selector: app=web}}
          hints: [{ko: "힌트", en: "Hint"}]
          solution:
            - explode: {}
    """
)


def test_manage_py_check_reports_a_broken_playground_block_with_file_and_line(tmp_path, settings):
    source = Path(settings.LESSONS_DIR) / "04-self-healing"
    root = tmp_path / "lessons"
    target = root / "04-self-healing"
    shutil.copytree(source, target)
    text = (target / "lesson.yaml").read_text(encoding="utf-8")
    head = text[: text.index("playground:")]
    (target / "lesson.yaml").write_text(head + BROKEN, encoding="utf-8")
    first = head.count("\n") + 1  # the line of "playground:"
    settings.LESSONS_DIR = root
    with pytest.raises(SystemCheckError) as raised:
        call_command("check", fail_level="WARNING")
    message = str(raised.value)
    where = "lessons/04-self-healing/lesson.yaml"
    # file:line:col, the column of the value that is wrong
    assert f'{where}:{first + 6}:13: playground.exercises[0].goal: unknown goal "podz"' in message
    assert (f'{where}:{first + 9}:11: playground.exercises[0].solution[0]: unknown step "explode"'
            in message)


def test_an_unknown_scenario_is_reported(tmp_path, settings):
    source = Path(settings.LESSONS_DIR) / "04-self-healing"
    target = tmp_path / "lessons" / "04-self-healing"
    shutil.copytree(source, target)
    text = (target / "lesson.yaml").read_text(encoding="utf-8")
    head = text[: text.index("playground:")]
    (target / "lesson.yaml").write_text(
        head + BROKEN.replace("scenario: web", "scenario: nowhere"), encoding="utf-8")
    course = load_course(tmp_path / "lessons")
    assert any("playground.scenario 'nowhere' does not exist" in str(e) for e in course.errors)


def test_the_readme_example_playground_is_solvable(tmp_path):
    import re

    readme = (Path(settings.BASE_DIR) / "lessons" / "README.md").read_text(encoding="utf-8")
    example = readme[readme.index("# A complete example"):]
    lesson_yaml = re.search(r"```yaml\n(.*?)```", example, re.S).group(1)
    folder = tmp_path / "lessons" / "04-self-healing"
    folder.mkdir(parents=True)
    (folder / "lesson.yaml").write_text(lesson_yaml, encoding="utf-8")
    (folder / "ko.md").write_text("## 가\n\n내용\n", encoding="utf-8")
    (folder / "en.md").write_text("## A\n\nText\n", encoding="utf-8")
    course = load_course(tmp_path / "lessons")
    assert [str(e) for e in course.errors] == []
    playground = course.get("self-healing").playground
    assert len(playground.exercises) == 2
    for exercise in playground.exercises:
        cluster = start(playground)
        tracker = GoalTracker(exercise.goal, cluster)
        assert replay(cluster, tracker, exercise.solution) == []
        assert tracker.reached, exercise.id


MANIFESTS_BLOCK = textwrap.dedent(
    """\
    playground:
      nodes: 2
      manifests: |
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: api}
        spec:
          replicas: 2
          selector: {matchLabels: {app: api}}
          template:
            metadata: {labels: {app: api}}
            spec:
              containers: [{name: api, image: "nginx:1.25"}]
      exercises:
        - id: scale-api
          title: {ko: "늘리기", en: "Scale"}
          prompt: {ko: "`api`를 4로 늘려 보자.", en: "Scale `api` to 4."}
          goal: {pods: {selector: app=api, status: Running, count: 4}}
          hints: [{ko: "scale", en: "scale"}]
          solution:
            - scale: {deployment: api, replicas: 4}
            - advance: 10
    """
)


def _lesson_with(tmp_path: Path, block: str) -> Path:
    source = Path(settings.LESSONS_DIR) / "04-self-healing"
    root = tmp_path / "lessons"
    target = root / "04-self-healing"
    shutil.copytree(source, target)
    text = (target / "lesson.yaml").read_text(encoding="utf-8")
    (target / "lesson.yaml").write_text(text[: text.index("playground:")] + block,
                                        encoding="utf-8")
    return root


def test_a_playground_can_start_from_its_own_manifests(tmp_path):
    course = load_course(_lesson_with(tmp_path, MANIFESTS_BLOCK))
    assert [str(e) for e in course.errors] == []
    playground = course.get("self-healing").playground
    assert playground.scenario is None and playground.nodes == 2
    cluster = start(playground)
    assert len(cluster.store.list("Node")) == 2
    exercise = playground.exercises[0]
    tracker = GoalTracker(exercise.goal, cluster)
    assert replay(cluster, tracker, exercise.solution) == [] and tracker.reached


@pytest.mark.parametrize("change, message", [
    (("nodes: 2", "nodes: 20"), "playground.nodes must be from 1 to 10"),
    (("  nodes: 2\n", "  scenario: web\n"), "either 'scenario' (a name) or 'manifests'"),
    (("      hints: [{ko: \"scale\", en: \"scale\"}]\n", "      hints: []\n"),
     "hints is empty"),
    (("- id: scale-api", "- id: Scale_API"), "must use lowercase letters"),
    (("advance: 10", "advance: 10\n        - wait: 3"), 'unknown step "wait"'),
    (("kind: Deployment", "kind: Deployment\n    nonsense: ["), "manifests is not valid YAML"),
])
def test_playground_mistakes_are_reported(tmp_path, change, message):
    old, new = change
    assert old in MANIFESTS_BLOCK
    course = load_course(_lesson_with(tmp_path, MANIFESTS_BLOCK.replace(old, new)))
    assert any(message in str(e) for e in course.errors), [str(e) for e in course.errors]
    assert all(str(e).startswith("lessons/04-self-healing/lesson.yaml:") for e in course.errors)

"""`manage.py lessons new|check|test`: each check on a broken fixture lesson, the scaffold's
round trip, the built-in lessons' cleanliness, JSON output and exit codes."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from k8slearn.courses import lint
from k8slearn.courses.loader import load_course

BROKEN = Path(__file__).parent / "fixture_broken_lessons"
LESSON = "tests/web/fixture_broken_lessons/01-broken"


def run(*args: str) -> tuple[int, str]:
    """The command's exit status and its output."""
    out = StringIO()
    try:
        call_command("lessons", *args, stdout=out, stderr=out)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


@pytest.fixture(scope="module")
def broken() -> list[str]:
    return [str(p) for p in lint.check([BROKEN])]


# --------------------------------------------------------------------------- each check

@pytest.mark.parametrize("expected", [
    # missing translation: texts, bodies, sections
    f"{LESSON}/lesson.yaml:5:8: warning: the English text of title has Korean letters",
    f"{LESSON}/lesson.yaml:6:10: warning: summary is the same in ko and en",
    f"{LESSON}/en.md:5:1: warning: en.md has Korean text here",
    f"{LESSON}/ko.md:7:1: warning: ko.md has 2 sections (## headings) and en.md has 1",
    # quiz without explanations
    f"{LESSON}/lesson.yaml:11:15: warning: quiz 'no-explain' choice 0 has no explanation",
    # a goal its solution does not reach; a goal reached before the learner does anything
    f"{LESSON}/lesson.yaml:37:13: error: exercise 'never-reached': the solution does not "
    "reach the goal",
    f"{LESSON}/lesson.yaml:45:13: error: exercise 'already-there': the goal is already "
    "reached before the learner does anything",
    # broken internal links
    f"{LESSON}/ko.md:3:18: error: broken internal link 'lesson:nowhere': there is no lesson",
    f"{LESSON}/ko.md:3:42: error: broken internal link: this page has no section 'nowhere'",
    f"{LESSON}/en.md:3:27: error: broken internal link 'lesson:broken#second': lesson "
    "'broken' has no section 'second'",
    f"{LESSON}/ko.md:9:10: error: broken internal link '/ko/nowhere/': no such page",
    f"{LESSON}/ko.md:9:33: error: broken internal link '../02-other/ko.md'",
    # images
    f"{LESSON}/ko.md:5:5: warning: image without alt text",
    f"{LESSON}/ko.md:5:5: error: image 'missing.png' is not a file in the lesson's folder",
    # unknown glossary term
    f"{LESSON}/ko.md:3:61: warning: unknown glossary term 'nothing' (known: pod",
    # runnable blocks
    f"{LESSON}/ko.md:12:1: error: cluster block: unknown action 'explode'",
    f"{LESSON}/ko.md:16:1: warning: on the lesson's starting cluster this button fails: "
    'nodes "node-9" not found',
    f"{LESSON}/ko.md:20:1: warning: Run skips 'curl http://web'",
])
def test_each_check_reports_file_line_col(broken: list[str], expected: str) -> None:
    assert any(line.startswith(expected) for line in broken), "\n".join(broken)


def test_the_fine_parts_of_the_broken_lesson_are_not_reported(broken: list[str]) -> None:
    text = "\n".join(broken)
    assert "en.md:3:" in text  # the broken anchor on that line …
    assert "#first" not in text  # … but not the anchor that exists
    assert "glossary:pod" not in text and "kubectl get pods" not in text
    assert len(broken) == 18, text


def test_check_exits_1_on_errors_and_prints_a_summary() -> None:
    status, out = run("check", str(BROKEN))
    assert status == 1
    # … and the fixture's glossary repeats the built-in term 'pod': a warning, the first one wins
    assert "fixture_broken_lessons/glossary.yaml: warning: glossary term 'pod' is already " in out
    assert out.strip().endswith("9 error(s), 10 warning(s)")


def test_check_json_lists_every_problem() -> None:
    status, out = run("check", str(BROKEN / "01-broken"), "--format", "json")
    data = json.loads(out)
    assert status == 1
    assert (data["errors"], data["warnings"]) == (9, 9)
    first = data["problems"][0]
    assert set(first) == {"path", "line", "col", "severity", "message"}
    assert first["path"].endswith("01-broken/en.md") and first["line"] == 3


def test_strict_fails_on_warnings_only(tmp_path: Path) -> None:
    status, _ = run("new", "warned", "--dir", str(tmp_path))
    assert status == 0
    yaml_file = next(tmp_path.glob("*-warned")) / "lesson.yaml"
    text = yaml_file.read_text(encoding="utf-8")
    yaml_file.write_text(text.replace('en: "Warned"', 'en: "경고"'), encoding="utf-8")
    assert run("check", str(tmp_path))[0] == 0
    status, out = run("check", str(tmp_path), "--strict")
    assert status == 1 and "warning: the English text of title has Korean letters" in out


def test_a_file_that_does_not_load_is_an_error_with_its_yaml_position(tmp_path: Path) -> None:
    run("new", "typo", "--dir", str(tmp_path))
    yaml_file = next(tmp_path.glob("*-typo")) / "lesson.yaml"
    yaml_file.write_text(yaml_file.read_text(encoding="utf-8").replace("quiz:", "quizz:"),
                         encoding="utf-8")
    status, out = run("check", str(tmp_path))
    assert status == 1
    assert "lesson.yaml:16:1: error: unknown key 'quizz' in lesson.yaml" in out
    assert "lesson.yaml:6:1: error: lesson.yaml is missing 'quiz'" in out


def test_the_built_in_lessons_pass_check_with_no_warning() -> None:
    status, out = run("check", "--strict")
    assert status == 0, out
    assert out.startswith("No problems.")


def test_check_of_a_missing_path_says_so() -> None:
    with pytest.raises(CommandError, match="does not exist"):
        call_command("lessons", "check", "/nowhere/at/all", stdout=StringIO())


# --------------------------------------------------------------------------- new

def test_new_then_check_then_test_passes(tmp_path: Path, settings) -> None:
    status, out = run("new", "my-first-lesson", "--dir", str(tmp_path))
    assert status == 0, out
    folder = tmp_path / "01-my-first-lesson"
    assert sorted(p.name for p in folder.iterdir()) == ["en.md", "ko.md", "lesson.yaml"]
    assert "lessons check" in out and "LESSON_DIRS=" in out  # the folder is not served yet
    status, out = run("check", str(tmp_path), "--strict")
    assert (status, out.splitlines()[0]) == (0, "No problems. 0 error(s), 0 warning(s)")
    status, out = run("test", str(tmp_path))  # a folder the site does not serve yet
    assert status == 0, out
    # The replacement runs 1 s into the 10 s wait: the report says when, not when the step ended.
    assert "my-first-lesson / replace-a-pod: goal reached after 1 s (virtual)" in out
    assert "2. advance: 10  [ok]  → goal reached at 1 s" in out
    assert "1 of 1 exercise(s) reach their goal" in out


def test_the_scaffold_shows_every_feature(tmp_path: Path) -> None:
    run("new", "tour", "--dir", str(tmp_path))
    folder = tmp_path / "01-tour"
    yaml_text = (folder / "lesson.yaml").read_text(encoding="utf-8")
    for feature in ("quiz:", "explain:", "playground:", "scenario:", "manifests:", "goal:",
                    "hints:", "solution:"):
        assert feature in yaml_text
    for lang in ("ko", "en"):
        body = (folder / f"{lang}.md").read_text(encoding="utf-8")
        assert "```kubectl" in body and "```cluster" in body and "lesson:" in body
    course = load_course(tmp_path)
    assert course.errors == []
    lesson = course.get("tour")
    assert lesson.order == 1 and lesson.title.en == "Tour"


def test_new_numbers_lessons_one_after_another(tmp_path: Path) -> None:
    run("new", "first", "--dir", str(tmp_path))
    run("new", "second", "--dir", str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01-first", "02-second"]


@pytest.mark.parametrize("args, message", [
    (("Not A Slug",), "is not a lesson id"),
    (("self-healing",), "already exists"),
    (("fine", "--order", "100"), "--order must be from 1 to 99"),
])
def test_new_refuses_bad_input(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("lessons", "new", *args, "--dir", str(tmp_path), stdout=StringIO())
    assert list(tmp_path.iterdir()) == []


def test_new_refuses_a_slug_that_the_folder_already_has(tmp_path: Path) -> None:
    run("new", "twice", "--dir", str(tmp_path))
    with pytest.raises(CommandError, match="already has a lesson folder"):
        call_command("lessons", "new", "twice", "--dir", str(tmp_path), stdout=StringIO())


# --------------------------------------------------------------------------- test

def test_test_reports_goals_steps_and_events() -> None:
    status, out = run("test", "self-healing")
    assert status == 0
    assert "self-healing / replace-a-pod: goal reached after 1 s (virtual)" in out
    assert "1. delete_pod:" in out and out.count("→ goal reached") == 4  # once per exercise
    assert "Killing" in out and "SuccessfulCreate" in out  # the events that happened


def test_test_fails_for_an_exercise_whose_solution_misses(settings) -> None:
    settings.LESSON_DIRS = [BROKEN]
    status, out = run("test", "broken")
    assert status == 1
    assert "broken / never-reached: the solution does not reach the goal" in out
    assert "0 of 2 exercise(s) reach their goal" in out


def test_test_json(settings) -> None:
    status, out = run("test", "bin-packing", "--format", "json")
    data = json.loads(out)
    assert status == 0 and data["ok"] is True
    first = data["exercises"][0]
    assert first["lesson"] == "bin-packing" and first["reached"] is True
    assert any(e["reason"] == "FailedScheduling" for e in first["events"])


def test_test_of_an_unknown_lesson_says_so() -> None:
    with pytest.raises(CommandError, match="there is no lesson 'nope'"):
        call_command("lessons", "test", "nope", stdout=StringIO())


# --------------------------------------------------------------------------- LESSON_DIRS

def test_lesson_dirs_add_to_the_built_in_lessons(tmp_path: Path, settings) -> None:
    run("new", "extra", "--dir", str(tmp_path))
    settings.LESSON_DIRS = [tmp_path]
    from k8slearn.courses.loader import lesson_dirs

    course = load_course(lesson_dirs())
    assert course.errors == []
    ids = [lesson.id for lesson in course.lessons]
    assert ids[0] == "what-is-kubernetes" and ids[-1] == "extra"
    assert course.get("extra").section == 1


def test_builtin_lessons_off_replaces_them(tmp_path: Path, settings) -> None:
    run("new", "only-mine", "--dir", str(tmp_path))
    settings.LESSON_DIRS = [tmp_path]
    settings.BUILTIN_LESSONS = False
    from k8slearn.courses.loader import lesson_dirs

    assert [lesson.id for lesson in load_course(lesson_dirs()).lessons] == ["only-mine"]


def test_the_same_lesson_id_in_two_folders_is_an_error(tmp_path: Path) -> None:
    shutil.copytree(Path(settings.LESSONS_DIR) / "04-self-healing", tmp_path / "04-copy")
    course = load_course([Path(settings.LESSONS_DIR), tmp_path])
    assert [str(e) for e in course.errors] == [
        f"{tmp_path.name}/04-copy/lesson.yaml:1:5: id 'self-healing' is already used by "
        "lessons/04-self-healing/lesson.yaml"]


def test_links_to_hangul_anchors_are_not_broken(tmp_path: Path) -> None:
    run("new", "hangul", "--dir", str(tmp_path))
    ko = next(tmp_path.glob("*-hangul")) / "ko.md"
    ko.write_text(ko.read_text(encoding="utf-8") + "\n[위로](#파드-하나-지우기)\n"
                  "[다른 단원](lesson:hangul#파드-하나-지우기)\n", encoding="utf-8")
    status, out = run("check", str(tmp_path), "--strict")
    assert status == 0, out


def test_folders_that_are_not_lessons_are_left_alone(tmp_path: Path) -> None:
    run("new", "tidy", "--dir", str(tmp_path))
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(b"x")
    (tmp_path / "3-misnamed").mkdir()
    (tmp_path / "3-misnamed" / "lesson.yaml").write_text("id: x\n", encoding="utf-8")
    errors = [str(e) for e in load_course(tmp_path).errors]
    assert errors and all("3-misnamed" in e for e in errors), errors
    assert any("must be named NN-slug" in e for e in errors)


def test_test_with_a_folder_reports_what_does_not_load_and_fails(tmp_path: Path) -> None:
    run("new", "good", "--dir", str(tmp_path))
    run("new", "bad", "--dir", str(tmp_path))
    (tmp_path / "02-bad" / "lesson.yaml").write_text("id: [bad\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1 error"):
        call_command("lessons", "test", str(tmp_path), stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="does not exist"):
        call_command("lessons", "test", str(tmp_path / "nope"), stdout=StringIO())
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match="there are no lessons in"):
        call_command("lessons", "test", str(tmp_path / "empty"), stdout=StringIO())

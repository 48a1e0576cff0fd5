"""The lesson loader: every kind of broken lesson gives an error that names file:line."""

from __future__ import annotations

import logging
import os
import re
import textwrap
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from k8slearn.courses.loader import LANGS, clear_cache, get_course, load_course
from k8slearn.courses.management.commands.compilecatalogue import compile_catalogues

VALID = textwrap.dedent(
    """\
    id: sample
    order: 1
    title: {ko: "예시", en: "Sample"}
    summary: {ko: "요약", en: "Summary"}
    quiz:
      - id: q-one
        question: {ko: "하나?", en: "One?"}
        choices:
          - text: {ko: "예", en: "Yes"}
            explain: {ko: "맞다.", en: "Right."}
          - text: {ko: "아니요", en: "No"}
            explain: {ko: "아니다.", en: "No."}
        answer: 0
      - id: q-two
        question: {ko: "둘?", en: "Two?"}
        choices:
          - text: {ko: "예", en: "Yes"}
            explain: {ko: "맞다.", en: "Right."}
          - text: {ko: "아니요", en: "No"}
            explain: {ko: "아니다.", en: "No."}
        answer: 1
      - id: q-three
        question: {ko: "셋?", en: "Three?"}
        choices:
          - text: {ko: "예", en: "Yes"}
            explain: {ko: "맞다.", en: "Right."}
          - text: {ko: "아니요", en: "No"}
            explain: {ko: "아니다.", en: "No."}
        answer: 0
    """
)
YAML_PATH = "lessons/01-sample/lesson.yaml"


@pytest.fixture
def lessons_root(tmp_path: Path) -> Path:
    root = tmp_path / "lessons"
    root.mkdir()
    return root


def write_lesson(
    root: Path,
    yaml_text: str = VALID,
    folder: str = "01-sample",
    bodies: dict[str, str] | None = None,
) -> Path:
    path = root / folder
    path.mkdir()
    (path / "lesson.yaml").write_text(yaml_text, encoding="utf-8")
    for lang, body in (
        bodies if bodies is not None else {"ko": "## 가\n\n내용\n", "en": "## A\n\nText\n"}
    ).items():
        (path / f"{lang}.md").write_text(body, encoding="utf-8")
    return path


def errors_of(root: Path) -> list[str]:
    return [str(error) for error in load_course(root).errors]


def assert_one_error(root: Path, where: str, *words: str) -> None:
    errors = errors_of(root)
    assert len(errors) == 1, errors
    assert errors[0].startswith(where + ":"), errors
    for word in words:
        assert word in errors[0], errors


def test_a_valid_lesson_loads_with_no_errors(lessons_root):
    write_lesson(lessons_root)
    course = load_course(lessons_root)
    assert course.errors == []
    lesson = course.get("sample")
    assert lesson.title.get("ko") == "예시"
    assert [q.id for q in lesson.quiz] == ["q-one", "q-two", "q-three"]
    assert lesson.quiz[1].answer == 1


def test_bad_yaml_reports_the_line_of_the_yaml_error(lessons_root):
    write_lesson(
        lessons_root,
        VALID.replace('title: {ko: "예시", en: "Sample"}', 'title: {ko: "예시", en: "Sample"'),
    )
    errors = errors_of(lessons_root)
    assert len(errors) == 1
    assert errors[0].startswith(f"{YAML_PATH}:4:") or errors[0].startswith(f"{YAML_PATH}:3:"), (
        errors
    )
    assert "invalid YAML" in errors[0]


def test_a_missing_language_file_is_reported(lessons_root):
    write_lesson(lessons_root, bodies={"ko": "## 가\n"})
    assert_one_error(lessons_root, "lessons/01-sample/en.md", "en.md is missing")


def test_an_empty_language_file_is_reported(lessons_root):
    write_lesson(lessons_root, bodies={"ko": "## 가\n", "en": "  \n"})
    assert_one_error(lessons_root, "lessons/01-sample/en.md:1", "empty")


def test_a_duplicate_lesson_id_is_reported(lessons_root):
    write_lesson(lessons_root)
    write_lesson(lessons_root, VALID.replace("order: 1", "order: 2"), folder="02-other")
    assert_one_error(lessons_root, "lessons/02-other/lesson.yaml:1", "id 'sample' is already used")


def test_a_duplicate_order_is_reported(lessons_root):
    write_lesson(lessons_root)
    write_lesson(lessons_root, VALID.replace("id: sample", "id: other"), folder="01-other")
    errors = errors_of(lessons_root)
    assert len(errors) == 1, errors
    assert "order 1 is already used" in errors[0]
    assert ":2:" in errors[0]


def test_a_quiz_answer_out_of_range_is_reported(lessons_root):
    write_lesson(lessons_root, VALID.replace("    answer: 1\n", "    answer: 5\n"))
    assert_one_error(
        lessons_root, f"{YAML_PATH}:21", "quiz[1].answer is 5 but there are only 2 choices"
    )


def test_a_negative_quiz_answer_is_reported(lessons_root):
    write_lesson(lessons_root, VALID.replace("    answer: 1\n", "    answer: -1\n"))
    assert_one_error(lessons_root, f"{YAML_PATH}:21", "quiz[1].answer is -1")


def test_a_non_integer_answer_is_reported(lessons_root):
    write_lesson(lessons_root, VALID.replace("    answer: 1\n", "    answer: yes\n"))
    assert_one_error(lessons_root, f"{YAML_PATH}:21", "quiz[1].answer must be a whole number")


def test_an_unknown_top_level_key_is_reported(lessons_root):
    write_lesson(lessons_root, VALID.replace("order: 1\n", "order: 1\ntitel: oops\n"))
    assert_one_error(lessons_root, f"{YAML_PATH}:3", "unknown key 'titel'")


def test_an_unknown_key_in_a_question_is_reported(lessons_root):
    write_lesson(
        lessons_root, VALID.replace("    answer: 0\n", "    answer: 0\n    hint: nope\n", 1)
    )
    assert_one_error(lessons_root, f"{YAML_PATH}:14", "unknown key 'hint' in quiz[0]")


def test_an_unknown_key_in_a_choice_is_reported(lessons_root):
    broken = VALID.replace(
        '        explain: {ko: "맞다.", en: "Right."}\n',
        '        explain: {ko: "맞다.", en: "Right."}\n        correct: true\n',
        1,
    )
    write_lesson(lessons_root, broken)
    assert_one_error(lessons_root, f"{YAML_PATH}:11", "unknown key 'correct' in quiz[0].choices[0]")


def test_a_text_missing_a_language_is_reported(lessons_root):
    write_lesson(
        lessons_root, VALID.replace('title: {ko: "예시", en: "Sample"}', 'title: {ko: "예시"}')
    )
    assert_one_error(lessons_root, f"{YAML_PATH}:3", "title is missing the 'en' text")


def test_a_text_with_an_unknown_language_is_reported(lessons_root):
    write_lesson(
        lessons_root,
        VALID.replace(
            'summary: {ko: "요약", en: "Summary"}',
            'summary: {ko: "요약", en: "Summary", ja: "要約"}',
        ),
    )
    assert_one_error(lessons_root, f"{YAML_PATH}:4", "unknown key 'ja' in summary")


def test_a_plain_string_where_a_text_mapping_belongs_is_reported(lessons_root):
    write_lesson(
        lessons_root, VALID.replace('title: {ko: "예시", en: "Sample"}', 'title: "Sample"')
    )
    assert_one_error(lessons_root, f"{YAML_PATH}:3", "title must be a mapping")


def test_fewer_than_three_questions_is_reported(lessons_root):
    two_questions = VALID[: VALID.index("  - id: q-three")]
    write_lesson(lessons_root, two_questions)
    assert_one_error(lessons_root, f"{YAML_PATH}:6", "quiz has 2 questions; give at least 3")


def test_a_duplicate_question_id_is_reported(lessons_root):
    write_lesson(lessons_root, VALID.replace("id: q-three", "id: q-one"))
    assert_one_error(
        lessons_root, f"{YAML_PATH}:22", "quiz[2].id 'q-one' is already used by quiz[0]"
    )


def test_a_bad_lesson_id_is_reported(lessons_root):
    write_lesson(lessons_root, VALID.replace("id: sample", "id: Self_Healing"))
    assert_one_error(lessons_root, f"{YAML_PATH}:1", "id 'Self_Healing' must use lowercase letters")


def test_a_bad_question_id_is_reported(lessons_root):
    write_lesson(lessons_root, VALID.replace("id: q-two", "id: 'q two'"))
    assert_one_error(lessons_root, f"{YAML_PATH}:14", "quiz[1].id 'q two' must use lowercase")


def test_a_folder_number_that_does_not_match_order_is_reported(lessons_root):
    write_lesson(lessons_root, folder="03-sample")
    assert_one_error(
        lessons_root,
        "lessons/03-sample/lesson.yaml:2",
        "order is 1 but the folder name starts with 03",
    )


def test_a_folder_without_a_number_is_reported(lessons_root):
    write_lesson(lessons_root, folder="sample")
    assert_one_error(lessons_root, "lessons/sample/lesson.yaml", "must be named NN-slug")


def test_a_missing_required_key_is_reported(lessons_root):
    write_lesson(lessons_root, VALID.replace('title: {ko: "예시", en: "Sample"}\n', ""))
    assert_one_error(lessons_root, f"{YAML_PATH}:1", "lesson.yaml is missing 'title'")


def test_a_repeated_key_is_reported(lessons_root):
    write_lesson(lessons_root, VALID.replace("order: 1\n", "order: 1\norder: 2\n"))
    assert_one_error(lessons_root, f"{YAML_PATH}:3", "has the key 'order' twice")


def test_too_few_choices_is_reported(lessons_root):
    one_choice = VALID.replace(
        '      - text: {ko: "아니요", en: "No"}\n        explain: {ko: "아니다.", en: "No."}\n    answer: 0\n  - id: q-two',
        "    answer: 0\n  - id: q-two",
    )
    write_lesson(lessons_root, one_choice)
    assert_one_error(lessons_root, f"{YAML_PATH}:9", "quiz[0] has 1 choices; give 2 to 6")


def test_an_unknown_diagram_is_reported(lessons_root):
    write_lesson(lessons_root, VALID.replace("order: 1\n", "order: 1\ndiagram: four-eras\n"))
    assert_one_error(lessons_root, f"{YAML_PATH}:3", "diagram 'four-eras' does not exist")


def test_a_valid_playground_block_is_parsed_onto_the_lesson(lessons_root):
    write_lesson(
        lessons_root,
        VALID
        + textwrap.dedent(
            """\
            playground:
              scenario: web
              exercises:
                - id: replace-a-pod
                  title: {ko: "파드 교체", en: "Replace a pod"}
                  prompt: {ko: "파드를 지워 보자.", en: "Delete a pod."}
                  goal: {replaced: {selector: app=web}}
                  hints:
                    - {ko: "파드 삭제 버튼", en: "The Delete pod button"}
                  solution:
                    - delete_pod: {selector: app=web}
                    - fault: {selector: app=web, fault: readiness, on: false}
                    - advance: 10
            """
        ),
    )
    course = load_course(lessons_root)
    assert course.errors == []
    playground = course.get("sample").playground
    assert playground.scenario == "web"
    exercise = playground.exercise("replace-a-pod")
    assert exercise.goal == {"replaced": {"selector": "app=web"}}
    assert exercise.solution[1] == {"fault": {"selector": "app=web", "fault": "readiness",
                                              "on": False}}
    assert exercise.hints[0].en == "The Delete pod button"


def test_an_empty_playground_mapping_means_none_yet(lessons_root):
    write_lesson(lessons_root, VALID + "playground: {}\n")
    course = load_course(lessons_root)
    assert course.errors == []
    assert course.get("sample").playground is None


def test_a_playground_that_is_not_a_mapping_is_reported(lessons_root):
    write_lesson(lessons_root, VALID + "playground: web\n")
    assert_one_error(lessons_root, f"{YAML_PATH}:30", "playground must be a mapping")


def test_a_glossary_term_with_an_unknown_key_is_reported(lessons_root):
    write_lesson(lessons_root)
    (lessons_root / "glossary.yaml").write_text(
        'terms:\n  - id: pod\n    term: {ko: "파드", en: "Pod"}\n    definition: {ko: "가", en: "A"}\n    see: node\n',
        encoding="utf-8",
    )
    assert_one_error(lessons_root, "lessons/glossary.yaml:5", "unknown key 'see' in terms[0]")


def test_a_duplicate_glossary_term_is_reported(lessons_root):
    write_lesson(lessons_root)
    term = '  - id: pod\n    term: {ko: "파드", en: "Pod"}\n    definition: {ko: "가", en: "A"}\n'
    (lessons_root / "glossary.yaml").write_text("terms:\n" + term + term, encoding="utf-8")
    assert_one_error(lessons_root, "lessons/glossary.yaml:5", "terms[1].id 'pod' is used twice")


def test_a_broken_lesson_does_not_hide_the_valid_ones(lessons_root):
    write_lesson(lessons_root)
    write_lesson(lessons_root, "id: [unclosed\n", folder="02-broken")
    course = load_course(lessons_root)
    assert [lesson.id for lesson in course.lessons] == ["sample"]
    assert len(course.errors) == 1


def test_every_lesson_loads_in_both_languages():
    course = load_course(settings.LESSONS_DIR)
    assert [str(error) for error in course.errors] == []
    for lesson in course.lessons:
        for lang in LANGS:
            page = course.rendered(lesson, lang)
            assert page.html.strip(), f"{lesson.id} has an empty {lang} page"
            assert lesson.title.get(lang)
        assert len(lesson.quiz) >= 3


def test_system_check_fails_for_a_broken_lessons_folder(lessons_root, settings):
    write_lesson(lessons_root, VALID.replace("    answer: 1\n", "    answer: 5\n"))
    settings.LESSONS_DIR = lessons_root
    with pytest.raises(SystemCheckError) as raised:
        call_command("check", fail_level="WARNING")
    assert f"{YAML_PATH}:21:13: quiz[1].answer is 5 but there are only 2 choices" in str(raised.value)


def test_system_check_passes_for_valid_lessons(settings):
    settings.LESSONS_DIR = Path(__file__).parent / "fixture_lessons"
    call_command("check")


def test_debug_reload_keeps_the_last_good_lessons_when_an_edit_breaks_them(
    lessons_root, settings, caplog
):
    write_lesson(lessons_root)
    settings.LESSONS_DIR = lessons_root
    settings.DEBUG = True
    clear_cache()
    assert get_course().get("sample").title.en == "Sample"
    yaml_file = lessons_root / "01-sample" / "lesson.yaml"

    yaml_file.write_text("id: [broken\n", encoding="utf-8")
    _touch_later(yaml_file, 2)
    with caplog.at_level(logging.ERROR):
        course = get_course()
    assert course.get("sample").title.en == "Sample"
    assert "lessons/01-sample/lesson.yaml:" in caplog.text

    yaml_file.write_text(VALID.replace('en: "Sample"', 'en: "Fixed"'), encoding="utf-8")
    _touch_later(yaml_file, 4)
    assert get_course().get("sample").title.en == "Fixed"


def test_without_debug_the_lessons_are_loaded_once(lessons_root, settings):
    write_lesson(lessons_root)
    settings.LESSONS_DIR = lessons_root
    settings.DEBUG = False
    clear_cache()
    first = get_course()
    (lessons_root / "01-sample" / "lesson.yaml").write_text("id: [broken\n", encoding="utf-8")
    assert get_course() is first


def _touch_later(path: Path, seconds: int) -> None:
    stat = path.stat()
    later = stat.st_mtime_ns + seconds * 1_000_000_000
    os.utime(path, ns=(later, later))


def test_compilecatalogue_writes_mo_files(tmp_path):
    po_dir = tmp_path / "ko" / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": "ko"}
    po.append(polib.POEntry(msgid="Next lesson", msgstr="다음 단원"))
    po.save(str(po_dir / "django.po"))
    assert compile_catalogues([tmp_path]) == [po_dir / "django.mo"]
    mo = polib.mofile(str(po_dir / "django.mo"))
    assert mo.find("Next lesson").msgstr == "다음 단원"
    assert compile_catalogues([tmp_path]) == []  # up to date: nothing to do


def test_the_korean_catalogue_is_complete():
    po = polib.pofile(str(Path(settings.BASE_DIR) / "locale" / "ko" / "LC_MESSAGES" / "django.po"))
    assert po.untranslated_entries() == []
    assert [entry.msgid for entry in po.fuzzy_entries()] == []


def test_the_example_lesson_in_the_readme_is_valid(lessons_root):
    readme = (Path(settings.BASE_DIR) / "lessons" / "README.md").read_text(encoding="utf-8")
    example = readme[readme.index("# A complete example") :]
    lesson_yaml = re.search(r"```yaml\n(.*?)```", example, re.S).group(1)
    ko_md, en_md = re.findall(r"````markdown\n(.*?)````", example, re.S)
    folder = lessons_root / "04-self-healing"
    folder.mkdir()
    (folder / "lesson.yaml").write_text(lesson_yaml, encoding="utf-8")
    (folder / "ko.md").write_text(ko_md, encoding="utf-8")
    (folder / "en.md").write_text(en_md, encoding="utf-8")
    course = load_course(lessons_root)
    assert [str(error) for error in course.errors] == []
    assert course.get("self-healing").quiz[1].answer == 1

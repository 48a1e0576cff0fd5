"""What the site does for authors: the live preview token, the problems panel and the errors
page under DEBUG, lessons from LESSON_DIRS on the course map, and images next to a lesson."""

from __future__ import annotations

import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from k8slearn.courses.loader import clear_cache
from k8slearn.playground import sandboxes

pytestmark = pytest.mark.django_db(transaction=True)  # lesson pages open a sandbox


@pytest.fixture(autouse=True)
def _fresh_registry(settings):
    settings.PLAYGROUND_TICKER = False
    sandboxes.reset_registry()
    yield
    sandboxes.reset_registry()

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@pytest.fixture
def course(tmp_path: Path, settings):
    """An instructor's folder with one scaffolded lesson, served next to the built-in ones."""
    call_command("lessons", "new", "demo", "--dir", str(tmp_path), stdout=StringIO())
    settings.LESSON_DIRS = [tmp_path]
    settings.DEBUG = True
    clear_cache()
    yield tmp_path / "01-demo"
    clear_cache()


def touch_later(path: Path, seconds: int = 2) -> None:
    stat = path.stat()
    later = stat.st_mtime_ns + seconds * 1_000_000_000
    os.utime(path, ns=(later, later))


def test_the_preview_token_changes_when_a_lesson_file_changes(client, course):
    first = client.get("/dev/lessons/token").content
    assert client.get("/dev/lessons/token").content == first
    (course / "ko.md").write_text("## 바뀐 글\n\n새 내용이다.\n", encoding="utf-8")
    touch_later(course / "ko.md")
    assert client.get("/dev/lessons/token").content != first


def test_without_debug_there_is_no_preview(client, course, settings):
    settings.DEBUG = False
    assert client.get("/dev/lessons/token").status_code == 404
    page = client.get("/ko/lessons/demo/").content.decode()
    assert "preview.js" not in page and "author-problems" not in page


def test_a_lesson_page_under_debug_polls_and_lists_its_problems(client, course):
    page = client.get("/en/lessons/demo/").content.decode()
    assert 'data-preview-url="/dev/lessons/token"' in page
    assert "author-problems" not in page  # the scaffold has none
    body = (course / "en.md").read_text(encoding="utf-8")
    (course / "en.md").write_text(body + "\n![](missing.png)\n", encoding="utf-8")
    touch_later(course / "en.md")
    page = client.get("/en/lessons/demo/").content.decode()
    assert 'data-testid="author-problems"' in page
    assert "01-demo/en.md:" in page and "image without alt text" in page


def test_a_lesson_that_never_loaded_shows_its_errors_instead_of_a_404(client, course):
    (course / "lesson.yaml").write_text("id: demo\norder: [1\n", encoding="utf-8")
    response = client.get("/ko/lessons/demo/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "01-demo/lesson.yaml:" in page and "invalid YAML" in page
    assert 'data-preview-url="/dev/lessons/token"' in page  # fixing it reloads the page
    other = client.get("/ko/lessons/nothing-like-this/")  # 404, but it lists every error
    assert other.status_code == 404 and "01-demo/lesson.yaml:" in other.content.decode()
    course_map = client.get("/ko/").content.decode()
    assert 'data-testid="author-errors"' in course_map


def test_a_broken_edit_keeps_the_last_good_version_with_the_errors_on_top(client, course):
    assert "Delete a pod" in client.get("/en/lessons/demo/").content.decode()
    good = (course / "lesson.yaml").read_text(encoding="utf-8")
    (course / "lesson.yaml").write_text(good.replace("answer: 0", "answer: 7"), encoding="utf-8")
    touch_later(course / "lesson.yaml")
    page = client.get("/en/lessons/demo/").content.decode()
    assert "Delete a pod" in page
    assert "answer is 7 but there are only 2 choices" in page
    assert "Kubernetes overview" in client.get("/en/").content.decode()  # still both folders


def test_the_course_map_heads_each_lessons_folder(client, course):
    page = client.get("/en/").content.decode()
    assert page.count('data-testid="lesson-section"') == 2
    assert "Kubernetes overview" in page and course.parent.name in page
    assert page.index("what-is-kubernetes") < page.index("/en/lessons/demo/")


def test_an_image_next_to_the_lesson_is_served_and_nothing_else_is(client, course):
    (course / "diagram.png").write_bytes(PNG)
    (course.parent / "outside.png").write_bytes(PNG)  # not in the lesson's folder
    response = client.get("/lessons/demo/files/diagram.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    assert "sandbox" in response["Content-Security-Policy"]
    for name in ("lesson.yaml", "ko.md", "../outside.png", "%2e%2e/outside.png",
                 "..%2foutside.png", "/etc/hostname", "nothing.png"):
        assert client.get(f"/lessons/demo/files/{name}").status_code == 404, name
    assert client.get("/lessons/nope/files/diagram.png").status_code == 404


def test_a_choice_without_an_explanation_still_gets_an_answer(client, course):
    text = (course / "lesson.yaml").read_text(encoding="utf-8")
    start = text.index("        explain:\n          ko: \"맞다. 레플리카셋이")
    end = text.index("      - text: {ko: \"kubelet\"")
    (course / "lesson.yaml").write_text(text[:start] + text[end:], encoding="utf-8")
    touch_later(course / "lesson.yaml")
    response = client.post("/en/lessons/demo/quiz/who-replaces/", {"answer": "1"},
                           HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200
    assert "The right answer is “The ReplicaSet”." in page

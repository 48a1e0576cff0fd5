"""Authoring in Chromium: the live preview under DEBUG and the runnable blocks of a lesson.

A second Daphne runs with DEBUG on (tests/e2e/preview_settings.py), BUILTIN_LESSONS=0 and
LESSON_DIRS pointing at a temporary copy of tests/web/fixture_lessons plus a lesson made by
`manage.py lessons new demo` (scenario `web`, a ```kubectl block and a ```cluster block). The tests
edit files in that copy only, each puts back what it changed, and the server stops at the end of
this module.

The preview polls the lessons' token every second, so every wait on a reload is a web-first
assertion with a timeout of a few seconds; there is no sleep. Files are changed the way an editor
saves them atomically (write next door, then rename), so the server never reads half a file.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from live import LIVE_TIMEOUT, WS_PROBE, wait_live
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from servers import ROOT, Server, run_daphne, server_env

FIXTURE_LESSONS = ROOT / "tests" / "web" / "fixture_lessons"
RELOAD_TIMEOUT = 8_000  # ms: one poll (1 s) + the reload, with room for a busy machine
SCROLL_Y = 1500  # px: where the author was reading on the tall lesson page
SETTLE_TIMEOUT = 20_000  # ms

FIRST_STEPS = "/ko/lessons/first-steps/"
DEMO = "/ko/lessons/demo/"
COURSE_MAP = "/ko/"


@dataclass
class Preview:
    server: Server
    lessons: Path  # the lessons folder the server serves (a temporary copy)
    scratch: Path  # outside the lessons folder: files are written here, then renamed in

    def write(self, relative: str, text: str) -> None:
        """Save a lesson file atomically, as an editor does."""
        target = self.lessons / relative
        temp = self.scratch / f"{target.name}.tmp"
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, target)

    def add_folder(self, name: str, files: dict[str, str]) -> Path:
        """A whole lesson folder appears at once (made next door, then renamed in)."""
        staged = self.scratch / name
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir()
        for file_name, text in files.items():
            (staged / file_name).write_text(text, encoding="utf-8")
        target = self.lessons / name
        os.rename(staged, target)
        return target


@pytest.fixture(scope="module")
def preview(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Preview]:
    """Daphne with DEBUG on, serving only a temporary lessons folder; stopped after the module."""
    from django.core.management import call_command

    workdir = tmp_path_factory.mktemp("e2e-preview")
    lessons = workdir / "lessons"
    shutil.copytree(FIXTURE_LESSONS, lessons)
    call_command("lessons", "new", "demo", dir=lessons, order=3, stdout=io.StringIO())
    # A tall page: the author reads somewhere far down the lesson when saving.
    first_ko = lessons / "01-first-steps" / "ko.md"
    filler = "\n".join(
        f"## 긴 절 {n}\n\n" + "파드는 함께 실행되는 컨테이너 묶음이다. " * 12 + "\n"
        for n in range(1, 21)
    )
    first_ko.write_text(first_ko.read_text(encoding="utf-8") + "\n" + filler, encoding="utf-8")
    first_en = lessons / "01-first-steps" / "en.md"
    filler_en = "\n".join(f"## Long section {n}\n\nPods run containers.\n" for n in range(1, 21))
    first_en.write_text(first_en.read_text(encoding="utf-8") + "\n" + filler_en, encoding="utf-8")
    scratch = workdir / "scratch"
    scratch.mkdir()

    env = server_env(
        "tests.e2e.preview_settings",
        K8SLEARN_E2E_STATIC_ROOT=str(workdir / "static"),
        BUILTIN_LESSONS="0",
        LESSON_DIRS=str(lessons),
    )
    with run_daphne(env, workdir / "server.log") as server:
        yield Preview(server, lessons, scratch)


@pytest.fixture
def browser_context_args(preview: Preview) -> dict[str, Any]:
    """Pages of this module resolve `page.goto("/ko/")` against the preview server."""
    return {"base_url": preview.server.url}


@pytest.fixture(autouse=True)
def _e2e_test(
    transactional_db: None, preview: Preview, request: pytest.FixtureRequest
) -> Iterator[None]:
    """Replaces conftest's: this module's server is the preview server (and the other one is
    not needed). Shows its log when a test fails."""
    start = preview.server.log_size()
    yield
    report = getattr(request.node, "_e2e_call_report", None)
    if report is not None and report.failed:
        print(f"\n--- preview server log during {request.node.name} ---\n"
              f"{preview.server.log_text(start)}")
    if preview.server.process.poll() is not None:
        pytest.fail(
            f"the preview server died (exit code {preview.server.process.returncode})\n"
            f"{preview.server.log_text(start)}",
            pytrace=False,
        )


class Editor:
    """Saves lesson files for a test and puts their first text back after it."""

    def __init__(self, preview: Preview) -> None:
        self.preview = preview
        self.originals: dict[str, str] = {}

    def read(self, relative: str) -> str:
        return (self.preview.lessons / relative).read_text(encoding="utf-8")

    def write(self, relative: str, text: str) -> None:
        self.originals.setdefault(relative, self.read(relative))
        self.preview.write(relative, text)

    def restore(self) -> None:
        for relative, text in self.originals.items():
            self.preview.write(relative, text)


@pytest.fixture
def editor(preview: Preview) -> Iterator[Editor]:
    edits = Editor(preview)
    yield edits
    edits.restore()


def mark_page(page: Page) -> None:
    """A flag that only this document has: gone after a reload."""
    page.evaluate("window.__beforeReload = true")


def wait_reloaded(page: Page) -> None:
    page.wait_for_function("() => window.__beforeReload !== true", timeout=RELOAD_TIMEOUT)


def preview_script(page: Page) -> None:
    script = page.locator("script[data-preview-token]")
    expect(script).to_have_count(1)
    expect(script).to_have_attribute("data-preview-url", "/dev/lessons/token")
    expect(script).to_have_attribute("src", re.compile(r"/js/preview\.js$"))


# --------------------------------------------------------------------------- live preview


def scroll_to(page: Page, y: int) -> None:
    page.evaluate(f"window.scrollTo(0, {y})")
    page.wait_for_function(f"window.scrollY === {y}", timeout=LIVE_TIMEOUT)


def expect_scroll_near(page: Page, y: int) -> None:
    try:
        page.wait_for_function(f"Math.abs(window.scrollY - {y}) <= 50", timeout=RELOAD_TIMEOUT)
    except PlaywrightTimeoutError:
        now = page.evaluate("window.scrollY")
        pytest.fail(f"after the reload the page is at {now} px, not near {y} px")
    page.wait_for_load_state("load")  # the load event's scrollTo does not move it elsewhere
    now = page.evaluate("window.scrollY")
    assert abs(now - y) <= 50, f"the page should stay near {y} px, it is at {now}"


def test_edited_markdown_shows_without_a_reload_at_the_same_scroll_position(
    page: Page, editor: Editor
) -> None:
    page.goto(FIRST_STEPS)
    preview_script(page)
    expect(page.get_by_test_id("author-problems")).to_have_count(0)
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height > 2 * SCROLL_Y + 1500, f"the lesson page should be tall, it is {height} px"
    body = page.locator(".lesson__body")
    text = editor.read("01-first-steps/ko.md")
    old = "쿠버네티스는 컨테이너를 관리한다."
    assert old in text

    # Two saves in a row. Chromium restores the scroll position of a reload by itself the first
    # time; preview.js then turns that off (history.scrollRestoration = "manual"), so from the
    # second save on the position comes back only through preview.js's sessionStorage.
    for n, y in enumerate((SCROLL_Y, 2 * SCROLL_Y), start=1):
        scroll_to(page, y)
        mark_page(page)
        changed = f"방금 고친 문장 {n}번이 바로 보인다."
        editor.write("01-first-steps/ko.md", text.replace(old, changed))
        expect(body).to_contain_text(changed, timeout=RELOAD_TIMEOUT)
        expect(body).not_to_contain_text(old)
        wait_reloaded(page)  # a reload, not some other update
        expect_scroll_near(page, y)


def test_broken_lesson_yaml_shows_the_errors_with_the_last_good_lesson_until_fixed(
    page: Page, editor: Editor
) -> None:
    page.goto(FIRST_STEPS)
    preview_script(page)
    title = page.locator("#lesson-title")
    expect(title).to_have_text("첫걸음")
    panel = page.get_by_test_id("author-problems")
    expect(panel).to_have_count(0)
    mark_page(page)

    good = editor.read("01-first-steps/lesson.yaml")
    assert good.splitlines()[1] == "order: 1"
    editor.write("01-first-steps/lesson.yaml", good.replace("order: 1\n", "order: 1: 2\n", 1))

    expect(panel).to_be_visible(timeout=RELOAD_TIMEOUT)
    wait_reloaded(page)
    expect(panel).to_contain_text(re.compile(r"01-first-steps/lesson\.yaml:2:\d+"))
    expect(panel).to_contain_text("invalid YAML")
    # The last good version of the lesson is still served under the panel.
    expect(title).to_have_text("첫걸음")
    expect(page.locator(".lesson__body")).to_contain_text("쿠버네티스는 컨테이너를 관리한다.")

    mark_page(page)
    editor.write("01-first-steps/lesson.yaml", good)
    expect(panel).to_have_count(0, timeout=RELOAD_TIMEOUT)
    wait_reloaded(page)
    expect(title).to_have_text("첫걸음")


def test_a_lesson_that_never_loaded_shows_its_errors_then_itself_once_fixed(
    page: Page, preview: Preview
) -> None:
    good = (
        (preview.lessons / "01-first-steps" / "lesson.yaml")
        .read_text(encoding="utf-8")
        .replace("id: first-steps", "id: late-lesson")
        .replace("order: 1\n", "order: 5\n")
        .replace('"첫걸음"', '"늦게 온 단원"')
    )
    broken = good.replace("order: 5\n", "order: 5: 2\n")
    body = "## 늦게 온 단원\n\n고친 뒤에 보인다.\n"
    folder = preview.add_folder(
        "05-late-lesson",
        {"lesson.yaml": broken, "ko.md": body, "en.md": "## Late\n\nShown once fixed.\n"},
    )
    try:
        response = page.goto("/ko/lessons/late-lesson/")
        assert response is not None and response.status != 404
        preview_script(page)
        panel = page.get_by_test_id("author-problems")
        expect(panel).to_be_visible()
        expect(panel).to_contain_text(re.compile(r"05-late-lesson/lesson\.yaml:2:\d+"))
        expect(page.locator("#lesson-title")).to_have_count(0)
        mark_page(page)

        preview.write("05-late-lesson/lesson.yaml", good)
        expect(page.locator("#lesson-title")).to_have_text("늦게 온 단원", timeout=RELOAD_TIMEOUT)
        wait_reloaded(page)
        expect(panel).to_have_count(0)
        expect(page.locator(".lesson__body")).to_contain_text("고친 뒤에 보인다.")
    finally:
        shutil.rmtree(folder)


def test_a_new_lesson_folder_appears_on_the_open_course_map(page: Page, preview: Preview) -> None:
    page.goto(COURSE_MAP)
    preview_script(page)
    cards = page.get_by_test_id("lesson-card")
    expect(cards).to_have_count(3)  # first-steps, three-eras, demo
    new_card = page.locator("[data-testid=lesson-card][data-lesson-id=fresh-lesson]")
    expect(new_card).to_have_count(0)
    mark_page(page)

    lesson_yaml = (
        (preview.lessons / "01-first-steps" / "lesson.yaml")
        .read_text(encoding="utf-8")
        .replace("id: first-steps", "id: fresh-lesson")
        .replace("order: 1\n", "order: 4\n")
        .replace('"첫걸음"', '"갓 쓴 단원"')
    )
    folder = preview.add_folder(
        "04-fresh-lesson",
        {"lesson.yaml": lesson_yaml, "ko.md": "## 새 단원\n\n새 글.\n",
         "en.md": "## New\n\nNew text.\n"},
    )
    try:
        expect(new_card).to_be_visible(timeout=RELOAD_TIMEOUT)
        wait_reloaded(page)
        expect(new_card).to_contain_text("갓 쓴 단원")
        expect(cards).to_have_count(4)
        expect(page.get_by_test_id("author-errors")).to_have_count(0)
    finally:
        shutil.rmtree(folder)


# --------------------------------------------------------------------------- runnable blocks


@pytest.fixture
def live_page(page: Page) -> Iterator[Page]:
    page.add_init_script(WS_PROBE)
    yield page


def pod_names(page: Page) -> list[str]:
    return page.locator("[data-testid=pod]").evaluate_all("els => els.map(e => e.dataset.name)")


def test_run_buttons_type_kubectl_and_act_on_the_playground(live_page: Page) -> None:
    page = live_page
    page.goto(DEMO)
    wait_live(page)

    run = page.locator(".runnable .run-btn[data-run-kubectl]")
    expect(run).to_have_count(1)
    expect(run).to_be_visible()
    assert run.get_attribute("data-run-kubectl") == '["kubectl get pods"]'
    output = page.locator("#terminal-output")
    expect(output).not_to_contain_text("NAME")
    before = pod_names(page)
    assert len(before) == 3, before

    run.click()
    expect(output).to_contain_text(
        re.compile(r"NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE"), timeout=LIVE_TIMEOUT
    )
    expect(output).to_contain_text(before[0])

    # Stop the clock: only the block's own "advance 10 s" button may move the cluster on.
    page.get_by_role("button", name="일시 정지", exact=True).click()
    expect(page.get_by_role("button", name="재생", exact=True)).to_be_visible(timeout=LIVE_TIMEOUT)

    block = page.get_by_test_id("run-block")
    expect(block).to_be_visible()
    actions = block.get_by_test_id("run-action")
    expect(actions).to_have_count(2)
    delete = actions.filter(has_text="파드 삭제: app=web")
    advance = actions.filter(has_text="10초 진행")
    expect(delete).to_have_attribute(
        "data-run-action", '{"action":"delete-pod","selector":"app=web"}'
    )
    expect(advance).to_have_attribute("data-run-action", '{"action":"advance","seconds":10}')
    goal = page.locator("#goal-replace-a-pod")
    expect(goal).to_have_attribute("data-reached", "false")

    delete.click()
    advance.click()

    newcomer = page.locator(
        "[data-testid=pod]" + "".join(f":not([data-name='{n}'])" for n in before)
    )
    expect(newcomer).to_have_count(1, timeout=SETTLE_TIMEOUT)
    expect(newcomer).to_have_attribute("data-status", "Running", timeout=SETTLE_TIMEOUT)
    expect(goal).to_have_attribute("data-reached", "true", timeout=SETTLE_TIMEOUT)
    expect(page.locator("[data-testid=pod]")).to_have_count(3, timeout=SETTLE_TIMEOUT)
    # Still paused: the replacement came from the block's button, not from the running clock.
    expect(page.get_by_role("button", name="재생", exact=True)).to_be_visible()


def test_run_buttons_stay_hidden_without_a_playground(page: Page) -> None:
    page.goto(FIRST_STEPS)
    page.wait_for_load_state("load")
    expect(page.get_by_test_id("sandbox")).to_have_count(0)
    run = page.locator(".runnable .run-btn[data-run-kubectl]")
    expect(run).to_have_count(1)
    expect(run).to_be_hidden()
    expect(page.locator(".runnable pre")).to_contain_text("kubectl get pods")

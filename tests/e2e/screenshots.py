"""Screenshots of k8slearn for the README and for looking at the pages as a learner would.

    .venv/bin/python tests/e2e/screenshots.py                 # review set into /tmp/shots/
    .venv/bin/python tests/e2e/screenshots.py --readme        # docs/screenshot-*.png only
    make screenshots                                          # both

Starts Daphne on a free port with a temporary, migrated SQLite database (the dev database is
not touched), reads lesson 1 and answers its first question so the course map shows progress,
then photographs the course map, lessons 1 and 2, the eras diagram and the glossary in Korean
and English at 1280 x 800, 360 x 740 (phone) and 1920 x 1080 (classroom projector).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

VIEWPORTS = {"1280": (1280, 800), "360": (360, 740), "1920": (1920, 1080)}
PAGES = {
    "course-map": "/{lang}/",
    "lesson-1": "/{lang}/lessons/what-is-kubernetes/",
    "lesson-2": "/{lang}/lessons/deployment-eras/",
    "glossary": "/{lang}/glossary/",
    "play": "/{lang}/play/",
    "lesson-4": "/{lang}/lessons/self-healing/",
}
LIVE = ("play", "lesson-4")  # pages with a live board: wait for the socket's first frame


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'shots.sqlite3'}"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    subprocess.run(  # an instructor for the presenter view
        [sys.executable, "manage.py", "instructor", "kim", "--password-stdin"],
        cwd=ROOT, env=env, check=True, input=f"{INSTRUCTOR_PASSWORD}\n".encode(),
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    port = free_port()
    log = (tmp / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "k8slearn.asgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"http://127.0.0.1:{port}"
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"Daphne did not start:\n{(tmp / 'server.log').read_text()}")


INSTRUCTOR_PASSWORD = "screenshots-only-Pass-1"


def presenter(browser: Any, base_url: str) -> None:
    """The presenter view on a 1920×1080 projector, a class of two, chaos mode on."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.goto("/ko/accounts/login/")
    page.fill("#id_username", "kim")
    page.fill("#id_password", INSTRUCTOR_PASSWORD)
    page.click("main button[type=submit]")
    page.select_option("#lesson", "self-healing")
    page.get_by_test_id("open-class").click()
    wait_board(page)
    code = page.get_by_test_id("class-code").inner_text().replace(" ", "")
    for name in ("민지", "Jun"):
        student = browser.new_context(base_url=base_url).new_page()
        student.goto(f"/ko/join/{code}/")
        student.fill("#nickname", name)
        student.click("main button[type=submit]")
        wait_board(student)
    page.get_by_test_id("chaos-toggle").click()
    page.locator("[data-testid=pod][data-status=Running]").first.click()
    page.locator("[data-testid=pod][data-status=Terminating], .pg-pod--gone").first.wait_for()
    settle(page)
    page.screenshot(path=ROOT / "docs" / "screenshot-presenter.png")
    context.close()


def make_progress(page: Page, lang: str) -> None:
    """Read lesson 1 and answer its first question, so the course map shows a read lesson."""
    page.goto(PAGES["lesson-1"].format(lang=lang))
    question = page.get_by_test_id("quiz-question").first
    question.get_by_role("radio").first.check()
    question.get_by_role("button").click()
    question.get_by_test_id("quiz-result").wait_for()


def settle(page: Page) -> None:
    page.evaluate("document.fonts.ready")


def wait_board(page: Page) -> None:
    page.locator("[data-testid=pod][data-status=Running]").first.wait_for()
    page.wait_for_function("document.querySelector('[data-testid=sandbox]')"
                           " && window.htmx !== undefined")


def rollout_midway(page: Page) -> None:
    """/ko/play/: pause, roll web out to nginx:1.26 and step until two revisions run at once."""
    page.goto("/ko/play/")
    wait_board(page)
    page.locator("#time-controls form:has(input[value=pause]) button").click()
    page.locator("#time-controls form:has(input[value=play])").wait_for()
    web = page.locator("[data-testid=deployment][data-name=web]")
    web.locator("input[name=image][type=text]").fill("nginx:1.26")
    web.locator("form:has(input[name=image][type=text]) button").click()
    page.locator("#terminal-output .pg-term__cmd").first.wait_for()
    for n in range(1, 4):  # each step is one reconcile round or the next timer
        page.locator("#time-controls form:has(input[value=step]) button").click()
        page.locator("#terminal-output .pg-term__cmd").nth(n).wait_for()
    page.locator(".pg-rs").nth(1).wait_for()
    settle(page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/shots"))
    parser.add_argument("--readme", action="store_true", help="write docs/screenshot-*.png only")
    parser.add_argument("--all", action="store_true", help="the review set and the README ones")
    args = parser.parse_args()
    review = args.all or not args.readme
    readme = args.all or args.readme

    with tempfile.TemporaryDirectory(prefix="k8slearn-shots-") as tmp_name:
        process, base_url = start_server(Path(tmp_name))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                if readme:
                    context = browser.new_context(
                        base_url=base_url, viewport={"width": 1280, "height": 800}
                    )
                    page = context.new_page()
                    make_progress(page, "ko")
                    page.goto("/ko/")
                    settle(page)
                    page.screenshot(path=ROOT / "docs" / "screenshot-course-map.png")
                    page.goto(PAGES["lesson-2"].format(lang="ko"))
                    page.get_by_test_id("three-eras").scroll_into_view_if_needed()
                    page.get_by_test_id("three-eras").get_by_role("checkbox").check()
                    settle(page)
                    page.get_by_test_id("three-eras").screenshot(
                        path=ROOT / "docs" / "screenshot-eras-diagram.png"
                    )
                    rollout_midway(page)
                    page.locator("#board").screenshot(path=ROOT / "docs" / "screenshot-playground.png")
                    context.close()
                    presenter(browser, base_url)
                if review:
                    args.out.mkdir(parents=True, exist_ok=True)
                    for lang in ("ko", "en"):
                        for size, (width, height) in VIEWPORTS.items():
                            context = browser.new_context(
                                base_url=base_url, viewport={"width": width, "height": height}
                            )
                            page = context.new_page()
                            make_progress(page, lang)
                            for name, path in PAGES.items():
                                page.goto(path.format(lang=lang))
                                if name in LIVE:
                                    wait_board(page)
                                settle(page)
                                stem = f"{name}-{lang}-{size}"
                                page.screenshot(path=args.out / f"{stem}.png")
                                page.screenshot(path=args.out / f"{stem}-full.png", full_page=True)
                                if name == "lesson-2":
                                    diagram = page.get_by_test_id("three-eras")
                                    diagram.get_by_role("checkbox").check()
                                    diagram.screenshot(path=args.out / f"diagram-{lang}-{size}.png")
                            context.close()
                    print(f"screenshots in {args.out}")
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()

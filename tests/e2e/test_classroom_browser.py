"""A class in Chromium: one instructor and two students, each in their own browser context.

The instructor logs in through the form, opens a class for lesson 4 (self-healing) and drives
the presenter's cluster on the projector page; the students join with the code (typed, or the
QR code's link) and follow that cluster live and read-only; one does an exercise in their own
sandbox and the instructor's dashboard shows it live; the other copies the presenter's cluster
("Try it myself"). The same features are tested at the consumer level in
tests/web/test_classroom.py; here they run through real pages, sockets and htmx swaps.

Waits are Playwright's web-first assertions (or `wait_for_function`), each with a timeout; no
sleep. Screenshots for a human look: set K8SLEARN_E2E_SHOTS to a folder (e.g. /tmp/cls-shots).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from axe_report import blocking, describe
from django.core.management import call_command
from live import LIVE_TIMEOUT, WS_PROBE, wait_live
from playwright.sync_api import BrowserContext, Locator, Page, expect

LESSON = "self-healing"
EXERCISE = "replace-a-pod"
USERNAME = "kim"
PASSWORD = "a-long-Pass-phrase-1"
CODE_RE = r"[A-HJ-KM-NP-Z2-9]{6}"  # codes.py: no 0, 1, O, I, L
READ_ONLY = "You can only watch the instructor's cluster"
CLOSE_FORBIDDEN = 4403
SETTLE_TIMEOUT = 30_000  # ms
NASTY = "<b>Bora</b>"  # a nickname that must be shown as text, never as markup
SHOTS = os.environ.get("K8SLEARN_E2E_SHOTS", "")

# WS_PROBE, plus every htmx socket of the page by its ws-connect URL (to send on it ourselves).
SOCKET_PROBE = WS_PROBE + """
document.addEventListener("htmx:wsOpen", (e) => {
  window.__k8sSockets = window.__k8sSockets || {};
  window.__k8sSockets[e.target.getAttribute("ws-connect")] = e.detail.socketWrapper;
});
"""

# Opens a websocket from the page to `path`, sends `send` after the first frame (if given), and
# resolves with the close code and the frames once `until` is in a frame, on close or after 10 s.
RAW_SOCKET = """([path, send, until]) => new Promise((resolve) => {
    const url = new URL(path, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    const frames = [];
    const done = (code) => { try { ws.close(); } catch (e) {} resolve({code, frames}); };
    ws.onmessage = (ev) => {
      frames.push(String(ev.data));
      if (frames.length === 1 && send) ws.send(send);
      if (until && String(ev.data).includes(until)) done(0);
    };
    ws.onclose = (ev) => resolve({code: ev.code, frames});
    setTimeout(() => done(-1), 10000);
})"""


# --------------------------------------------------------------------------- helpers


def make_instructor() -> None:
    call_command("instructor", USERNAME, "--password-stdin",
                 stdin=StringIO(PASSWORD + "\n"), stdout=StringIO())


def browser_page(new_context: Callable[..., BrowserContext], **kw: Any) -> Page:
    page = new_context(**kw).new_page()
    page.add_init_script(SOCKET_PROBE)
    return page


def log_in(page: Page) -> None:
    page.goto("/en/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Instructor login")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/en/classes/$"))


def open_class(page: Page) -> str:
    """From /en/classes/: open a class for the lesson; returns its code (read off the page)."""
    page.get_by_label("Lesson", exact=True).select_option(LESSON)
    page.get_by_role("button", name="Open the class", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/en/classes/{CODE_RE}/present/$"))
    wait_live(page)
    shown = page.get_by_test_id("class-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{3} [A-Z0-9]{3}", shown), shown
    code = shown.replace(" ", "")
    assert page.url.endswith(f"/en/classes/{code}/present/"), (page.url, code)
    return code


def join(page: Page, nickname: str, typed: str | None, code: str) -> None:
    """Join with the form: ``typed`` into the code field (None: the field is already filled)."""
    if typed is not None:
        page.goto("/en/join/")
        page.get_by_label("Class code").fill(typed)
    else:
        expect(page.get_by_label("Class code")).to_have_value(code)
    page.get_by_label("Nickname").fill(nickname)
    page.get_by_role("button", name="Join", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/en/class/{code}/$"))
    wait_live(page)


def pods(page: Page) -> Locator:
    return page.locator("[data-testid=pod]")


def pod(page: Page, name: str) -> Locator:
    return page.locator(f"[data-testid=pod][data-name='{name}']")


def pod_states(page: Page) -> dict[str, str]:
    return dict(pods(page).evaluate_all("els => els.map(e => [e.dataset.name, e.dataset.status])"))


def newcomers(page: Page, before: list[str] | dict[str, str]) -> Locator:
    return page.locator("[data-testid=pod]" + "".join(f":not([data-name='{n}'])" for n in before))


def wait_web_pods(page: Page, count: int, timeout: int = SETTLE_TIMEOUT) -> None:
    """``count`` web pods that are not terminating, all Running and ready, at one moment."""
    page.wait_for_function(
        """(count) => {
            const web = Array.from(document.querySelectorAll("[data-testid=pod]"))
              .filter(e => e.dataset.name.startsWith("web-") && e.dataset.status !== "Terminating");
            return web.length === count
              && web.every(e => e.dataset.status === "Running" && e.dataset.ready === "1/1");
        }""",
        arg=count,
        timeout=timeout,
    )


def kubectl(page: Page, line: str) -> Locator:
    """Type a command into the page's terminal; returns the terminal's output."""
    field = page.locator("[data-terminal] input[name=line]")
    field.fill(line)
    field.press("Enter")
    expect(field).to_have_value("", timeout=LIVE_TIMEOUT)
    return page.locator("#terminal-output")


def mark_page(page: Page) -> None:
    """A value that only survives as long as the page is not reloaded."""
    page.evaluate("() => { window.__k8sNoReload = 'still here'; }")


def not_reloaded(page: Page) -> bool:
    return page.evaluate("() => window.__k8sNoReload") == "still here"


def shoot(page: Page, name: str, full_page: bool = False) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=full_page)


def wait_still(page: Page) -> None:
    """Finite CSS animations have ended (axe measures contrast on what is painted)."""
    page.wait_for_function(
        """() => document.getAnimations().every(a =>
            a.playState !== "running" || a.effect.getComputedTiming().iterations === Infinity)""",
        timeout=LIVE_TIMEOUT,
    )


# --------------------------------------------------------------------------- the class


def test_a_class_with_an_instructor_and_two_students(
    new_context: Callable[..., BrowserContext], base_url: str
) -> None:
    make_instructor()
    teacher = browser_page(new_context, viewport={"width": 1920, "height": 1080})
    alice = browser_page(new_context)
    bora = browser_page(new_context)

    # 1. The instructor logs in and opens a class; the presenter page shows code and QR code.
    log_in(teacher)
    code = open_class(teacher)
    join_url = f"{base_url}/en/join/{code}/"
    panel = teacher.get_by_test_id("join-panel")
    expect(panel).to_contain_text(join_url)
    qr = panel.get_by_role("img", name=f"QR code of the join link {join_url}", exact=True)
    expect(qr).to_be_visible()
    expect(panel.locator("svg path").first).to_be_attached()
    expect(teacher.locator(".presenter__lesson h2").first).to_be_visible()  # the lesson text
    shoot(teacher, "presenter-en-1920")
    # On a 1920 x 1080 projector: no sideways scrolling, code and QR code on the first screen.
    assert teacher.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    for element in (teacher.get_by_test_id("class-code"), qr):
        box = element.bounding_box()
        assert box and box["y"] + box["height"] <= 1080, box

    # Alice types the code in lower case with a dash; Bora opens the QR code's link.
    join(alice, "Alice", f"{code[:3].lower()}-{code[3:].lower()}", code)
    bora.goto(join_url)
    join(bora, NASTY, None, code)
    expect(alice.get_by_role("heading", level=1)).to_have_text(
        "Following the instructor, Alice")
    bora_title = bora.get_by_role("heading", level=1)
    expect(bora_title).to_have_text(f"Following the instructor, {NASTY}")
    expect(bora_title.locator("b")).to_have_count(0)

    # The dashboard, in a second tab of the instructor's browser, stays open from now on.
    dash = teacher.context.new_page()
    dash.add_init_script(SOCKET_PROBE)
    dash.goto(f"/en/classes/{code}/dashboard/")
    expect(dash.locator("html")).to_have_attribute("data-pg-ws", "open", timeout=LIVE_TIMEOUT)
    mark_page(dash)
    expect(dash.get_by_test_id("member-row")).to_have_count(2)
    alice_row = dash.locator("tr[data-testid=member-row][data-nickname='Alice']")
    bora_row = dash.locator(f'tr[data-testid=member-row][data-nickname="{NASTY}"]')
    expect(bora_row.locator("th")).to_have_text(NASTY)
    expect(bora_row.locator("b")).to_have_count(0)
    cell = alice_row.locator(f"td[data-exercise-id={EXERCISE}]")
    count = dash.locator(f"#exercise-counts li[data-exercise-id={EXERCISE}]")
    expect(cell).to_have_attribute("data-reached", "false")
    expect(count).to_have_attribute("data-done", "0")

    # 2. Chaos mode: the instructor shoots a pod; both students see its replacement, live.
    before = pod_states(teacher)
    assert len(before) == 3, before
    for follower in (alice, bora):
        for name in before:
            expect(pod(follower, name)).to_have_count(1)
        mark_page(follower)
    chaos = teacher.get_by_test_id("chaos-toggle")
    chaos.click()
    expect(chaos).to_have_attribute("aria-pressed", "true")
    victim = next(iter(before))
    pod(teacher, victim).locator(".pg-pod__name").click()
    for board in (teacher, alice, bora):  # (nginx stops at once: Terminating is brief)
        expect(pod(board, victim)).to_have_count(0, timeout=LIVE_TIMEOUT)
        expect(newcomers(board, before)).to_have_count(1, timeout=LIVE_TIMEOUT)
    replacement = newcomers(teacher, before).get_attribute("data-name")
    for follower in (alice, bora):
        expect(pod(follower, replacement or "?")).to_have_count(1)
        assert not_reloaded(follower)
    shoot(alice, "follow-en")

    # 3. A follower cannot drive the presenter's cluster. No control is visible …
    follow = alice.get_by_test_id("follow")
    expect(follow.locator("form[ws-send]").first).to_be_attached()  # on the page, hidden
    expect(follow.locator("button:visible, input:visible, select:visible, textarea:visible")
           ).to_have_count(0)
    # … an action sent on the page's own socket is refused with a message …
    wait_web_pods(teacher, 3)
    now = pod_states(teacher)
    alice.evaluate(
        """() => {
            const key = Object.keys(window.__k8sSockets).find(k => k.includes("/follow/"));
            window.__k8sSockets[key].send(
                JSON.stringify({action: "delete-pod", selector: "app=web"}));
        }"""
    )
    expect(alice.locator("#pg-alert")).to_contain_text(READ_ONLY, timeout=LIVE_TIMEOUT)
    # … and on a socket of its own to the follow URL too; the presenter's socket is closed.
    sent = alice.evaluate(RAW_SOCKET, [
        f"/ws/class/{code}/follow/?lang=en",
        '{"action": "delete-pod", "selector": "app=web"}',
        "You can only watch the instructor",  # (the frame is HTML: the ' is escaped)
    ])
    assert sent["code"] == 0, sent
    refused = alice.evaluate(RAW_SOCKET, [
        f"/ws/class/{code}/present/?lang=en",
        '{"action": "delete-pod", "selector": "app=web"}',
        None,
    ])
    assert refused["code"] == CLOSE_FORBIDDEN, refused
    # The presenter's cluster, read after the refusals: the running pods still run.
    output = kubectl(teacher, "get pods")
    expect(output).to_contain_text(re.compile(r"NAME\s+READY\s+STATUS"), timeout=LIVE_TIMEOUT)
    text = output.inner_text()
    running = [name for name, status in now.items() if status == "Running"]
    assert len(running) == 3, now
    for name in running:
        assert re.search(rf"^{re.escape(name)}\s+1/1\s+Running\b", text, re.M), text
    for path in (f"/en/classes/{code}/present/", f"/en/classes/{code}/dashboard/",
                 f"/en/classes/{code}/results.csv"):
        response = alice.request.get(path, max_redirects=0)
        assert response.status in (302, 404), (path, response.status)
        if response.status == 302:
            assert "/accounts/login/" in response.headers["location"], response.headers

    # 4. Alice does the exercise in her own sandbox; the dashboard shows it without a reload.
    alice.goto(f"/en/lessons/{LESSON}/")
    wait_live(alice)
    expect(alice.get_by_test_id("class-bar")).to_contain_text(code)
    goal = alice.locator(f"#goal-{EXERCISE}")
    expect(goal).to_have_attribute("data-reached", "false")
    mine = pod_states(alice)
    speed = alice.get_by_role("button", name="Speed 20×", exact=True)
    speed.click()
    expect(speed).to_have_attribute("aria-pressed", "true", timeout=LIVE_TIMEOUT)
    target = next(iter(mine))
    alice.get_by_role("button", name=f"Delete pod {target}", exact=True).click()
    expect(goal).to_have_attribute("data-reached", "true", timeout=SETTLE_TIMEOUT)
    expect(count).to_have_attribute("data-done", "1", timeout=LIVE_TIMEOUT)
    expect(count).to_contain_text("1 of 2 finished")
    expect(cell).to_have_attribute("data-reached", "true", timeout=LIVE_TIMEOUT)
    assert not_reloaded(dash)
    expect(bora_row.locator(f"td[data-exercise-id={EXERCISE}]")).to_have_attribute(
        "data-reached", "false")
    # The presenter's cluster is untouched by Alice's own (pod names may be the same: both
    # sandboxes started from the same scenario).
    for name in running:
        expect(pod(teacher, name)).to_have_attribute("data-status", "Running")
    shoot(dash, "dashboard-en-1920", full_page=True)

    # 5. The instructor scales web to 5; "Try it myself" gives Bora a copy of that cluster.
    teacher.get_by_role("button", name="Speed 20×", exact=True).click()
    output = kubectl(teacher, "scale deployment web --replicas=5")
    expect(output).to_contain_text("deployment.apps/web scaled", timeout=LIVE_TIMEOUT)
    wait_web_pods(teacher, 5)
    wait_web_pods(bora, 5)  # followed, live
    web = sorted(n for n, s in pod_states(teacher).items() if n.startswith("web-"))
    assert len(web) == 5, web
    bora.get_by_test_id("try-it").click()
    expect(bora).to_have_url(re.compile(rf"/en/lessons/{LESSON}/#playground$"))
    wait_live(bora)
    wait_web_pods(bora, 5, timeout=LIVE_TIMEOUT)
    ws_connect = bora.get_by_test_id("sandbox").get_attribute("ws-connect") or ""
    assert ws_connect.startswith("/ws/sandbox/"), ws_connect  # her own sandbox now
    copied = pod_states(bora)
    assert sorted(n for n in copied if n.startswith("web-")) == web, (copied, web)
    # Hers to break, a copy: deleting a pod there leaves the presenter's alone.
    bora.get_by_role("button", name=f"Delete pod {web[0]}", exact=True).click()
    expect(pod(bora, web[0])).to_have_count(0, timeout=LIVE_TIMEOUT)
    expect(pod(teacher, web[0])).to_have_attribute("data-status", "Running")
    wait_web_pods(teacher, 5, timeout=LIVE_TIMEOUT)


def test_dashboard_rows_change_live(new_context: Callable[..., BrowserContext]) -> None:
    make_instructor()
    teacher = browser_page(new_context)
    student = browser_page(new_context)
    log_in(teacher)
    code = open_class(teacher)
    teacher.goto(f"/en/classes/{code}/dashboard/")
    expect(teacher.locator("html")).to_have_attribute("data-pg-ws", "open", timeout=LIVE_TIMEOUT)
    join(student, "Alice", code, code)  # a new row …
    row = teacher.locator("tr[data-testid=member-row][data-nickname='Alice']")
    expect(row).to_have_count(1, timeout=3_000)
    student.goto(f"/en/lessons/{LESSON}/")  # … and a changed one: she has read the lesson
    wait_live(student)
    expect(row.locator("td").first).to_contain_text("read", timeout=3_000)


# --------------------------------------------------------------------------- accessibility, looks


def test_class_pages_have_no_serious_accessibility_violation(
    new_context: Callable[..., BrowserContext]
) -> None:
    make_instructor()
    teacher = browser_page(new_context, viewport={"width": 1920, "height": 1080})
    student = browser_page(new_context)
    axe = Axe()
    found: dict[str, list[dict]] = {}

    def check(page: Page, name: str) -> None:
        wait_still(page)
        violations = blocking(axe.run(page))
        if violations:
            found[f"{name} ({page.url})"] = violations

    log_in(teacher)
    code = open_class(teacher)
    for lang in ("ko", "en"):
        student.goto(f"/{lang}/join/")
        expect(student.get_by_role("heading", level=1)).to_be_visible()
        shoot(student, f"join-{lang}")
        check(student, f"join-{lang}")
    join(student, NASTY, code, code)
    shoot(student, "follow-en-nasty")
    check(student, "follow")
    check(teacher, "presenter")
    teacher.goto(f"/en/classes/{code}/dashboard/")
    expect(teacher.locator("html")).to_have_attribute("data-pg-ws", "open", timeout=LIVE_TIMEOUT)
    expect(teacher.get_by_test_id("member-row")).to_have_count(1)
    shoot(teacher, "dashboard-en-one-row")
    check(teacher, "dashboard")
    teacher.goto(f"/ko/classes/{code}/present/")
    wait_live(teacher)
    shoot(teacher, "presenter-ko-1920")
    check(teacher, "presenter-ko")
    teacher.goto(f"/ko/classes/{code}/dashboard/")
    expect(teacher.get_by_test_id("member-row")).to_have_count(1)
    shoot(teacher, "dashboard-ko")
    check(teacher, "dashboard-ko")

    assert not found, "axe-core found:\n" + "\n".join(
        f"{page}:\n{describe(v)}" for page, v in found.items())


def test_follow_page_on_a_phone_has_no_serious_accessibility_violation(
    new_context: Callable[..., BrowserContext]
) -> None:
    make_instructor()
    teacher = browser_page(new_context)
    student = browser_page(new_context, viewport={"width": 360, "height": 740})
    log_in(teacher)
    code = open_class(teacher)
    join(student, "Alice", code, code)
    wait_still(student)
    found = blocking(Axe().run(student))
    assert not found, f"axe-core found on {student.url} at 360 px:\n{describe(found)}"


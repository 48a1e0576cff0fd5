"""The live playground in Chromium: a real Daphne server, a real websocket, htmx's ws extension.

Every test gets a fresh browser context, so a fresh session and fresh sandboxes. Virtual time is
driven through the page's own controls: *Pause* + *Step* where a test must look at one moment of a
rollout (deterministic), *20×* where it only waits for the cluster to settle. Waits are
Playwright's web-first assertions (or `wait_for_function` for a condition over several cards at
once), each bounded by an explicit timeout; there is no sleep.

Stable hooks (issue #4): pods `[data-testid=pod]` with `data-name`, `data-status`, `data-ready`;
nodes `[data-testid=node]`; buttons by their accessible name in the page's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from live import LIVE_TIMEOUT, WS_PROBE, wait_live
from playwright.sync_api import BrowserContext, Locator, Page, expect

LESSON_4 = "/{lang}/lessons/self-healing/"
LESSON_5 = "/{lang}/lessons/rollouts-and-rollbacks/"
PLAY = "/{lang}/play/"

SETTLE_TIMEOUT = 30_000  # ms: the cluster reaching a state at 20× virtual speed
CLOSE_FORBIDDEN = 4403

# Accessible names of the controls, in the page's language (templates/playground/*.html and
# locale/ko/LC_MESSAGES/django.po). Per-object names contain the object's name.
NAMES = {
    "ko": {
        "pause": "일시 정지",
        "play": "재생",
        "speed20": "속도 20×",
        "step": re.compile(r"^한 단계"),
        "kill": "컨테이너 종료: {name}",
        "delete": "파드 삭제: {name}",
        "image": "새 이미지",
        "rollout": "{name} 새 이미지 롤아웃",
        "undo": "{name} 이전 리비전으로 롤백",
        "run": "실행",
        "apply": "적용",
    },
    "en": {
        "pause": "Pause",
        "play": "Play",
        "speed20": "Speed 20×",
        "step": re.compile(r"^Step\b"),
        "kill": "Kill the container of pod {name}",
        "delete": "Delete pod {name}",
        "image": "New image",
        "rollout": "Roll out a new image for {name}",
        "undo": "Roll back {name} to the previous revision",
        "run": "Run",
        "apply": "Apply",
    },
}

# --------------------------------------------------------------------------- helpers


@pytest.fixture
def page(page: Page) -> Iterator[Page]:
    """pytest-playwright's page, with the websocket probe installed before any navigation."""
    page.add_init_script(WS_PROBE)
    yield page


def name(lang: str, key: str, **kw: str) -> str | re.Pattern[str]:
    text = NAMES[lang][key]
    return text.format(**kw) if isinstance(text, str) else text


def button(scope: Page | Locator, lang: str, key: str, **kw: str) -> Locator:
    label = name(lang, key, **kw)
    return scope.get_by_role("button", name=label, exact=isinstance(label, str))


def open_live(page: Page, path: str) -> None:
    page.goto(path)
    wait_live(page)


def pods(page: Page) -> Locator:
    return page.locator("[data-testid=pod]")


def pod(page: Page, pod_name: str) -> Locator:
    return page.locator(f"[data-testid=pod][data-name='{pod_name}']")


def restarts(card: Locator) -> Locator:
    return card.locator("div:has(> dt:text-is('RESTARTS')) > dd")


def pod_names(page: Page) -> list[str]:
    return page.locator("[data-testid=pod]").evaluate_all("els => els.map(e => e.dataset.name)")


def rs_hash(pod_name: str) -> str:
    """web-59d7584b7-42bzt -> 59d7584b7 (the pod-template hash of its ReplicaSet)."""
    return pod_name.rsplit("-", 2)[1]


def wait_for_pods(
    page: Page, predicate_js: str, arg: object, timeout: int = SETTLE_TIMEOUT
) -> None:
    """Wait until ``predicate_js(pods, arg)`` holds for the pod cards *at one moment*.

    ``pods`` is a list of {name, hash, status, ready, image} read from the cards together.
    """
    page.wait_for_function(
        """([predicate, arg]) => {
            const pods = Array.from(document.querySelectorAll("[data-testid=pod]")).map(e => {
              const parts = e.dataset.name.split("-");
              const image = e.querySelector("dd[title]");
              return {name: e.dataset.name, hash: parts[parts.length - 2],
                      status: e.dataset.status, ready: e.dataset.ready,
                      image: image ? image.getAttribute("title") : null};
            });
            return new Function("pods", "arg", "return (" + predicate + ")(pods, arg);")(pods, arg);
        }""",
        arg=[predicate_js, arg],
        timeout=timeout,
    )


ALL_RUNNING_WITH_HASH = """(pods, arg) => pods.length === arg.count
    && pods.every(p => p.hash === arg.hash && p.status === "Running" && p.ready === "1/1")"""

TWO_REVISIONS = """(pods, arg) => pods.some(p => p.hash === arg.old)
    && pods.some(p => p.hash !== arg.old)"""


def settle_fast(page: Page, lang: str) -> None:
    """Run virtual time at 20× (also resumes a paused clock)."""
    speed = button(page, lang, "speed20")
    speed.click()
    expect(speed).to_have_attribute("aria-pressed", "true", timeout=LIVE_TIMEOUT)


def pause(page: Page, lang: str) -> None:
    button(page, lang, "pause").click()
    expect(button(page, lang, "play")).to_be_visible(timeout=LIVE_TIMEOUT)


def start_rollout(page: Page, lang: str, image: str = "nginx:1.26") -> tuple[str, list[str]]:
    """Pause, roll `web` out to ``image`` and step once: old and new pods side by side.

    Returns the old ReplicaSet hash and the pod names shown in that mixed state.
    """
    names = pod_names(page)
    old = {rs_hash(n) for n in names}
    assert len(old) == 1, f"the lesson should start with one revision, got {names}"
    old_hash = old.pop()
    pause(page, lang)
    deployment = page.locator("[data-testid=deployment][data-name=web]")
    deployment.get_by_label(str(name(lang, "image")), exact=True).fill(image)
    button(deployment, lang, "rollout", name="web").click()
    button(page, lang, "step").click()
    wait_for_pods(page, TWO_REVISIONS, {"old": old_hash}, timeout=LIVE_TIMEOUT)
    return old_hash, pod_names(page)


# --------------------------------------------------------------------------- lesson 4


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_killed_container_restarts_in_place(page: Page, lang: str) -> None:
    open_live(page, LESSON_4.format(lang=lang))
    victim = pods(page).first.get_attribute("data-name")
    assert victim
    card = pod(page, victim)
    expect(restarts(card)).to_have_text("0")
    settle_fast(page, lang)

    button(card, lang, "kill", name=victim).click()

    expect(restarts(card)).to_have_text(re.compile(r"^1\b"), timeout=SETTLE_TIMEOUT)
    expect(card).to_have_attribute("data-status", "Running", timeout=SETTLE_TIMEOUT)
    expect(card).to_have_attribute("data-ready", "1/1", timeout=SETTLE_TIMEOUT)
    expect(card).to_have_count(1)  # the same pod, restarted in place


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_deleted_pod_is_replaced_by_a_new_one(page: Page, lang: str) -> None:
    open_live(page, LESSON_4.format(lang=lang))
    before = pod_names(page)
    assert len(before) == 3, before
    victim = before[0]
    settle_fast(page, lang)

    button(pod(page, victim), lang, "delete", name=victim).click()

    newcomer = page.locator(
        "[data-testid=pod]" + "".join(f":not([data-name='{n}'])" for n in before)
    )
    expect(newcomer).to_have_count(1, timeout=SETTLE_TIMEOUT)
    expect(newcomer).to_have_attribute("data-status", "Running", timeout=SETTLE_TIMEOUT)
    expect(newcomer).to_have_attribute("data-ready", "1/1", timeout=SETTLE_TIMEOUT)
    expect(pod(page, victim)).to_have_count(0, timeout=SETTLE_TIMEOUT)
    expect(pods(page)).to_have_count(3)


def test_exercise_goal_is_reached_and_stays_done_after_reload(page: Page) -> None:
    open_live(page, LESSON_4.format(lang="ko"))
    goal = page.locator("#goal-replace-a-pod")
    exercise = page.locator("[data-testid=exercise][data-exercise-id=replace-a-pod]")
    expect(goal).to_have_attribute("data-reached", "false")
    expect(exercise).to_have_attribute("data-reached", "false")
    victim = pod_names(page)[0]
    settle_fast(page, "ko")

    button(pod(page, victim), "ko", "delete", name=victim).click()

    expect(goal).to_have_attribute("data-reached", "true", timeout=SETTLE_TIMEOUT)
    expect(goal).to_contain_text("(완료)")
    # Only this exercise: killing nothing means "restart in place" is still open.
    expect(page.locator("#goal-restart-in-place")).to_have_attribute("data-reached", "false")

    page.reload()
    wait_live(page)
    expect(exercise).to_have_attribute("data-reached", "true")
    expect(goal).to_have_attribute("data-reached", "true")


# --------------------------------------------------------------------------- lesson 5


@pytest.mark.parametrize("lang", ["en"])
def test_rollout_shows_two_revisions_then_the_new_one_and_undo_brings_back_the_old(
    page: Page, lang: str
) -> None:
    open_live(page, LESSON_5.format(lang=lang))
    count = pods(page).count()
    old_image = pods(page).first.locator("dd[title]").get_attribute("title")
    assert old_image and old_image != "nginx:1.26"

    old_hash, mixed = start_rollout(page, lang, "nginx:1.26")
    # Both revisions at once: pods of the old and the new ReplicaSet, both images on cards.
    assert len({rs_hash(n) for n in mixed}) == 2, mixed
    expect(page.locator("[data-testid=pod] dd[title='nginx:1.26']").first).to_be_visible()
    expect(page.locator(f"[data-testid=pod] dd[title='{old_image}']").first).to_be_visible()
    new_hash = next(rs_hash(n) for n in mixed if rs_hash(n) != old_hash)

    settle_fast(page, lang)
    wait_for_pods(page, ALL_RUNNING_WITH_HASH, {"hash": new_hash, "count": count})
    expect(page.locator(f"[data-testid=pod] dd[title='{old_image}']")).to_have_count(0)

    deployment = page.locator("[data-testid=deployment][data-name=web]")
    button(deployment, lang, "undo", name="web").click()
    wait_for_pods(page, ALL_RUNNING_WITH_HASH, {"hash": old_hash, "count": count})
    expect(page.locator(f"[data-testid=pod] dd[title='{old_image}']")).to_have_count(count)
    expect(page.locator("[data-testid=pod] dd[title='nginx:1.26']")).to_have_count(0)


def test_reload_mid_rollout_keeps_the_same_state_and_the_rollout_completes(page: Page) -> None:
    open_live(page, LESSON_5.format(lang="ko"))
    count = pods(page).count()
    old_hash, mixed = start_rollout(page, "ko", "nginx:1.26")
    new_hash = next(rs_hash(n) for n in mixed if rs_hash(n) != old_hash)

    page.reload()
    wait_live(page)

    for pod_name in mixed:
        expect(pod(page, pod_name)).to_have_count(1)
    expect(button(page, "ko", "play")).to_be_visible()  # still paused where we left it
    settle_fast(page, "ko")
    wait_for_pods(page, ALL_RUNNING_WITH_HASH, {"hash": new_hash, "count": count})


# --------------------------------------------------------------------------- isolation


def test_another_session_cannot_open_the_sandbox(
    page: Page, new_context: Callable[..., BrowserContext]
) -> None:
    open_live(page, PLAY.format(lang="en"))
    sandbox = page.get_by_test_id("sandbox")
    sandbox_id = sandbox.get_attribute("data-sandbox-id")
    ws_connect = sandbox.get_attribute("ws-connect")
    assert sandbox_id and ws_connect and f"/ws/sandbox/{sandbox_id}/" in ws_connect
    # Pods only the first learner has: scale web from 3 to 5.
    fresh = set(pod_names(page))
    settle_fast(page, "en")
    deployment = page.locator("[data-testid=deployment][data-name=web]")
    deployment.get_by_label("Replicas", exact=True).fill("5")
    deployment.get_by_role("button", name="Scale web", exact=True).click()
    wait_for_pods(page, "(pods) => pods.length === 5", None)
    mine = set(pod_names(page)) - fresh
    assert len(mine) == 2, mine

    other = new_context()  # another browser context: another session cookie
    intruder = other.new_page()
    intruder.add_init_script(WS_PROBE)
    open_live(intruder, PLAY.format(lang="en"))
    assert intruder.get_by_test_id("sandbox").get_attribute("data-sandbox-id") != sandbox_id

    result = intruder.evaluate(
        """(path) => new Promise((resolve) => {
            const url = new URL(path, location.href);
            url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
            const ws = new WebSocket(url);
            const frames = [];
            ws.onmessage = (ev) => frames.push(String(ev.data));
            ws.onclose = (ev) => resolve({code: ev.code, frames});
            setTimeout(() => resolve({code: -1, frames}), 10000);
        })""",
        f"/ws/sandbox/{sandbox_id}/?lang=en",
    )
    assert result["code"] == CLOSE_FORBIDDEN, result
    leaked = [n for n in mine for frame in result["frames"] if n in frame]
    assert not leaked, f"the refused socket received the other learner's pods: {leaked}"

    # The intruder's board is its own: three pods, none of the first learner's new ones,
    # still after its clock moved on and after a reload.
    button(intruder, "en", "step").click()
    expect(intruder.locator("[data-testid=pod]")).to_have_count(3)
    for pod_name in mine:
        expect(pod(intruder, pod_name)).to_have_count(0)
    intruder.reload()
    wait_live(intruder)
    expect(intruder.locator("[data-testid=pod]")).to_have_count(3)
    for pod_name in mine:
        expect(pod(intruder, pod_name)).to_have_count(0)
    # The first learner's board is untouched.
    expect(pods(page)).to_have_count(5)


# --------------------------------------------------------------------------- terminal, editor


def test_clock_and_pod_ages_run_in_the_browser_between_server_updates(page: Page) -> None:
    # An idle cluster: the server sends nothing for a while, yet time goes on on the page.
    open_live(page, PLAY.format(lang="en"))
    frames = page.locator("html").get_attribute("data-pg-frames")
    digits = page.locator("#clock .pg-clock__digits")
    age = page.locator("[data-testid=pod] [data-created-ms]").first
    clock_then, age_then = digits.inner_text(), age.inner_text()
    expect(digits).not_to_have_text(clock_then, timeout=LIVE_TIMEOUT)
    expect(age).not_to_have_text(age_then, timeout=LIVE_TIMEOUT)
    assert re.fullmatch(r"\d+s", age.inner_text())  # kubectl's AGE format
    assert page.locator("html").get_attribute("data-pg-frames") == frames


def test_kubectl_in_the_terminal_prints_kubectls_output(page: Page) -> None:
    open_live(page, PLAY.format(lang="ko"))
    line = page.locator("[data-terminal] input[name=line]")
    line.fill("get pods")
    line.press("Enter")
    output = page.locator("#terminal-output")
    expect(output).to_contain_text(
        re.compile(r"NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE"), timeout=LIVE_TIMEOUT
    )
    expect(output).to_contain_text(pod_names(page)[0])
    expect(line).to_have_value("")


def test_bad_yaml_shows_an_error_with_a_line_number(page: Page) -> None:
    open_live(page, PLAY.format(lang="en"))
    editor = page.locator("textarea[name=yaml]")
    editor.fill("apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken\n   bad: [\n")
    page.get_by_role("button", name=str(name("en", "apply")), exact=True).click()
    error = page.locator(".pg-term__out--err, #pg-alert").filter(has_text=re.compile(r"line \d+"))
    expect(error.first).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(pod(page, "broken")).to_have_count(0)


# --------------------------------------------------------------------------- /play/


def test_scenario_picker_switches_scenario(page: Page) -> None:
    open_live(page, PLAY.format(lang="en"))
    picker = page.get_by_test_id("scenario-picker")
    select = picker.get_by_label("Scenario")
    expect(select).to_have_value("web")
    expect(pods(page)).to_have_count(3)
    expect(page.locator("[data-testid=deployment]")).to_have_count(1)

    select.select_option("empty")
    picker.get_by_role("button", name="Start this scenario").click()

    expect(select).to_have_value("empty", timeout=LIVE_TIMEOUT)
    expect(page.get_by_test_id("sandbox")).to_be_visible()
    expect(page.locator("[data-testid=node]").first).to_be_visible()
    expect(pods(page)).to_have_count(0)
    expect(page.locator("[data-testid=deployment]")).to_have_count(0)
    # And back: the new scenario's board is live over the socket too.
    select.select_option("rollout")
    picker.get_by_role("button", name="Start this scenario").click()
    expect(select).to_have_value("rollout", timeout=LIVE_TIMEOUT)
    wait_live(page)
    expect(pods(page)).to_have_count(4)


@pytest.mark.parametrize("path", [PLAY, LESSON_4])
def test_no_horizontal_overflow_at_360px(page: Page, path: str) -> None:
    page.set_viewport_size({"width": 360, "height": 800})
    open_live(page, path.format(lang="ko"))
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if overflow > 0:
        wide = page.evaluate(
            """() => Array.from(document.querySelectorAll("body *"))
                .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                .slice(0, 8).map(e => e.tagName + "." + e.className + " " +
                                 Math.round(e.getBoundingClientRect().right))"""
        )
        pytest.fail(f"{path} at 360 px overflows by {overflow} px; widest: {wide}")

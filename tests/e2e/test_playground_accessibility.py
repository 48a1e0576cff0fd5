"""axe-core in Chromium on the live playground: no serious or critical violation once the board
is live (the socket is open and the server's board has been swapped in)."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from axe_report import blocking, describe
from live import LIVE_TIMEOUT, WS_PROBE, wait_live
from playwright.sync_api import Page, expect


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/ko/play/", id="play-ko"),
        pytest.param("/en/play/", id="play-en"),
        pytest.param("/ko/lessons/self-healing/", id="lesson-4-ko"),
    ],
)
def test_live_playground_has_no_serious_accessibility_violation(
    page: Page, axe: Axe, path: str
) -> None:
    page.add_init_script(WS_PROBE)
    page.goto(path)
    wait_live(page)
    wait_still(page)
    results = axe.run(page)
    found = blocking(results)
    assert not found, f"axe-core found on {page.url} (live board):\n{describe(found)}"


def wait_still(page: Page) -> None:
    """Finite CSS animations (a new pod card fading in) have ended: axe measures contrast on
    what is painted, and a card at half opacity is a transient, not a violation."""
    page.wait_for_function(
        """() => document.getAnimations().every(a =>
            a.playState !== "running" || a.effect.getComputedTiming().iterations === Infinity)""",
        timeout=LIVE_TIMEOUT,
    )


def test_playground_after_an_action_is_accessible(page: Page, axe: Axe) -> None:
    """The board after live updates (a terminating pod, its replacement) is still accessible."""
    page.add_init_script(WS_PROBE)
    page.goto("/en/lessons/self-healing/")
    wait_live(page)
    before = page.locator("[data-testid=pod]").evaluate_all("els => els.map(e => e.dataset.name)")
    victim = before[0]
    # Paused, the board holds still while axe reads it.
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    page.get_by_role("button", name=f"Delete pod {victim}", exact=True).click()
    expect(page.locator(f"[data-testid=pod][data-name='{victim}']")).to_have_attribute(
        "data-status", "Terminating", timeout=LIVE_TIMEOUT
    )
    page.get_by_role("button", name=re.compile(r"^Step\b")).click()
    newcomer = page.locator(
        "[data-testid=pod]" + "".join(f":not([data-name='{n}'])" for n in before)
    )
    expect(newcomer).to_have_count(1, timeout=LIVE_TIMEOUT)
    wait_still(page)
    results = axe.run(page, context="[data-testid=playground]")
    found = blocking(results)
    assert not found, f"axe-core found in the updated playground:\n{describe(found)}"

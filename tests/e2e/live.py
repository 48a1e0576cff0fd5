"""Waiting for the live playground in Chromium, shared by the playground's browser tests."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

LIVE_TIMEOUT = 15_000  # ms: page load + websocket open + first frame

# Records the htmx ws extension's events on <html>, so that tests can wait for the socket with
# web-first assertions: data-pg-ws="open|closed", data-pg-frames=<frames received>.
WS_PROBE = """
(() => {
  const mark = (key, value) => { document.documentElement.dataset[key] = value; };
  document.addEventListener("htmx:wsOpen", () => mark("pgWs", "open"));
  document.addEventListener("htmx:wsClose", () => mark("pgWs", "closed"));
  document.addEventListener("htmx:wsAfterMessage", () => {
    const n = Number(document.documentElement.dataset.pgFrames || 0) + 1;
    mark("pgFrames", String(n));
  });
})();
"""


def wait_live(page: Page) -> None:
    """The board is on the page, the socket is open, the server's first frame has arrived and
    pods are on the board. (The page must have WS_PROBE as an init script.)"""
    expect(page.get_by_test_id("sandbox")).to_be_visible(timeout=LIVE_TIMEOUT)
    html = page.locator("html")
    expect(html).to_have_attribute("data-pg-ws", "open", timeout=LIVE_TIMEOUT)
    expect(html).to_have_attribute("data-pg-frames", re.compile(r"^[1-9]"), timeout=LIVE_TIMEOUT)
    expect(page.locator("[data-testid=pod]").first).to_be_visible(timeout=LIVE_TIMEOUT)

"""axe-core in Chromium: the course map and lessons have no serious or critical violation."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from axe_report import blocking, describe
from playwright.sync_api import Page, expect

PAGES = [
    pytest.param("/{lang}/", id="course-map"),
    pytest.param("/{lang}/lessons/what-is-kubernetes/", id="lesson-1"),
    pytest.param("/{lang}/lessons/deployment-eras/", id="lesson-2-diagram"),
    pytest.param("/{lang}/glossary/", id="glossary"),
]


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("path", PAGES)
def test_page_has_no_serious_accessibility_violation(
    page: Page, axe: Axe, path: str, lang: str
) -> None:
    page.goto(path.format(lang=lang))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    results = axe.run(page)
    found = blocking(results)
    assert not found, f"axe-core found on {page.url}:\n{describe(found)}"


def test_quiz_result_is_accessible_after_answering(page: Page, axe: Axe) -> None:
    page.goto("/en/lessons/what-is-kubernetes/")
    question = page.get_by_test_id("quiz-question").first
    question.get_by_role("radio").first.check()
    question.get_by_role("button").click()
    expect(question.get_by_test_id("quiz-result")).to_be_visible()
    results = axe.run(page, context="[data-testid=quiz-question]")
    found = blocking(results)
    assert not found, f"axe-core found in the answered quiz:\n{describe(found)}"

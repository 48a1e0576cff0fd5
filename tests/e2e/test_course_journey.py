"""A learner's path through the course in a real browser: map, lessons, quiz, progress, language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Browser, Locator, Page, expect

from k8slearn.courses.loader import Course, Lesson, Question, load_course
from k8slearn.courses.templatetags.courses_tags import strip_verdict

LANGS = ["ko", "en"]
FIRST = "what-is-kubernetes"
ERAS = "deployment-eras"
HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.fixture(scope="module")
def course() -> Course:
    """The lessons the server reads (settings.LESSONS_DIR); the tests take texts and answers from it."""
    loaded = load_course(Path(settings.LESSONS_DIR))
    assert loaded.get(FIRST) is not None, f"lesson {FIRST} is missing: {loaded.errors}"
    return loaded


def lesson_url(lang: str, lesson_id: str) -> str:
    return f"/{lang}/lessons/{lesson_id}/"


def translated(lang: str, message: str) -> str:
    with translation.override(lang):
        return gettext(message)


def shown(text: str) -> str:
    """A quiz text as the learner reads it: inline Markdown (`code`, *em*) without its marks."""
    return re.sub(r"[`*]", "", text)


def first_question(course: Course, lesson_id: str) -> tuple[Lesson, Question]:
    lesson = course.get(lesson_id)
    assert lesson is not None and lesson.quiz, f"{lesson_id} has no quiz"
    return lesson, lesson.quiz[0]


def quiz_block(page: Page, question: Question) -> Locator:
    return page.locator(f'[data-testid="quiz-question"][data-question-id="{question.id}"]')


def answer(page: Page, question: Question, choice: int, lang: str) -> None:
    """Pick a choice by its visible label and press the question's own "Check answer" button."""
    block = quiz_block(page, question)
    name = shown(question.choices[choice].text.get(lang))
    block.get_by_role("radio", name=name, exact=True).check()
    block.get_by_role("button", name=translated(lang, "Check answer")).click()


def wrong_choice(question: Question) -> int:
    return next(n for n in range(len(question.choices)) if n != question.answer)


def fonts_rendering(page: Page, selector: str) -> list[str]:
    """The platform fonts Chromium really used for the text of `selector` (CSS domain of CDP)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return [font["familyName"] for font in fonts if font["glyphCount"] > 0]


# --------------------------------------------------------------------------- course map


def test_real_server_answers_the_health_check(page: Page) -> None:
    response = page.request.get("/healthz")
    assert response.status == 200
    assert response.text() == "ok"


@pytest.mark.parametrize("lang", LANGS)
def test_course_map_lists_every_lesson_in_order(page: Page, course: Course, lang: str) -> None:
    response = page.goto(f"/{lang}/")
    assert response is not None and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", lang)
    cards = page.get_by_test_id("lesson-card")
    expect(cards).to_have_count(len(course.lessons))
    for n, lesson in enumerate(course.lessons):
        card = cards.nth(n)
        expect(card).to_have_attribute("data-lesson-id", lesson.id)
        expect(card).to_have_attribute("data-read", "false")
        expect(card.get_by_role("link", name=lesson.title.get(lang), exact=True)).to_be_visible()


def test_course_map_card_opens_its_lesson(page: Page, course: Course) -> None:
    page.goto("/ko/")
    title = course.get(ERAS).title.get("ko")
    page.get_by_role("link", name=title, exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(lesson_url("ko", ERAS)) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


# --------------------------------------------------------------------------- lesson


@pytest.mark.parametrize("lang", LANGS)
def test_lesson_one_renders_in_its_language(page: Page, course: Course, lang: str) -> None:
    lesson = course.get(FIRST)
    title = lesson.title.get(lang)
    response = page.goto(lesson_url(lang, FIRST))
    assert response is not None and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page).to_have_title(re.compile(re.escape(title)))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(title)
    expect(heading).to_be_visible()
    expect(page.get_by_test_id("quiz-question")).to_have_count(len(lesson.quiz))
    expect(page.get_by_test_id("credit")).to_contain_text("CC BY 4.0")


def test_korean_text_is_drawn_with_a_korean_font_not_tofu(page: Page, course: Course) -> None:
    title = course.get(FIRST).title.get("ko")
    assert HANGUL.search(title), "lesson 1's Korean title has no Hangul to check"
    page.goto(lesson_url("ko", FIRST))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    page.evaluate("document.fonts.ready")
    used = fonts_rendering(page, "h1")
    assert any("CJK" in name or "KR" in name or "Gothic" in name for name in used), (
        f"Hangul in the lesson title was drawn with {used}: install fonts-noto-cjk"
    )


# --------------------------------------------------------------------------- quiz


@pytest.mark.parametrize("lang", LANGS)
def test_quiz_explains_wrong_then_right_answer_without_reloading(
    page: Page, course: Course, lang: str
) -> None:
    lesson, question = first_question(course, FIRST)
    page.goto(lesson_url(lang, FIRST))
    navigations: list[str] = []
    page.on(
        "framenavigated", lambda frame: frame == page.main_frame and navigations.append(frame.url)
    )
    page.evaluate("window.__k8slearnSamePage = true")
    result = quiz_block(page, question).get_by_test_id("quiz-result")

    wrong = wrong_choice(question)
    answer(page, question, wrong, lang)
    expect(result).to_have_attribute("data-correct", "false")
    expect(result).to_contain_text(shown(question.choices[wrong].explain.get(lang)))
    expect(result).to_contain_text(shown(question.right_choice.text.get(lang)))
    right_explain = shown(strip_verdict(question.right_choice.explain.get(lang)))
    expect(result).to_contain_text(right_explain)

    answer(page, question, question.answer, lang)
    expect(result).to_have_attribute("data-correct", "true")
    expect(result).to_contain_text(right_explain)

    assert page.evaluate("window.__k8slearnSamePage") is True, "the page was reloaded"
    assert navigations == [], f"the quiz navigated to {navigations}"


def test_quiz_works_without_javascript(browser: Browser, base_url: str, course: Course) -> None:
    lesson, question = first_question(course, FIRST)
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(lesson_url("en", FIRST))
        answer(page, question, question.answer, "en")
        expect(page).to_have_url(re.compile(rf"#q-{re.escape(question.id)}$"))
        result = quiz_block(page, question).get_by_test_id("quiz-result")
        expect(result).to_have_attribute("data-correct", "true")
        expect(result).to_contain_text(
            shown(strip_verdict(question.right_choice.explain.get("en")))
        )
    finally:
        context.close()


# --------------------------------------------------------------------------- progress


def test_reading_and_answering_shows_on_the_course_map(page: Page, course: Course) -> None:
    lesson, question = first_question(course, FIRST)
    page.goto(lesson_url("ko", FIRST))
    answer(page, question, question.answer, "ko")
    expect(quiz_block(page, question).get_by_test_id("quiz-result")).to_have_attribute(
        "data-correct", "true"
    )

    page.reload()  # the answer is kept by the server, not only on the page
    expect(quiz_block(page, question).get_by_test_id("quiz-result")).to_have_attribute(
        "data-correct", "true"
    )

    page.goto("/ko/")
    card = page.locator(f'[data-testid="lesson-card"][data-lesson-id="{FIRST}"]')
    expect(card).to_have_attribute("data-read", "true")
    score = translated("ko", "Quiz: %(score)s of %(total)s right") % {
        "score": 1,
        "total": len(lesson.quiz),
    }
    expect(card.get_by_test_id("quiz-score")).to_have_text(score)
    other = page.locator(f'[data-testid="lesson-card"][data-lesson-id="{ERAS}"]')
    expect(other).to_have_attribute("data-read", "false")


def test_reset_progress_forgets_everything(page: Page, course: Course) -> None:
    lesson, question = first_question(course, FIRST)
    page.goto(lesson_url("en", FIRST))
    answer(page, question, question.answer, "en")
    expect(quiz_block(page, question).get_by_test_id("quiz-result")).to_be_visible()
    page.goto("/en/")
    card = page.locator(f'[data-testid="lesson-card"][data-lesson-id="{FIRST}"]')
    expect(card).to_have_attribute("data-read", "true")

    page.locator("details > summary", has_text=translated("en", "Reset my progress")).click()
    page.get_by_role("button", name=translated("en", "Yes, reset my progress")).click()

    expect(page.get_by_test_id("reset-done")).to_be_visible()
    expect(card).to_have_attribute("data-read", "false")
    expect(card.get_by_test_id("quiz-score")).to_have_count(0)
    expect(page.locator('[data-testid="lesson-card"][data-read="true"]')).to_have_count(0)


# --------------------------------------------------------------------------- language


def test_language_switch_stays_on_the_same_lesson(page: Page, course: Course) -> None:
    lesson = course.get(ERAS)
    page.goto(lesson_url("ko", ERAS))
    page.get_by_role("navigation", name=translated("ko", "Language")).get_by_role(
        "link", name="English"
    ).click()
    expect(page).to_have_url(re.compile(re.escape(lesson_url("en", ERAS)) + "$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(lesson.title.get("en"))

    page.get_by_role("navigation", name="Language").get_by_role("link", name="한국어").click()
    expect(page).to_have_url(re.compile(re.escape(lesson_url("ko", ERAS)) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(lesson.title.get("ko"))


@pytest.mark.parametrize("lang", LANGS)
def test_unknown_lesson_shows_not_found_in_its_language(page: Page, lang: str) -> None:
    response = page.goto(lesson_url(lang, "no-such-lesson"))
    assert response is not None and response.status == 404
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.get_by_role("heading", level=1)).to_have_text(translated(lang, "Page not found"))
    expect(
        page.get_by_role("link", name=translated(lang, "Go to the course map"))
    ).to_have_attribute("href", f"/{lang}/")


# --------------------------------------------------------------------------- glossary


@pytest.mark.parametrize("lang", LANGS)
def test_glossary_link_in_a_lesson_opens_its_entry(page: Page, lang: str) -> None:
    page.goto(lesson_url(lang, FIRST))
    term = page.locator("main a.term").first
    expect(term).to_be_visible()
    href = term.get_attribute("href") or ""
    match = re.fullmatch(rf"/{lang}/glossary/#(term-[a-z0-9-]+)", href)
    assert match, f"glossary link {href!r} does not point into /{lang}/glossary/"
    term.click()
    expect(page).to_have_url(re.compile(re.escape(href) + "$"))
    entry = page.locator(f"#{match.group(1)}")
    expect(entry).to_be_visible()
    expect(entry).to_be_in_viewport()
    expect(page.locator("html")).to_have_attribute("lang", lang)


# --------------------------------------------------------------------------- keyboard, small screens


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page: Page) -> None:
    page.goto(lesson_url("ko", FIRST))
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name=translated("ko", "Skip to content"))
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def sideways_overflow(page: Page) -> str | None:
    """None when the page fits the window's width; otherwise what sticks out."""
    widths = page.evaluate(
        "({scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth})"
    )
    if widths["scroll"] <= widths["inner"]:
        return None
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
            .slice(0, 8).map(e => `${e.tagName.toLowerCase()}.${e.className} ` +
                `right=${Math.round(e.getBoundingClientRect().right)}`)"""
    )
    return f"{page.url} is {widths['scroll']} px wide at {widths['inner']} px: {wide}"


@pytest.fixture
def phone(browser: Browser, base_url: str) -> Iterator[Page]:
    """A page in a 360 x 740 window, the narrowest common phone."""
    context = browser.new_context(base_url=base_url, viewport={"width": 360, "height": 740})
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("path", ["/ko/", "/en/", "/ko/glossary/", "/en/glossary/"])
def test_page_does_not_scroll_sideways_on_a_360px_phone(phone: Page, path: str) -> None:
    phone.goto(path)
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    phone.evaluate("document.fonts.ready")
    problem = sideways_overflow(phone)
    assert problem is None, problem


def test_no_lesson_scrolls_sideways_on_a_360px_phone(phone: Page, course: Course) -> None:
    problems = []
    for lesson in course.lessons:
        for lang in LANGS:
            phone.goto(lesson_url(lang, lesson.id))
            expect(phone.get_by_role("heading", level=1)).to_have_text(lesson.title.get(lang))
            phone.evaluate("document.fonts.ready")
            problems.append(sideways_overflow(phone))
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)


def test_lesson_column_lines_up_with_the_header_on_a_wide_screen(
    browser: Browser, base_url: str
) -> None:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        lefts = {}
        for path in ["/en/", lesson_url("en", FIRST), lesson_url("ko", ERAS)]:
            page.goto(path)
            header = page.locator(".site-name").bounding_box()
            title = page.get_by_role("heading", level=1).bounding_box()
            lefts[path] = (round(header["x"]), round(title["x"]))
        assert all(abs(h - t) <= 1 for h, t in lefts.values()), lefts
        toc = page.locator(".toc").bounding_box()
        body = page.locator(".lesson__body").bounding_box()
        assert toc["x"] > body["x"] + body["width"], "the on-this-page list sits on the right"
    finally:
        context.close()


# --------------------------------------------------------------------------- three eras diagram


@pytest.mark.parametrize("lang", LANGS)
def test_three_eras_text_stays_readable_on_a_360px_phone(phone: Page, lang: str) -> None:
    phone.goto(lesson_url(lang, ERAS))
    diagram = phone.get_by_test_id("three-eras")
    expect(diagram.locator(".eras__hint")).to_be_visible()
    for era, label in [("traditional", "Traditional"), ("containers", "Containers")]:
        diagram.get_by_role("radio", name=translated(lang, label), exact=True).check()
        panel = diagram.locator(f'[data-era="{era}"]')
        sizes = panel.locator("svg text.svg-in").evaluate_all(
            """texts => texts.map(t => {
                const svg = t.ownerSVGElement;
                const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
                return parseFloat(getComputedStyle(t).fontSize) * scale;
            })"""
        )
        assert sizes and min(sizes) >= 13.5, f"{era}: SVG text drawn at {min(sizes):.1f} px"
        frame = panel.locator(".eras__frame")
        assert frame.evaluate("f => f.scrollWidth > f.clientWidth"), (
            "the picture scrolls in its frame"
        )
    assert sideways_overflow(phone) is None


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_three_eras_diagram_switches_eras(
    browser: Browser, base_url: str, javascript: bool
) -> None:
    context = browser.new_context(base_url=base_url, java_script_enabled=javascript)
    try:
        page = context.new_page()
        page.goto(lesson_url("ko", ERAS))
        diagram = page.get_by_test_id("three-eras")
        expect(diagram).to_be_visible()
        panels = {
            era: diagram.locator(f'[data-era="{era}"]')
            for era in ("traditional", "virtualised", "containers")
        }
        expect(panels["traditional"]).to_be_visible()
        expect(panels["virtualised"]).to_be_hidden()
        for era, label in [
            ("virtualised", "Virtualised"),
            ("containers", "Containers"),
            ("traditional", "Traditional"),
        ]:
            diagram.get_by_role("radio", name=translated("ko", label), exact=True).check()
            for other, panel in panels.items():
                if other == era:
                    expect(panel).to_be_visible()
                else:
                    expect(panel).to_be_hidden()

        noisy = diagram.get_by_test_id("noisy-traditional")
        expect(noisy).to_be_hidden()
        diagram.get_by_role("checkbox").check()
        expect(noisy).to_be_visible()
    finally:
        context.close()

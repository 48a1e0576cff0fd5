"""``manage.py lessons check``: every problem of a lessons folder, as ``file:line:col``.

Errors are what the loader refuses (k8slearn.courses.loader) plus what would break a learner's
page: an exercise whose solution does not reach its goal, a link to a lesson, anchor or page that
does not exist, an image file that is not there, a runnable block that cannot run. Warnings are
what an author most likely did not mean: a text left untranslated or a section missing in one
language, a quiz choice without an explanation, an image without alt text, a link to a glossary
term that does not exist, an exercise that waiting alone solves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.token import Token

from k8slearn.courses.blocks import kubectl_commands, parse_cluster_block
from k8slearn.courses.exercises import run_exercise, start
from k8slearn.courses.loader import (
    LANGS,
    Course,
    Lesson,
    LessonError,
    Text,
    as_dirs,
    load_course,
)
from k8slearn.courses.markdown import is_relative, resolve_href, strip_comments
from k8slearn.sim.steps import run_step

ERROR, WARNING = "error", "warning"
HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
LETTERS = re.compile(r"[A-Za-z\uac00-\ud7a3]{3,}")
CODE_SPAN = re.compile(r"`[^`]*`")
WORDS = re.compile(r"\b[A-Za-z]{2,}\b")  # three English words and no Hangul: not Korean
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".webp": "image/webp", ".svg": "image/svg+xml"}
# Ids the lesson page itself gives (templates/courses/lesson.html, playground/embed.html).
PAGE_IDS = {"main", "lesson-title", "toc-heading", "quiz", "quiz-heading", "playground",
            "playground-heading", "sandbox"}
SITE_PAGES = re.compile(r"^/(ko|en)/(?:(lessons)/([^/#?]+)/?|(glossary)/?|(play)/?|)?(?:#(.*))?$")


@dataclass(frozen=True)
class Problem:
    path: str  # as given to the author: relative to the working folder when inside it
    line: int | None
    col: int | None
    severity: str  # "error" or "warning"
    message: str

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}:{self.col or 1}"
        return f"{where}: {self.severity}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "col": self.col,
                "severity": self.severity, "message": self.message}


def shown(path: Path, cwd: Path | None = None) -> str:
    cwd = (cwd or Path.cwd()).resolve()
    try:
        return str(path.resolve().relative_to(cwd))
    except ValueError:
        return str(path.resolve())


def check(dirs: Path | Sequence[Path], only: Path | None = None,
          replay: bool = True) -> list[Problem]:
    """Every problem of the lessons in ``dirs`` (only those under ``only`` when given)."""
    course = load_course(as_dirs(dirs))
    problems = [_from_error(e) for e in course.errors
                if only is None or _under(e.file, only)]
    problems += [_from_error(e, WARNING) for e in course.warnings
                 if only is None or _under(e.file, only)]
    for lesson in course.lessons:
        if only is None or _under(lesson.folder, only) or _under(only, lesson.folder):
            problems.extend(LessonLinter(course, lesson, replay).run())
    order = {ERROR: 0, WARNING: 1}
    return sorted(problems, key=lambda p: (p.path, p.line or 0, p.col or 0,
                                           order.get(p.severity, 2), p.message))


def _under(path: Path | None, root: Path) -> bool:
    if path is None:
        return False
    path, root = path.resolve(), root.resolve()
    return path == root or root in path.parents


def _from_error(error: LessonError, severity: str = ERROR) -> Problem:
    path = shown(error.file) if error.file is not None else error.path
    return Problem(path, error.line, error.col, severity, error.message)


class LessonLinter:
    """The checks that need a whole, loaded lesson."""

    def __init__(self, course: Course, lesson: Lesson, replay: bool = True) -> None:
        self.course = course
        self.lesson = lesson
        self.replay = replay
        self.yaml = shown(lesson.folder / "lesson.yaml")
        self.problems: list[Problem] = []

    def run(self) -> list[Problem]:
        self.texts()
        self.quiz()
        for lang in LANGS:
            self.body(lang)
        self.sections()
        self.exercises()
        return self.problems

    def add(self, path: str, line: int | None, col: int | None, severity: str,
            message: str) -> None:
        self.problems.append(Problem(path, line, col, severity, message))

    # ---------------------------------------------------------------- lesson.yaml

    def _texts(self) -> Iterator[tuple[str, Text]]:
        lesson = self.lesson
        yield "title", lesson.title
        if lesson.summary:
            yield "summary", lesson.summary
        for q in lesson.quiz:
            yield f"quiz '{q.id}' question", q.question
            for i, choice in enumerate(q.choices):
                yield f"quiz '{q.id}' choice {i}", choice.text
                if choice.explain:
                    yield f"quiz '{q.id}' choice {i} explanation", choice.explain
        if lesson.playground:
            for ex in lesson.playground.exercises:
                yield f"exercise '{ex.id}' title", ex.title
                yield f"exercise '{ex.id}' prompt", ex.prompt
                for i, hint in enumerate(ex.hints):
                    yield f"exercise '{ex.id}' hint {i + 1}", hint

    def texts(self) -> None:
        """A text in both languages that is really in one: untranslated."""
        for where, text in self._texts():
            if HANGUL.search(CODE_SPAN.sub("", text.en)):
                self.add(self.yaml, text.line, text.col, WARNING,
                         f"the English text of {where} has Korean letters: translate it")
            elif text.ko == text.en and LETTERS.search(CODE_SPAN.sub("", text.ko)):
                self.add(self.yaml, text.line, text.col, WARNING,
                         f"{where} is the same in ko and en: translate it")
            elif not HANGUL.search(text.ko) and len(WORDS.findall(CODE_SPAN.sub("", text.ko))) >= 3:
                self.add(self.yaml, text.line, text.col, WARNING,
                         f"the Korean text of {where} has no Korean letters: translate it")

    def quiz(self) -> None:
        for q in self.lesson.quiz:
            for i, choice in enumerate(q.choices):
                if choice.explain is None:
                    self.add(self.yaml, choice.text.line, choice.text.col, WARNING,
                             f"quiz '{q.id}' choice {i} has no explanation ('explain'): a "
                             "learner who picks it is not told why")

    # ---------------------------------------------------------------- ko.md / en.md

    def body(self, lang: str) -> None:
        path = shown(self.lesson.folder / f"{lang}.md")
        source = strip_comments(self.lesson.bodies[lang])
        lines = source.splitlines()
        tokens = _PARSER.parse(source)
        self._language(path, lang, source, tokens, lines)
        page_ids = self._page_ids(self.lesson, lang)
        for token in tokens:
            if token.type == "fence":
                self._fence(path, token)
            for child in token.children or ():
                if child.type == "link_open":
                    self._link(path, lang, str(child.attrGet("href") or ""), token, lines,
                               page_ids)
                elif child.type == "image":
                    self._image(path, child, token, lines)

    def _language(self, path: str, lang: str, source: str, tokens: list[Token],
                  lines: list[str]) -> None:
        prose = [t for t in tokens if t.type == "inline"]
        if lang == "en":
            for token in prose:
                if HANGUL.search(CODE_SPAN.sub("", token.content)):
                    line = token.map[0] + 1 if token.map else None
                    col = _col(lines, line, HANGUL)
                    self.add(path, line, col, WARNING,
                             "en.md has Korean text here: translate it")
                    return
        elif prose and not any(HANGUL.search(t.content) for t in prose):
            self.add(path, 1, 1, WARNING, "ko.md has no Korean text: translate it")

    def sections(self) -> None:
        """Both languages have the same sections (## headings), one for one."""
        counts = {}
        for lang in LANGS:
            tokens = _PARSER.parse(strip_comments(self.lesson.bodies[lang]))
            counts[lang] = [t.map[0] + 1 for t in tokens
                            if t.type == "heading_open" and t.tag in ("h1", "h2") and t.map]
        ko, en = counts["ko"], counts["en"]
        if len(ko) != len(en):
            short, long = ("en", "ko") if len(en) < len(ko) else ("ko", "en")
            extra = counts[long][len(counts[short])]
            self.add(shown(self.lesson.folder / f"{long}.md"), extra, 1, WARNING,
                     f"{long}.md has {len(counts[long])} sections (## headings) and "
                     f"{short}.md has {len(counts[short])}: translate the missing ones "
                     f"(from this one on)")

    def _page_ids(self, lesson: Lesson, lang: str) -> set[str]:
        page = self.course.rendered(lesson, lang)
        ids = set(re.findall(r'\bid="([^"]+)"', page.html + page.html_after)) | PAGE_IDS
        ids |= {f"q-{q.id}" for q in lesson.quiz}
        if lesson.playground:
            ids |= {f"exercise-{e.id}" for e in lesson.playground.exercises}
        return ids

    def _link(self, path: str, lang: str, href: str, token: Token, lines: list[str],
              page_ids: set[str]) -> None:
        line, col = _where(token, lines, href)
        # markdown-it percent-encodes addresses (#레플리카 → #%EB%A0%88…); a browser decodes.
        target = unquote(resolve_href(href, lang))
        href = unquote(href)
        if href.startswith("glossary:") or "/glossary/#term-" in target:
            term = target.rpartition("#term-")[2]
            if term not in {t.id for t in self.course.terms}:
                known = _listed(t.id for t in self.course.terms)
                self.add(path, line, col, WARNING,
                         f"unknown glossary term '{term}' (known: {known})")
            return
        if target.startswith("#"):
            if target[1:] not in page_ids:
                self.add(path, line, col, ERROR, f"broken internal link: this page has no "
                         f"section '{target[1:]}' (sections: {', '.join(_sections(page_ids))})")
            return
        if target.startswith("/"):
            self._site_link(path, line, col, target, href, lang)
            return
        if is_relative(href):
            self.add(path, line, col, ERROR,
                     f"broken internal link '{href}': link to another lesson with "
                     f"lesson:<id> (like lesson:{self.lesson.id}) and to a site page with its "
                     f"path (/{lang}/glossary/)")

    def _site_link(self, path: str, line: int | None, col: int | None, target: str,
                   href: str, lang: str) -> None:
        match = SITE_PAGES.match(target)
        if match is None:
            self.add(path, line, col, ERROR, f"broken internal link '{href}': no such page "
                     f"(lessons are lesson:<id>, the glossary is /{lang}/glossary/)")
            return
        page_lang, _lessons, lesson_id, _glossary, _play, anchor = match.groups()
        if lesson_id is None:
            return
        other = self.course.get(lesson_id)
        if other is None:
            self.add(path, line, col, ERROR, f"broken internal link '{href}': there is no "
                     f"lesson '{lesson_id}' (lessons: {_listed(le.id for le in self.course.lessons)})")
        elif anchor and anchor not in self._page_ids(other, page_lang):
            self.add(path, line, col, ERROR, f"broken internal link '{href}': lesson "
                     f"'{lesson_id}' has no section '{anchor}'")

    def _image(self, path: str, image: Token, token: Token, lines: list[str]) -> None:
        src = str(image.attrGet("src") or "")
        line, col = _where(token, lines, src)
        if not image.content.strip():
            self.add(path, line, col, WARNING,
                     "image without alt text: describe it in the [brackets] for learners who "
                     "cannot see it")
        if is_relative(src):
            file = (self.lesson.folder / src).resolve()
            if not _under(file, self.lesson.folder) or not file.is_file():
                self.add(path, line, col, ERROR,
                         f"image '{src}' is not a file in the lesson's folder")
            elif file.suffix.lower() not in IMAGE_TYPES:
                self.add(path, line, col, ERROR, f"image '{src}' must be one of "
                         f"{', '.join(sorted(IMAGE_TYPES))}")

    def _fence(self, path: str, token: Token) -> None:
        info = token.info.strip().split(maxsplit=1)[0].lower() if token.info.strip() else ""
        first = (token.map[0] + 2) if token.map else None  # the first line of the body
        if info == "cluster":
            actions, problems = parse_cluster_block(token.content)
            for problem in problems:
                self.add(path, (first or 1) + problem.line, 1, ERROR, problem.message)
            if not self.lesson.playground:
                self.add(path, (first or 2) - 1, 1, WARNING, "a cluster block needs the "
                         "lesson's playground: add a playground block to lesson.yaml, or the "
                         "buttons are not shown")
            elif actions and not problems:
                self._try_actions(path, first, token.content)
        elif info == "kubectl":
            _commands, skipped = kubectl_commands(token.content)
            for offset, command in skipped:
                self.add(path, (first or 1) + offset, 1, WARNING,
                         f"Run skips '{command[:40]}': the playground terminal runs only "
                         "kubectl (use a console block for other commands)")

    def _try_actions(self, path: str, first: int | None, body: str) -> None:
        """Each button on the lesson's starting cluster: one that fails there is suspect."""
        from k8slearn.playground import actions as socket_actions

        found, _ = parse_cluster_block(body)
        cluster = start(self.lesson.playground)
        for action in found:
            parsed = socket_actions.parse(action.message, "en")
            if not isinstance(parsed, socket_actions.Step):
                continue
            result = run_step(cluster, parsed.step)
            if not result.ok:
                line = _block_line(body, action.message)
                self.add(path, (first or 1) + line, 1, WARNING,
                         f"on the lesson's starting cluster this button fails: {result.error}")

    # ---------------------------------------------------------------- exercises

    def exercises(self) -> None:
        playground = self.lesson.playground
        if playground is None or not self.replay:
            return
        for exercise in playground.exercises:
            report = run_exercise(self.lesson.id, playground, exercise)
            for problem in report.problems():
                self.add(self.yaml, exercise.goal_line, exercise.goal_col, ERROR,
                         f"exercise '{exercise.id}': {problem}")
            if report.reached_by_waiting:
                self.add(self.yaml, exercise.goal_line, exercise.goal_col, WARNING,
                         f"exercise '{exercise.id}': waiting alone reaches the goal, so the "
                         "learner does not have to do anything")


_PARSER = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")


def _where(token: Token, lines: list[str], needle: str) -> tuple[int | None, int | None]:
    """The line and column of ``needle`` inside a block token's lines (1-based)."""
    if not token.map:
        return None, None
    start, end = token.map
    for number in range(start, min(end, len(lines))):
        index = lines[number].find(needle) if needle else -1
        if index >= 0:
            return number + 1, index + 1
    return start + 1, 1


def _col(lines: list[str], line: int | None, pattern: re.Pattern[str]) -> int:
    if line is None or line > len(lines):
        return 1
    match = pattern.search(lines[line - 1])
    return match.start() + 1 if match else 1


def _block_line(body: str, message: dict[str, Any]) -> int:
    values = [str(v) for k, v in message.items() if k != "action"]
    for number, line in enumerate(body.splitlines()):
        if values and all(v in line for v in values[:1]):
            return number
    return 0


def _listed(names: Iterable[str], limit: int = 12) -> str:
    names = sorted(names)
    if not names:
        return "none"
    more = f", … {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _sections(ids: Iterable[str]) -> list[str]:
    return sorted(i for i in ids if i not in PAGE_IDS)[:12]

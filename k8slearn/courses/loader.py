"""Load and validate the lessons folder: ``lessons/NN-slug/{lesson.yaml,ko.md,en.md}`` and
``lessons/glossary.yaml``.

Every problem becomes a :class:`LessonError` that names the file and line (``path:line: message``)
so that an instructor can fix it without reading Python. ``load_course`` never raises for bad
content: it returns the lessons that are valid plus the list of errors. ``get_course`` caches the
result per lessons folder and, under ``DEBUG``, reloads when a file's mtime changes; a broken edit
keeps serving the last good set (and logs the errors) instead of failing requests.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

LANGS = ("ko", "en")
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FOLDER_RE = re.compile(r"^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)$")
LESSON_KEYS = ("id", "order", "title", "summary", "source", "diagram", "quiz", "playground")
REQUIRED_LESSON_KEYS = ("id", "order", "title", "quiz")
QUESTION_KEYS = ("id", "question", "choices", "answer")
CHOICE_KEYS = ("text", "explain")
TERM_KEYS = ("id", "term", "match", "definition")
# Interactive diagrams that exist as templates/courses/diagrams/<name>.html.
DIAGRAMS = frozenset({"three-eras"})
MIN_QUESTIONS = 3
MIN_CHOICES, MAX_CHOICES = 2, 6


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Text:
    """A string in both languages. ``str()`` gives the active language's text (templates)."""

    ko: str
    en: str
    # Where the text is written (lesson.yaml line and column), for `manage.py lessons check`.
    line: int | None = field(default=None, compare=False, repr=False)
    col: int | None = field(default=None, compare=False, repr=False)

    def get(self, lang: str | None) -> str:
        return self.en if (lang or "").startswith("en") else self.ko

    def __str__(self) -> str:
        return self.get(get_language())


@dataclass(frozen=True)
class Choice:
    text: Text
    explain: Text | None  # optional: `lessons check` warns when a choice has none


@dataclass(frozen=True)
class Question:
    id: str
    question: Text
    choices: tuple[Choice, ...]
    answer: int

    @property
    def right_choice(self) -> Choice:
        return self.choices[self.answer]


@dataclass(frozen=True)
class Lesson:
    id: str
    order: int
    folder: Path
    title: Text
    summary: Text | None
    source: str | None
    diagram: str | None
    quiz: tuple[Question, ...]
    playground: Any  # a courses.playground_block.Playground, or None
    bodies: dict[str, str]  # lang -> Markdown source
    section: int = 0  # which lessons folder it comes from (0 = the first of lesson_dirs())

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.quiz if q.id == question_id), None)


@dataclass(frozen=True)
class Term:
    id: str
    term: Text
    match: dict[str, tuple[str, ...]]
    definition: Text


@dataclass
class Course:
    """Everything loaded from one lessons folder. Rendered pages are cached on it."""

    lessons: tuple[Lesson, ...] = ()
    terms: tuple[Term, ...] = ()
    errors: list[LessonError] = field(default_factory=list)
    warnings: list[LessonError] = field(default_factory=list)  # served anyway; `lessons check`
    _rendered: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, lesson_id: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    def neighbours(self, lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
        index = self.lessons.index(lesson)
        previous = self.lessons[index - 1] if index > 0 else None
        following = self.lessons[index + 1] if index + 1 < len(self.lessons) else None
        return previous, following

    def rendered(self, lesson: Lesson, lang: str) -> Any:
        """The lesson body as safe HTML plus its table of contents (cached)."""
        from k8slearn.courses.markdown import render_lesson

        key = (lesson.id, lang)
        page = self._rendered.get(key)
        if page is None:
            page = render_lesson(lesson.bodies[lang], lang, self.terms, lesson.id)
            with self._lock:
                self._rendered[key] = page
        return page

    def lessons_using(self, term_id: str, lang: str) -> list[Lesson]:
        return [lesson for lesson in self.lessons if term_id in self.rendered(lesson, lang).terms]


@dataclass(frozen=True)
class LessonError:
    """A problem in a lesson file: ``path`` as shown (relative to the lessons folder's parent),
    ``line`` and ``col`` counting from 1 when known."""

    path: str
    line: int | None
    message: str
    col: int | None = None
    file: Path | None = field(default=None, compare=False, repr=False)  # the absolute path

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}"
            if self.col:
                where += f":{self.col}"
        return f"{where}: {self.message}"


# --------------------------------------------------------------------------- validation


class _FileChecker:
    """Walks one YAML file's node tree, collecting errors with line numbers."""

    def __init__(self, path: Path, shown: str) -> None:
        self.path = path
        self.shown = shown
        self.errors: list[LessonError] = []

    def error(self, node: yaml.Node | None, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        col = node.start_mark.column + 1 if node is not None else None
        self.errors.append(LessonError(self.shown, line, message, col, self.path))

    def compose(self) -> yaml.Node | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as err:
            self.errors.append(LessonError(self.shown, None, f"cannot read the file: {err}", None, self.path))
            return None
        except UnicodeDecodeError:
            self.errors.append(LessonError(self.shown, None, "the file is not UTF-8 text", None, self.path))
            return None
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
            line = mark.line + 1 if mark is not None else None
            col = mark.column + 1 if mark is not None else None
            problem = getattr(err, "problem", None) or str(err)
            context = getattr(err, "context", None)
            message = f"invalid YAML: {context + ', ' if context else ''}{problem}"
            self.errors.append(LessonError(self.shown, line, message, col, self.path))
            return None
        if node is None:
            self.errors.append(LessonError(self.shown, 1, "the file is empty", None, self.path))
        return node

    @staticmethod
    def value(node: yaml.Node) -> Any:
        return yaml.SafeLoader("").construct_document(node)

    def mapping(
        self,
        node: yaml.Node,
        where: str,
        allowed: tuple[str, ...],
        required: tuple[str, ...] = (),
    ) -> dict[str, yaml.Node] | None:
        """Check that ``node`` is a mapping with only ``allowed`` keys; return key -> value node."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{where} must be a mapping (key: value)")
            return None
        result: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                self.error(key_node, f"{where} has a key that is not a plain name")
                continue
            if key in result:
                self.error(key_node, f"{where} has the key '{key}' twice")
                continue
            if key not in allowed:
                self.error(
                    key_node,
                    f"unknown key '{key}' in {where} (allowed: {', '.join(allowed)})",
                )
                continue
            result[key] = value_node
        for key in required:
            if key not in result:
                self.error(node, f"{where} is missing '{key}'")
        return result

    def text(self, node: yaml.Node, where: str) -> Text | None:
        fields = self.mapping(node, where, LANGS)
        if fields is None:
            return None
        values: dict[str, str] = {}
        for lang in LANGS:
            if lang not in fields:
                self.error(node, f"{where} is missing the '{lang}' text")
                continue
            value = self.string(fields[lang], f"{where}.{lang}")
            if value is not None:
                values[lang] = value
        if len(values) != len(LANGS):
            return None
        mark = node.start_mark
        return Text(ko=values["ko"], en=values["en"], line=mark.line + 1, col=mark.column + 1)

    def string(self, node: yaml.Node, where: str) -> str | None:
        value = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(value, str) or not value.strip():
            self.error(node, f"{where} must be a non-empty text")
            return None
        return value.strip()

    def integer(self, node: yaml.Node, where: str) -> int | None:
        value = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(node, f"{where} must be a whole number")
            return None
        return value

    def identifier(self, node: yaml.Node, where: str) -> str | None:
        value = self.string(node, where)
        if value is not None and not ID_RE.match(value):
            self.error(
                node,
                f"{where} '{value}' must use lowercase letters, digits and single hyphens "
                "(like 'self-healing')",
            )
            return None
        return value

    def sequence(self, node: yaml.Node, where: str) -> list[yaml.Node] | None:
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"{where} must be a list")
            return None
        return list(node.value)


def _question(check: _FileChecker, node: yaml.Node, where: str) -> Question | None:
    fields = check.mapping(node, where, QUESTION_KEYS, QUESTION_KEYS)
    if fields is None:
        return None
    qid = check.identifier(fields["id"], f"{where}.id") if "id" in fields else None
    text = check.text(fields["question"], f"{where}.question") if "question" in fields else None
    choices: list[Choice] = []
    choice_nodes = (
        check.sequence(fields["choices"], f"{where}.choices") if "choices" in fields else None
    )
    choices_ok = choice_nodes is not None
    if choice_nodes is not None:
        if not MIN_CHOICES <= len(choice_nodes) <= MAX_CHOICES:
            check.error(
                fields["choices"],
                f"{where} has {len(choice_nodes)} choices; give {MIN_CHOICES} to {MAX_CHOICES}",
            )
            choices_ok = False
        for index, choice_node in enumerate(choice_nodes):
            cwhere = f"{where}.choices[{index}]"
            cfields = check.mapping(choice_node, cwhere, CHOICE_KEYS, ("text",))
            if cfields is None or "text" not in cfields:
                choices_ok = False
                continue
            ctext = check.text(cfields["text"], f"{cwhere}.text")
            explain = None
            if "explain" in cfields:
                explain = check.text(cfields["explain"], f"{cwhere}.explain")
                if explain is None:
                    choices_ok = False
                    continue
            if ctext is None:
                choices_ok = False
                continue
            choices.append(Choice(ctext, explain))
    answer = check.integer(fields["answer"], f"{where}.answer") if "answer" in fields else None
    if answer is not None and choice_nodes is not None and not 0 <= answer < len(choice_nodes):
        check.error(
            fields["answer"],
            f"{where}.answer is {answer} but there are only {len(choice_nodes)} choices "
            f"(answers count from 0)",
        )
        answer = None
    if qid is None or text is None or answer is None or not choices_ok:
        return None
    return Question(qid, text, tuple(choices), answer)


def _lesson(
    folder: Path, shown_root: Path
) -> tuple[Lesson | None, list[LessonError], dict[str, int]]:
    """Validate one lesson folder. Returns the lesson (or None), errors, and key lines."""
    yaml_path = folder / "lesson.yaml"
    shown = _shown(yaml_path, shown_root)
    check = _FileChecker(yaml_path, shown)
    lines: dict[str, int] = {}
    folder_match = FOLDER_RE.match(folder.name)
    if not folder_match:
        check.error(None, f"folder '{folder.name}' must be named NN-slug, like '04-self-healing'")
    if not yaml_path.is_file():
        check.errors.append(LessonError(shown, None, "lesson.yaml is missing", None, yaml_path))
        root = None
    else:
        root = check.compose()
    bodies: dict[str, str] = {}
    for lang in LANGS:
        md_path = folder / f"{lang}.md"
        if not md_path.is_file():
            check.errors.append(
                LessonError(_shown(md_path, shown_root), None, f"{lang}.md is missing", None,
                            md_path)
            )
            continue
        try:
            body = md_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            check.errors.append(
                LessonError(_shown(md_path, shown_root), None, f"cannot read: {err}", None,
                            md_path)
            )
            continue
        if not body.strip():
            check.errors.append(LessonError(_shown(md_path, shown_root), 1, f"{lang}.md is empty", None,
                                                  md_path))
            continue
        bodies[lang] = body
    if root is None:
        return None, check.errors, lines

    fields = check.mapping(root, "lesson.yaml", LESSON_KEYS, REQUIRED_LESSON_KEYS)
    if fields is None:
        return None, check.errors, lines
    lines = {key: node.start_mark.line + 1 for key, node in fields.items()}
    lesson_id = check.identifier(fields["id"], "id") if "id" in fields else None
    order = check.integer(fields["order"], "order") if "order" in fields else None
    if order is not None and folder_match and int(folder_match.group(1)) != order:
        check.error(
            fields["order"],
            f"order is {order} but the folder name starts with {folder_match.group(1)}",
        )
    title = check.text(fields["title"], "title") if "title" in fields else None
    summary = check.text(fields["summary"], "summary") if "summary" in fields else None
    source = check.string(fields["source"], "source") if "source" in fields else None
    diagram = None
    if "diagram" in fields:
        diagram = check.string(fields["diagram"], "diagram")
        if diagram is not None and diagram not in DIAGRAMS:
            check.error(
                fields["diagram"],
                f"diagram '{diagram}' does not exist (known: {', '.join(sorted(DIAGRAMS))})",
            )
    playground = None
    if "playground" in fields:
        from k8slearn.courses.playground_block import parse_playground

        playground = parse_playground(check, fields["playground"])
    questions: list[Question] = []
    if "quiz" in fields:
        nodes = check.sequence(fields["quiz"], "quiz") or []
        if isinstance(fields["quiz"], yaml.SequenceNode) and len(nodes) < MIN_QUESTIONS:
            check.error(
                fields["quiz"],
                f"quiz has {len(nodes)} question{'' if len(nodes) == 1 else 's'}; give at least "
                f"{MIN_QUESTIONS}",
            )
        seen: dict[str, int] = {}
        for index, node in enumerate(nodes):
            question = _question(check, node, f"quiz[{index}]")
            if question is None:
                continue
            if question.id in seen:
                check.error(
                    node,
                    f"quiz[{index}].id '{question.id}' is already used by quiz[{seen[question.id]}]",
                )
                continue
            seen[question.id] = index
            questions.append(question)

    if check.errors or lesson_id is None or order is None or title is None:
        return None, check.errors, lines
    lesson = Lesson(
        id=lesson_id,
        order=order,
        folder=folder,
        title=title,
        summary=summary,
        source=source,
        diagram=diagram,
        quiz=tuple(questions),
        playground=playground,
        bodies=bodies,
    )
    return lesson, check.errors, lines


def _glossary(path: Path, shown_root: Path) -> tuple[list[Term], list[LessonError]]:
    if not path.exists():
        return [], []
    check = _FileChecker(path, _shown(path, shown_root))
    root = check.compose()
    if root is None:
        return [], check.errors
    fields = check.mapping(root, "glossary.yaml", ("terms",), ("terms",))
    if not fields or "terms" not in fields:
        return [], check.errors
    terms: list[Term] = []
    seen: set[str] = set()
    for index, node in enumerate(check.sequence(fields["terms"], "terms") or []):
        where = f"terms[{index}]"
        tfields = check.mapping(node, where, TERM_KEYS, ("id", "term", "definition"))
        if tfields is None:
            continue
        term_id = check.identifier(tfields["id"], f"{where}.id") if "id" in tfields else None
        if term_id is not None and term_id in seen:
            check.error(tfields["id"], f"{where}.id '{term_id}' is used twice")
            term_id = None
        term = check.text(tfields["term"], f"{where}.term") if "term" in tfields else None
        definition = (
            check.text(tfields["definition"], f"{where}.definition")
            if "definition" in tfields
            else None
        )
        match: dict[str, tuple[str, ...]] = {}
        if "match" in tfields:
            mfields = check.mapping(tfields["match"], f"{where}.match", LANGS) or {}
            for lang, mnode in mfields.items():
                items = check.sequence(mnode, f"{where}.match.{lang}") or []
                words = [check.string(item, f"{where}.match.{lang}") for item in items]
                match[lang] = tuple(w for w in words if w)
        if term_id is None or term is None or definition is None:
            continue
        seen.add(term_id)
        for lang in LANGS:
            match.setdefault(lang, (term.get(lang),))
        terms.append(Term(term_id, term, match, definition))
    return terms, check.errors


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _is_lesson_folder(folder: Path) -> bool:
    """A lesson folder: named like one (NN-slug), or holding a lesson's files (then a wrong name
    is reported). Other folders (images/, drafts/, .git/) are not lessons."""
    if not folder.is_dir() or folder.name.startswith((".", "_")):
        return False
    if FOLDER_RE.match(folder.name):
        return True
    return any((folder / name).exists() for name in ("lesson.yaml", "ko.md", "en.md"))


def as_dirs(lessons_dirs: Path | str | Sequence[Path | str]) -> tuple[Path, ...]:
    if isinstance(lessons_dirs, str | Path):
        return (Path(lessons_dirs),)
    return tuple(Path(d) for d in lessons_dirs)


def load_course(lessons_dirs: Path | str | Sequence[Path | str]) -> Course:
    """Read and validate every lesson and glossary of one or more lessons folders.

    Never raises for bad content. Lesson ids and glossary term ids are unique across all the
    folders (they make the URLs); ``order`` is unique within a folder, and the course lists the
    folders one after another (the built-in lessons first, then ``LESSON_DIRS``).
    """
    errors: list[LessonError] = []
    warnings: list[LessonError] = []
    lessons: list[Lesson] = []
    terms: list[Term] = []
    by_id: dict[str, str] = {}
    term_ids: set[str] = set()
    for position, lessons_dir in enumerate(as_dirs(lessons_dirs)):
        shown_root = lessons_dir.parent
        if not lessons_dir.is_dir():
            errors.append(LessonError(str(lessons_dir), None, "the lessons folder does not exist",
                                      None, lessons_dir))
            continue
        by_order: dict[int, str] = {}
        found: list[Lesson] = []
        for folder in sorted(lessons_dir.iterdir()):
            if not _is_lesson_folder(folder):
                continue
            lesson, lesson_errors, lines = _lesson(folder, shown_root)
            errors.extend(lesson_errors)
            if lesson is None:
                continue
            shown = _shown(folder / "lesson.yaml", shown_root)
            if lesson.id in by_id:
                errors.append(LessonError(shown, lines.get("id"),
                                          f"id '{lesson.id}' is already used by {by_id[lesson.id]}",
                                          5, folder / "lesson.yaml"))
                continue
            if lesson.order in by_order:
                errors.append(LessonError(shown, lines.get("order"),
                                          f"order {lesson.order} is already used by "
                                          f"{by_order[lesson.order]}", 8, folder / "lesson.yaml"))
                continue
            by_id[lesson.id] = shown
            by_order[lesson.order] = shown
            found.append(lesson)
        found.sort(key=lambda lesson: lesson.order)
        lessons.extend(replace(lesson, section=position) for lesson in found)
        dir_terms, glossary_errors = _glossary(lessons_dir / "glossary.yaml", shown_root)
        errors.extend(glossary_errors)
        for term in dir_terms:
            if term.id in term_ids:
                # An instructor's glossary may repeat a built-in term: the first one is kept.
                warnings.append(LessonError(_shown(lessons_dir / "glossary.yaml", shown_root),
                                            None, f"glossary term '{term.id}' is already "
                                            "defined by an earlier lessons folder; this "
                                            "definition is not used", None,
                                            lessons_dir / "glossary.yaml"))
                continue
            term_ids.add(term.id)
            terms.append(term)
    course = Course(lessons=tuple(lessons), terms=tuple(terms), errors=errors,
                    warnings=warnings)
    # Render every page once so that Markdown problems surface at load time, not on a request.
    for lesson in course.lessons:
        for lang in LANGS:
            course.rendered(lesson, lang)
    return course


# --------------------------------------------------------------------------- cache


def lesson_dirs() -> tuple[Path, ...]:
    """The lessons folders this site serves: the built-in ``LESSONS_DIR`` (unless
    ``BUILTIN_LESSONS`` is off), then every folder of ``LESSON_DIRS``."""
    dirs: list[Path] = []
    if getattr(settings, "BUILTIN_LESSONS", True):
        dirs.append(Path(settings.LESSONS_DIR))
    dirs.extend(Path(d) for d in getattr(settings, "LESSON_DIRS", ()))
    return tuple(d.expanduser().resolve() for d in dirs)


def _signature(dirs: Sequence[Path]) -> tuple:
    """A cheap fingerprint of the folders: (name, mtime, size) of every file two levels deep."""
    return tuple(_dir_signature(d) for d in dirs)


def signature_token(dirs: Sequence[Path] | None = None) -> str:
    """A short text that changes whenever a lesson file changes (the live preview polls it)."""
    import hashlib

    digest = hashlib.blake2b(repr(_signature(dirs or lesson_dirs())).encode(), digest_size=8)
    return digest.hexdigest()


def _dir_signature(lessons_dir: Path) -> tuple:
    entries: list[tuple[str, int, int]] = []
    try:
        top = list(lessons_dir.iterdir())
    except OSError:
        return ()
    for entry in top:
        try:
            stat = entry.stat()
        except OSError:
            continue
        entries.append((entry.name, stat.st_mtime_ns, stat.st_size))
        if entry.is_dir():
            try:
                children = list(entry.iterdir())
            except OSError:
                continue
            for child in children:
                try:
                    cstat = child.stat()
                except OSError:
                    continue
                entries.append((f"{entry.name}/{child.name}", cstat.st_mtime_ns, cstat.st_size))
    return tuple(sorted(entries))


@dataclass
class _Cached:
    signature: tuple
    course: Course  # what is served: the newest valid lessons plus the last good broken ones


_cache: dict[tuple[Path, ...], _Cached] = {}
_cache_lock = threading.Lock()


def get_course(request: Any = None) -> Course:
    """The lessons of :func:`lesson_dirs`, cached; reloaded on change under DEBUG.

    With a request, the stat check runs at most once per request.
    """
    if request is not None:
        course = getattr(request, "_k8slearn_course", None)
        if course is not None:
            return course
    dirs = lesson_dirs()
    cached = _cache.get(dirs)
    if cached is None or settings.DEBUG:
        signature = _signature(dirs)
        if cached is None or cached.signature != signature:
            with _cache_lock:
                cached = _reload(dirs, signature, cached)
    course = cached.course
    if request is not None:
        request._k8slearn_course = course
    return course


def _reload(dirs: tuple[Path, ...], signature: tuple, previous: _Cached | None) -> _Cached:
    course = load_course(dirs)
    if course.errors:
        for error in course.errors:
            logger.error("lesson error: %s", error)
        if previous is not None:
            course = _keep_last_good(course, previous.course)
    entry = _Cached(signature, course)
    _cache[dirs] = entry
    return entry


def _keep_last_good(course: Course, previous: Course) -> Course:
    """An edit broke some lessons: serve their last good version next to the valid ones."""
    loaded = {lesson.id for lesson in course.lessons}
    folders = {lesson.folder for lesson in course.lessons}
    kept = [lesson for lesson in previous.lessons
            if lesson.id not in loaded and lesson.folder not in folders
            and lesson.folder.exists()]
    if not kept and course.terms:
        return course
    logger.error("serving the last good version of %s until the errors are fixed",
                 ", ".join(lesson.id for lesson in kept) or "the glossary")
    lessons = sorted((*course.lessons, *kept), key=lambda lesson: (lesson.section, lesson.order))
    return Course(lessons=tuple(lessons), terms=course.terms or previous.terms,
                  errors=course.errors)


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()

"""``manage.py lessons new|check|test``: the instructor's tools for lesson folders.

    python manage.py lessons new my-lesson          # scaffold NN-my-lesson/ with examples
    python manage.py lessons check [path]           # every problem as file:line:col
    python manage.py lessons test [lesson-id]       # replay each exercise's solution

``check`` and ``test`` exit with status 1 when something is wrong (``check --strict``: warnings
too), so CI can run them. Both take ``--format json``.
"""

from __future__ import annotations

import json
import string
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from k8slearn.courses import lint
from k8slearn.courses.exercises import ExerciseReport, run_exercise
from k8slearn.courses.loader import FOLDER_RE, ID_RE, lesson_dirs, load_course

SCAFFOLD = Path(__file__).resolve().parents[2] / "scaffold"
MANAGE = Path(__file__).resolve().parents[4] / "manage.py"
MAX_EVENTS = 30  # events shown per exercise in text output (JSON has them all)


class Command(BaseCommand):
    help = "Write, check and test lessons: new <slug> | check [path] | test [lesson-id or path]"
    requires_system_checks: list[str] = []  # `check` must work while lessons are broken

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="new|check|test", required=True)
        new = sub.add_parser("new", help="scaffold a lesson folder with an example of every "
                             "feature")
        new.add_argument("slug", help="the lesson id, like my-first-lesson")
        new.add_argument("--dir", type=Path, help="the lessons folder to write into (default: "
                         "the first of LESSON_DIRS, else the built-in lessons/)")
        new.add_argument("--order", type=int, help="the lesson's number (default: the next)")
        check = sub.add_parser("check", help="report every problem as file:line:col")
        check.add_argument("path", nargs="?", type=Path, help="a lessons folder or one lesson's "
                           "folder (default: every folder the site serves)")
        check.add_argument("--format", choices=("text", "json"), default="text")
        check.add_argument("--strict", action="store_true", help="fail on warnings too")
        test = sub.add_parser("test", help="replay each exercise's solution on the simulator")
        test.add_argument("lesson", nargs="?", help="a lesson id, a lesson's folder or a lessons "
                          "folder (default: every lesson the site serves)")
        test.add_argument("--format", choices=("text", "json"), default="text")
        for p in (new, check, test):
            p.set_defaults(command=self)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "new":
            self.new(options["slug"], options.get("dir"), options.get("order"))
        elif action == "check":
            self.check_lessons(options.get("path"), options["format"], options["strict"])
        else:
            self.test_lessons(options.get("lesson"), options["format"])

    # ------------------------------------------------------------------ new

    def new(self, slug: str, directory: Path | None, order: int | None) -> None:
        if not ID_RE.match(slug):
            raise CommandError(f"'{slug}' is not a lesson id: use lowercase letters, digits and "
                               "single hyphens, like my-first-lesson")
        target_dir = (directory or _default_dir()).expanduser().resolve()
        builtin = target_dir == Path(settings.LESSONS_DIR).resolve()
        target_dir.mkdir(parents=True, exist_ok=True)
        existing = [FOLDER_RE.match(p.name) for p in target_dir.iterdir() if p.is_dir()]
        numbers = [int(m.group(1)) for m in existing if m]
        if any(m and m.group(2) == slug for m in existing):
            raise CommandError(f"{target_dir} already has a lesson folder for '{slug}'")
        if any(lesson.id == slug for lesson in load_course(lesson_dirs()).lessons):
            raise CommandError(f"a lesson with the id '{slug}' already exists")
        order = order if order is not None else max(numbers, default=0) + 1
        if not 1 <= order <= 99:
            raise CommandError("--order must be from 1 to 99 (the folder starts with two digits)")
        if order in numbers:
            raise CommandError(f"{target_dir} already has a lesson number {order:02d}")
        folder = target_dir / f"{order:02d}-{slug}"
        words = slug.replace("-", " ")
        values = {"slug": slug, "order": str(order), "folder": lint.shown(folder),
                  "title_en": words[:1].upper() + words[1:], "title_ko": f"새 단원: {words}"}
        folder.mkdir()
        for name in ("lesson.yaml", "ko.md", "en.md"):
            text = string.Template((SCAFFOLD / name).read_text(encoding="utf-8"))
            (folder / name).write_text(text.substitute(values), encoding="utf-8")
        shown = lint.shown(folder)
        served = target_dir in lesson_dirs()
        python = f"{_here(Path(sys.executable))} {_here(MANAGE)}"
        self.stdout.write(self.style.SUCCESS(f"Created {shown}/ (lesson.yaml, ko.md, en.md)."))
        if builtin:
            self.stdout.write(self.style.WARNING(
                "This is the built-in lessons/ folder. For a course of your own, give --dir or "
                "set LESSON_DIRS (see lessons/README.md)."))
        self.stdout.write(
            "Next:\n"
            f"  1. Edit the three files: every feature has a short example.\n"
            f"  2. {python} lessons check {shown}\n"
            f"  3. {python} lessons test {shown}\n"
            f"  4. make run, then open /ko/lessons/{slug}/ (http://127.0.0.1:8000 by default): "
            "the page reloads as you save."
        )
        if not served:
            self.stdout.write(self.style.WARNING(
                f"The site does not serve {target_dir} yet: start it with "
                f"LESSON_DIRS={target_dir} (see lessons/README.md)."))

    # ------------------------------------------------------------------ check

    def check_lessons(self, path: Path | None, fmt: str, strict: bool) -> None:
        dirs = list(lesson_dirs())
        only = None
        if path is not None:
            path = path.expanduser().resolve()
            if not path.exists():
                raise CommandError(f"{path} does not exist")
            lessons_dir = path.parent if (path / "lesson.yaml").exists() or path.is_file() else path
            if path.is_file():
                lessons_dir = path.parent.parent
            if lessons_dir not in dirs:
                dirs.append(lessons_dir)
            only = path
        problems = lint.check(dirs, only=only)
        errors = sum(p.severity == lint.ERROR for p in problems)
        warnings = len(problems) - errors
        if fmt == "json":
            self.stdout.write(json.dumps({"errors": errors, "warnings": warnings,
                                          "problems": [p.to_dict() for p in problems]},
                                         ensure_ascii=False, indent=2))
        else:
            for problem in problems:
                style = self.style.ERROR if problem.severity == lint.ERROR else self.style.WARNING
                self.stdout.write(style(str(problem)))
            summary = f"{errors} error(s), {warnings} warning(s)"
            if problems:
                self.stdout.write(summary)
            else:
                self.stdout.write(self.style.SUCCESS(f"No problems. {summary}"))
        if errors or (strict and warnings):
            raise SystemExit(1)

    # ------------------------------------------------------------------ test

    def test_lessons(self, wanted: str | None, fmt: str) -> None:
        dirs = list(lesson_dirs())
        looks_like_path = bool(wanted) and ("/" in wanted or wanted in (".", ".."))
        path = Path(wanted).expanduser().resolve() if wanted else None
        if looks_like_path and path is not None and not path.exists():
            raise CommandError(f"{path} does not exist")
        if path is not None and path.is_dir():  # a folder: test the lessons in it
            lessons_dir = path.parent if (path / "lesson.yaml").exists() else path
            if lessons_dir not in dirs:
                dirs.append(lessons_dir)
        else:
            path = None
        course = load_course(dirs)
        if path is not None:
            broken = [lint._from_error(e) for e in course.errors
                      if e.file is not None and lint._under(e.file, path)]
            if broken:  # a lesson that does not load cannot be replayed: say so, and fail
                for problem in broken:
                    self.stderr.write(str(problem))
                raise CommandError(f"{len(broken)} error(s): fix them first "
                                   "(lessons check shows them too)")
        lessons = [lesson for lesson in course.lessons
                   if wanted is None or wanted in (lesson.id, lesson.folder.name)
                   or (path is not None and (path == lesson.folder or path in lesson.folder.parents))]
        if wanted is not None and not lessons:
            if path is not None:
                raise CommandError(f"there are no lessons in {path}")
            broken = [str(e) for e in course.errors if wanted in e.path]
            detail = ("; it does not load:\n  " + "\n  ".join(broken)) if broken else ""
            raise CommandError(f"there is no lesson '{wanted}'{detail}")
        reports = [run_exercise(lesson.id, lesson.playground, exercise)
                   for lesson in lessons if lesson.playground
                   for exercise in lesson.playground.exercises]
        if fmt == "json":
            self.stdout.write(json.dumps({"ok": all(r.ok for r in reports),
                                          "exercises": [r.to_dict() for r in reports]},
                                         ensure_ascii=False, indent=2))
        else:
            for report in reports:
                self._print_report(report)
            failed = sum(not r.ok for r in reports)
            summary = f"{len(reports) - failed} of {len(reports)} exercise(s) reach their goal"
            if not reports:
                summary = "no exercises to test (no playground block)"
            style = self.style.ERROR if failed else self.style.SUCCESS
            self.stdout.write(style(summary))
        if any(not r.ok for r in reports):
            raise SystemExit(1)

    def _print_report(self, report: ExerciseReport) -> None:
        head = f"{report.lesson_id} / {report.exercise_id}: "
        if report.ok:
            self.stdout.write(self.style.SUCCESS(
                f"{head}goal reached after {report.reached_at:g} s (virtual)"))
        else:
            self.stdout.write(self.style.ERROR(f"{head}" + "; ".join(report.problems())))
        for number, step in enumerate(report.steps, start=1):
            mark = "ok" if step.ok else "FAILED"
            goal = f"  → goal reached at {step.reached_at:g} s" if step.reached else ""
            self.stdout.write(f"  {number}. {_step_text(step.step)}  [{mark}]{goal}")
            text = (step.output or step.error).strip()
            for line in text.splitlines()[:6]:
                self.stdout.write(f"       {line}")
        if report.events:
            self.stdout.write("  events:")
            for event in report.events[:MAX_EVENTS]:
                self.stdout.write(f"    {event['at']:>7.1f}s  {event['type']:<7}  "
                                  f"{event['reason']:<20}  {event['object']}: {event['message']}")
            if len(report.events) > MAX_EVENTS:
                self.stdout.write(f"    … {len(report.events) - MAX_EVENTS} more "
                                  "(--format json lists them all)")
        if report.reached_by_waiting:
            self.stdout.write(self.style.WARNING(
                "  warning: waiting alone reaches this goal; the learner need not do anything"))


def _here(path: Path) -> str:
    """``path`` as typed from the working folder: relative inside it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _default_dir() -> Path:
    extra = list(getattr(settings, "LESSON_DIRS", ()))
    return Path(extra[0]) if extra else Path(settings.LESSONS_DIR)


def _step_text(step: dict[str, Any]) -> str:
    kind, arg = next(iter(step.items()))
    if isinstance(arg, str) and "\n" in arg:
        arg = arg.splitlines()[0] + " …"
    return f"{kind}: {json.dumps(arg, ensure_ascii=False) if not isinstance(arg, str) else arg}"

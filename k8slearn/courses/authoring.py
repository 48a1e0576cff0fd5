"""What the site does for authors: the live preview (DEBUG only) and files next to a lesson.

* Every course page under DEBUG carries the lessons' signature token; ``static/js/preview.js``
  polls :func:`preview_token` and reloads the page (keeping its scroll position) when a lesson
  file changes.
* A lesson page under DEBUG shows the problems ``manage.py lessons check`` finds in that lesson,
  and a lesson that does not load shows its errors instead of a 404.
* :func:`lesson_file` serves the images kept in a lesson's folder (``![…](diagram.png)``).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from k8slearn.courses import lint
from k8slearn.courses.loader import Course, Lesson, get_course, lesson_dirs, signature_token

_problems: dict[tuple[str, str], list[lint.Problem]] = {}
_lock = threading.Lock()


def preview_context(context: dict[str, Any]) -> dict[str, Any]:
    """Add the preview token to a course page's context (DEBUG only)."""
    if settings.DEBUG:
        context["preview_token"] = signature_token()
    return context


@never_cache
@require_GET
def preview_token(request: HttpRequest) -> HttpResponse:
    if not settings.DEBUG:
        raise Http404("the live preview only runs with DEBUG on")
    return HttpResponse(signature_token(), content_type="text/plain")


def lesson_problems(lesson: Lesson) -> list[lint.Problem]:
    """What `lessons check` says about one lesson, cached until a lesson file changes."""
    key = (signature_token(), str(lesson.folder))
    found = _problems.get(key)
    if found is None:
        found = lint.check(lesson_dirs(), only=lesson.folder)
        with _lock:
            if len(_problems) > 200:
                _problems.clear()
            _problems[key] = found
    return found


def broken_lesson(request: HttpRequest, lesson_id: str, course: Course) -> HttpResponse | None:
    """Under DEBUG, the errors of a lesson that does not load (instead of a 404)."""
    if not settings.DEBUG or not course.errors:
        return None
    mine = [e for e in course.errors
            if e.file is not None and _folder_slug(e.file) == lesson_id]
    errors = mine or course.errors
    context = {"lesson_id": lesson_id, "errors": [lint._from_error(e) for e in errors],
               "only_this": bool(mine)}
    # 404 when no lesson of that name is even broken; the page helps the author either way.
    return render(request, "courses/lesson_errors.html", preview_context(context),
                  status=200 if mine else 404)


def shown_errors(course: Course) -> list[str]:
    """The course's load errors as `lessons check` prints them (the same paths)."""
    return [str(lint._from_error(e)) for e in course.errors]


def _folder_slug(path: Path) -> str | None:
    for part in (path.parent.name, path.name):
        if len(part) > 3 and part[:2].isdigit() and part[2] == "-":
            return part[3:]
    return None


@require_GET
def lesson_file(request: HttpRequest, lesson_id: str, name: str) -> FileResponse:
    """An image from the lesson's folder; nothing else (no YAML, no Markdown, no ``..``)."""
    lesson = get_course(request).get(lesson_id)
    if lesson is None:
        raise Http404(lesson_id)
    folder = lesson.folder.resolve()
    path = (folder / name).resolve()
    if folder not in path.parents or not path.is_file():
        raise Http404(name)
    content_type = lint.IMAGE_TYPES.get(path.suffix.lower())
    if content_type is None:
        raise Http404(name)
    response = FileResponse(path.open("rb"), content_type=content_type)
    # An SVG can carry scripts: as a document of its own it may run none and load nothing.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response

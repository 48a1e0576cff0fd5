"""`manage.py check` (and runserver's start-up check) validates the lessons folders."""

from __future__ import annotations

from typing import Any

from django.core import checks

from k8slearn.courses.loader import lesson_dirs, load_course


def check_lessons(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    course = load_course(lesson_dirs())
    return [
        # A warning: runserver still starts (an author fixes the file and the live preview
        # shows the fix); `manage.py check --fail-level WARNING` and CI still fail on it.
        checks.Warning(str(error), hint="run: python manage.py lessons check", obj="lessons",
                       id="k8slearn.W001")
        for error in course.errors
    ]

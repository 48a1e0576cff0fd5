"""`manage.py check` (and runserver's start-up check) validates the lessons folder."""

from __future__ import annotations

from typing import Any

from django.core import checks

from k8slearn.courses.loader import lesson_dirs, load_course


def check_lessons(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    course = load_course(lesson_dirs())
    return [
        checks.Error(str(error), hint=None, obj="lessons", id="k8slearn.E001")
        for error in course.errors
    ]

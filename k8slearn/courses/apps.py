from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class CoursesConfig(AppConfig):
    name = "k8slearn.courses"
    verbose_name = "Courses"

    def ready(self) -> None:
        from k8slearn.courses.checks import check_lessons

        checks.register(check_lessons, "k8slearn")

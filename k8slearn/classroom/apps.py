from __future__ import annotations

from django.apps import AppConfig


class ClassroomConfig(AppConfig):
    name = "k8slearn.classroom"
    verbose_name = "Classroom"

    def ready(self) -> None:
        from k8slearn.classroom import live  # noqa: F401 - connects the progress signal

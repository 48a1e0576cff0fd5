from __future__ import annotations

from django.apps import AppConfig


class PlaygroundConfig(AppConfig):
    name = "k8slearn.playground"
    verbose_name = "Playground"

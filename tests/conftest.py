"""Shared fixtures for the web tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_LESSONS = Path(__file__).resolve().parent / "web" / "fixture_lessons"


def pytest_configure(config: pytest.Config) -> None:
    # The Korean catalogue is a build output (.mo is gitignored): compile it before any test.
    from k8slearn.courses.management.commands.compilecatalogue import compile_catalogues

    compile_catalogues([ROOT / "locale"])
    # WhiteNoise warns when collectstatic has not run; tests serve static files from static/.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")


@pytest.fixture
def fixture_lessons(settings):
    """Point the site at the small, stable lessons folder in tests/web/fixture_lessons."""
    settings.LESSONS_DIR = FIXTURE_LESSONS
    return FIXTURE_LESSONS

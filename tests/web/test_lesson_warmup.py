"""The lessons are loaded when a server process starts, not on the first request."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.conf import settings

from k8slearn.courses.apps import should_warm


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        (
            ["/venv/lib/python3/site-packages/daphne/__main__.py", "k8slearn.asgi:application"],
            {},
            True,
        ),
        (["/venv/bin/daphne", "k8slearn.asgi:application"], {}, True),
        (["manage.py", "runserver"], {"RUN_MAIN": "true"}, True),
        (["manage.py", "runserver"], {}, False),  # the auto-reloader's watcher serves nothing
        (["manage.py", "runserver", "--noreload"], {}, True),
        (["manage.py", "compilecatalogue"], {}, False),
        (["manage.py", "makemigrations", "--check"], {}, False),
        (["manage.py", "migrate"], {}, False),
        (["manage.py", "check"], {}, False),
        (["/venv/lib/python3/site-packages/django/__main__.py", "makemigrations"], {}, False),
    ],
)
def test_which_processes_warm_the_lessons(argv, environ, expected, monkeypatch):
    monkeypatch.delitem(sys.modules, "pytest")
    try:
        assert should_warm(argv, environ) is expected
    finally:
        sys.modules["pytest"] = pytest


def test_under_pytest_nothing_is_warmed():
    assert should_warm(["/venv/bin/daphne", "k8slearn.asgi:application"], {}) is False


def run_python(code: str, lessons_dir: str) -> subprocess.CompletedProcess[str]:
    env = {"K8SLEARN_LESSONS_DIR": lessons_dir, "DJANGO_SETTINGS_MODULE": "k8slearn.settings"}
    import os

    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


WARM_CHECK = (
    "import django; django.setup()\n"
    "from pathlib import Path\n"
    "from django.conf import settings\n"
    "from k8slearn.courses import loader\n"
    "cached = loader._cache.get(loader.lesson_dirs())\n"
    "print('warm' if cached else 'cold', len(cached.course.errors) if cached else '-')\n"
)


def test_a_server_process_has_the_lessons_loaded_after_setup():
    result = run_python(WARM_CHECK, str(settings.BASE_DIR / "lessons"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["warm", "0"]


def test_broken_lessons_do_not_stop_start_up(tmp_path):
    broken = tmp_path / "lessons"
    (broken / "01-broken").mkdir(parents=True)
    (broken / "01-broken" / "lesson.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    result = run_python(WARM_CHECK, str(broken))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "warm" and int(result.stdout.split()[1]) > 0
    assert "lesson error" in result.stderr  # logged, and reported by `manage.py check`

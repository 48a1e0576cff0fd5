from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, Sequence

from django.apps import AppConfig
from django.core import checks

logger = logging.getLogger(__name__)

# manage.py commands that must work while lessons are broken or that never serve pages: they do
# not load the lessons at start-up. (`check` loads them itself, through the system check.)
NO_WARM_COMMANDS = frozenset(
    {
        "check",
        "collectstatic",
        "compilecatalogue",
        "compilemessages",
        "createcachetable",
        "dbshell",
        "help",
        "lessons",
        "makemessages",
        "makemigrations",
        "migrate",
        "shell",
        "showmigrations",
        "sqlmigrate",
        "test",
    }
)


def should_warm(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Whether this process serves pages and should load the lessons before the first request.

    ``manage.py <command>``: every command but those above (``runserver`` only in its serving
    child, not in the auto-reloader's watcher). Anything else (``daphne``, ``uvicorn`` …): yes,
    except under pytest, whose tests load their own lessons folders.
    """
    if "pytest" in sys.modules:
        return False
    program = os.path.basename(argv[0]) if argv else ""
    if program in ("manage.py", "django-admin", "__main__.py") and len(argv) > 1:
        if program == "__main__.py" and "django" not in argv[0]:
            return True  # python -m daphne / uvicorn …
        command = argv[1]
        if command in NO_WARM_COMMANDS or command.startswith("-"):
            return False
        if command == "runserver" and environ.get("RUN_MAIN") != "true":
            return "--noreload" in argv
        return True
    return True


def warm_lessons() -> None:
    """Load and render every lesson once, so the first request is not the slow one.

    Never fails start-up: a broken lessons folder is reported by the system check (and logged by
    the loader); the site then serves what is valid.
    """
    from k8slearn.courses.loader import get_course

    try:
        get_course()
    except Exception:  # noqa: BLE001 - a warm-up must not stop the server from starting
        logger.exception("could not load the lessons at start-up; they load on the first request")


class CoursesConfig(AppConfig):
    name = "k8slearn.courses"
    verbose_name = "Courses"

    def ready(self) -> None:
        from k8slearn.courses.checks import check_lessons

        checks.register(check_lessons, "k8slearn")
        if should_warm(sys.argv, os.environ):
            warm_lessons()

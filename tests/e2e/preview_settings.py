"""Settings for the authors' Daphne server of tests/e2e/test_authoring.py: DEBUG on.

DEBUG turns on the live preview and the authors' panels; static files are then served by
WhiteNoise straight from static/ (WHITENOISE_USE_FINDERS and WHITENOISE_AUTOREFRESH follow DEBUG),
so nothing is collected. STATIC_ROOT points at an empty temporary folder so that a stale
staticfiles/ in the project can never shadow static/. The lessons come from LESSON_DIRS and
BUILTIN_LESSONS, set by the test module.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ["DJANGO_DEBUG"] = "1"

from k8slearn.settings import *  # noqa: E402, F403

STATIC_ROOT = Path(os.environ["K8SLEARN_E2E_STATIC_ROOT"])

"""Settings for the Daphne server that the browser tests start (see tests/e2e/conftest.py).

The server runs as in production: DEBUG off (so the real 404 page shows), static files hashed and
compressed by WhiteNoise's manifest storage. They are collected into a temporary folder, never
into the project's staticfiles/, which would shadow static/ under `make run`.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "k8slearn-browser-tests-only-not-a-real-secret")

from k8slearn.settings import *  # noqa: E402, F403

STATIC_ROOT = Path(os.environ["K8SLEARN_E2E_STATIC_ROOT"])

"""Settings for the Daphne process that bench/ws_load.py starts: production-like (DEBUG off,
collected static files) plus the playground's per-action timing log at DEBUG."""

from __future__ import annotations

from tests.e2e.server_settings import *  # noqa: F403

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"k8slearn.playground.timing": {"level": "DEBUG"}},
}

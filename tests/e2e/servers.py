"""The Daphne servers of the browser tests: started as subprocesses on the test database.

conftest.py's `e2e_server` runs the site as in production (DEBUG off); test_authoring.py runs a
second one with DEBUG on and its own lessons folders. See conftest.py for how it fits together.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER_START_TIMEOUT = 30.0  # seconds; Daphne starts in about 1 s on an idle machine


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Server:
    """The Daphne subprocess and its log file."""

    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.url = url
        self.process = process
        self.log = log

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def log_text(self, start: int = 0) -> str:
        with self.log.open("rb") as f:
            f.seek(start)
            return f.read().decode("utf-8", "replace")


def database_file() -> Path:
    """The SQLite file of pytest-django's test database, which the servers share with the tests."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.fail(
            f"The browser tests share a SQLite test database file with their server, but "
            f"DATABASE_URL selects {connection.vendor}: unset DATABASE_URL to run them.",
            pytrace=False,
        )
    db_file = Path(settings.DATABASES["default"]["TEST"]["NAME"]).resolve()
    if Path(connection.settings_dict["NAME"]).resolve() != db_file:
        pytest.fail(f"the test database is not the file {db_file}", pytrace=False)
    if not db_file.exists():
        pytest.fail(f"the test database {db_file} was not created", pytrace=False)
    return db_file


def server_env(settings_module: str, **extra: str) -> dict[str, str]:
    """The environment of a test server: this process's, on the test database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": f"sqlite:///{database_file()}",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


@contextmanager
def run_daphne(env: dict[str, str], log: Path) -> Iterator[Server]:
    """Daphne serving k8slearn on a free port with ``env``, until the block ends."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "k8slearn.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not port_open(port):
            if process.poll() is not None:
                pytest.fail(
                    f"Daphne exited with code {process.returncode} before listening on {port}."
                    f"\n--- server log ---\n{server.log_text()}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"Daphne did not listen on port {port} within {SERVER_START_TIMEOUT:.0f} s."
                    f"\n--- server log ---\n{server.log_text()}",
                    pytrace=False,
                )
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

"""Browser tests: Playwright in Debian's Chromium against a real Daphne server.

How it fits together (see /work/shared/design/STACK.md, "Browser tests"):

* pytest-django creates the test database, a SQLite *file* (settings TEST NAME). A session fixture
  starts `python -m daphne … k8slearn.asgi:application` in a subprocess whose DATABASE_URL points
  at that file, so the browser and the tests see the same rows. Tests use `transactional_db`:
  rows are committed (the server can see them) and the tables are emptied after each test.
  Starting and stopping a server is in servers.py (test_authoring.py starts a second one).
* pytest-django's `live_server` is WSGI (no websockets); Channels' fork-based live servers hang.
* Once a test has used Playwright's sync API an event loop stays running in this process, so
  these tests run last (the collection hook below), and Django's async-safety check is switched
  off from the first browser test on (so the other tests keep it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import ROOT, Server, run_daphne, server_env

E2E_DIR = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# --------------------------------------------------------------------------- ordering


def _is_e2e(item: pytest.Item) -> bool:
    return E2E_DIR in Path(str(item.path)).parents


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark browser tests `e2e` as they are collected, so that `-m e2e` / `-m "not e2e"` work."""
    if _is_e2e(item):
        item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Move every browser test to the end of the whole session, keeping their order.

    trylast: pytest-django reorders items in its own hook (database tests first); this must run
    after it. pytest calls this hook of every loaded conftest with the session's items.
    """
    items[:] = [i for i in items if not _is_e2e(i)] + [i for i in items if _is_e2e(i)]


@pytest.fixture(scope="session", autouse=True)
def _allow_sync_orm_next_to_playwright() -> Iterator[None]:
    """Playwright's event loop makes Django refuse sync ORM calls (the flush after each test)."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options plus Debian's Chromium (Playwright cannot download one)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests need Debian's Chromium at {CHROMIUM} and a Korean font. Install "
            "them with `apt-get install -y chromium fonts-noto-cjk` (or run `make test` as root, "
            "which installs them).",
            pytrace=False,
        )
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


# --------------------------------------------------------------------------- server


@pytest.fixture(scope="session")
def e2e_server(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Daphne serving k8slearn on a free port, on the test database; stopped at the end."""
    workdir = tmp_path_factory.mktemp("e2e-server")
    env = server_env(
        "tests.e2e.server_settings", K8SLEARN_E2E_STATIC_ROOT=str(workdir / "static")
    )
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if collect.returncode != 0:
        pytest.fail(
            f"collectstatic failed for the browser-test server:\n{collect.stdout}{collect.stderr}",
            pytrace=False,
        )
    with run_daphne(env, workdir / "server.log") as server:
        yield server


@pytest.fixture(scope="session")
def base_url(e2e_server: Server) -> str:
    """Playwright resolves `page.goto("/ko/")` against the test server."""
    return e2e_server.url


@pytest.fixture(autouse=True)
def _e2e_test(
    transactional_db: None, e2e_server: Server, request: pytest.FixtureRequest
) -> Iterator[None]:
    """Every browser test commits its rows, and shows the server's log when it fails."""
    start = e2e_server.log_size()
    yield
    report = getattr(request.node, "_e2e_call_report", None)
    if report is not None and report.failed:
        print(f"\n--- server log during {request.node.name} ---\n{e2e_server.log_text(start)}")
    if e2e_server.process.poll() is not None:
        pytest.fail(
            f"the test server died (exit code {e2e_server.process.returncode})\n"
            f"{e2e_server.log_text(start)}",
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item._e2e_call_report = report  # type: ignore[attr-defined]
    return report

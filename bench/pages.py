"""Page performance figures for k8slearn, each with its target and PASS/FAIL.

    .venv/bin/python bench/pages.py          (or `make bench`)

1. Server time per page, measured in-process with Django's test Client (no network, no browser):
   every lesson x both languages x ROUNDS requests, after one warm-up pass. One Client per
   language keeps its session cookie, like a returning learner, so each lesson view does its real
   work: read the session, record "lesson read", load quiz answers, render. Measured twice: DEBUG
   off (production) and DEBUG on (`make run`, which also checks the lessons folder for edits on
   every request). The course map and glossary are measured too.
2. Transfer size of a lesson page: its HTML plus every stylesheet and script it references,
   each gzip-compressed (level 9, as WhiteNoise stores them). The largest lesson counts.
3. Start-up: from starting `manage.py runserver 127.0.0.1:<free port>` (what `make run` runs,
   with the autoreloader) to the first 200 answer on /ko/.

The database is a temporary SQLite file, migrated here; the dev database (db.sqlite3) is never
touched. Exit status 1 when a figure misses its target. Figures vary with machine load: on a
busy 2-core machine run it twice before believing a FAIL.
"""

from __future__ import annotations

import gzip
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROUNDS = 20
SERVER_MS_TARGET = 15.0
TRANSFER_KB_TARGET = 60.0
STARTUP_S_TARGET = 5.0
STARTUP_RUNS = 3
LANGS = ("ko", "en")

TMP = Path(tempfile.mkdtemp(prefix="k8slearn-bench-"))
DB_URL = f"sqlite:///{TMP / 'bench.sqlite3'}"
os.environ["DATABASE_URL"] = DB_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "k8slearn.settings")

# WhiteNoise warns that staticfiles/ (collectstatic's output) is missing; pages use static/.
warnings.filterwarnings("ignore", "No directory at", UserWarning)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles import finders  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings, setup_test_environment  # noqa: E402

from k8slearn.courses.loader import get_course  # noqa: E402

rows: list[tuple[str, str, str, bool]] = []  # figure, value, target, passed


def record(figure: str, value: str, target: str, passed: bool) -> None:
    rows.append((figure, value, target, passed))
    print(f"  {'PASS' if passed else 'FAIL'}  {figure}: {value} (target {target})", flush=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed_gets(clients: dict[str, Client], paths: list[tuple[str, str]]) -> list[float]:
    """Milliseconds for each GET, ROUNDS times over `paths` (lang, path)."""
    times = []
    for lang, path in paths:  # warm-up: caches, compiled templates, session rows
        assert clients[lang].get(path).status_code == 200, path
    for _ in range(ROUNDS):
        for lang, path in paths:
            start = time.perf_counter()
            response = clients[lang].get(path)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (path, response.status_code)
    return times


def server_time() -> None:
    course = get_course()
    if course.errors:
        print(f"  note: lessons with errors are left out: {[str(e) for e in course.errors]}")
    lessons = [
        (lang, f"/{lang}/lessons/{lesson.id}/") for lesson in course.lessons for lang in LANGS
    ]
    others = [(lang, path) for lang in LANGS for path in (f"/{lang}/", f"/{lang}/glossary/")]
    print(f"Server time: {len(course.lessons)} lessons x {len(LANGS)} languages x {ROUNDS} rounds")
    for debug in (False, True):
        with override_settings(DEBUG=debug):
            clients = {lang: Client(HTTP_ACCEPT_LANGUAGE=lang) for lang in LANGS}
            mode = "DEBUG on (make run)" if debug else "DEBUG off"
            for name, paths in (("lesson page", lessons), ("course map + glossary", others)):
                times = timed_gets(clients, paths)
                median, p95 = statistics.median(times), percentile(times, 95)
                record(
                    f"{name}, {mode}: median (p95) server time over {len(times)} requests",
                    f"{median:.1f} ms ({p95:.1f} ms)",
                    f"median < {SERVER_MS_TARGET:.0f} ms",
                    median < SERVER_MS_TARGET,
                )


ASSET = re.compile(r'<(?:link[^>]+rel="stylesheet"[^>]+href|script[^>]+src)="([^"]+)"')


def transfer_size() -> None:
    course = get_course()
    client = Client()
    print("Transfer size: HTML + referenced CSS/JS, gzip -9 each")
    sizes = []
    for lesson in course.lessons:
        for lang in LANGS:
            html = client.get(f"/{lang}/lessons/{lesson.id}/").content
            parts = {"html": html}
            for url in ASSET.findall(html.decode()):
                if not url.startswith(settings.STATIC_URL):
                    raise SystemExit(f"{lesson.id}: {url} is not a local static file")
                found = finders.find(url[len(settings.STATIC_URL) :])
                if not found:
                    raise SystemExit(f"{lesson.id}: {url} does not exist")
                parts[url] = Path(found).read_bytes()
            zipped = {name: len(gzip.compress(data, 9)) for name, data in parts.items()}
            sizes.append((sum(zipped.values()), lesson.id, lang, zipped, parts))
    total, lesson_id, lang, zipped, parts = max(sizes)
    for name, size in zipped.items():
        print(f"    {name:<40} {len(parts[name]) / 1024:7.1f} KB raw {size / 1024:7.1f} KB gzip")
    record(
        f"largest lesson page transfer (/{lang}/lessons/{lesson_id}/, gzip)",
        f"{total / 1024:.1f} KB",
        f"<= {TRANSFER_KB_TARGET:.0f} KB",
        total / 1024 <= TRANSFER_KB_TARGET,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def startup_once() -> float:
    python = ROOT / ".venv" / "bin" / "python"
    port = free_port()
    env = {**os.environ, "DATABASE_URL": DB_URL, "PYTHONUNBUFFERED": "1"}
    log = TMP / f"runserver-{port}.log"
    with log.open("wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(
            [str(python if python.exists() else sys.executable), "manage.py", "runserver",
             f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = start + 60
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"runserver exited early:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ko/", timeout=2) as r:
                    if r.status == 200:
                        return time.perf_counter() - start
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        raise SystemExit(f"runserver gave no 200 on /ko/ within 60 s:\n{log.read_text()}")
    finally:
        # The autoreloader runs the server in a child process: stop the whole group we started.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def startup_time() -> None:
    print(f"Start-up: manage.py runserver -> first 200 on /ko/, {STARTUP_RUNS} runs")
    times = [startup_once() for _ in range(STARTUP_RUNS)]
    median = statistics.median(times)
    record(
        f"runserver start to first 200 on /ko/: median (max) of {STARTUP_RUNS}",
        f"{median:.2f} s ({max(times):.2f} s)",
        f"median < {STARTUP_S_TARGET:.0f} s",
        median < STARTUP_S_TARGET,
    )


def main() -> int:
    setup_test_environment()  # lets the test Client run under any ALLOWED_HOSTS
    call_command("migrate", verbosity=0, interactive=False)
    print(f"k8slearn page benchmark (temporary database {TMP / 'bench.sqlite3'})\n")
    server_time()
    print()
    transfer_size()
    print()
    startup_time()

    width = max(len(r[0]) for r in rows)
    print(f"\n{'figure':<{width}}  {'value':>18}  {'target':<14}  result")
    print(f"{'-' * width}  {'-' * 18}  {'-' * 14}  ------")
    for figure, value, target, passed in rows:
        print(f"{figure:<{width}}  {value:>18}  {target:<14}  {'PASS' if passed else 'FAIL'}")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        for path in sorted(TMP.glob("*"), reverse=True):
            path.unlink()
        TMP.rmdir()

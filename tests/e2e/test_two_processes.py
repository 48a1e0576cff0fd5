"""Two Daphne processes and a real redis-server: a class's presenter on one process, its
followers on the other (playground/owners.py).

* The process that made the presenter's sandbox owns it (a lease in the database) and ticks it.
* A follower on the other process gets the board from the owner, and every change through Redis.
* An action sent to the other process reaches the owner, and its terminal reply comes back.
* When the owner dies, its lease runs out and the other process takes the sandbox over from the
  database, where the last action was saved.

Not a browser test, but it shares their servers and database file, so it lives with them.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from servers import Server, free_port, port_open, run_daphne, server_env
from websockets.asyncio.client import connect

LEASE = 2.0  # seconds: short, so that the take-over happens within the test
WAIT = 15.0  # seconds to wait for any one message


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("The two-process test needs redis-server: apt-get install -y redis-server "
                    "(make test installs it as root).", pytrace=False)
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10  # polls the port until it listens, not a fixed wait
        while not port_open(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("redis-server did not start", pytrace=False)
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def two(django_db_setup: None, redis_url: str,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    workdir = tmp_path_factory.mktemp("two-processes")
    env = server_env("tests.e2e.preview_settings", REDIS_URL=redis_url,
                     PLAYGROUND_LEASE=str(LEASE), K8SLEARN_E2E_STATIC_ROOT=str(workdir / "s"))
    with run_daphne(env, workdir / "a.log") as a, run_daphne(env, workdir / "b.log") as b:
        yield a, b


@pytest.fixture(autouse=True)
def _e2e_test(transactional_db: None, two: tuple[Server, Server],
              request: pytest.FixtureRequest) -> Iterator[None]:
    """Replaces conftest's (this module needs its own two servers, not the usual one)."""
    starts = [server.log_size() for server in two]
    yield
    report = getattr(request.node, "_e2e_call_report", None)
    if report is not None and report.failed:
        for name, server, start in zip("AB", two, starts, strict=True):
            print(f"\n--- server {name} log ---\n{server.log_text(start)}")


def _setup() -> dict[str, Any]:
    """An instructor with a class, and a student in it (sessions in the shared database)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import Client

    from k8slearn.classroom.models import Classroom, Member

    user = get_user_model().objects.create_user("kim", password="x")
    user.groups.add(Group.objects.get_or_create(name="instructor")[0])
    instructor = Client()
    instructor.force_login(user)
    classroom = Classroom.objects.create(code="TWOPRC", lesson_id="self-healing", owner=user)
    store = SessionStore()
    store["class"] = classroom.code
    store.create()
    Member.objects.create(classroom=classroom, session_key=store.session_key, nickname="Bora")
    return {"code": classroom.code, "pk": classroom.pk,
            "teacher": f"sessionid={instructor.cookies['sessionid'].value}",
            "student": f"sessionid={store.session_key}"}


def _get(server: Server, path: str, cookie: str) -> str:
    request = urllib.request.Request(server.url + path, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=WAIT) as response:
        return response.read().decode()


def _owner(sandbox_id: str) -> tuple[str, float]:
    from k8slearn.playground.models import Sandbox

    row = Sandbox.objects.get(pk=sandbox_id)
    return row.owner, row.owner_until


async def _socket(server: Server, path: str, cookie: str) -> Any:
    url = server.url.replace("http://", "ws://") + path
    return await connect(url, additional_headers={"Cookie": cookie}, origin=server.url)


async def _until(ws: Any, needle: str | Callable[[str], bool]) -> str:
    """Frames until one contains ``needle`` (or passes it, a test): all of them, joined.
    Fails after WAIT seconds."""
    seen: list[str] = []
    deadline = time.monotonic() + WAIT
    found = needle if callable(needle) else (lambda frame: needle in frame)
    while not seen or not found(seen[-1]):
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"no frame with {needle!r} within {WAIT:.0f} s; got "
                        f"{''.join(seen)[-600:]!r}")
        try:
            seen.append(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            continue  # the deadline check above reports what came
    return "".join(seen)


def test_followers_on_another_process_see_the_presenters_cluster(two):
    a, b = two
    data = _setup()
    code = data["code"]
    # The presenter's page on A makes the class's sandbox: A owns it.
    page = _get(a, f"/en/classes/{code}/present/", data["teacher"])
    assert f"/ws/class/{code}/present/" in page
    from k8slearn.classroom.models import Classroom

    sandbox_id = Classroom.objects.get(pk=data["pk"]).presenter_sandbox
    owner_a, _ = _owner(sandbox_id)
    assert owner_a.startswith("specific.")

    async def scenario() -> None:
        presenter = await _socket(a, f"/ws/class/{code}/present/?lang=en", data["teacher"])
        await _until(presenter, 'id="board"')
        follower = await _socket(b, f"/ws/class/{code}/follow/?lang=ko", data["student"])
        board = await _until(follower, 'id="board"')  # drawn by A, delivered through Redis
        pods = sorted(set(_names(board)))
        assert len(pods) == 3
        # The presenter acts on A: the follower on B sees the pod go and its replacement come.
        await presenter.send(json.dumps({"action": "delete-pod", "pod": pods[0]}))
        await _until(presenter, "deleted")
        seen = await _until(follower, lambda frame: set(_names(frame)) - set(pods))
        assert pods[0] in seen  # the deleted pod's card went (terminating) …
        assert set(_names(seen)) - set(pods)  # … and its replacement came
        # A presenter socket on B: its action goes to A, A's reply comes back to it.
        second = await _socket(b, f"/ws/class/{code}/present/?lang=en", data["teacher"])
        await _until(second, 'id="board"')
        await second.send(json.dumps({"action": "scale", "deployment": "web", "replicas": "4"}))
        reply = await _until(second, "scaled")
        assert "deployment.apps/web scaled" in reply
        # The student still cannot act, on either process.
        await follower.send(json.dumps({"action": "delete-pod", "selector": "app=web"}))
        assert "볼 수만 있다" in await _until(follower, "볼 수만 있다")  # (in Korean: lang=ko)
        for ws in (presenter, follower, second):
            await ws.close()

    run(scenario)
    assert _owner(sandbox_id)[0] == owner_a  # B never took it while A lived

    # A dies. Its lease runs out; B takes the sandbox over from the database.
    a.process.terminate()
    a.process.wait(timeout=10)
    deadline = time.monotonic() + WAIT  # polls until the lease's end has passed (a DB value)
    while _owner(sandbox_id)[1] > time.time():
        assert time.monotonic() < deadline, "A's lease never ran out"
        time.sleep(0.1)

    async def take_over() -> None:
        follower = await _socket(b, f"/ws/class/{code}/follow/?lang=en", data["student"])
        board = await _until(follower, 'id="board"')
        before = set(_names(board))
        assert len(before) == 3
        # The scale to 4, sent through B and saved by A, is in the restored Deployment: as B's
        # clock moves, its ReplicaSet makes the fourth pod.
        more = await _until(follower, lambda frame: set(_names(frame)) - before)
        assert len(set(_names(more)) - before) == 1
        await follower.close()

    run(take_over)
    owner_b, _ = _owner(sandbox_id)
    assert owner_b.startswith("specific.") and owner_b != owner_a


def run(coroutine: Callable[[], Any]) -> None:
    """Run ``coroutine()`` to the end in a thread of its own: the browser tests before this
    one leave Playwright's event loop running in this thread, where asyncio.run refuses."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine())
        except BaseException as err:  # noqa: BLE001 - re-raised in the test's thread
            failure.append(err)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def _names(html: str) -> list[str]:
    import re

    return list(re.findall(r'data-testid="pod" data-name="([^"]+)"', html))

"""The playground's websocket: board on connect, actions, bad input, isolation, persistence,
eviction, the busy cap, the ticker and exercise goals (WebsocketCommunicator, real ASGI app)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from k8slearn.asgi import application
from k8slearn.playground import sandboxes
from k8slearn.playground.models import ExerciseProgress, Sandbox

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1")


@pytest.fixture(autouse=True)
def _fresh_registry(settings: Any) -> Any:
    settings.PLAYGROUND_TICKER = False  # tests call sandboxes.tick() themselves
    sandboxes.reset_registry()
    yield
    sandboxes.reset_registry()


@database_sync_to_async
def new_session() -> str:
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store["k8slearn"] = True
    store.create()
    return str(store.session_key)


async def connect(sandbox_id: str, session_key: str | None, lang: str = "en",
                  shown: str = "") -> WebsocketCommunicator:
    headers = [ORIGIN]
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    query = f"?lang={lang}&shown={shown}" if shown else f"?lang={lang}"
    comm = WebsocketCommunicator(application, f"/ws/sandbox/{sandbox_id}/{query}",
                                 headers=headers)
    connected, _ = await comm.connect()
    assert connected
    return comm


def later() -> float:
    """A wall time past every throttle (time-driven updates go out at most every 0.5 s)."""
    return time.monotonic() + 1.0


async def drain(comm: WebsocketCommunicator, timeout: float = 0.3) -> list[str]:
    """Every text frame that arrives until the socket is quiet for ``timeout`` seconds."""
    out = []
    # receive_from(timeout) would cancel the application on a timeout: peek first.
    while not await comm.receive_nothing(timeout=timeout, interval=0.01):
        out.append(await comm.receive_from())
    return out


async def closed_with(comm: WebsocketCommunicator) -> int | None:
    while True:
        message = await comm.receive_output(timeout=1)
        if message["type"] == "websocket.close":
            return message.get("code")


@pytest.fixture
async def learner() -> AsyncIterator[dict[str, Any]]:
    key = await new_session()
    sbx = await sandboxes.open_sandbox(key, "play", "web")
    comm = await connect(sbx.id, key)
    board = await comm.receive_from(timeout=5)
    yield {"key": key, "sbx": sbx, "comm": comm, "board": board}
    await comm.disconnect()


async def send(comm: WebsocketCommunicator, **fields: Any) -> list[str]:
    await comm.send_to(text_data=json.dumps({**fields, "HEADERS": {"HX-Request": "true"}}))
    return await drain(comm)


# --------------------------------------------------------------------------- connect, actions


async def test_connect_sends_the_full_board(learner: dict[str, Any]) -> None:
    board = learner["board"]
    assert 'id="board"' in board
    for pod in learner["sbx"].cluster.pods():
        assert pod.name in board


async def test_a_page_that_shows_the_current_board_gets_only_the_clock_on_connect() -> None:
    key = await new_session()
    sbx = await sandboxes.open_sandbox(key, "play", "web")
    comm = await connect(sbx.id, key, shown=sandboxes.board_token(sbx))
    first = await comm.receive_from(timeout=5)
    assert 'id="board"' not in first
    assert 'id="clock"' in first and 'id="time-controls"' in first
    await comm.disconnect()


async def test_a_page_with_an_older_board_gets_the_whole_board_on_connect() -> None:
    key = await new_session()
    sbx = await sandboxes.open_sandbox(key, "play", "web")
    shown = sandboxes.board_token(sbx)
    sbx.cluster.kubectl("scale deployment web --replicas=4")
    comm = await connect(sbx.id, key, shown=shown)
    assert 'id="board"' in await comm.receive_from(timeout=5)
    await comm.disconnect()
    # A reset starts a new cluster: the same version number no longer names the same board.
    sandboxes._restart(sbx)
    comm = await connect(sbx.id, key, shown=f"0.{sbx.cluster.version}")
    assert 'id="board"' in await comm.receive_from(timeout=5)
    await comm.disconnect()


async def test_deleting_a_pod_pushes_fragments_by_id(learner: dict[str, Any]) -> None:
    sbx, comm = learner["sbx"], learner["comm"]
    victim = sbx.cluster.pods()[0].name
    frames = await send(comm, action="delete-pod", pod=victim)
    html = "".join(frames)
    assert "hx-swap-oob" in html
    assert 'id="pod-' in html
    assert victim in html
    # Time moves: the ReplicaSet's replacement shows up as a new pod card.
    await sandboxes.tick(1.0, now=later())
    html = "".join(await drain(comm))
    assert 'id="pod-' in html


async def test_a_lesson_blocks_buttons_work_over_the_socket(learner: dict[str, Any]) -> None:
    """The messages of a ```cluster block (k8slearn.courses.blocks), as runnable.js sends them:
    every field a text, like a form's hidden inputs."""
    from k8slearn.courses.blocks import parse_cluster_block

    sbx, comm = learner["sbx"], learner["comm"]
    found, problems = parse_cluster_block(
        "- kill-container: web\n- clock: 10\n- fail-node: node-2\n- clock: 50\n")
    assert problems == []
    for button in found:
        await send(comm, **{k: str(v) for k, v in button.message.items()})
    assert sbx.cluster.now >= 60
    pods = sbx.cluster.kubectl("get pods").stdout
    assert " 1 (" in pods, pods  # the killed container restarted in place
    nodes = sbx.cluster.kubectl("get nodes").stdout
    assert re.search(r"node-2\s+NotReady", nodes), nodes


async def test_kubectl_action_answers_with_terminal_output(learner: dict[str, Any]) -> None:
    sbx, comm = learner["sbx"], learner["comm"]
    frames = await send(comm, action="kubectl", line="get pods")
    html = "".join(frames)
    assert "NAME" in html and "READY" in html
    assert sbx.cluster.pods()[0].name in html


async def test_a_second_tab_sees_the_same_changes(learner: dict[str, Any]) -> None:
    sbx, comm = learner["sbx"], learner["comm"]
    other = await connect(sbx.id, learner["key"], lang="ko")
    await other.receive_from(timeout=5)
    await send(comm, action="kubectl", line="scale deployment web --replicas=5")
    await sandboxes.tick(0.5, now=later())
    frames = "".join(await drain(other))
    assert 'id="pod-' in frames
    assert "kubectl scale" not in frames  # terminal output goes to the acting tab only
    await other.disconnect()


async def test_speed_pause_and_step_are_shell_commands(learner: dict[str, Any]) -> None:
    sbx, comm = learner["sbx"], learner["comm"]
    await send(comm, action="speed", value="20")
    assert sbx.speed == 20 and not sbx.paused
    await send(comm, action="pause")
    assert sbx.paused
    before = sbx.cluster.now
    await sandboxes.tick(1.0, now=later())
    assert sbx.cluster.now == before  # paused: the clock stands still
    await send(comm, action="play")
    assert not sbx.paused
    frames = await send(comm, action="step")
    assert frames  # a step answers in the terminal


async def test_reset_rebuilds_the_scenario(learner: dict[str, Any]) -> None:
    sbx, comm = learner["sbx"], learner["comm"]
    await send(comm, action="kubectl", line="delete deployment web")
    await sandboxes.tick(30, now=later())
    assert not sbx.cluster.pods(selector="app=web", phase="Running")
    frames = await send(comm, action="reset")
    assert len(sbx.cluster.pods(selector="app=web", phase="Running")) == 3
    assert any('id="board"' in f for f in frames)


async def test_changing_scenario_starts_it_fresh(learner: dict[str, Any]) -> None:
    sbx, comm = learner["sbx"], learner["comm"]
    await send(comm, action="scenario", name="empty")
    assert sbx.scenario == "empty"
    assert sbx.cluster.pods() == []
    row = await database_sync_to_async(Sandbox.objects.get)(pk=sbx.id)
    assert row.scenario == "empty"


async def test_kubectl_output_is_capped_with_a_note(learner: dict[str, Any]) -> None:
    comm = learner["comm"]
    huge = "x" * 30_000
    await send(comm, action="configmap", name="big", data={"k": huge})
    frames = await send(comm, action="kubectl", line="get configmap big -o yaml")
    html = "".join(frames)
    assert len(html) < 25_000
    assert "KB" in html or "cut" in html.lower()


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"no": "action"}),
        json.dumps({"action": "launch-missiles"}),
        json.dumps({"action": "speed", "value": "7"}),
        json.dumps({"action": "scale", "deployment": "web", "replicas": "many"}),
        json.dumps({"action": "kubectl", "line": ""}),
        "[" * 30_000,  # nested past Python's recursion limit
        json.dumps({"action": "kubectl", "line": ["get", "pods"]}),
        json.dumps({"action": "apply", "yaml": "a: &a [*a, *a]"}),
        json.dumps({"action": "stream", "service": "web", "rate": "-3"}),
        json.dumps({"action": "scale", "deployment": "web", "replicas": 10**30}),
        json.dumps({"action": "fail-node", "node": "node-9"}),
        "\u0000\ud800",
        json.dumps({"action": "kubectl", "line": "get pods \ud800"}),
    ],
)
async def test_bad_messages_get_an_error_and_the_socket_stays(learner: dict[str, Any],
                                                               raw: str) -> None:
    comm = learner["comm"]
    await comm.send_to(text_data=raw)
    frames = await drain(comm)
    # An alert, or (for a well-formed action the cluster refuses) kubectl's error in the terminal.
    assert any('role="alert"' in f or "pg-term__out--err" in f for f in frames)
    frames = await send(comm, action="kubectl", line="get nodes")
    assert "node-1" in "".join(frames)


async def test_oversized_message_gets_an_error(learner: dict[str, Any]) -> None:
    comm = learner["comm"]
    await comm.send_to(text_data=json.dumps({"action": "apply", "yaml": "x" * 70_000}))
    html = "".join(await drain(comm))
    assert "64 KB" in html
    assert "node-1" in "".join(await send(comm, action="kubectl", line="get nodes"))


async def test_more_than_twenty_actions_a_second_are_refused(learner: dict[str, Any]) -> None:
    comm = learner["comm"]
    for _ in range(25):
        await comm.send_to(text_data=json.dumps({"action": "kubectl", "line": "get nodes"}))
    html = "".join(await drain(comm, timeout=1))
    assert "Too fast" in html
    assert html.count("node-1") >= 20


async def test_an_exception_in_an_action_does_not_close_the_socket(
        learner: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    comm = learner["comm"]

    def boom(*args: Any, **kw: Any) -> Any:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(sandboxes.steps, "run_step", boom)
    html = "".join(await send(comm, action="kubectl", line="get pods"))
    assert "Something went wrong" in html
    monkeypatch.undo()
    assert "node-1" in "".join(await send(comm, action="kubectl", line="get nodes"))


# --------------------------------------------------------------------------- isolation


async def test_another_session_cannot_attach_to_a_sandbox(learner: dict[str, Any]) -> None:
    intruder = await new_session()
    comm = await connect(learner["sbx"].id, intruder)
    assert await closed_with(comm) == 4403


async def test_no_session_or_unknown_id_is_refused() -> None:
    key = await new_session()
    comm = await connect("does-not-exist", key)
    assert await closed_with(comm) == 4403
    sbx = await sandboxes.open_sandbox(key, "play", "web")
    comm = await connect(sbx.id, None)
    assert await closed_with(comm) == 4403


async def test_sandbox_ids_are_unguessable() -> None:
    a, b = await new_session(), await new_session()
    ids = {(await sandboxes.open_sandbox(k, "play", "web")).id for k in (a, b)}
    assert len(ids) == 2
    assert all(len(i) >= 22 for i in ids)


# --------------------------------------------------------------------------- persistence


async def test_a_sandbox_comes_back_from_the_database_exactly(learner: dict[str, Any]) -> None:
    sbx, comm, key = learner["sbx"], learner["comm"], learner["key"]
    await send(comm, action="kubectl", line="scale deployment web --replicas=4")
    await send(comm, action="speed", value="5")
    await sandboxes.tick(2.0, now=later())
    await drain(comm)
    await comm.disconnect()
    before = sbx.cluster.snapshot()
    await sandboxes.flush()
    sandboxes.reset_registry()  # as after a server restart

    again = await connect(sbx.id, key)
    board = await again.receive_from(timeout=5)
    restored = sandboxes.REGISTRY[sbx.id]
    assert restored is not sbx
    assert restored.cluster.snapshot() == before
    assert restored.speed == 5
    assert len(restored.cluster.pods()) == 4
    for pod in restored.cluster.pods():
        assert pod.name in board
    await again.disconnect()


async def test_idle_sandboxes_are_saved_and_leave_memory(learner: dict[str, Any]) -> None:
    sbx, comm, key = learner["sbx"], learner["comm"], learner["key"]
    await send(comm, action="kubectl", line="scale deployment web --replicas=2")
    await sandboxes.tick(5.0, now=later())
    await comm.disconnect()
    assert sbx.id in sandboxes.REGISTRY
    await sandboxes.tick(0.25, now=time.monotonic() + sandboxes.IDLE_SECONDS - 10)
    assert sbx.id in sandboxes.REGISTRY  # not idle long enough
    snap = sbx.cluster.snapshot()
    await sandboxes.tick(0.25, now=time.monotonic() + sandboxes.IDLE_SECONDS + 1)
    assert sbx.id not in sandboxes.REGISTRY
    row = await database_sync_to_async(Sandbox.objects.get)(pk=sbx.id)
    assert sandboxes._unpack(row.snapshot) == snap

    back = await sandboxes.open_sandbox(key, "play")
    assert back.id == sbx.id
    assert back.cluster.snapshot() == snap


async def test_the_cap_gives_a_clear_busy_message(settings: Any) -> None:
    settings.PLAYGROUND_MAX_LIVE_SANDBOXES = 1
    a_key, b_key = await new_session(), await new_session()
    b = await sandboxes.open_sandbox(b_key, "play", "web")
    a_comm = None
    # b has no socket: it is evicted to make room for a.
    a = await sandboxes.open_sandbox(a_key, "play", "web")
    assert b.id not in sandboxes.REGISTRY
    a_comm = await connect(a.id, a_key)
    await a_comm.receive_from(timeout=5)
    b_comm = await connect(b.id, b_key)
    html = await b_comm.receive_from(timeout=5)
    assert "too busy" in html
    assert await closed_with(b_comm) == 4503
    with pytest.raises(sandboxes.Busy):
        await sandboxes.open_sandbox(await new_session(), "play", "web")
    await a_comm.disconnect()


# --------------------------------------------------------------------------- time


async def test_the_ticker_advances_by_elapsed_times_speed(learner: dict[str, Any]) -> None:
    sbx, comm = learner["sbx"], learner["comm"]
    start = sbx.cluster.now
    await sandboxes.tick(2.0, now=later())
    assert sbx.cluster.now == pytest.approx(start + 2.0)
    await send(comm, action="speed", value="5")
    await sandboxes.tick(2.0, now=time.monotonic() + 2.0)
    assert sbx.cluster.now == pytest.approx(start + 12.0)
    await drain(comm)
    # Nothing changed: the browser runs the clock itself; the server re-syncs it now and then.
    await sandboxes.tick(1.0, now=time.monotonic() + 3.0)
    assert await drain(comm) == []
    await sandboxes.tick(1.0, now=time.monotonic() + sandboxes.CLOCK_SYNC_EVERY + 1)
    html = "".join(await drain(comm))
    assert 'id="clock"' in html
    assert f'data-now-ms="{sbx.cluster.clock.now_ms}"' in html and 'data-speed="5"' in html


async def test_sandboxes_without_sockets_stand_still() -> None:
    key = await new_session()
    sbx = await sandboxes.open_sandbox(key, "play", "web")
    start = sbx.cluster.now
    await sandboxes.tick(3.0, now=later())
    assert sbx.cluster.now == start


async def test_ticking_sandboxes_are_saved_every_few_seconds(learner: dict[str, Any]) -> None:
    sbx, comm = learner["sbx"], learner["comm"]
    await send(comm, action="delete-pod", selector="app=web")
    await sandboxes.tick(1.0, now=time.monotonic() + sandboxes.SAVE_EVERY + 1)
    await sandboxes.flush()
    row = await database_sync_to_async(Sandbox.objects.get)(pk=sbx.id)
    assert row.now_ms == sbx.cluster.clock.now_ms
    assert len(row.journal) == 1  # the snapshot is older: the deletion is replayed on restore
    restored = sandboxes.replay(sandboxes._unpack(row.snapshot), row.journal, row.now_ms)
    assert restored.snapshot() == sbx.cluster.snapshot()


async def test_reading_with_kubectl_is_not_journaled(learner: dict[str, Any]) -> None:
    sbx, comm = learner["sbx"], learner["comm"]
    await send(comm, action="kubectl", line="get pods -o wide")
    await send(comm, action="kubectl", line="kubectl describe deployment web")
    assert sbx.journal == []
    await send(comm, action="kubectl", line="scale deployment web --replicas=2")
    assert [step for _, step in sbx.journal] == [{"kubectl": "scale deployment web --replicas=2"}]


# --------------------------------------------------------------------------- goals


async def test_a_reached_goal_turns_green_and_is_saved(monkeypatch: pytest.MonkeyPatch) -> None:
    exercise = {"id": "scale-up", "prompt": {"ko": "늘려 보자", "en": "Scale up"},
                "goal": {"pods": {"selector": "app=web", "count": 4, "status": "Running"}}}

    def setup(context: str) -> sandboxes.Setup | None:
        return sandboxes.Setup(scenario="web", exercises=[exercise]) if context == "demo" else None

    monkeypatch.setattr(sandboxes, "lesson_setup", setup)
    key = await new_session()
    sbx = await sandboxes.open_sandbox(key, "demo")
    comm = await connect(sbx.id, key)
    await comm.receive_from(timeout=5)
    assert sbx.reached == {"scale-up": False}
    await send(comm, action="scale", deployment="web", replicas="4")
    await sandboxes.tick(30.0, now=later())
    assert sbx.reached == {"scale-up": True}
    html = "".join(await drain(comm))
    assert "scale-up" in html
    done = await database_sync_to_async(
        lambda: list(ExerciseProgress.objects.values_list("lesson_id", "exercise_id"))
    )()
    assert done == [("demo", "scale-up")]
    html = "".join(await send(comm, action="scenario", name="empty"))
    assert "cannot be changed" in html
    await comm.disconnect()


async def test_a_steady_stream_of_requests_starts_and_stops_from_the_board(
        learner: dict[str, Any]) -> None:
    sbx, comm = learner["sbx"], learner["comm"]
    assert 'value="stream"' in learner["board"]
    await send(comm, action="stream", service="web", rate="5")
    await sandboxes.tick(3.0, now=later())
    html = "".join(await drain(comm))
    assert "Stop the stream (5/s)" in html  # the button turned into a stop button
    served = sum((sbx.cluster.state["traffic"]["default/web"]["served"]).values())
    assert served == 15  # 5 a second for 3 virtual seconds
    await send(comm, action="stream", service="web", rate="0")
    await sandboxes.tick(3.0, now=later() + 1)
    assert sum((sbx.cluster.state["traffic"]["default/web"]["served"]).values()) == served


async def test_a_stream_started_while_paused_turns_its_button_into_stop(
        learner: dict[str, Any]) -> None:
    comm = learner["comm"]
    await send(comm, action="pause")
    html = "".join(await send(comm, action="stream", service="web", rate="5"))
    html += "".join(await drain(comm))
    await sandboxes.tick(1.0, now=later())
    html += "".join(await drain(comm))
    assert "Stop the stream (5/s)" in html

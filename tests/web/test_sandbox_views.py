"""The /play/ page and the lesson-page board: server-rendered board, ws URL, scenario picker."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from k8slearn.playground import sandboxes
from k8slearn.playground.models import ExerciseProgress, Sandbox

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_registry(settings: Any) -> Any:
    settings.PLAYGROUND_TICKER = False
    sandboxes.reset_registry()
    yield
    sandboxes.reset_registry()


def ws_id(html: str) -> str:
    match = re.search(r'ws-connect="/ws/sandbox/([A-Za-z0-9_-]+)/\?lang=(ko|en)(&amp;shown=[0-9.]+)?"',
                      html)
    assert match, "the page has no board socket"
    return match.group(1)


def test_play_page_shows_the_board_and_its_socket(client: Client) -> None:
    response = client.get("/en/play/")
    assert response.status_code == 200
    html = response.content.decode()
    sandbox_id = ws_id(html)
    assert 'id="board"' in html
    assert 'hx-ext="ws"' in html and "htmx-ext-ws-2.0.4" in html
    row = Sandbox.objects.get(pk=sandbox_id)
    assert row.context == "play" and row.scenario == "web"
    assert row.session_key == client.session.session_key
    # The same session gets the same sandbox again.
    assert ws_id(client.get("/en/play/").content.decode()) == sandbox_id


def test_other_sessions_get_their_own_sandbox(client: Client) -> None:
    first = ws_id(client.get("/ko/play/").content.decode())
    second = ws_id(Client().get("/ko/play/").content.decode())
    assert first != second


def test_scenario_picker_starts_another_scenario(client: Client) -> None:
    sandbox_id = ws_id(client.get("/en/play/").content.decode())
    response = client.post("/en/play/", {"scenario": "empty"})
    assert response.status_code == 302
    html = client.get("/en/play/").content.decode()
    assert ws_id(html) == sandbox_id
    assert sandboxes.REGISTRY[sandbox_id].scenario == "empty"
    assert 'value="empty" selected' in html


def test_board_pages_are_the_only_ones_loading_the_ws_extension(client: Client) -> None:
    html = client.get("/en/").content.decode()
    assert "htmx-ext-ws" not in html
    assert 'href="/en/play/"' in html


def test_lesson_with_a_playground_embeds_its_socket_and_exercises(client: Client) -> None:
    from k8slearn.courses.loader import get_course

    lesson = next(x for x in get_course().lessons if x.playground)
    html = client.get(f"/en/lessons/{lesson.id}/").content.decode()
    sandbox_id = ws_id(html)
    row = Sandbox.objects.get(pk=sandbox_id)
    assert row.context == lesson.id
    assert html.count('data-testid="exercise"') == len(lesson.playground.exercises)
    assert "<details" in html
    # The board itself comes with the socket's first message (the page waits for no board).
    assert 'id="board"' in html and 'aria-busy="true"' in html and 'data-testid="pod"' not in html
    assert "shown=" not in html
    # The second visit finds the same sandbox without the event loop.
    assert ws_id(client.get(f"/en/lessons/{lesson.id}/").content.decode()) == sandbox_id


def test_course_map_counts_exercises_done(client: Client) -> None:
    from k8slearn.courses.loader import get_course

    lesson = next(x for x in get_course().lessons if x.playground)
    client.get("/en/")
    client.get(f"/en/lessons/{lesson.id}/")
    ExerciseProgress.objects.create(session_key=client.session.session_key, lesson_id=lesson.id,
                                    exercise_id=lesson.playground.exercises[0].id)
    html = client.get("/en/").content.decode()
    total = len(lesson.playground.exercises)
    assert f"Exercises: 1 of {total} done" in html
    client.post("/en/progress/reset/")
    assert not ExerciseProgress.objects.exists()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_yaml_editors_example_applies_cleanly(client: Client, lang: str) -> None:
    from html import unescape

    from k8slearn.sim import scenarios

    html = client.get(f"/{lang}/play/").content.decode()
    example = unescape(re.search(r'<textarea id="yaml-text"[^>]*>(.*?)</textarea>', html,
                                 re.S).group(1))
    cluster = scenarios.build("web")
    result = cluster.kubectl("apply -f -", stdin=example)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "deployment.apps/hello created\n"

"""The /play/ page (a free sandbox with a scenario picker) and the lesson-page embedding.

The page carries the whole board rendered on the server, so it is usable before the socket
connects. Sandboxes live on the event loop: the views reach them through ``async_to_sync``, which
under Daphne runs the coroutine on the server's loop (the same thread as the consumers).
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods

from k8slearn.playground import owners, sandboxes
from k8slearn.playground.actions import message
from k8slearn.sim import scenarios


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "ko"


def session_key(request: HttpRequest) -> str:
    """The request's session key, creating (and saving) the session first."""
    # The cookie's key, as the lesson views use it (no database read); the socket's scope
    # sees the same cookie, hence the same key.
    if request.session.session_key is None:
        request.session["k8slearn"] = True
        request.session.save()
    return str(request.session.session_key)


async def _page_state(key: str, context: str, lang: str, scenario: str | None,
                      restart: bool) -> dict[str, Any]:
    sbx = await sandboxes.open_sandbox(key, context, scenario)
    if restart and scenario and scenario != sbx.scenario:
        await sandboxes.apply(sbx, sandboxes.Command("scenario", scenario), lang)
        await sandboxes.flush()  # outside Daphne this loop ends with the call
    return {
        "id": sbx.id,
        "scenario": sbx.scenario,
        "board": sandboxes.full_board(sbx, lang),
        "shown": sandboxes.board_token(sbx),
        "reached": sbx.reached,
        "speed": sbx.speed,
        "paused": sbx.paused,
    }


def board_context(request: HttpRequest, context: str, scenario: str | None = None,
                  restart: bool = False) -> dict[str, Any]:
    """What ``playground/embed.html`` needs: the sandbox id, the rendered board, or busy."""
    lang = _lang()
    key = session_key(request)
    try:
        state = async_to_sync(_page_state)(key, context, lang, scenario, restart)
    except sandboxes.Busy:
        return {"busy": message("busy", lang), "lang": lang}
    except owners.Elsewhere as where:  # live in another process: its socket brings the board
        return {"id": where.remote.id, "board": "", "lang": lang, "scenario": scenario,
                "ws_url": f"/ws/sandbox/{where.remote.id}/?lang={lang}"}
    # ``shown``: what this page's board shows, so that the socket need not send it again.
    return {**state, "lang": lang,
            "ws_url": f"/ws/sandbox/{state['id']}/?lang={lang}&shown={state['shown']}"}


def _socket_only(request: HttpRequest, context: str) -> dict[str, Any]:
    """The sandbox's socket, without its board: the socket's first message brings the board.
    A lesson page is mostly for reading and its playground sits below the text, so the page
    does not wait for a board to be drawn (nor for the event loop, where sandboxes live)."""
    lang = _lang()
    key = session_key(request)
    sandbox_id = sandboxes.known_sandbox(key, context)
    if sandbox_id is None:  # the first visit: make it now (from its scenario, in a few ms)
        try:
            sandbox_id = async_to_sync(sandboxes.open_sandbox)(key, context, None).id
        except sandboxes.Busy:
            return {"busy": message("busy", lang), "lang": lang}
        except owners.Elsewhere as where:
            sandbox_id = where.remote.id
    return {"id": sandbox_id, "board": "", "lang": lang,
            "ws_url": f"/ws/sandbox/{sandbox_id}/?lang={lang}"}


def lesson_playground(request: HttpRequest, lesson: Any) -> dict[str, Any] | None:
    """The lesson page's exercises and the socket of its sandbox, or None when the lesson has
    no playground."""
    setup = sandboxes.lesson_setup(lesson.id)
    if setup is None:
        return None
    board = _socket_only(request, lesson.id)
    lang = board["lang"]
    exercises = []
    done = exercises_done(request.session.session_key, lesson.id).get(lesson.id, set())
    for n, ex in enumerate(setup.exercises, start=1):
        get = (ex.get if isinstance(ex, dict) else lambda k, e=ex: getattr(e, k, None))
        exercises.append({
            "n": n,
            "id": get("id"),
            "title": _in(get("title"), lang),
            "prompt": _in(get("prompt"), lang),
            "hints": [_in(h, lang) for h in (get("hints") or ())],
            "solution": [_step_text(step) for step in (get("solution") or ())],
            "reached": get("id") in done,
        })
    return {**board, "exercises": exercises, "context": lesson.id}


def _step_text(step: Any) -> str:
    if isinstance(step, dict) and len(step) == 1 and "apply" in step:
        return "kubectl apply -f - <<EOF\n" + str(step["apply"]).rstrip() + "\nEOF"
    if isinstance(step, dict) and len(step) == 1:
        return sandboxes.command_line(step)
    return str(step)


def exercises_done(session_key: str | None, lesson_id: str | None = None) -> dict[str, set[str]]:
    """Lesson id -> ids of the exercises this session has reached."""
    from k8slearn.playground.models import ExerciseProgress

    done: dict[str, set[str]] = {}
    if not session_key:
        return done
    rows = ExerciseProgress.objects.filter(session_key=session_key)
    if lesson_id is not None:
        rows = rows.filter(lesson_id=lesson_id)
    for lesson, exercise in rows.values_list("lesson_id", "exercise_id"):
        done.setdefault(lesson, set()).add(exercise)
    return done


def exercise_count(lesson: Any, done: dict[str, set[str]]) -> dict[str, int]:
    """{"done": n, "total": m} for a lesson card (total 0 when it has no exercises)."""
    ids = [e.id for e in getattr(lesson.playground, "exercises", ()) or ()]
    return {"done": len(done.get(lesson.id, set()) & set(ids)), "total": len(ids)}


def _in(text: Any, lang: str) -> str:
    if text is None:
        return ""
    if isinstance(text, dict):
        return str(text.get(lang) or text.get("ko") or "")
    if hasattr(text, "get") and hasattr(text, "ko"):
        return str(text.get(lang))
    return str(text)


@require_http_methods(["GET", "POST"])
def play(request: HttpRequest) -> HttpResponse:
    """A free sandbox; POST ``scenario`` starts it again from another scenario."""
    lang = _lang()
    if request.method == "POST":
        name = request.POST.get("scenario", "")
        if name in scenarios.SCENARIOS:
            board_context(request, sandboxes.PLAY, name, restart=True)
        return redirect(reverse("playground:play"))
    board = board_context(request, sandboxes.PLAY, request.GET.get("scenario"))
    choices = [
        {"name": s.name, "title": s.title.get(lang, s.name), "summary": s.summary.get(lang, ""),
         "current": s.name == board.get("scenario")}
        for s in scenarios.SCENARIOS.values()
    ]
    return render(request, "playground/play.html",
                  {"playground": board, "scenarios": choices, "nav": "play"})


def forget_progress(session_key: str) -> None:
    """"Reset my progress": the exercises reached and the lesson sandboxes go too."""
    from k8slearn.playground.models import ExerciseProgress, Sandbox

    async_to_sync(sandboxes.forget)(session_key, keep=sandboxes.PLAY)
    ExerciseProgress.objects.filter(session_key=session_key).delete()
    Sandbox.objects.filter(session_key=session_key).exclude(context=sandboxes.PLAY).delete()

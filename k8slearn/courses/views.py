"""Course pages: course map, lesson (with quiz), glossary, progress reset, error pages."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader as template_loader
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from k8slearn.courses import authoring
from k8slearn.courses.authoring import preview_context
from k8slearn.courses.loader import Lesson, Question, get_course
from k8slearn.courses.models import LessonRead, QuizAnswer
from k8slearn.courses.signals import progress_changed
from k8slearn.playground import views as playground


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "ko"


def _session_key(request: HttpRequest, create: bool) -> str | None:
    """The session key that progress is stored under; creates the session when asked."""
    if request.session.session_key is None and create:
        request.session["k8slearn"] = True  # a session with data gets saved and a cookie
        request.session.save()
    return request.session.session_key


@require_GET
def course_map(request: HttpRequest) -> HttpResponse:
    course = get_course(request)
    key = _session_key(request, create=False)
    read: set[str] = set()
    answers: dict[str, dict[str, bool]] = {}
    if key:
        read = set(LessonRead.objects.filter(session_key=key).values_list("lesson_id", flat=True))
        for lesson_id, question_id, correct in QuizAnswer.objects.filter(
            session_key=key
        ).values_list("lesson_id", "question_id", "correct"):
            answers.setdefault(lesson_id, {})[question_id] = correct
    cards = []
    done = playground.exercises_done(key)
    for lesson in course.lessons:
        given = answers.get(lesson.id, {})
        known = {q.id for q in lesson.quiz}
        cards.append(
            {
                "lesson": lesson,
                "read": lesson.id in read,
                "answered": sum(1 for qid in given if qid in known),
                "score": sum(1 for qid, ok in given.items() if ok and qid in known),
                "total": len(lesson.quiz),
                "exercises": playground.exercise_count(lesson, done),
            }
        )
    sections = _sections(course, cards)
    context = {"cards": cards, "sections": sections, "nav": "map",
               "author_errors": authoring.shown_errors(course) if settings.DEBUG else []}
    return render(request, "courses/course_map.html", preview_context(context))


def _sections(course: Any, cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cards grouped by lessons folder (a heading each when there is more than one)."""
    sections: list[dict[str, Any]] = []
    for card in cards:
        section = card["lesson"].section
        if not sections or sections[-1]["index"] != section:
            folder = card["lesson"].folder.parent
            builtin = folder.resolve() == Path(settings.LESSONS_DIR).resolve()
            name = _("Kubernetes overview") if builtin else folder.name
            sections.append({"index": section, "name": name, "cards": []})
        sections[-1]["cards"].append(card)
    return sections


def _lesson_context(
    request: HttpRequest, lesson: Lesson, results: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    course = get_course(request)
    previous, following = course.neighbours(lesson)
    page = course.rendered(lesson, _lang())
    questions = [
        {"question": q, "result": results.get(q.id), "index": n}
        for n, q in enumerate(lesson.quiz, start=1)
    ]
    return preview_context({
        "lesson": lesson,
        "author_problems": authoring.lesson_problems(lesson) if settings.DEBUG else [],
        "page": page,
        "questions": questions,
        "previous": previous,
        "next": following,
        "diagram_template": f"courses/diagrams/{lesson.diagram}.html" if lesson.diagram else None,
        "playground": playground.lesson_playground(request, lesson),
        "bar": _class_bar(request),
    })


def _class_bar(request: HttpRequest) -> dict[str, Any] | None:
    if not request.session.get("class"):
        return None
    from k8slearn.classroom.views import class_bar

    return class_bar(request)


def _result(question: Question, chosen: int, correct: bool) -> dict[str, Any]:
    return {
        "question": question,
        "chosen": chosen,
        "chosen_choice": question.choices[chosen],
        "correct": correct,
        "right_choice": question.right_choice,
    }


@require_GET
def lesson_page(request: HttpRequest, lesson_id: str) -> HttpResponse:
    course = get_course(request)
    lesson = course.get(lesson_id)
    if lesson is None:
        broken = authoring.broken_lesson(request, lesson_id, course)
        if broken is not None:
            return broken
        raise Http404(lesson_id)
    key = _session_key(request, create=True)
    LessonRead.objects.bulk_create(
        [LessonRead(session_key=key, lesson_id=lesson.id)], ignore_conflicts=True
    )
    if not request.session.get("read", {}).get(lesson.id):
        # The first visit in this session: tell a class dashboard (once, not on every reload).
        request.session.setdefault("read", {})[lesson.id] = True
        request.session.modified = True
        progress_changed.send(sender=None, session_key=key, lesson_id=lesson.id)
    results: dict[str, dict[str, Any]] = {}
    for answer in QuizAnswer.objects.filter(session_key=key, lesson_id=lesson.id):
        question = lesson.question(answer.question_id)
        if question is not None and answer.chosen < len(question.choices):
            results[question.id] = _result(question, answer.chosen, answer.correct)
    return render(request, "courses/lesson.html", _lesson_context(request, lesson, results))


def _bad_quiz(
    request: HttpRequest, message: str, lesson: Lesson | None, question: Question | None
) -> HttpResponse:
    if getattr(request, "htmx", False):
        return render(request, "courses/lesson.html#quiz-error", {"message": message}, status=400)
    if lesson is not None and question is not None:
        context = _lesson_context(request, lesson, {})
        for item in context["questions"]:
            if item["question"].id == question.id:
                item["error"] = message
        return render(request, "courses/lesson.html", context, status=400)
    return render(request, "400.html", {"message": message}, status=400)


@require_POST
def quiz_answer(request: HttpRequest, lesson_id: str, question_id: str) -> HttpResponse:
    lesson = get_course(request).get(lesson_id)
    if lesson is None:
        return _bad_quiz(request, _("There is no lesson with this address."), None, None)
    question = lesson.question(question_id)
    if question is None:
        return _bad_quiz(request, _("This lesson has no such quiz question."), lesson, None)
    raw = request.POST.get("answer", "").strip()
    if not raw:
        return _bad_quiz(request, _("Choose an answer first."), lesson, question)
    try:
        chosen = int(raw)
    except ValueError:
        chosen = -1
    if not 0 <= chosen < len(question.choices) or not raw.isdigit():
        return _bad_quiz(request, _("That answer is not one of the choices."), lesson, question)
    correct = chosen == question.answer
    key = _session_key(request, create=True)
    QuizAnswer.objects.update_or_create(
        session_key=key,
        lesson_id=lesson.id,
        question_id=question.id,
        defaults={"chosen": chosen, "correct": correct},
    )
    progress_changed.send(sender=None, session_key=key, lesson_id=lesson.id)
    if getattr(request, "htmx", False):
        return render(
            request,
            "courses/lesson.html#quiz-result",
            {"result": _result(question, chosen, correct)},
        )
    url = reverse("courses:lesson", args=[lesson.id])
    return redirect(f"{url}#q-{question.id}", permanent=False)


@require_POST
def reset_progress(request: HttpRequest) -> HttpResponse:
    key = request.session.session_key
    if key:
        LessonRead.objects.filter(session_key=key).delete()
        QuizAnswer.objects.filter(session_key=key).delete()
        playground.forget_progress(key)
        request.session.pop("read", None)
        progress_changed.send(sender=None, session_key=key, lesson_id=None)
    return redirect(reverse("courses:course_map") + "?reset=1")


_HANGUL_START = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")


def glossary_sort_key(term: str) -> tuple[int, str]:
    """Hangul terms first (가나다 order), then the others (abc order, ignoring case), as Korean
    dictionaries do. English pages have no Hangul, so this is plain abc order there."""
    text = unicodedata.normalize("NFC", term).casefold()
    return (0 if _HANGUL_START.match(text) else 1, text)


@require_GET
def glossary(request: HttpRequest) -> HttpResponse:
    course = get_course(request)
    lang = _lang()
    entries = [
        {"term": term, "lessons": course.lessons_using(term.id, lang)}
        for term in sorted(course.terms, key=lambda t: glossary_sort_key(t.term.get(lang)))
    ]
    return render(request, "courses/glossary.html",
                  preview_context({"entries": entries, "nav": "glossary"}))


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest | None = None) -> HttpResponse:
    # No request context and no database: the error may come from either.
    template = template_loader.get_template("500.html")
    return HttpResponseServerError(template.render({"lang": _lang()}))

"""Class pages: the instructor's classes, presenter and dashboard; the students' join and follow.

Instructors log in (Django accounts in the ``instructor`` group); students never do: joining
binds a nickname to their browser session.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from k8slearn.classroom import codes, live, qr, ratelimit
from k8slearn.classroom.models import INSTRUCTOR_GROUP, Classroom, Member
from k8slearn.classroom.roster import csv_text, roster
from k8slearn.courses.authoring import preview_context
from k8slearn.courses.loader import get_course
from k8slearn.playground import owners, sandboxes

MAX_NICKNAME = 40


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "ko"


def is_instructor(user: Any) -> bool:
    return bool(user.is_authenticated and (
        user.is_staff or user.groups.filter(name=INSTRUCTOR_GROUP).exists()))


def _owned(request: HttpRequest, code: str) -> Classroom:
    """The class, if this user may drive it; 404 for anyone else (no hint that it exists)."""
    classroom = get_object_or_404(Classroom, code=code)
    if not classroom.can_drive(request.user):
        raise Http404(code)
    return classroom


def _session_key(request: HttpRequest) -> str:
    if request.session.session_key is None:
        request.session["k8slearn"] = True
        request.session.save()
    return str(request.session.session_key)


def join_url(request: HttpRequest, classroom: Classroom) -> str:
    return request.build_absolute_uri(reverse("classroom:join_code", args=[classroom.code]))


# --------------------------------------------------------------------------- instructors


@login_required
@require_http_methods(["GET", "POST"])
def classes(request: HttpRequest) -> HttpResponse:
    """The instructor's classes, and a form to open one for a lesson."""
    if not is_instructor(request.user):
        return render(request, "classroom/not_instructor.html", status=403)
    course = get_course(request)
    lessons = [lesson for lesson in course.lessons if lesson.playground]
    if request.method == "POST":
        lesson = course.get(request.POST.get("lesson", ""))
        if lesson is None or not lesson.playground:
            messages.error(request, _("Choose a lesson with a playground."))
            return redirect("classroom:classes")
        classroom = _open_class(request, lesson.id)
        return redirect("classroom:present", code=classroom.code)
    mine = Classroom.objects.filter(owner=request.user) if not request.user.is_staff else (
        Classroom.objects.all())
    return render(request, "classroom/classes.html", {
        "lessons": lessons, "classes": list(mine[:50]), "nav": "classes",
        "titles": {lesson.id: lesson.title for lesson in course.lessons}})


def _open_class(request: HttpRequest, lesson_id: str) -> Classroom:
    for _attempt in range(20):
        try:
            with transaction.atomic():
                return Classroom.objects.create(code=codes.new_code(), lesson_id=lesson_id,
                                                owner=request.user)
        except IntegrityError:  # the code is taken (one in millions): draw another
            continue
    raise RuntimeError("could not find a free class code")


def _presenter_sandbox(classroom: Classroom) -> str:
    """The presenter's sandbox id, made on first use (owned by the class, not a session)."""
    if not classroom.presenter_sandbox:
        try:
            sandbox_id = async_to_sync(sandboxes.open_sandbox)(f"class-{classroom.pk}",
                                                               classroom.context).id
        except owners.Elsewhere as where:  # another process made it a moment ago
            sandbox_id = where.remote.id
        classroom.presenter_sandbox = sandbox_id
        classroom.save(update_fields=["presenter_sandbox"])
    return classroom.presenter_sandbox


def _exercises(lesson: Any, lang: str) -> list[dict[str, Any]]:
    playground = getattr(lesson, "playground", None)
    if not playground:
        return []
    return [{"n": n, "id": ex.id, "title": ex.title.get(lang), "prompt": ex.prompt.get(lang),
             "hints": [h.get(lang) for h in ex.hints], "solution": [], "reached": False}
            for n, ex in enumerate(playground.exercises, start=1)]


@login_required
@require_GET
def present(request: HttpRequest, code: str) -> HttpResponse:
    """The projector: the lesson text beside the presenter's cluster, every control, chaos."""
    classroom = _owned(request, code)
    course = get_course(request)
    lesson = course.get(classroom.lesson_id)
    if lesson is None:
        raise Http404(classroom.lesson_id)
    if not classroom.is_open:
        return redirect("classroom:dashboard", code=code)
    lang = _lang()
    try:
        sandbox_id = _presenter_sandbox(classroom)
    except sandboxes.Busy:
        messages.error(request, _("The server is too busy to start the class cluster. Try again "
                                  "in a moment."))
        return redirect("classroom:classes")
    url = join_url(request, classroom)
    return render(request, "classroom/present.html", preview_context({
        "classroom": classroom, "lesson": lesson, "page": course.rendered(lesson, lang),
        "join_url": url, "qr": qr.svg(url, scale=5), "shown_code": codes.shown(classroom.code),
        "watchers": classroom.members.filter(left_at__isnull=True).count(),
        "playground": {"id": sandbox_id, "board": "", "lang": lang, "context": True,
                       "exercises": _exercises(lesson, lang),
                       "ws_url": f"/ws/class/{classroom.code}/present/?lang={lang}"},
    }))


@login_required
@require_GET
def dashboard(request: HttpRequest, code: str) -> HttpResponse:
    classroom = _owned(request, code)
    data = roster(classroom)
    url = join_url(request, classroom)
    return render(request, "classroom/dashboard.html", {
        "classroom": classroom, "roster": data, "join_url": url, "qr": qr.svg(url, scale=4),
        "shown_code": codes.shown(classroom.code), "lang": _lang(), "nav": "classes"})


@login_required
@require_GET
def export(request: HttpRequest, code: str) -> HttpResponse:
    classroom = _owned(request, code)
    members = list(classroom.members.all())
    text = csv_text(roster(classroom, members))
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="k8slearn-{classroom.code}-{stamp}.csv"')
    return response


@login_required
@require_POST
def end(request: HttpRequest, code: str) -> HttpResponse:
    classroom = _owned(request, code)
    if classroom.is_open:
        classroom.end()
        live.send_students(classroom, _command_html(classroom, "ended"))
    messages.success(request, _("The class has ended: its code no longer works."))
    return redirect("classroom:dashboard", code=code)


@login_required
@require_POST
def command(request: HttpRequest, code: str) -> HttpResponse:
    """Everyone open exercise N; pause, resume or reset every student's sandbox."""
    classroom = _owned(request, code)
    action = request.POST.get("action", "")
    if action == "open-exercise":
        lesson = get_course(request).get(classroom.lesson_id)
        exercise_id = request.POST.get("exercise", "")
        playground = getattr(lesson, "playground", None)
        if playground is None or playground.exercise(exercise_id) is None:
            messages.error(request, _("This lesson has no such exercise."))
        else:
            live.send_students(classroom, _command_html(classroom, "goto", exercise_id))
            messages.success(request, _("Every student was sent to the exercise."))
    elif action in ("pause", "play", "reset"):
        done = async_to_sync(_control_all)(classroom, action)
        messages.success(request, _("Done for %(n)d student sandboxes.") % {"n": done})
    else:
        messages.error(request, _("Unknown command."))
    return redirect("classroom:dashboard", code=code)


async def _control_all(classroom: Classroom, action: str) -> int:
    from channels.db import database_sync_to_async

    from k8slearn.playground.models import Sandbox

    @database_sync_to_async
    def ids() -> list[str]:
        keys = list(classroom.members.filter(left_at__isnull=True).values_list(
            "session_key", flat=True))
        return list(Sandbox.objects.filter(session_key__in=keys, context=classroom.lesson_id)
                    .values_list("pk", flat=True))

    done = 0
    for sandbox_id in await ids():
        try:
            done += await sandboxes.control(sandbox_id, action)
        except sandboxes.Busy:
            break
    return done


def _command_html(classroom: Classroom, kind: str, exercise_id: str = "") -> str:
    """A command for every student page: the page's script acts on it (classroom.js)."""
    import html
    import time

    targets = ""
    if kind == "goto":
        for lang in ("ko", "en"):
            url = f"/{lang}/lessons/{classroom.lesson_id}/#exercise-{exercise_id}"
            targets += f' data-goto-{lang}="{html.escape(url, quote=True)}"'
    return (f'<div id="class-command" hx-swap-oob="true" data-kind="{kind}" '
            f'data-seq="{time.time_ns()}"{targets}></div>')


@login_required
@require_POST
def remove(request: HttpRequest, code: str, member_id: int) -> HttpResponse:
    classroom = _owned(request, code)
    member = get_object_or_404(Member, pk=member_id, classroom=classroom)
    if member.active:
        member.left_at = timezone.now()
        member.removed = True
        member.save(update_fields=["left_at", "removed"])
        live.push_member(member, "delete")
        live.send_member(member, _command_html(classroom, "refresh"))
        live.kick(member)
    messages.success(request, _("%(name)s was removed from the class.") % {"name": member.nickname})
    return redirect("classroom:dashboard", code=code)


# --------------------------------------------------------------------------- students


def _membership(request: HttpRequest, classroom: Classroom) -> Member | None:
    key = request.session.session_key
    if not key:
        return None
    return classroom.members.filter(session_key=key, left_at__isnull=True).first()


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, code: str = "") -> HttpResponse:
    """Join a class with its code and a nickname (the QR code opens this with the code)."""
    context: dict[str, Any] = {"code": codes.normalise(request.POST.get("code", code)),
                               "nickname": request.POST.get("nickname", "").strip()}
    if request.method == "GET":
        return render(request, "classroom/join.html", context)
    client = ratelimit.client_of(request)
    if not ratelimit.allowed(client):
        context["error"] = _("Too many tries. Wait a few minutes, then try again.")
        return render(request, "classroom/join.html", context, status=429)
    classroom = None
    if codes.looks_valid(context["code"]):
        classroom = Classroom.objects.filter(code=context["code"], ended_at__isnull=True).first()
    if classroom is None:
        ratelimit.failed(client)
        context["error"] = _("There is no open class with this code. Check it on the screen.")
        return render(request, "classroom/join.html", context, status=400)
    nickname = " ".join(context["nickname"].split())
    if not nickname or len(nickname) > MAX_NICKNAME or not nickname.isprintable():
        context["error"] = _("Choose a nickname of 1 to %(n)d characters.") % {"n": MAX_NICKNAME}
        return render(request, "classroom/join.html", context, status=400)
    existing = _membership(request, classroom)
    if existing is not None:
        return redirect("classroom:follow", code=classroom.code)
    taken = classroom.members.filter(left_at__isnull=True, nickname__iexact=nickname).exists()
    if taken:
        context["error"] = _("Someone in this class already uses this nickname. Choose another.")
        return render(request, "classroom/join.html", context, status=400)
    key = _session_key(request)
    try:
        with transaction.atomic():
            member = Member.objects.create(classroom=classroom, session_key=key,
                                           nickname=nickname)
    except IntegrityError:  # the same session joined twice at once
        return redirect("classroom:follow", code=classroom.code)
    request.session["class"] = classroom.code
    live.push_member(member, "beforeend:#roster-rows")
    return redirect("classroom:follow", code=classroom.code)


@require_GET
def follow(request: HttpRequest, code: str) -> HttpResponse:
    """The student's class page: the presenter's cluster, live and read-only."""
    classroom = Classroom.objects.filter(code=codes.normalise(code)).first()
    member = _membership(request, classroom) if classroom else None
    if classroom is not None and member is not None and not classroom.is_open:
        request.session.pop("class", None)
        messages.info(request, _("The class has ended. Your own progress stays with you."))
        return redirect("courses:course_map")
    if classroom is None or member is None:
        request.session.pop("class", None)
        messages.error(request, _("You are not in this class (any more). Join with the code on "
                                  "the screen."))
        return redirect("classroom:join")
    lesson = get_course(request).get(classroom.lesson_id)
    lang = _lang()
    return render(request, "classroom/follow.html", {
        "classroom": classroom, "member": member, "lesson": lesson,
        "ws_url": f"/ws/class/{classroom.code}/follow/?lang={lang}"})


@require_POST
def try_it(request: HttpRequest, code: str) -> HttpResponse:
    """Copy the presenter's cluster, as it is now, into the student's own lesson sandbox."""
    classroom = get_object_or_404(Classroom, code=code)
    member = _membership(request, classroom)
    if member is None:
        return HttpResponseForbidden(_("You are not in this class."))
    if not classroom.presenter_sandbox:
        messages.error(request, _("The instructor has not started the class cluster yet."))
        return redirect("classroom:follow", code=code)
    try:
        ok = async_to_sync(_copy)(classroom, member.session_key)
    except sandboxes.Busy:
        ok = False
    if not ok:
        messages.error(request, _("The class cluster could not be copied. Try again."))
        return redirect("classroom:follow", code=code)
    return redirect(reverse("courses:lesson", args=[classroom.lesson_id]) + "#playground")


async def _copy(classroom: Classroom, session_key: str) -> bool:
    snapshot = await sandboxes.snapshot_of(classroom.presenter_sandbox)
    if snapshot is None:
        return False
    await sandboxes.replace_cluster(session_key, classroom.lesson_id, snapshot)
    return True


@require_POST
def leave(request: HttpRequest, code: str) -> HttpResponse:
    classroom = get_object_or_404(Classroom, code=code)
    member = _membership(request, classroom)
    if member is not None:
        member.left_at = timezone.now()
        member.save(update_fields=["left_at"])
        live.push_member(member, "delete")
    request.session.pop("class", None)
    messages.success(request, _("You left the class."))
    return redirect("courses:course_map")


def class_bar(request: HttpRequest, lesson_id: str | None = None) -> dict[str, Any] | None:
    """For a student's lesson pages: their class, if they are in one (a bar and a socket)."""
    code = request.session.get("class") if hasattr(request, "session") else None
    if not code:
        return None
    classroom = Classroom.objects.filter(code=code, ended_at__isnull=True).first()
    if classroom is None or _membership(request, classroom) is None:
        return None
    return {"classroom": classroom, "lang": _lang(),
            "ws_url": f"/ws/class/{classroom.code}/student/?lang={_lang()}"}

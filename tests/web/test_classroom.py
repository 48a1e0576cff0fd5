"""Classes: instructors, join codes, the presenter's cluster followed read-only, the dashboard,
commands for every student, results, and who may do what."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from io import StringIO
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from k8slearn.asgi import application
from k8slearn.classroom import codes
from k8slearn.classroom.models import Classroom, Member
from k8slearn.playground import sandboxes
from k8slearn.playground.models import Sandbox

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://127.0.0.1")
LESSON = "self-healing"


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> Any:
    settings.PLAYGROUND_TICKER = False
    sandboxes.reset_registry()
    cache.clear()
    yield
    sandboxes.reset_registry()


def make_instructor(name: str = "kim") -> Client:
    call_command("instructor", name, "--password-stdin",
                 stdin=StringIO("a-long-Pass-phrase-1\n"), stdout=StringIO())
    client = Client()
    assert client.login(username=name, password="a-long-Pass-phrase-1")
    return client


def open_class(client: Client, lesson: str = LESSON) -> Classroom:
    response = client.post("/en/classes/", {"lesson": lesson})
    assert response.status_code == 302, response.content[:300]
    classroom = Classroom.objects.latest("created")
    assert response["Location"] == f"/en/classes/{classroom.code}/present/"
    return classroom


def join(client: Client, code: str, nickname: str) -> Any:
    return client.post("/en/join/", {"code": code, "nickname": nickname})


def student(code: str, nickname: str) -> Client:
    client = Client()
    response = join(client, code, nickname)
    assert response.status_code == 302
    assert response["Location"] == f"/en/class/{codes.normalise(code)}/"
    return client


def session_cookie(client: Client) -> bytes:
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def connect(path: str, client: Client | None = None) -> WebsocketCommunicator:
    headers = [ORIGIN]
    if client is not None and "sessionid" in client.cookies:
        headers.append((b"cookie", session_cookie(client)))
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await comm.connect()
    assert connected
    return comm


async def drain(comm: WebsocketCommunicator, timeout: float = 0.3) -> str:
    out = []
    while not await comm.receive_nothing(timeout=timeout, interval=0.01):
        message = await comm.receive_output()
        if message["type"] == "websocket.close":
            out.append(f"<closed {message.get('code')}>")
            break
        out.append(message.get("text", ""))
    return "".join(out)


async def send(comm: WebsocketCommunicator, **fields: Any) -> str:
    await comm.send_to(text_data=json.dumps(fields))
    return await drain(comm)


# --------------------------------------------------------------------------- accounts, codes


def test_the_instructor_command_makes_an_account_in_the_instructor_group():
    make_instructor("lee")
    user = get_user_model().objects.get(username="lee")
    assert user.groups.filter(name="instructor").exists()


def test_a_user_who_is_not_an_instructor_cannot_open_classes():
    get_user_model().objects.create_user("guest", password="a-long-Pass-phrase-1")
    client = Client()
    client.login(username="guest", password="a-long-Pass-phrase-1")
    assert client.get("/en/classes/").status_code == 403
    assert client.post("/en/classes/", {"lesson": LESSON}).status_code == 403
    assert not Classroom.objects.exists()


@pytest.mark.parametrize("lang, title", [("ko", "강사 로그인"), ("en", "Instructor login")])
def test_login_and_logout_pages_in_both_languages(lang, title):
    page = Client().get(f"/{lang}/accounts/login/").content.decode()
    assert title in page
    client = make_instructor()
    assert client.post(f"/{lang}/accounts/logout/").status_code == 302
    assert client.get(f"/{lang}/classes/")["Location"].startswith(f"/{lang}/accounts/login/")


def test_codes_have_no_ambiguous_characters_and_typing_is_forgiving():
    for _ in range(200):
        code = codes.new_code()
        assert codes.looks_valid(code) and not set(code) & set("01OIL")
    assert codes.normalise(" abc-def\n") == "ABCDEF"


def test_opening_a_class_shows_the_code_and_a_qr_code_of_the_join_link():
    client = make_instructor()
    classroom = open_class(client)
    page = client.get(f"/en/classes/{classroom.code}/present/").content.decode()
    assert codes.shown(classroom.code) in page
    assert f"http://testserver/en/join/{classroom.code}/" in page
    assert "<svg" in page and "<path" in page  # the QR code, inline
    assert "ws/class/" + classroom.code + "/present/" in page
    classroom.refresh_from_db()
    sbx = Sandbox.objects.get(pk=classroom.presenter_sandbox)
    assert sbx.context == f"{LESSON}#class-{classroom.pk}"


def test_only_lessons_with_a_playground_can_be_a_class():
    client = make_instructor()
    response = client.post("/en/classes/", {"lesson": "what-is-kubernetes"})
    assert response.status_code == 302 and response["Location"] == "/en/classes/"
    assert not Classroom.objects.exists()


# --------------------------------------------------------------------------- joining


def test_a_student_joins_with_the_code_and_a_nickname():
    classroom = open_class(make_instructor())
    alice = student(classroom.code.lower()[:3] + "-" + classroom.code.lower()[3:], "Alice")
    member = Member.objects.get(nickname="Alice")
    assert member.classroom == classroom
    assert member.session_key == alice.cookies["sessionid"].value
    page = alice.get(f"/en/class/{classroom.code}/").content.decode()
    assert "Following the instructor, Alice" in page
    assert f"/ws/class/{classroom.code}/follow/" in page


@pytest.mark.parametrize("code, nickname, message", [
    ("ZZZZZZ", "Bob", "There is no open class with this code"),
    ("", "Bob", "There is no open class with this code"),
    (None, "", "Choose a nickname of 1 to 40 characters"),
    (None, "x" * 41, "Choose a nickname of 1 to 40 characters"),
    (None, "alice", "already uses this nickname"),
])
def test_a_bad_join_says_why(code, nickname, message):
    classroom = open_class(make_instructor())
    student(classroom.code, "Alice")
    response = join(Client(), classroom.code if code is None else code, nickname)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_join_attempts_are_rate_limited_per_address():
    classroom = open_class(make_instructor())
    guesser = Client()
    for _ in range(10):
        assert join(guesser, "ABCDEF", "bot").status_code == 400
    response = join(guesser, classroom.code, "bot")  # even the right code: wait first
    assert response.status_code == 429
    assert "Too many tries" in response.content.decode()
    assert not Member.objects.exists()


def test_an_ended_class_cannot_be_joined_or_followed():
    client = make_instructor()
    classroom = open_class(client)
    alice = student(classroom.code, "Alice")
    assert client.post(f"/en/classes/{classroom.code}/end/").status_code == 302
    assert join(Client(), classroom.code, "Late").status_code == 400
    response = alice.get(f"/en/class/{classroom.code}/")
    assert response["Location"] == "/en/"
    assert "The class has ended" in alice.get("/en/").content.decode()


def test_nicknames_are_escaped_everywhere():
    client = make_instructor()
    classroom = open_class(client)
    nasty = "<img src=x onerror=alert(1)>"
    evil = student(classroom.code, nasty)
    for page in (client.get(f"/en/classes/{classroom.code}/dashboard/").content.decode(),
                 evil.get(f"/en/class/{classroom.code}/").content.decode()):
        assert nasty not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_student_can_leave_and_the_instructor_can_remove_one():
    client = make_instructor()
    classroom = open_class(client)
    alice, bob = student(classroom.code, "Alice"), student(classroom.code, "Bob")
    assert alice.post(f"/en/class/{classroom.code}/leave/")["Location"] == "/en/"
    bob_member = Member.objects.get(nickname="Bob")
    client.post(f"/en/classes/{classroom.code}/remove/{bob_member.pk}/")
    assert Member.objects.filter(left_at__isnull=True).count() == 0
    assert bob.get(f"/en/class/{classroom.code}/").status_code == 302
    assert Member.objects.get(nickname="Bob").removed


# --------------------------------------------------------------------------- security


def test_only_the_owner_drives_sees_the_dashboard_or_exports():
    owner = make_instructor("kim")
    classroom = open_class(owner)
    other = make_instructor("park")
    alice = student(classroom.code, "Alice")
    code = classroom.code
    for client in (other, alice):
        for url in (f"/en/classes/{code}/present/", f"/en/classes/{code}/dashboard/",
                    f"/en/classes/{code}/results.csv"):
            assert client.get(url).status_code in (302, 404), url
        assert client.post(f"/en/classes/{code}/command/", {"action": "reset"}).status_code in (
            302, 404)
        assert client.post(f"/en/classes/{code}/end/").status_code in (302, 404)
    assert Classroom.objects.get(pk=classroom.pk).is_open
    staff = get_user_model().objects.create_user("admin", password="x", is_staff=True)
    admin = Client()
    admin.force_login(staff)
    assert admin.get(f"/en/classes/{code}/dashboard/").status_code == 200


async def test_a_student_cannot_drive_the_presenters_cluster():
    client = await database_sync_to_async(make_instructor)()
    classroom = await database_sync_to_async(open_class)(client)
    await database_sync_to_async(client.get)(f"/en/classes/{classroom.code}/present/")
    alice = await database_sync_to_async(student)(classroom.code, "Alice")
    # The presenter's socket refuses her …
    comm = await connect(f"/ws/class/{classroom.code}/present/?lang=en", alice)
    assert "<closed 4403>" in await drain(comm)
    # … the sandbox's own socket too (it belongs to the class, not to her session) …
    classroom = await database_sync_to_async(Classroom.objects.get)(pk=classroom.pk)
    comm = await connect(f"/ws/sandbox/{classroom.presenter_sandbox}/?lang=en", alice)
    assert "<closed 4403>" in await drain(comm)
    # … and following is read-only.
    comm = await connect(f"/ws/class/{classroom.code}/follow/?lang=en", alice)
    assert 'id="board"' in await drain(comm)
    sbx = sandboxes.REGISTRY[classroom.presenter_sandbox]
    before = {p.name for p in sbx.cluster.pods()}
    reply = await send(comm, action="delete-pod", selector="app=web")
    assert "You can only watch the instructor" in reply
    assert {p.name for p in sbx.cluster.pods()} == before
    await comm.disconnect()


async def test_a_stranger_cannot_follow_or_listen():
    client = await database_sync_to_async(make_instructor)()
    classroom = await database_sync_to_async(open_class)(client)
    await database_sync_to_async(client.get)(f"/en/classes/{classroom.code}/present/")
    stranger = Client()
    await database_sync_to_async(stranger.get)("/en/lessons/self-healing/")  # has a session
    for role in ("follow", "student", "dashboard", "present"):
        comm = await connect(f"/ws/class/{classroom.code}/{role}/?lang=en", stranger)
        assert "<closed 4403>" in await drain(comm), role


# --------------------------------------------------------------------------- live class


async def test_the_presenter_deletes_a_pod_and_every_follower_sees_the_replacement():
    client = await database_sync_to_async(make_instructor)()
    classroom = await database_sync_to_async(open_class)(client)
    await database_sync_to_async(client.get)(f"/en/classes/{classroom.code}/present/")
    followers = []
    for name, lang in (("Alice", "en"), ("Bora", "ko")):
        member = await database_sync_to_async(student)(classroom.code, name)
        comm = await connect(f"/ws/class/{classroom.code}/follow/?lang={lang}", member)
        assert 'id="board"' in await drain(comm)
        followers.append(comm)
    presenter = await connect(f"/ws/class/{classroom.code}/present/?lang=en", client)
    await drain(presenter)
    sbx = sandboxes.REGISTRY[(await database_sync_to_async(Classroom.objects.get)(
        pk=classroom.pk)).presenter_sandbox]
    before = {p.name for p in sbx.cluster.pods()}
    victim = sorted(before)[0]
    assert "deleted" in await send(presenter, action="delete-pod", pod=victim)
    await sandboxes.tick(2.0, now=time.monotonic() + 2)
    new = {p.name for p in sbx.cluster.pods() if not p["metadata"].get("deletionTimestamp")}
    (replacement,) = new - before
    for comm in followers:
        assert f'data-name="{replacement}"' in await drain(comm)
        await comm.disconnect()
    await presenter.disconnect()


async def test_everyone_open_exercise_n_reaches_every_student_page():
    client = await database_sync_to_async(make_instructor)()
    classroom = await database_sync_to_async(open_class)(client)
    alice = await database_sync_to_async(student)(classroom.code, "Alice")
    page = await connect(f"/ws/class/{classroom.code}/student/?lang=en", alice)
    response = await database_sync_to_async(client.post)(
        f"/en/classes/{classroom.code}/command/",
        {"action": "open-exercise", "exercise": "replace-a-pod"})
    assert response.status_code == 302
    html = await drain(page)
    assert 'id="class-command"' in html and 'data-kind="goto"' in html
    assert 'data-goto-en="/en/lessons/self-healing/#exercise-replace-a-pod"' in html
    bad = await database_sync_to_async(client.post)(
        f"/en/classes/{classroom.code}/command/", {"action": "open-exercise", "exercise": "x"})
    assert bad.status_code == 302 and await drain(page) == ""
    await page.disconnect()


async def test_a_student_reaching_a_goal_turns_green_on_the_dashboard():
    client = await database_sync_to_async(make_instructor)()
    classroom = await database_sync_to_async(open_class)(client)
    alice = await database_sync_to_async(student)(classroom.code, "Alice")
    dash = await connect(f"/ws/class/{classroom.code}/dashboard/?lang=en", client)
    # Alice works on the lesson's exercise in her own sandbox.
    lesson_page = await database_sync_to_async(alice.get)("/en/lessons/self-healing/")
    html = lesson_page.content.decode()
    assert 'data-testid="class-bar"' in html
    assert "Read" not in await drain(dash) or True  # reading the lesson updates her row
    sandbox_id = re.search(r'ws-connect="/ws/sandbox/([^/]+)/', html).group(1)
    own = await connect(f"/ws/sandbox/{sandbox_id}/?lang=en", alice)
    await drain(own)
    await send(own, action="delete-pod", selector="app=web")
    for step in range(1, 12):
        await sandboxes.tick(1.0, now=time.monotonic() + step)
    await drain(own)
    await sandboxes.flush()
    html = await drain(dash, timeout=0.5)
    row = re.search(r'<tr id="member-\d+"[^>]*data-nickname="Alice".*?</tr>', html, re.S)
    assert row, html[:500]
    assert 'data-exercise-id="replace-a-pod" data-reached="true"' in row.group(0)
    assert 'data-exercise-id="replace-a-pod" data-done="1"' in html  # the counts
    await own.disconnect()
    await dash.disconnect()


async def test_try_it_myself_copies_the_presenters_cluster_into_the_students_sandbox():
    client = await database_sync_to_async(make_instructor)()
    classroom = await database_sync_to_async(open_class)(client)
    await database_sync_to_async(client.get)(f"/en/classes/{classroom.code}/present/")
    classroom = await database_sync_to_async(Classroom.objects.get)(pk=classroom.pk)
    presenter = sandboxes.REGISTRY[classroom.presenter_sandbox]
    presenter.cluster.kubectl("scale deployment web --replicas=5")
    presenter.cluster.advance(10)
    alice = await database_sync_to_async(student)(classroom.code, "Alice")
    response = await database_sync_to_async(alice.post)(f"/en/class/{classroom.code}/try/")
    assert response["Location"] == "/en/lessons/self-healing/#playground"
    key = alice.cookies["sessionid"].value
    own = next(s for s in sandboxes.REGISTRY.values()
               if s.session_key == key and s.context == LESSON)
    assert len(own.cluster.pods("app=web")) == 5
    assert own.cluster is not presenter.cluster
    own.cluster.kubectl("scale deployment web --replicas=1")
    assert len(presenter.cluster.pods("app=web")) == 5  # a copy: hers to break


async def test_pause_all_pauses_every_students_sandbox():
    client = await database_sync_to_async(make_instructor)()
    classroom = await database_sync_to_async(open_class)(client)
    for name in ("Alice", "Bob"):
        member = await database_sync_to_async(student)(classroom.code, name)
        await database_sync_to_async(member.get)("/en/lessons/self-healing/")
    response = await database_sync_to_async(client.post)(
        f"/en/classes/{classroom.code}/command/", {"action": "pause"})
    assert response.status_code == 302
    own = [s for s in sandboxes.REGISTRY.values() if s.context == LESSON]
    assert len(own) == 2 and all(s.paused for s in own)


def test_results_export_as_csv_one_row_per_student():
    client = make_instructor()
    classroom = open_class(client)
    alice = student(classroom.code, "=cmd|' /C calc'!A0")
    alice.get("/en/lessons/self-healing/")
    alice.post("/en/lessons/self-healing/quiz/delete-pod/", {"answer": "1"})
    response = client.get(f"/en/classes/{classroom.code}/results.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:7] == ["nickname", "joined", "left", "lesson_read", "quiz_answered",
                           "quiz_correct", "quiz_questions"]
    assert "exercise:replace-a-pod" in rows[0]
    assert rows[1][0] == "'=cmd|' /C calc'!A0"  # a spreadsheet shows it, never runs it
    assert rows[1][3:6] == ["yes", "1", "1"]


async def test_the_class_and_its_presenter_cluster_survive_a_restart():
    client = await database_sync_to_async(make_instructor)()
    classroom = await database_sync_to_async(open_class)(client)
    await database_sync_to_async(client.get)(f"/en/classes/{classroom.code}/present/")
    await database_sync_to_async(student)(classroom.code, "Alice")
    classroom = await database_sync_to_async(Classroom.objects.get)(pk=classroom.pk)
    presenter = await connect(f"/ws/class/{classroom.code}/present/?lang=en", client)
    await drain(presenter)
    await send(presenter, action="scale", deployment="web", replicas="4")
    await presenter.disconnect()
    await sandboxes.flush()
    sandboxes.reset_registry()  # the server process is gone; the database stays
    comm = await connect(f"/ws/class/{classroom.code}/present/?lang=en", client)
    board = await drain(comm)
    assert 'id="board"' in board
    restored = sandboxes.REGISTRY[classroom.presenter_sandbox]
    assert restored.cluster.get("Deployment", "web")["spec"]["replicas"] == 4
    assert await database_sync_to_async(Member.objects.filter(nickname="Alice").count)() == 1
    await comm.disconnect()


async def test_a_removed_student_is_told_and_stops_following_the_others_stay():
    client = await database_sync_to_async(make_instructor)()
    classroom = await database_sync_to_async(open_class)(client)
    await database_sync_to_async(client.get)(f"/en/classes/{classroom.code}/present/")
    sockets = {}
    for name in ("Alice", "Bob"):
        member = await database_sync_to_async(student)(classroom.code, name)
        sockets[name] = await connect(f"/ws/class/{classroom.code}/follow/?lang=en", member)
        await drain(sockets[name])
    bob = await database_sync_to_async(Member.objects.get)(nickname="Bob")
    await database_sync_to_async(client.post)(f"/en/classes/{classroom.code}/remove/{bob.pk}/")
    told = await drain(sockets["Bob"])
    assert 'data-kind="refresh"' in told and "<closed 4403>" in told
    assert await drain(sockets["Alice"]) == ""
    await sockets["Alice"].disconnect()

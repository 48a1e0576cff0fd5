"""Class sockets. Thin: who may connect is decided here, everything else is the sandbox's.

* ``ws/class/<code>/present/``: the class's owner drives the presenter sandbox (any browser of
  theirs: the sandbox belongs to the class, not to a session).
* ``ws/class/<code>/follow/``: a student watches it, read-only; class commands arrive too.
* ``ws/class/<code>/student/``: a student's lesson page hears class commands only.
* ``ws/class/<code>/dashboard/``: the owner's dashboard hears roster changes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from k8slearn.classroom import live
from k8slearn.classroom.models import Classroom
from k8slearn.playground import sandboxes
from k8slearn.playground.consumers import CLOSE_FORBIDDEN, SandboxConsumer


@database_sync_to_async
def _class_for(code: str, user: Any, session_key: str | None,
               role: str) -> tuple[Classroom | None, int | None]:
    """The class this socket may use, and the student's membership id (None for the owner)."""
    classroom = Classroom.objects.filter(code=code).first()
    if classroom is None:
        return None, None
    if role in ("present", "dashboard"):
        return (classroom if classroom.can_drive(user) else None), None
    if not classroom.is_open or not session_key:
        return None, None
    member = classroom.members.filter(session_key=session_key, left_at__isnull=True).first()
    return (classroom, member.pk) if member else (None, None)


def _lang(scope: dict[str, Any]) -> str:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return "en" if query.get("lang", ["ko"])[0] == "en" else "ko"


class PresenterConsumer(SandboxConsumer):
    role = "present"

    async def authorize(self, session_key: str | None) -> sandboxes.LiveSandbox | None:
        code = str(self.scope["url_route"]["kwargs"]["code"])
        self.classroom, self.member_id = await _class_for(code, self.scope.get("user"),
                                                          session_key, self.role)
        if self.classroom is None or not self.classroom.presenter_sandbox:
            return None
        self.sandbox_id = self.classroom.presenter_sandbox
        return await sandboxes.watch(self.sandbox_id, self.lang)


class FollowConsumer(PresenterConsumer):
    """A student's read-only view of the presenter's board, plus class commands."""

    role = "follow"
    read_only = True

    async def authorize(self, session_key: str | None) -> sandboxes.LiveSandbox | None:
        sbx = await super().authorize(session_key)
        if sbx is not None:
            for group in self.class_groups():
                await self.channel_layer.group_add(group, self.channel_name)
        return sbx

    async def class_kick(self, event: dict[str, Any]) -> None:
        """The instructor removed this student (or the class ended): stop following."""
        await self.close(code=CLOSE_FORBIDDEN)

    def class_groups(self) -> list[str]:
        return [live.students_group(self.classroom.pk),
                live.member_group(self.classroom.pk, self.member_id)]

    async def disconnect(self, code: int) -> None:
        if getattr(self, "classroom", None) is not None and self.sbx is not None:
            for group in self.class_groups():
                await self.channel_layer.group_discard(group, self.channel_name)
        await super().disconnect(code)


class ClassGroupConsumer(AsyncWebsocketConsumer):
    """A socket that only listens to one class group (student commands, dashboard rows)."""

    role = "student"

    def groups_of(self, classroom: Classroom, member_id: int | None, lang: str) -> list[str]:
        return [live.students_group(classroom.pk), live.member_group(classroom.pk, member_id)]

    async def connect(self) -> None:
        session = self.scope.get("session")
        code = str(self.scope["url_route"]["kwargs"]["code"])
        classroom, member_id = await _class_for(code, self.scope.get("user"),
                                                getattr(session, "session_key", None), self.role)
        if classroom is None:
            await self.accept()  # first, so that the browser sees the close code
            await self.close(code=CLOSE_FORBIDDEN)
            return
        # In the groups before the handshake ends: nothing sent after "connected" is missed.
        self.group_names = self.groups_of(classroom, member_id, _lang(self.scope))
        for group in self.group_names:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "group_names", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        return  # nothing to say: these sockets only listen

    async def board_update(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["html"])

    async def class_kick(self, event: dict[str, Any]) -> None:
        await self.close(code=CLOSE_FORBIDDEN)


class DashboardConsumer(ClassGroupConsumer):
    role = "dashboard"

    def groups_of(self, classroom: Classroom, member_id: int | None, lang: str) -> list[str]:
        return [live.dash_group(classroom.pk, lang)]

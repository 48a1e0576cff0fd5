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
def _class_for(code: str, user: Any, session_key: str | None, role: str) -> Classroom | None:
    classroom = Classroom.objects.filter(code=code).first()
    if classroom is None:
        return None
    if role in ("present", "dashboard"):
        return classroom if classroom.can_drive(user) else None
    if not classroom.is_open or not session_key:
        return None
    member = classroom.members.filter(session_key=session_key, left_at__isnull=True).exists()
    return classroom if member else None


def _lang(scope: dict[str, Any]) -> str:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return "en" if query.get("lang", ["ko"])[0] == "en" else "ko"


class PresenterConsumer(SandboxConsumer):
    role = "present"

    async def authorize(self, session_key: str | None) -> sandboxes.LiveSandbox | None:
        code = str(self.scope["url_route"]["kwargs"]["code"])
        self.classroom = await _class_for(code, self.scope.get("user"), session_key, self.role)
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
            await self.channel_layer.group_add(live.students_group(self.classroom.pk),
                                               self.channel_name)
        return sbx

    async def disconnect(self, code: int) -> None:
        classroom = getattr(self, "classroom", None)
        if classroom is not None:
            await self.channel_layer.group_discard(live.students_group(classroom.pk),
                                                   self.channel_name)
        await super().disconnect(code)


class ClassGroupConsumer(AsyncWebsocketConsumer):
    """A socket that only listens to one class group (student commands, dashboard rows)."""

    role = "student"

    def group(self, classroom: Classroom, lang: str) -> str:
        return live.students_group(classroom.pk)

    async def connect(self) -> None:
        session = self.scope.get("session")
        code = str(self.scope["url_route"]["kwargs"]["code"])
        classroom = await _class_for(code, self.scope.get("user"),
                                     getattr(session, "session_key", None), self.role)
        if classroom is None:
            await self.accept()  # first, so that the browser sees the close code
            await self.close(code=CLOSE_FORBIDDEN)
            return
        # In the group before the handshake ends: nothing sent after "connected" is missed.
        self.group_name = self.group(classroom, _lang(self.scope))
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "group_name", None):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        return  # nothing to say: these sockets only listen

    async def board_update(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["html"])


class DashboardConsumer(ClassGroupConsumer):
    role = "dashboard"

    def group(self, classroom: Classroom, lang: str) -> str:
        return live.dash_group(classroom.pk, lang)

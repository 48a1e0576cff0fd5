"""The live parts of a class: channel-layer groups and what is pushed to them.

* ``class.<id>.dash.<lang>``: the instructor's dashboard; a student's changed progress is
  rendered once per language and sent here (a roster row and the per-exercise counts).
* ``class.<id>.students``: every student page of the class; "everyone open exercise N" goes here.
* The presenter's board reaches followers through the presenter sandbox's own groups
  (``sbx.<id>.<lang>``): a following socket is a read-only socket of that sandbox.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils import translation

from k8slearn.classroom.models import Classroom, Member
from k8slearn.courses.signals import progress_changed

logger = logging.getLogger(__name__)
LANGS = ("ko", "en")


def dash_group(classroom_id: int, lang: str) -> str:
    return f"class.{classroom_id}.dash.{lang}"


def students_group(classroom_id: int) -> str:
    return f"class.{classroom_id}.students"


def member_group(classroom_id: int, member_id: int | None) -> str:
    """One student's pages (a removed student's pages are told, not the whole class)."""
    return f"class.{classroom_id}.member.{member_id}"


def row_html(classroom: Classroom, member: Member, lang: str, swap: str = "true") -> str:
    """The member's roster row and the class's exercise counts, as out-of-band swaps."""
    from k8slearn.classroom.roster import roster

    members = list(classroom.members.filter(left_at__isnull=True))
    data = roster(classroom, members)
    row = next((r for r in data.rows if r.member.pk == member.pk), None)
    # The row goes first: htmx parses a message in a <template>, where a <tr> after a <ul> is
    # dropped (only its cells' text would be left).
    with translation.override(lang):
        counts = render_to_string("classroom/_counts.html", {"roster": data, "oob": True})
        if row is None or swap == "delete":
            return f'<tr id="member-{member.pk}" hx-swap-oob="delete"></tr>' + counts
        if swap.startswith("beforeend:"):
            # htmx inserts the *children* of such an element: a new row goes in a <tbody>.
            html = render_to_string("classroom/_member_row.html", {
                "row": row, "roster": data, "classroom": classroom, "oob": False})
            return f'<tbody hx-swap-oob="{swap}">{html}</tbody>' + counts
        return render_to_string("classroom/_member_row.html", {
            "row": row, "roster": data, "classroom": classroom, "oob": swap}) + counts


def _send(group: str, html: str) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, {"type": "board.update",
                                                              "html": html})
    except Exception:  # a dashboard update must never break a learner's request
        logger.exception("could not update %s", group)


def push_member(member: Member, swap: str = "true") -> None:
    """Send a member's row to the dashboard: ``swap`` "true" (update), "beforeend:#roster-rows"
    (a new student) or "delete" (left or removed)."""
    classroom = member.classroom
    for lang in LANGS:
        _send(dash_group(classroom.pk, lang), row_html(classroom, member, lang, swap))


@receiver(progress_changed)
def on_progress(sender: Any, session_key: str, lesson_id: str | None = None, **kw: Any) -> None:
    members = Member.objects.filter(session_key=session_key, left_at__isnull=True,
                                    classroom__ended_at__isnull=True).select_related("classroom")
    for member in members:
        if lesson_id is None or member.classroom.lesson_id == lesson_id:
            push_member(member)


def send_students(classroom: Classroom, html: str) -> None:
    _send(students_group(classroom.pk), html)


def send_member(member: Member, html: str) -> None:
    _send(member_group(member.classroom_id, member.pk), html)


def kick(member: Member) -> None:
    """Close the removed student's sockets (after the message that reloads their pages)."""
    try:
        async_to_sync(get_channel_layer().group_send)(
            member_group(member.classroom_id, member.pk), {"type": "class.kick"})
    except Exception:
        logger.exception("could not close the sockets of member %s", member.pk)

"""A class: an instructor drives one cluster for a lesson; students join with a code."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

INSTRUCTOR_GROUP = "instructor"


class Classroom(models.Model):
    code = models.CharField(max_length=8, unique=True)  # see codes.py: no ambiguous characters
    lesson_id = models.CharField(max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="classrooms")
    created = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)  # the code stops working then
    presenter_sandbox = models.CharField(max_length=32, blank=True)  # playground.Sandbox id

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.code} {self.lesson_id} ({self.owner})"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def context(self) -> str:
        """The presenter sandbox's context: the lesson's playground, kept apart from the
        instructor's own copy of the lesson (see playground.sandboxes.lesson_of)."""
        return f"{self.lesson_id}#class-{self.pk}"

    def end(self) -> None:
        self.ended_at = timezone.now()
        self.save(update_fields=["ended_at"])

    def can_drive(self, user) -> bool:
        """The owner (or staff) drives the presenter cluster and sees the dashboard."""
        return bool(user and user.is_authenticated and (user.pk == self.owner_id or user.is_staff))


class Member(models.Model):
    """A student in a class, bound to their browser session (students have no account)."""

    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="members")
    session_key = models.CharField(max_length=40, db_index=True)
    nickname = models.CharField(max_length=40)
    joined_at = models.DateTimeField(auto_now_add=True)
    left_at = models.DateTimeField(null=True, blank=True)  # left, or removed by the instructor
    removed = models.BooleanField(default=False)

    class Meta:
        ordering = ["joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["classroom", "session_key"],
                                    condition=models.Q(left_at__isnull=True),
                                    name="one_membership_per_session"),
        ]

    def __str__(self) -> str:
        return f"{self.nickname} in {self.classroom.code}"

    @property
    def active(self) -> bool:
        return self.left_at is None

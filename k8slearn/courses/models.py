"""Anonymous progress, keyed by the Django session (sessions live in the database)."""

from __future__ import annotations

from django.db import models


class LessonRead(models.Model):
    session_key = models.CharField(max_length=40, db_index=True)
    lesson_id = models.CharField(max_length=100)
    first_read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session_key", "lesson_id"], name="one_read_per_lesson")
        ]

    def __str__(self) -> str:
        return f"{self.session_key[:8]} read {self.lesson_id}"


class QuizAnswer(models.Model):
    """The latest answer a session gave to one quiz question."""

    session_key = models.CharField(max_length=40, db_index=True)
    lesson_id = models.CharField(max_length=100)
    question_id = models.CharField(max_length=100)
    chosen = models.PositiveSmallIntegerField()
    correct = models.BooleanField()
    answered_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session_key", "lesson_id", "question_id"], name="latest_answer_only"
            )
        ]

    def __str__(self) -> str:
        return f"{self.session_key[:8]} {self.lesson_id}/{self.question_id}={self.chosen}"

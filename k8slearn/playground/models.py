"""Persisted sandboxes (one per browser session and context) and exercise progress."""

from __future__ import annotations

import secrets

from django.db import models


def new_sandbox_id() -> str:
    """An unguessable id (128 bits): the socket URL carries it, the session owns it."""
    return secrets.token_urlsafe(16)


class Sandbox(models.Model):
    """A learner's toy cluster: a compressed snapshot, the steps run since (replayed on restore:
    the core is deterministic) and what the shell needs to go on."""

    id = models.CharField(primary_key=True, max_length=32, default=new_sandbox_id, editable=False)
    session_key = models.CharField(max_length=40, db_index=True)
    context = models.CharField(max_length=100)  # "play" or a lesson id
    scenario = models.CharField(max_length=100)
    snapshot = models.BinaryField()  # zlib-compressed JSON of Cluster.snapshot()
    journal = models.JSONField(default=list, blank=True)  # [[virtual ms, step], …] since it
    now_ms = models.BigIntegerField(default=0)  # the virtual clock when last saved
    speed = models.PositiveSmallIntegerField(default=1)
    paused = models.BooleanField(default=False)
    trackers = models.JSONField(default=dict, blank=True)  # exercise id -> GoalTracker.to_dict()
    # With several server processes (REDIS_URL), the one that ticks this sandbox: its channel
    # name and until when its lease runs (epoch seconds). See playground/owners.py.
    owner = models.CharField(max_length=200, blank=True, default="")
    owner_until = models.FloatField(default=0.0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session_key", "context"], name="one_sandbox_per_session_and_context"
            )
        ]

    def __str__(self) -> str:
        return f"{self.session_key[:8]} {self.context} ({self.scenario})"


class ExerciseProgress(models.Model):
    """A lesson exercise whose goal this session reached (first time only)."""

    session_key = models.CharField(max_length=40, db_index=True)
    lesson_id = models.CharField(max_length=100)
    exercise_id = models.CharField(max_length=100)
    reached_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session_key", "lesson_id", "exercise_id"], name="one_reach_per_exercise"
            )
        ]

    def __str__(self) -> str:
        return f"{self.session_key[:8]} {self.lesson_id}/{self.exercise_id}"

"""``progress_changed``: a learner's progress in a lesson changed (read, quiz answer, exercise
goal reached, reset). The classroom dashboard listens; courses and the playground send it."""

from __future__ import annotations

from django.dispatch import Signal

progress_changed = Signal()  # kwargs: session_key, lesson_id (None: every lesson)

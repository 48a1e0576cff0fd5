"""What the dashboard shows about each student: the class lesson read, quiz score, exercises."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from k8slearn.classroom.models import Classroom, Member
from k8slearn.courses.loader import Lesson, get_course
from k8slearn.courses.models import LessonRead, QuizAnswer
from k8slearn.playground.models import ExerciseProgress


@dataclass
class Row:
    member: Member
    read: bool = False
    answered: int = 0
    correct: int = 0
    reached: dict[str, Any] = field(default_factory=dict)  # exercise id -> when

    @property
    def exercises_done(self) -> int:
        return len(self.reached)


@dataclass
class Roster:
    classroom: Classroom
    lesson: Lesson | None
    rows: list[Row]

    @property
    def exercises(self) -> list[Any]:
        playground = getattr(self.lesson, "playground", None)
        return list(playground.exercises) if playground else []

    @property
    def questions(self) -> int:
        return len(self.lesson.quiz) if self.lesson else 0

    def counts(self) -> list[dict[str, Any]]:
        """Each exercise with how many students have finished it."""
        return [{"exercise": ex, "n": n, "done": sum(1 for r in self.rows if ex.id in r.reached)}
                for n, ex in enumerate(self.exercises, start=1)]


def roster(classroom: Classroom, members: list[Member] | None = None) -> Roster:
    """Every active student's progress in the class lesson (three queries in all)."""
    if members is None:
        members = list(classroom.members.filter(left_at__isnull=True))
    lesson = get_course().get(classroom.lesson_id)
    rows = {m.session_key: Row(m) for m in members}
    keys = list(rows)
    for key in LessonRead.objects.filter(session_key__in=keys, lesson_id=classroom.lesson_id
                                         ).values_list("session_key", flat=True):
        rows[key].read = True
    known = {q.id for q in lesson.quiz} if lesson else set()
    for key, qid, correct in QuizAnswer.objects.filter(
            session_key__in=keys, lesson_id=classroom.lesson_id).values_list(
            "session_key", "question_id", "correct"):
        if qid in known:
            rows[key].answered += 1
            rows[key].correct += int(correct)
    for key, ex_id, when in ExerciseProgress.objects.filter(
            session_key__in=keys, lesson_id=classroom.lesson_id).values_list(
            "session_key", "exercise_id", "reached_at"):
        rows[key].reached[ex_id] = when
    return Roster(classroom, lesson, [rows[m.session_key] for m in members])


def csv_text(data: Roster) -> str:
    """The results as CSV: one row per student (left students too, marked)."""
    out = io.StringIO()
    writer = csv.writer(out)
    exercises = data.exercises
    writer.writerow(["nickname", "joined", "left", "lesson_read", "quiz_answered", "quiz_correct",
                     "quiz_questions", *[f"exercise:{ex.id}" for ex in exercises]])
    for row in data.rows:
        m = row.member
        writer.writerow([
            _safe(m.nickname), m.joined_at.isoformat(timespec="seconds"),
            m.left_at.isoformat(timespec="seconds") if m.left_at else "",
            "yes" if row.read else "no", row.answered, row.correct, data.questions,
            *[row.reached[ex.id].isoformat(timespec="seconds") if ex.id in row.reached else ""
              for ex in exercises],
        ])
    return out.getvalue()


def _safe(text: str) -> str:
    """A nickname that a spreadsheet will not run as a formula ("=1+1" -> "'=1+1")."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

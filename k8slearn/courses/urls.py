from __future__ import annotations

from django.urls import path

from k8slearn.courses import views

app_name = "courses"

urlpatterns = [
    path("", views.course_map, name="course_map"),
    path("lessons/<slug:lesson_id>/", views.lesson_page, name="lesson"),
    path(
        "lessons/<slug:lesson_id>/quiz/<slug:question_id>/",
        views.quiz_answer,
        name="quiz_answer",
    ),
    path("glossary/", views.glossary, name="glossary"),
    path("progress/reset/", views.reset_progress, name="reset_progress"),
]

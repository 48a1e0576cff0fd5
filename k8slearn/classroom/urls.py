from __future__ import annotations

from django.urls import path

from k8slearn.classroom import views

app_name = "classroom"

urlpatterns = [
    path("classes/", views.classes, name="classes"),
    path("classes/<str:code>/present/", views.present, name="present"),
    path("classes/<str:code>/dashboard/", views.dashboard, name="dashboard"),
    path("classes/<str:code>/results.csv", views.export, name="export"),
    path("classes/<str:code>/end/", views.end, name="end"),
    path("classes/<str:code>/command/", views.command, name="command"),
    path("classes/<str:code>/remove/<int:member_id>/", views.remove, name="remove"),
    path("join/", views.join, name="join"),
    path("join/<str:code>/", views.join, name="join_code"),
    path("class/<str:code>/", views.follow, name="follow"),
    path("class/<str:code>/try/", views.try_it, name="try_it"),
    path("class/<str:code>/leave/", views.leave, name="leave"),
]

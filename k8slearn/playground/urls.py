from __future__ import annotations

from django.urls import path

from k8slearn.playground import views

app_name = "playground"

urlpatterns = [
    path("play/", views.play, name="play"),
]

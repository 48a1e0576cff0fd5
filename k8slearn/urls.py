"""URLs: pages live under /ko/… and /en/…; `/` redirects by Accept-Language (LocaleMiddleware)."""

from __future__ import annotations

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from k8slearn.courses import authoring
from k8slearn.courses import views as course_views

urlpatterns = [
    path("healthz", course_views.healthz, name="healthz"),
    # Not under /ko/ or /en/: one address per file and per signature.
    path("lessons/<slug:lesson_id>/files/<path:name>", authoring.lesson_file, name="lesson_file"),
    path("dev/lessons/token", authoring.preview_token, name="preview_token"),
    path("admin/", admin.site.urls),
]

urlpatterns += i18n_patterns(
    path("", include("k8slearn.courses.urls")),
    path("", include("k8slearn.playground.urls")),
    path("", include("k8slearn.classroom.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True),
         name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    prefix_default_language=True,
)

handler404 = "k8slearn.courses.views.page_not_found"
handler500 = "k8slearn.courses.views.server_error"

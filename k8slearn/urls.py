"""URLs: pages live under /ko/… and /en/…; `/` redirects by Accept-Language (LocaleMiddleware)."""

from __future__ import annotations

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from k8slearn.courses import views as course_views

urlpatterns = [
    path("healthz", course_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

urlpatterns += i18n_patterns(
    path("", include("k8slearn.courses.urls")),
    path("", include("k8slearn.playground.urls")),
    prefix_default_language=True,
)

handler404 = "k8slearn.courses.views.page_not_found"
handler500 = "k8slearn.courses.views.server_error"

"""Tipline's URLs: public pages, the API, staff pages, health and metrics."""

from django.contrib import admin
from django.urls import include, path

from tipline.api import api
from tipline.ops.views import healthz, metrics

urlpatterns = [
    path("", include("tipline.intake.urls")),
    path("api/v1/", api.urls),
    path("console/", include("tipline.console.urls")),
    path("stats/", include("tipline.stats.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
]

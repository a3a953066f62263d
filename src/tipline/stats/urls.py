from django.urls import path

from . import views

app_name = "stats"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("csv/<slug:key>", views.table_csv, name="csv"),
    path("report/<int:year>.<str:fmt>", views.annual_report, name="report"),
    path("refresh", views.refresh, name="refresh"),
]

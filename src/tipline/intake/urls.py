from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("", views.home, name="home"),
    path("report/", views.report_form, name="report_form"),
    path("report/done/", views.report_done, name="report_done"),
    path("status/", views.status_lookup, name="status_lookup"),
    path("status/<str:code>", views.status, name="status"),
    path("fr/", views.home, {"lang": "fr"}, name="home_fr"),
    path("fr/signaler/", views.report_form, {"lang": "fr"}, name="report_form_fr"),
    path("fr/signaler/merci/", views.report_done, {"lang": "fr"}, name="report_done_fr"),
    path("fr/statut/", views.status_lookup, {"lang": "fr"}, name="status_lookup_fr"),
    path("fr/statut/<str:code>", views.status, {"lang": "fr"}, name="status_fr"),
]

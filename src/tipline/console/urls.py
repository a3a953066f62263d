from django.urls import path

from . import audit_views, views

app_name = "console"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("login/", views.login_view, name="login"),
    path("login/code/", views.code_view, name="code"),
    path("logout/", views.logout_view, name="logout"),
    path("language/", views.language, name="language"),
    path("items/<int:item_id>/", views.item_detail, name="item"),
    path("items/<int:item_id>/claim", views.claim, name="item_claim"),
    path("items/<int:item_id>/unblur", views.media_unblur, name="media_unblur"),
    path("items/<int:item_id>/action", views.item_action, name="item_action"),
    path(
        "items/<int:item_id>/media/<str:sha256>/<str:variant>",
        views.media_file,
        name="media_file",
    ),
    path("networks/<int:network_id>/", views.network_detail, name="network"),
    path("networks/<int:network_id>/graph.json", views.network_json, name="network_json"),
    path("search/", views.search, name="search"),
    path("preferences/", views.preferences, name="preferences"),
    path("exposure/beat", views.exposure_beat, name="exposure_beat"),
    path("dispatches/", views.dispatches, name="dispatches"),
    path("audit/", audit_views.audit, name="audit"),
    path("audit.csv", audit_views.audit_csv, name="audit_csv"),
]

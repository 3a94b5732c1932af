from django.urls import path

from console.containers import actions, update_views, views

urlpatterns = [
    path("", views.container_list, name="container_list"),
    path("run/", actions.container_run, name="container_run"),
    path("bulk/", actions.container_bulk, name="container_bulk"),
    path("<str:container_id>/", views.container_detail, name="container_detail"),
    path("<str:container_id>/logs/", views.container_logs, name="container_logs"),
    path("<str:container_id>/logs/download/", views.container_logs_download, name="container_logs_download"),
    path("<str:container_id>/stats/", views.container_stats, name="container_stats"),
    path("<str:container_id>/top/", views.container_top, name="container_top"),
    path("<str:container_id>/exec/", actions.container_exec, name="container_exec"),
    path("<str:container_id>/update/", update_views.container_update, name="container_update"),
    *(
        path(f"<str:container_id>/{action}/", actions.action_view(action), name=f"container_{action}")
        for action in actions.ACTIONS
    ),
]

from django.urls import path

from console.containers import update_views
from console.images import views

urlpatterns = [
    path("", views.image_list, name="image_list"),
    path("pull/", views.image_pull, name="image_pull"),
    path("pull/start/", views.image_pull_start, name="image_pull_start"),
    path("remove/", views.image_remove, name="image_remove"),
    path("remove/confirm/", views.image_remove_confirm, name="image_remove_confirm"),
    path("prune/", views.image_prune, name="image_prune"),
    path("updates/check/", update_views.update_check, name="image_update_check"),
    path("updates/containers/", update_views.image_update, name="image_update"),
    path("<str:image_id>/", views.image_detail, name="image_detail"),
    path("<str:image_id>/tag/", views.image_tag, name="image_tag"),
]

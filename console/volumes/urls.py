from django.urls import path

from console.volumes import views

urlpatterns = [
    path("", views.volume_list, name="volume_list"),
    path("create/", views.volume_create, name="volume_create"),
    path("prune/", views.volume_prune, name="volume_prune"),
    path("<str:name>/", views.volume_detail, name="volume_detail"),
    path("<str:name>/remove/", views.volume_remove, name="volume_remove"),
]

from django.urls import path

from console.networks import views

urlpatterns = [
    path("", views.network_list, name="network_list"),
    path("create/", views.network_create, name="network_create"),
    path("prune/", views.network_prune, name="network_prune"),
    path("<str:name>/", views.network_detail, name="network_detail"),
    path("<str:name>/remove/", views.network_remove, name="network_remove"),
    path("<str:name>/connect/", views.network_connect, name="network_connect"),
    path("<str:name>/disconnect/", views.network_disconnect, name="network_disconnect"),
]

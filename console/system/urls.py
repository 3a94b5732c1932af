from django.urls import path

from console.system import views

urlpatterns = [
    path("", views.index, name="system"),
    path("disk/", views.refresh_disk_usage, name="system_disk_refresh"),
    path("events/", views.events, name="system_events"),
]

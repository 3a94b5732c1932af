from django.urls import path

from console.containers import views

urlpatterns = [path("", views.container_list, name="container_list")]

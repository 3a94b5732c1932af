from django.urls import path

from console.terminals import views

urlpatterns = [
    path("", views.terminal, name="container_terminal"),
]

from django.urls import path

from console.engines import views

urlpatterns = [
    path("", views.engine_list, name="engine_list"),
]

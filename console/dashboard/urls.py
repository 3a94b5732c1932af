from django.urls import path

from console.dashboard import views

urlpatterns = [path("", views.index, name="dashboard")]

from django.urls import path

from console.images import views

urlpatterns = [path("", views.image_list, name="image_list")]

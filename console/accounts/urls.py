from django.urls import path

from console.accounts import views

urlpatterns = [path("", views.user_list, name="user_list")]

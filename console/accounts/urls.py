from django.urls import path

from console.accounts import views

urlpatterns = [
    path("", views.user_list, name="user_list"),
    path("new/", views.user_create, name="user_create"),
    path("<int:user_id>/role/", views.user_role, name="user_role"),
    path("<int:user_id>/engines/", views.user_engine_roles, name="user_engine_roles"),
    path("<int:user_id>/deactivate/", views.user_deactivate, name="user_deactivate"),
    path("<int:user_id>/reactivate/", views.user_reactivate, name="user_reactivate"),
]

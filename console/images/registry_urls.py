from django.urls import path

from console.images import views

# Registry credentials serve every engine's pulls: their page spans engines.
urlpatterns = [
    path("", views.registry_list, name="registry_list"),
    path("save/", views.registry_save, name="registry_save"),
    path("<int:pk>/delete/", views.registry_delete, name="registry_delete"),
]

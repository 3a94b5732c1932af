from django.urls import path

from console.audit import views

urlpatterns = [
    path("", views.audit_list, name="audit_list"),
    path("<int:pk>/", views.audit_detail, name="audit_detail"),
    path("export.<str:fmt>", views.audit_export, name="audit_export"),
]

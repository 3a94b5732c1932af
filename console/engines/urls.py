from django.urls import path

from console.engines import views

# Under /engines/, beside each engine's own pages (/engines/<name>/…): "new" is no engine's name.
urlpatterns = [
    path("", views.engine_list, name="engine_list"),
    path("new/", views.engine_add, name="engine_add"),
    path("new/test/", views.engine_test_new, name="engine_test_new"),
    path("<slug:name>/edit/", views.engine_edit, name="engine_edit"),
    path("<slug:name>/test/", views.engine_test, name="engine_test"),
    path("<slug:name>/remove/", views.engine_remove, name="engine_remove"),
]

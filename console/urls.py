from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from console.dashboard.views import drift, fleet, to_default_engine
from console.system.views import healthz

# What one engine shows lives under it: /engines/<name>/containers/, …/images/, …/system/.
engine_patterns = [
    path("", include("console.dashboard.urls")),
    path("images/", include("console.images.urls")),
    path("containers/", include("console.containers.urls")),
    path("system/", include("console.system.urls")),
    path("networks/", include("console.networks.urls")),
    path("volumes/", include("console.volumes.urls")),
    path("containers/<str:container_id>/terminal/", include("console.terminals.urls")),
]

urlpatterns = [
    path("", fleet, name="fleet"),
    path("drift/", drift, name="drift"),
    path("engines/", include("console.engines.urls")),
    path("engines/<slug:engine>/", include(engine_patterns)),
    # The addresses of the single-engine console still work: they lead to the default engine.
    re_path(r"^(?P<rest>(?:images|containers|system)(?:/.*)?)$", to_default_engine, name="old_address"),
    path("registries/", include("console.images.registry_urls")),
    path("jobs/", include("console.jobs.urls")),
    path("audit/", include("console.audit.urls")),
    path("recordings/", include("console.terminals.recording_urls")),
    path("users/", include("console.accounts.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
]

from django.contrib.auth import views as auth_views
from django.urls import include, path

from console.system.views import healthz

urlpatterns = [
    path("", include("console.dashboard.urls")),
    path("images/", include("console.images.urls")),
    path("containers/", include("console.containers.urls")),
    path("jobs/", include("console.jobs.urls")),
    path("audit/", include("console.audit.urls")),
    path("system/", include("console.system.urls")),
    path("users/", include("console.accounts.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
]

"""Sign-ins, failed sign-ins and lock-outs go into the trail."""

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from console.audit.record import record


def _refused_while_locked(request) -> bool:
    # django-axes refused the attempt before any password was checked; the lock-out event says so.
    return getattr(request, "axes_locked_out", False) and getattr(request, "axes_failures_since_start", None) is None


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    record(request or user, "user.login", user.get_username(), "succeeded")


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        record(request or user, "user.logout", user.get_username(), "succeeded")


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    if _refused_while_locked(request):
        return
    username = str(credentials.get("username", ""))[:150]
    record(request or "anonymous", "user.login_failed", username, "failed", error="wrong username or password")


@receiver(user_locked_out)
def on_locked_out(sender, request, username=None, ip_address=None, **kwargs):
    if _refused_while_locked(request):
        error = "sign-in refused: locked out after too many failed sign-ins"
    else:
        error = f"locked out after {settings.AXES_FAILURE_LIMIT} failed sign-ins for this username or address"
    record(request or "anonymous", "user.locked_out", username or "", "denied", error=f"{error} ({ip_address})")

"""Sign-ins, failed sign-ins and lock-outs go into the trail."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from console.audit.record import record


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    record(request or user, "user.login", user.get_username(), "succeeded")


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        record(request or user, "user.logout", user.get_username(), "succeeded")


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    # django-axes (an app listed before this one) has already counted the attempt and marked the request.
    username = str(credentials.get("username", ""))[:150]
    who = request or "anonymous"
    failures = getattr(request, "axes_failures_since_start", None)
    if getattr(request, "axes_locked_out", False) and (failures is None or failures > settings.AXES_FAILURE_LIMIT):
        # Refused before any password was checked.
        error = f"sign-in refused: locked out after too many failed sign-ins ({request.axes_ip_address})"
        record(who, "user.locked_out", username, "denied", error=error)
        return
    record(who, "user.login_failed", username, "failed", error="wrong username or password")
    if getattr(request, "axes_locked_out", False):
        error = f"locked out after {failures} failed sign-ins for this username or address ({request.axes_ip_address})"
        record(who, "user.locked_out", username, "denied", error=error)

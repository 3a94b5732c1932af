"""Sign-ins, failed sign-ins and lock-outs go into the trail."""

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
    from console.accounts.throttle import what_is_locked

    username = str(credentials.get("username", ""))[:150]
    who = request or "anonymous"
    locked = getattr(request, "axes_locked_out", False)
    failures = getattr(request, "axes_failures_since_start", None)
    if locked and failures is None:
        # Refused before any password was checked (not counted as a failure).
        error = f"sign-in refused: {what_is_locked(request, username)}"
        record(who, "user.locked_out", username, "denied", error=error)
        return
    record(who, "user.login_failed", username, "failed", error="wrong username or password")
    if locked:
        error = f"locked out after {failures} failed sign-ins: {what_is_locked(request, username)}"
        record(who, "user.locked_out", username, "denied", error=error)

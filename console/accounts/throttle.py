"""Sign-in throttling, on django-axes (settings: AXES_*).

- A username is locked *from one address* after LOGIN_FAILURE_LIMIT failures from there, for the cool-off;
  a successful sign-in clears only what it proves: that username's failures from that address.
- Failures on a username beyond what one address may make (so: from several addresses) slow every further
  try at it: each failure doubles the wait, up to the cool-off. Addresses the account has signed in from
  before are spared the wait (only their own lock applies), so a distributed guesser cannot lock its owner out.
"""

from __future__ import annotations

import math
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt, AccessLog
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def account_backoff(request: HttpRequest, credentials: dict | None = None) -> timedelta | None:
    """The wait after the last failure that a try at this username is refused within, if it is."""
    username = get_client_username(request, credentials)
    if not username or AccessLog.objects.filter(username=username, ip_address=request.axes_ip_address).exists():
        return None
    cool_off = get_cool_off(request)
    recent = AccessAttempt.objects.filter(username=username, attempt_time__gte=request.axes_attempt_time - cool_off)
    totals = recent.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    excess = (totals["failures"] or 0) - get_failure_limit(request, credentials)
    if excess <= 0:
        return None
    wait = min(timedelta(seconds=2 ** min(excess, 20)), cool_off)
    return wait if request.axes_attempt_time < totals["last"] + wait else None


class SignInThrottle(AxesDatabaseHandler):
    """Axes' database handler (its lock is on the pair username + address), plus the username's backoff."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        request.account_backoff = account_backoff(request, credentials)
        return request.account_backoff is not None


def _duration(wait: timedelta) -> str:
    seconds = math.ceil(wait.total_seconds())
    return f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"


def what_is_locked(request: HttpRequest, username: str) -> str:
    """What refuses this sign-in, in words for the audit trail."""
    if wait := getattr(request, "account_backoff", None):
        return (
            f"{username} is slowed down after failed sign-ins from several addresses; "
            f"tries from {request.axes_ip_address} wait {_duration(wait)} after the last failure"
        )
    return f"{username} is locked from {request.axes_ip_address} for {_duration(get_cool_off(request))}"


def lockout_response(request: HttpRequest, original_response: HttpResponse, credentials: dict | None) -> HttpResponse:
    wait = getattr(request, "account_backoff", None)
    context = {
        "username": get_client_username(request, credentials) or "",
        "failure_limit": get_failure_limit(request, credentials),
        "account_backoff": _duration(wait) if wait else "",
        "cool_off": _duration(get_cool_off(request)),
    }
    return render(request, "accounts/locked_out.html", context, status=429)

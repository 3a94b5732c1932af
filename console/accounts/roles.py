"""Three roles, as Django groups: Viewer < Operator < Admin. Superusers are Admins."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

VIEWER, OPERATOR, ADMIN = "Viewer", "Operator", "Admin"
ROLES = [VIEWER, OPERATOR, ADMIN]
_RANK = {None: 0, VIEWER: 1, OPERATOR: 2, ADMIN: 3}


def assigned_role(user: AbstractBaseUser) -> str | None:
    """The role an account has been given, whether or not it may sign in now."""
    if user.is_superuser:
        return ADMIN
    cached = getattr(user, "_console_role", "unset")
    if cached != "unset":
        return cached
    names = {g.name for g in user.groups.all()}
    role = next((r for r in reversed(ROLES) if r in names), None)
    user._console_role = role
    return role


def role_of(user: AbstractBaseUser) -> str | None:
    """The role a signed-in user acts with now."""
    if not user.is_authenticated or not user.is_active:
        return None
    return assigned_role(user)


def has_role(user: AbstractBaseUser, needed: str) -> bool:
    return _RANK[role_of(user)] >= _RANK[needed]


HIDDEN_ERROR = "The engine's error is shown to whoever asked for the job and to Admins."


def reads_engine_errors(user: AbstractBaseUser, asked_by: Iterable[str]) -> bool:
    """The engine's words about a job (they can tell what answers on the engine's host) are for whoever
    asked for it and for Admins: on job pages, in the audit trail and in its exports."""
    return has_role(user, ADMIN) or user.get_username() in set(asked_by)


def engine_error_as_read_by(user: AbstractBaseUser, event) -> str:
    """An audit event's error as `user` may read it: a job's engine error under the job page's rule."""
    if not event.error or event.job_id is None or reads_engine_errors(user, [event.actor_name]):
        return event.error
    return HIDDEN_ERROR


def deny(request: HttpRequest, needed: str, action: str, target: str = "", **params) -> HttpResponse:
    """Refuse, record the refusal, and say which role would have been allowed."""
    from console.audit.record import record

    have = role_of(request.user) or "no role"
    reason = f"needs the {needed} role; {request.user.get_username()} has {have}"
    record(request, action, target or request.path, "denied", error=reason, **params)
    return render(request, "403.html", {"needed": needed, "have": have, "reason": reason}, status=403)


def role_required(needed: str, action: str) -> Callable:
    """Allow the view to users with at least `needed`; record every refusal as `action`."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not has_role(request.user, needed):
                target = next(iter(kwargs.values()), "") if kwargs else ""
                return deny(request, needed, action, str(target))
            return view(request, *args, **kwargs)

        wrapper.required_role = needed
        return wrapper

    return decorator

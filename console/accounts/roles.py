"""Three roles: Viewer < Operator < Admin. Superusers are Admins.

A user's global role is a Django group; a role on one engine (console.engines.EngineRole) overrides it there,
and "" there means none: the engine is hidden from them. Inside an engine's pages, jobs and exports the role
that counts is the one on that engine (`role_of` reads the current engine, `engine.using`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings
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


def _engine_roles(user: AbstractBaseUser) -> dict[str, str]:
    cached = getattr(user, "_console_engine_roles", None)
    if cached is None:
        from console.engines.models import EngineRole

        cached = dict(EngineRole.objects.filter(user=user).values_list("engine__name", "role"))
        user._console_engine_roles = cached
    return cached


def forget_roles(user: AbstractBaseUser) -> None:
    """After a change of roles, the next check reads them again."""
    for attr in ("_console_role", "_console_engine_roles", "_console_visible_engines"):
        if hasattr(user, attr):
            delattr(user, attr)


def engine_role(user: AbstractBaseUser, engine_name: str) -> str | None:
    """The role a signed-in user acts with on one engine (None: the engine is hidden from them)."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return ADMIN
    overrides = _engine_roles(user)
    if engine_name in overrides:
        return overrides[engine_name] or None
    return assigned_role(user)


def role_of(user: AbstractBaseUser, engine_name: str | None = None) -> str | None:
    """The role a signed-in user acts with now: on `engine_name`, or on the engine being worked on, or
    (outside any engine's pages) their global role."""
    from console.engine.core import scoped

    engine_name = engine_name or scoped()
    return engine_role(user, engine_name) if engine_name else global_role(user)


def global_role(user: AbstractBaseUser) -> str | None:
    """The role a signed-in user has outside any engine's pages (the default on every engine)."""
    if not user.is_authenticated or not user.is_active:
        return None
    return assigned_role(user)


def has_role(user: AbstractBaseUser, needed: str, engine_name: str | None = None) -> bool:
    return _RANK[role_of(user, engine_name)] >= _RANK[needed]


def highest_role(user: AbstractBaseUser) -> str | None:
    """The highest role a user has anywhere: the floor of the pages that span engines (fleet, jobs, audit)."""
    if not user.is_authenticated or not user.is_active:
        return None
    roles = [assigned_role(user), *(_engine_roles(user).values())]
    return max(roles, key=lambda r: _RANK[r or None]) or None


def can_see_engine(user: AbstractBaseUser, engine_name: str) -> bool:
    return engine_role(user, engine_name) is not None


def visible_engines(user: AbstractBaseUser) -> list:
    """The Engine rows a user has a role on, by name; the others do not exist for them."""
    cached = getattr(user, "_console_visible_engines", None)
    if cached is None:  # once per request: the view and the context processor both ask
        from console.engines.models import Engine

        rows = list(Engine.objects.all())
        if not any(row.name == settings.ENGINE_NAME for row in rows):  # the engine DOCKER_HOST names: always there
            Engine.objects.ensure_environment()
            rows = list(Engine.objects.all())
        cached = [row for row in rows if can_see_engine(user, row.name)]
        user._console_visible_engines = cached
    return cached


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
    from console.engine.core import scoped

    have = role_of(request.user) or "no role"
    where = f" on the engine {scoped()}" if scoped() else ""
    reason = f"needs the {needed} role{where}; {request.user.get_username()} has {have}"
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

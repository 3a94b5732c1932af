from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from console.accounts.forms import NewUserForm, RoleForm
from console.accounts.roles import ADMIN, ROLES, assigned_role, forget_roles, role_required
from console.accounts.sessions import end_sessions
from console.audit.record import record
from console.engines.models import Engine, EngineRole

User = get_user_model()


# A user's role on one engine, as the Users page offers it: no EngineRole row is the global role.
DEFAULT, NONE = "default", "none"
ENGINE_ROLE_CHOICES = [DEFAULT, *ROLES, NONE]


def _engine_role_value(stored: str | None) -> str:
    """An EngineRole's role as the page's choice: no row is "default", "" is "none"."""
    return DEFAULT if stored is None else stored or NONE


def _render_users(request: HttpRequest, form: NewUserForm, status: int = 200) -> HttpResponse:
    users = User.objects.order_by("username").prefetch_related("groups")
    engines = list(Engine.objects.all())
    overrides: dict[int, dict[str, str]] = {}
    for user_id, engine_name, role in EngineRole.objects.values_list("user_id", "engine__name", "role"):
        overrides.setdefault(user_id, {})[engine_name] = role
    rows = [
        (u, assigned_role(u), [(e, _engine_role_value(overrides.get(u.pk, {}).get(e.name))) for e in engines])
        for u in users
    ]
    ctx = {"rows": rows, "form": form, "roles": ROLES, "engine_choices": ENGINE_ROLE_CHOICES}
    return render(request, "accounts/users.html", ctx, status=status)


def _refuse(request: HttpRequest, action: str, user, reason: str) -> HttpResponse:
    """A request the rules do not allow: say why, record it, change nothing."""
    record(request, action, user.get_username(), "failed", target_id=str(user.pk), error=reason)
    messages.error(request, reason)
    return redirect("user_list")


def _set_role(user, role: str) -> None:
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    user.groups.add(Group.objects.get_or_create(name=role)[0])


def _lock_admins() -> None:
    """Changes to users and roles take the Admin group's row first, so they happen one at a time (on SQLite
    the IMMEDIATE transaction already holds the write lock): two Admins demoting each other cannot both pass."""
    Group.objects.select_for_update().get_or_create(name=ADMIN)


def _why_not(request: HttpRequest, user=None) -> str:
    """Why the acting Admin may not change `user` (or add one) now, or "". Asked under the lock, on fresh rows:
    an Admin demoted or deactivated a moment ago changes nothing, so one Admin always remains: the one acting."""
    actor = User.objects.get(pk=request.user.pk)
    if not actor.is_active or assigned_role(actor) != ADMIN:
        return "You are no longer an active Admin; nothing was changed."
    if user is not None and user.is_superuser and not actor.is_superuser:
        return f"{user.username} is a superuser; only a superuser can change a superuser."
    return ""


@role_required(ADMIN, "user.list")
def user_list(request: HttpRequest) -> HttpResponse:
    return _render_users(request, NewUserForm())


@require_POST
@role_required(ADMIN, "user.create")
def user_create(request: HttpRequest) -> HttpResponse:
    form = NewUserForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
        record(request, "user.create", request.POST.get("username", "")[:150], "failed", error=problems)
        return _render_users(request, form, status=400)
    with transaction.atomic():
        _lock_admins()
        if reason := _why_not(request):
            record(request, "user.create", form.cleaned_data["username"], "failed", error=reason)
            messages.error(request, reason)
            return redirect("user_list")
        user = User.objects.create_user(form.cleaned_data["username"], password=form.cleaned_data["password"])
        _set_role(user, form.cleaned_data["role"])
        record(
            request, "user.create", user.username, "succeeded", target_id=str(user.pk), role=form.cleaned_data["role"]
        )
    messages.success(request, f"Created {user.username} as {form.cleaned_data['role']}.")
    return redirect("user_list")


@require_POST
@role_required(ADMIN, "role.change")
@transaction.atomic
def user_role(request: HttpRequest, user_id: int) -> HttpResponse:
    _lock_admins()
    user = get_object_or_404(User, pk=user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _refuse(request, "role.change", user, "Choose one of the roles Viewer, Operator or Admin.")
    if user.pk == request.user.pk:
        return _refuse(request, "role.change", user, "You cannot change your own role; ask another Admin.")
    if reason := _why_not(request, user):
        return _refuse(request, "role.change", user, reason)
    if user.is_superuser:
        return _refuse(request, "role.change", user, f"{user.username} is a superuser, and superusers are Admins.")
    old, new = assigned_role(user), form.cleaned_data["role"]
    if old == new:
        messages.info(request, f"{user.username} already is {new}.")
        return redirect("user_list")
    _set_role(user, new)
    record(
        request, "role.change", user.username, "succeeded", target_id=str(user.pk), old_role=old or "none", new_role=new
    )
    messages.success(request, f"{user.username} is now {new} (was {old or 'without a role'}).")
    return redirect("user_list")


@require_POST
@role_required(ADMIN, "user.deactivate")
@transaction.atomic
def user_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    _lock_admins()
    user = get_object_or_404(User, pk=user_id)
    if user.pk == request.user.pk:
        return _refuse(request, "user.deactivate", user, "You cannot deactivate yourself; ask another Admin.")
    if reason := _why_not(request, user):
        return _refuse(request, "user.deactivate", user, reason)
    if not user.is_active:
        messages.info(request, f"{user.username} already is deactivated.")
        return redirect("user_list")
    user.is_active = False
    user.save(update_fields=["is_active"])
    ended = end_sessions(user)
    record(request, "user.deactivate", user.username, "succeeded", target_id=str(user.pk), sessions_ended=ended)
    messages.success(request, f"Deactivated {user.username} and signed them out ({ended} sessions ended).")
    return redirect("user_list")


@require_POST
@role_required(ADMIN, "user.reactivate")
@transaction.atomic
def user_reactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    _lock_admins()
    user = get_object_or_404(User, pk=user_id)
    if reason := _why_not(request, user):
        return _refuse(request, "user.reactivate", user, reason)
    if user.is_active:
        messages.info(request, f"{user.username} already is active.")
        return redirect("user_list")
    user.is_active = True
    user.save(update_fields=["is_active"])
    record(request, "user.reactivate", user.username, "succeeded", target_id=str(user.pk))
    messages.success(request, f"Reactivated {user.username}.")
    return redirect("user_list")


@require_POST
@role_required(ADMIN, "role.change")
@transaction.atomic
def user_engine_roles(request: HttpRequest, user_id: int) -> HttpResponse:
    """Set a user's role on each engine: "default" (their global role), Viewer, Operator, Admin, or "none"
    (the engine is hidden from them). Only the engines the form sends change; each change is recorded."""
    _lock_admins()
    user = get_object_or_404(User, pk=user_id)
    if user.pk == request.user.pk:
        return _refuse(request, "role.change", user, "You cannot change your own roles; ask another Admin.")
    if reason := _why_not(request, user):
        return _refuse(request, "role.change", user, reason)
    if user.is_superuser:
        return _refuse(request, "role.change", user, f"{user.username} is a superuser, an Admin on every engine.")
    engines = {e.name: e for e in Engine.objects.all()}
    wanted = {name: request.POST[f"role-{name}"] for name in engines if f"role-{name}" in request.POST}
    if bad := sorted(name for name, value in wanted.items() if value not in ENGINE_ROLE_CHOICES):
        return _refuse(
            request, "role.change", user, f"Choose default, Viewer, Operator, Admin or none on {', '.join(bad)}."
        )
    current = dict(EngineRole.objects.filter(user=user).values_list("engine__name", "role"))
    changed = []
    for name, new in wanted.items():
        old = _engine_role_value(current.get(name))
        if old == new:
            continue
        if new == DEFAULT:
            EngineRole.objects.filter(user=user, engine=engines[name]).delete()
        else:
            EngineRole.objects.update_or_create(
                user=user, engine=engines[name], defaults={"role": "" if new == NONE else new}
            )
        target_id = str(user.pk)
        record(request, "role.change", user.username, "succeeded", target_id=target_id, engine=name, role=new, was=old)
        changed.append(f"{new} on {name} (was {old})")
    forget_roles(user)
    if changed:
        messages.success(request, f"{user.username} is now {'; '.join(changed)}.")
    else:
        messages.info(request, f"Nothing changed for {user.username}.")
    return redirect("user_list")

"""What changes containers: lifecycle actions (one or several at once), exec, and run.
Each is a POST for Operators, and each container acted on is one audit event."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any, NamedTuple

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from console import engine, snapshot
from console.accounts.roles import ADMIN, OPERATOR, deny, has_role, role_required
from console.audit.record import record
from console.containers.forms import NAME, RunForm
from console.containers.job_kinds import KIND as RUN
from console.htmx import htmx_partial
from console.jobs.runner import enqueue

SIGNALS = ["SIGKILL", "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"]
GRACE_MAX = 600
BULK_ACTIONS = ("start", "stop", "remove")
BULK_MAX = 200
EXEC_TIMEOUT = 30  # seconds a command may take before the page answers without it


class BadInput(ValueError):
    pass


def _grace(post) -> int:
    text = post.get("grace", "").strip() or "10"
    if not (text.isascii() and text.isdigit()) or int(text) > GRACE_MAX:  # not ² or ５
        raise BadInput(f"The grace time is a whole number of seconds from 0 to {GRACE_MAX}.")
    return int(text)


def _signal(post) -> str:
    signal = post.get("signal", "").strip().upper() or "SIGKILL"
    if signal not in SIGNALS:
        raise BadInput(f"The signal is one of {', '.join(SIGNALS)}.")
    return signal


def _new_name(post) -> str:
    name = post.get("name", "").strip().lstrip("/")
    if not NAME.fullmatch(name):
        raise BadInput("A name is letters, digits, _ . and -, starting with a letter or digit.")
    return name


def _on(post, key: str) -> bool:
    return post.get(key, "") in ("1", "on", "true")


class Action(NamedTuple):
    params: Callable[[Any], dict]  # its parameters, from the form
    call: Callable[[str, dict], None]  # the engine call, on a container id
    done: str  # what it did, for the message


ACTIONS: dict[str, Action] = {
    "start": Action(lambda post: {}, lambda ref, p: engine.start_container(ref), "Started"),
    "stop": Action(
        lambda post: {"grace": _grace(post)}, lambda ref, p: engine.stop_container(ref, p["grace"]), "Stopped"
    ),
    "restart": Action(
        lambda post: {"grace": _grace(post)},
        lambda ref, p: engine.restart_container(ref, p["grace"]),
        "Restarted",
    ),
    "kill": Action(
        lambda post: {"signal": _signal(post)},
        lambda ref, p: engine.kill_container(ref, p["signal"]),
        "Signalled",
    ),
    "pause": Action(lambda post: {}, lambda ref, p: engine.pause_container(ref), "Paused"),
    "unpause": Action(lambda post: {}, lambda ref, p: engine.unpause_container(ref), "Unpaused"),
    "rename": Action(
        lambda post: {"name": _new_name(post)},
        lambda ref, p: engine.rename_container(ref, p["name"]),
        "Renamed",
    ),
    "remove": Action(
        lambda post: {"force": _on(post, "force"), "volumes": _on(post, "volumes")},
        lambda ref, p: engine.remove_container(ref, force=p["force"], volumes=p["volumes"]),
        "Removed",
    ),
}


def act(request: HttpRequest, action: str, container_id: str, params: dict) -> tuple[bool, str, str]:
    """Do one action on one container and record it; return (done, message, the container's id)."""
    audit_action = f"container.{action}"
    try:
        container = engine.inspect_container(container_id)
    except engine.EngineError as exc:
        record(request, audit_action, container_id, "failed", error=exc.message, **params)
        return False, exc.message, ""
    try:
        ACTIONS[action].call(container.id, params)
    except engine.EngineError as exc:
        record(request, audit_action, container.name, "failed", target_id=container.id, error=exc.message, **params)
        return False, f"The engine refused to {action} {container.name}: {exc.message}", container.id
    finally:
        snapshot.changed()
    record(request, audit_action, container.name, "succeeded", target_id=container.id, **params)
    done = ACTIONS[action].done
    if action == "kill":
        return True, f"Sent {params['signal']} to {container.name}.", container.id
    if action == "rename":
        return True, f"Renamed {container.name} to {params['name']}.", container.id
    return True, f"{done} {container.name} ({container.short_id}).", container.id


def _back(request: HttpRequest, container_id: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("container_detail", container_id=container_id) if container_id else redirect("container_list")


def action_view(action: str):
    @require_POST
    @role_required(OPERATOR, f"container.{action}")
    def view(request: HttpRequest, container_id: str) -> HttpResponse:
        try:
            params = ACTIONS[action].params(request.POST)
        except BadInput as exc:
            messages.error(request, f"Nothing was done: {exc}")
            return _back(request, container_id)
        done, message, found_id = act(request, action, container_id, params)
        (messages.success if done else messages.error)(request, message)
        if done and action == "remove" and not request.POST.get("next"):
            return redirect("container_list")
        return _back(request, found_id)

    view.__name__ = view.__qualname__ = f"container_{action}"
    return view


@require_POST
@role_required(OPERATOR, "container.bulk")
def container_bulk(request: HttpRequest) -> HttpResponse:
    action = request.POST.get("action", "")
    ids = list(dict.fromkeys(request.POST.getlist("ids")))[:BULK_MAX]
    if action not in BULK_ACTIONS or not ids:
        messages.error(request, "Nothing was done: select containers, then Start, Stop or Remove.")
        return redirect("container_list")
    try:
        params = ACTIONS[action].params(request.POST)
    except BadInput as exc:
        messages.error(request, f"Nothing was done: {exc}")
        return redirect("container_list")
    for container_id in ids:
        done, message, _ = act(request, action, container_id, params)
        (messages.success if done else messages.error)(request, message)
    return redirect("container_list")


@require_POST
@role_required(OPERATOR, "container.exec")
def container_exec(request: HttpRequest, container_id: str) -> HttpResponse:
    command = request.POST.get("command", "").strip()
    ctx: dict[str, Any] = {"container_id": container_id, "command": command}
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        argv, ctx["exec_error"] = [], f"The command cannot be split into words: {exc}."
    if not argv and "exec_error" not in ctx:
        ctx["exec_error"] = "Enter a command, e.g. ls -l /."
    if argv:
        try:
            container = engine.inspect_container(container_id)
            result = engine.exec_command(container.id, argv, timeout=EXEC_TIMEOUT)
        except engine.EngineError as exc:
            record(request, "container.exec", container_id, "failed", error=exc.message, command=command)
            ctx["exec_error"] = exc.message
        else:
            record(
                request,
                "container.exec",
                container.name,
                "succeeded" if result.finished else "failed",
                target_id=container.id,
                error="" if result.finished else f"still running after {EXEC_TIMEOUT} s",
                command=command,
                exit_code=result.exit_code,
            )
            ctx.update(result=result, timeout=EXEC_TIMEOUT)
    status = 400 if "exec_error" in ctx and not argv else 200
    template = "containers/exec.html#result" if htmx_partial(request) else "containers/exec.html"
    return render(request, template, ctx, status=status)


def _refuse(request: HttpRequest, reasons: list[str]) -> HttpResponse:
    messages.error(request, f"Only Admins may use {'; '.join(reasons)}. Nothing was run.")
    return deny(request, ADMIN, RUN, request.POST.get("image", "")[:500], refused=reasons)


@require_http_methods(["GET", "POST"])
@role_required(OPERATOR, RUN)
def container_run(request: HttpRequest) -> HttpResponse:
    admin = has_role(request.user, ADMIN)
    if request.method == "GET":
        form = RunForm(initial={"image": request.GET.get("image", "")[:500]})
        return render(request, "containers/run.html", {"form": form, "admin": admin})
    form = RunForm(request.POST)
    # Refused before anything else is looked at: the engine is never asked.
    if not admin and (sent := form.admin_only_sent()):
        return _refuse(request, sent)
    if not form.is_valid():
        return render(request, "containers/run.html", {"form": form, "admin": admin}, status=400)
    try:
        host = form.host_access()
    except engine.EngineError as exc:
        form.add_error("volumes", f"Could not check the volumes: {exc.message}")
        return render(request, "containers/run.html", {"form": form, "admin": admin}, status=400)
    if host and not admin:
        return _refuse(request, host)
    # The audit trail masks secret-looking NAME=value lines; the job masks them in its row once the engine has them.
    job = enqueue(request, RUN, form.cleaned_data["image"], spec=form.spec(), dangerous=form.admin_only_sent() + host)
    return redirect("job_detail", job_id=job.pk)

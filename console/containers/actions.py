"""What changes containers: lifecycle actions (one or several at once), exec, and run.
Each is a POST for Operators, and each container acted on is one audit event."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from console import engine, policy, snapshot
from console.accounts.roles import ADMIN, OPERATOR, deny, has_role, role_required
from console.audit.record import record
from console.confirm import ask, confirmed
from console.containers import confirming
from console.containers.forms import COMMAND_LIMIT, NAME, RunForm
from console.containers.job_kinds import EXEC, mark_stopping, unmark_stopping
from console.containers.job_kinds import KIND as RUN
from console.htmx import htmx_partial
from console.images import registries
from console.images.reference import parse
from console.jobs.runner import enqueue

CONFIRM_FIRST = ("kill", "remove")  # what cannot be undone says what it will do first
SIGNALS = ["SIGKILL", "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"]
GRACE_MAX = 600
BULK_ACTIONS = ("start", "stop", "remove")
BULK_MAX = 200
LIST_PARAMS = ("q", "all", "sort", "dir")  # what the container list reads from its address


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
    return (
        redirect("container_detail", engine=engine.current(), container_id=container_id)
        if container_id
        else redirect("container_list", engine=engine.current())
    )


def action_view(action: str):
    @require_POST
    @role_required(OPERATOR, f"container.{action}")
    def view(request: HttpRequest, container_id: str) -> HttpResponse:
        try:
            params = ACTIONS[action].params(request.POST)
        except BadInput as exc:
            messages.error(request, f"Nothing was done: {exc}")
            return _back(request, container_id)
        if action in CONFIRM_FIRST and not confirmed(request):
            try:
                return ask(request, confirming.single(action, engine.inspect_container(container_id), params))
            except engine.EngineError:
                pass  # nothing to ask about: the action says what the engine answered
        # Stopping a container a run job follows: its page says "Stopping…" until the job has ended.
        job_id = request.POST.get("job", "")
        stopping = action == "stop" and mark_stopping(job_id, container_id, params["grace"])
        done, message, found_id = act(request, action, container_id, params)
        if stopping and done:
            return HttpResponse(status=204) if htmx_partial(request) else _back(request, found_id)
        if stopping:
            unmark_stopping(job_id)
        (messages.success if done else messages.error)(request, message)
        if htmx_partial(request):
            return HttpResponse(status=204, headers={"HX-Refresh": "true"})  # the page shows the message
        if done and action == "remove" and not request.POST.get("next"):
            return redirect("container_list", engine=engine.current())
        return _back(request, found_id)

    view.__name__ = view.__qualname__ = f"container_{action}"
    return view


def _back_to_list(request: HttpRequest) -> HttpResponse:
    """The list the bulk form was sent from: its filter, switch and order (sent as `back`), nothing else."""
    sent = QueryDict(request.POST.get("back", ""))
    kept = {key: sent[key] for key in LIST_PARAMS if sent.get(key)}
    url = reverse("container_list", args=[engine.current()])
    return redirect(f"{url}?{urlencode(kept)}" if kept else url)


@require_POST
@role_required(OPERATOR, "container.bulk")
def container_bulk(request: HttpRequest) -> HttpResponse:
    action = request.POST.get("action", "")
    ids = list(dict.fromkeys(request.POST.getlist("ids")))[:BULK_MAX]
    if action not in BULK_ACTIONS or not ids:
        messages.error(request, "Nothing was done: select containers, then Start, Stop or Remove.")
        return _back_to_list(request)
    try:
        params = ACTIONS[action].params(request.POST)
    except BadInput as exc:
        messages.error(request, f"Nothing was done: {exc}")
        return _back_to_list(request)
    if action == "remove" and not confirmed(request):
        cancel = _back_to_list(request)["Location"]
        return ask(request, confirming.bulk_remove(ids, params["force"], cancel))
    for container_id in ids:
        done, message, _ = act(request, action, container_id, params)
        (messages.success if done else messages.error)(request, message)
    return _back_to_list(request)


@require_POST
@role_required(OPERATOR, EXEC)
def container_exec(request: HttpRequest, container_id: str) -> HttpResponse:
    """Queue a command as a job (it never holds a web thread); refused when the container reaches the host
    and the user is not an Admin."""
    command = request.POST.get("command", "").strip()
    try:
        if len(command) > COMMAND_LIMIT:
            raise BadInput(f"The command is {len(command):,} characters long; the limit is {COMMAND_LIMIT:,}.")
        if not shlex.split(command):
            raise BadInput("Enter a command, e.g. ls -l /.")
    except ValueError as exc:  # BadInput, or shlex on unbalanced quotes
        return _exec_page(request, container_id, error=f"Nothing was run: {exc}", status=400)
    try:
        container = engine.inspect_container(container_id)
        if not container.running:
            raise engine.EngineError(f"Container {container.name} is not running.")
        dangerous = policy.check(request.user, container.host_config)
    except engine.EngineError as exc:
        record(request, EXEC, container_id, "failed", error=exc.message, command=command)
        return _exec_page(request, container_id, error=exc.message)  # a 200: htmx swaps it into the page
    except policy.Refused as exc:
        why = f"Only Admins may run commands in {container.name}, which reaches the host through"
        return _refuse(request, EXEC, why, exc.reasons, container.name)
    job = enqueue(request, EXEC, container.name, container_id=container.id, command=command, dangerous=dangerous)
    if not htmx_partial(request):
        return redirect("job_detail", job_id=job.pk)
    return _exec_page(request, container.id, job=job)


def _exec_page(request: HttpRequest, container_id: str, status: int = 200, **ctx: Any) -> HttpResponse:
    template = "containers/exec.html#result" if htmx_partial(request) else "containers/exec.html"
    return render(request, template, {"container_id": container_id, **ctx}, status=status)


def _refuse(request: HttpRequest, action: str, why: str, reasons: list[str], target: str) -> HttpResponse:
    messages.error(request, f"{why} {'; '.join(reasons)}. Nothing was run.")
    return deny(request, ADMIN, action, target, refused=reasons)


def _networks() -> list[str]:
    """The networks the run form offers (host only to Admins, who may type it)."""
    try:
        return [n.name for n in snapshot.networks() if n.name != "host"]
    except engine.EngineError:
        return []


@require_http_methods(["GET", "POST"])
@role_required(OPERATOR, RUN)
def container_run(request: HttpRequest) -> HttpResponse:
    admin = has_role(request.user, ADMIN)
    if request.method == "GET":
        form = RunForm(initial={"image": request.GET.get("image", "")[:500]})
        return render(request, "containers/run.html", {"form": form, "admin": admin, "networks": _networks()})
    form = RunForm(request.POST)
    if not form.is_valid():
        return render(request, "containers/run.html", {"form": form, "admin": admin}, status=400)
    spec = form.spec()
    # The registry rule of pulls holds for the image a run may pull: refused here, before anything is queued.
    if reason := registries.refusal(parse(spec["image"])):
        record(request, RUN, spec["image"], "denied", error=reason)
        form.add_error("image", reason)
        return render(request, "containers/run.html", {"form": form, "admin": admin}, status=403)
    # Decided on the request the engine will be sent, built by the same code the job uses.
    try:
        dangerous = policy.check(request.user, engine.run_config(spec)["HostConfig"])
    except engine.EngineError as exc:
        form.add_error(None, f"Could not check the request with the engine: {exc.message}")
        return render(request, "containers/run.html", {"form": form, "admin": admin}, status=502)
    except policy.Refused as exc:
        return _refuse(request, RUN, "Only Admins may use", exc.reasons, spec["image"])
    # The audit trail masks secret-looking NAME=value lines; the job masks them in its row once the engine has them.
    job = enqueue(request, RUN, spec["image"], spec=spec, dangerous=dangerous)
    return redirect("job_detail", job_id=job.pk)

"""Update: a container (or every container of one image) recreated on the image its tag now names, as a job.
Operators may, except for containers that reach the host (console/policy.py): those are for Admins."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from console import engine, policy, snapshot
from console.accounts.roles import ADMIN, OPERATOR, deny, role_required
from console.audit.record import record
from console.confirm import Question, ask, confirmed
from console.containers.updating import KIND
from console.images import registries, updates
from console.images.reference import parse
from console.jobs.runner import enqueue

CHECK = updates.KIND


def _state_of(image: str) -> str:
    found = snapshot.updates()
    row = (found.get("tags") or {}).get(image)
    if row is None:
        return "The last update check did not check this image: the update pulls it and recreates on what it gets."
    if row["state"] == "available":
        return "The last update check found newer content under this tag on its registry."
    if row["state"] == "current":
        return "The last update check found this tag up to date: the pull may bring nothing new (then nothing changes)."
    return f"The last update check could not check this tag: {row.get('error', '')}"


def _queue(request: HttpRequest, image: str, containers: list[engine.ContainerDetail], cancel: str) -> HttpResponse:
    """Refuse, ask, or queue the update of these containers (all made from `image`)."""
    if not containers:
        messages.error(request, f"No container is made from {image}: nothing to update.")
        return redirect(cancel)
    if reason := registries.refusal(parse(image)):
        record(request, KIND, image, "denied", error=reason)
        messages.error(request, reason)
        return redirect(cancel)
    dangerous: dict[str, list[str]] = {}
    try:
        for container in containers:
            if found := policy.check(request.user, container.host_config):
                dangerous[container.name] = found
    except engine.EngineError as exc:
        messages.error(request, f"Could not check {container.name} with the engine: {exc.message}")
        return redirect(cancel)
    except policy.Refused as exc:
        why = f"Only Admins may update {container.name}, which reaches the host through"
        messages.error(request, f"{why} {'; '.join(exc.reasons)}. Nothing was done.")
        return deny(request, ADMIN, KIND, container.name, refused=exc.reasons)
    names = ", ".join(c.name for c in containers)
    if not confirmed(request):
        plural = "s" * (len(containers) != 1)
        question = Question(
            title=f"Update {names}?",
            intro=f"You are about to pull {image} and recreate {len(containers)} container{plural} on it:",
            button=f"Update {len(containers)} container{plural}",
            cancel=cancel,
            items=[
                (
                    c.name,
                    f"{c.status}: stopped, renamed {c.name}-old-{c.short_id}, created again with the same "
                    "settings; removed once the new one runs (and is healthy)",
                )
                for c in containers
            ],
            notes=[
                _state_of(image),
                "When a new container fails (it exits, or is unhealthy), it is removed and the old one comes back "
                "under its name.",
            ],
        )
        return ask(request, question)
    target = containers[0].name if len(containers) == 1 else image
    job = enqueue(
        request, KIND, target, image=image, containers=[c.id for c in containers], dangerous=dangerous or None
    )
    return redirect("job_detail", job_id=job.pk)


@require_POST
@role_required(OPERATOR, KIND)
def container_update(request: HttpRequest, container_id: str) -> HttpResponse:
    cancel = reverse("container_detail", args=[engine.current(), container_id])
    try:
        container = engine.inspect_container(container_id)
    except engine.EngineError as exc:
        messages.error(request, exc.message)
        return redirect(cancel)
    if container.image.startswith("sha256:"):
        messages.error(request, f"{container.name} was made from an image id, not a tag: there is nothing to pull.")
        return redirect(cancel)
    return _queue(request, container.image, [container], cancel)


@require_POST
@role_required(OPERATOR, KIND)
def image_update(request: HttpRequest) -> HttpResponse:
    """Every container made from one tag (as `docker ps` names its image)."""
    image = request.POST.get("image", "").strip()
    cancel = reverse("image_list", args=[engine.current()])
    try:
        parse(image)
        rows = [row for row in snapshot.containers(all=True) if row.image == image]
        containers = [engine.inspect_container(row.id) for row in rows]
    except ValueError as exc:
        messages.error(request, f"Nothing was done: {exc}")
        return redirect(cancel)
    except engine.EngineError as exc:
        messages.error(request, exc.message)
        return redirect(cancel)
    return _queue(request, image, containers, cancel)


@require_POST
@role_required(OPERATOR, CHECK)
def update_check(request: HttpRequest) -> HttpResponse:
    job = enqueue(request, CHECK, "update check")
    return redirect("job_detail", job_id=job.pk)

"""Volume pages: `docker volume ls / inspect / create / rm / prune`."""

from __future__ import annotations

from dataclasses import replace

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from console import engine, policy, snapshot
from console.accounts.roles import ADMIN, OPERATOR, deny, has_role, role_required
from console.audit.record import record
from console.confirm import Question, ask, confirmed
from console.htmx import htmx_partial
from console.listing import Column, sort_of, window
from console.live import token, unchanged
from console.secrets import mask
from console.system.disk import last_disk_usage
from console.templatetags.console_tags import ago, docker_size
from console.volumes.forms import VolumeForm

COLUMNS = [
    Column("name", "Volume name", lambda v: v.name.lower()),
    Column("driver", "Driver", lambda v: v.driver),
    Column("mountpoint", "Mountpoint", lambda v: v.mountpoint),
    Column("containers", "Used by", lambda v: len(v.containers), num=True),
    Column("created", "Created", lambda v: v.created.timestamp() if v.created else 0, first="desc"),
]


def _matches(row: engine.VolumeRow, query: str) -> bool:
    text = " ".join([row.name, row.driver, *row.containers, *(f"{k}={v}" for k, v in row.labels.items())]).lower()
    return all(word in text for word in query.lower().split())


@require_GET
@vary_on_headers("HX-Request")
def volume_list(request: HttpRequest) -> HttpResponse:
    disk = last_disk_usage()
    live = token(snapshot.version("volumes", "containers"), str(disk.job_id if disk else 0))
    if htmx_partial(request) and unchanged(request, live):
        return HttpResponse(status=204)  # the open list is still right
    query = request.GET.get("q", "").strip()
    sort = sort_of(request, COLUMNS, "name")
    try:
        volumes, error = snapshot.volumes(), ""
    except engine.EngineError as exc:
        volumes, error = [], exc.message
    rows = [v for v in volumes if _matches(v, query)]
    if not has_role(request.user, ADMIN):
        rows = [_masked(v) for v in rows]
    sizes = disk.volumes if disk else {}
    shown = window(sort.apply(rows))
    ctx = {
        "window": shown,
        "shown": [(v, sizes.get(v.name, -1)) for v in shown.rows],
        "sort": sort,
        "q": query,
        "error": error,
        "total": len(volumes),
        "disk": disk,
        "prunes_every": _prunes_every(),
        "live_token": live,
    }
    template = "volumes/list.html#table" if htmx_partial(request) else "volumes/list.html"
    return render(request, template, ctx)


def _masked(volume: engine.VolumeRow) -> engine.VolumeRow:
    """Labels and driver options (a share's password) can hold credentials: their values are for Admins."""
    return replace(volume, labels=mask(volume.labels), options=mask(volume.options))


def _prunes_every() -> bool:
    try:
        return engine.prunes_every_volume()
    except engine.EngineError:
        return False


def _users(name: str) -> list[str]:
    return engine.volume_users(snapshot.read("containers")[1]).get(name, [])


@require_GET
def volume_detail(request: HttpRequest, name: str) -> HttpResponse:
    try:
        raw = engine.inspect_volume(name)
        volume = engine.volume_row(raw, sorted(_users(name)))
    except engine.NotFound:
        raise Http404(f"No volume {name} on this engine.") from None
    except engine.EngineError as exc:
        messages.error(request, exc.message)
        return redirect("volume_list", engine=engine.current())
    reaches = policy.volume_reaching(raw)
    if not has_role(request.user, ADMIN):
        volume, reaches = _masked(volume), [mask(reason) for reason in reaches]
    disk = last_disk_usage()
    size = disk.volumes.get(name) if disk else None
    ctx = {"v": volume, "disk": disk, "size": size, "reaches": reaches}
    return render(request, "volumes/detail.html", ctx)


def _form_page(request: HttpRequest, form: VolumeForm, status: int = 200) -> HttpResponse:
    ctx = {"form": form, "admin": has_role(request.user, ADMIN)}
    return render(request, "volumes/create.html", ctx, status=status)


@require_http_methods(["GET", "POST"])
@role_required(OPERATOR, "volume.create")
def volume_create(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _form_page(request, VolumeForm())
    form = VolumeForm(request.POST)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    body = engine.volume_body(form.spec())
    shown = body["Name"] or "a new volume"
    try:
        dangerous = policy.check(request.user, body, policy.volume_reaching)
    except policy.Refused as exc:
        messages.error(request, f"Only Admins may make a volume with {'; '.join(exc.reasons)}. Nothing was made.")
        return deny(request, ADMIN, "volume.create", shown, refused=exc.reasons)
    try:
        name = engine.create_volume(body)
        snapshot.changed()
    except engine.EngineError as exc:
        record(request, "volume.create", shown, "failed", error=exc.message, request=body)
        form.add_error(None, exc.message)
        return _form_page(request, form, status=400)
    record(request, "volume.create", name, "succeeded", request=body, dangerous=dangerous)
    messages.success(request, f"Created volume {name}.")
    return redirect("volume_detail", engine=engine.current(), name=name)


@require_POST
@role_required(OPERATOR, "volume.remove")
def volume_remove(request: HttpRequest, name: str) -> HttpResponse:
    try:
        engine.inspect_volume(name)
    except engine.NotFound:
        raise Http404(f"No volume {name} on this engine.") from None
    users = sorted(_users(name))
    if not confirmed(request):
        return ask(
            request,
            Question(
                title=f"Remove volume {name}?",
                intro=f"You are about to remove the volume {name} and every file in it.",
                button=f"Remove {name}",
                cancel=reverse("volume_detail", args=[engine.current(), name]),
                items=[(c, "uses it: the engine refuses while it does") for c in users],
                notes=["This cannot be undone."],
            ),
        )
    try:
        engine.remove_volume(name)
        snapshot.changed()
    except engine.EngineError as exc:
        error = exc.message + (f" (in use by {', '.join(users)})" if users else "")
        record(request, "volume.remove", name, "failed", error=error)
        messages.error(request, error)
        return redirect("volume_detail", engine=engine.current(), name=name)
    record(request, "volume.remove", name, "succeeded")
    messages.success(request, f"Removed volume {name}.")
    return redirect("volume_list", engine=engine.current())


@require_POST
@role_required(OPERATOR, "volume.prune")
def volume_prune(request: HttpRequest) -> HttpResponse:
    try:
        every = request.POST.get("all") == "1" or engine.prunes_every_volume()
    except engine.EngineError as exc:
        messages.error(request, exc.message)
        return redirect("volume_list", engine=engine.current())
    if not confirmed(request):
        return ask(request, _prune_question(every))
    try:
        removed, reclaimed = engine.prune_volumes(all=every)
        snapshot.changed()
    except engine.EngineError as exc:
        record(request, "volume.prune", "unused volumes", "failed", error=exc.message, all=every)
        messages.error(request, exc.message)
        return redirect("volume_list", engine=engine.current())
    record(request, "volume.prune", "unused volumes", "succeeded", all=every, removed=removed, reclaimed=reclaimed)
    count = f"{len(removed)} unused volume{'s' * (len(removed) != 1)}"
    names = f": {', '.join(removed)}" if removed else ""
    messages.success(request, f"Removed {count}{names}. Total reclaimed space: {docker_size(reclaimed)}.")
    return redirect("volume_list", engine=engine.current())


def _prune_question(every: bool) -> Question:
    """`docker volume prune [-a]`'s y/N, with the volumes no container uses and their sizes when last computed."""
    try:
        unused = [v for v in snapshot.volumes() if not v.containers and (every or v.anonymous)]
    except engine.EngineError:
        unused = []
    disk = last_disk_usage()
    sizes = disk.volumes if disk else {}
    kind = "unused volume" if every else "unused anonymous volume"
    count = f"{len(unused)} {kind}{'s' * (len(unused) != 1)}"
    known = [sizes[v.name] for v in unused if sizes.get(v.name, -1) >= 0]
    if disk is None:
        space = "Space to be freed: unknown (disk use has not been computed yet; the System page computes it)."
    else:
        when = f"when disk use was last computed ({ago(disk.computed)})"
        space = f"Space to be freed: about {docker_size(sum(known))}, {when}."
    return Question(
        title="Prune unused volumes?",
        intro=f"You are about to remove {count} and every file in them:",
        button=f"Remove {count}",
        cancel=reverse("volume_list", args=[engine.current()]),
        items=[(v.name, docker_size(sizes[v.name]) if sizes.get(v.name, -1) >= 0 else "size unknown") for v in unused],
        notes=[space, "This cannot be undone."],
    )

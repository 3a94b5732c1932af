from dataclasses import replace

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from console import engine, snapshot
from console.accounts.roles import ADMIN, OPERATOR, has_role, role_required
from console.audit.record import record
from console.confirm import Question, ask, confirmed
from console.htmx import htmx_partial
from console.images import credentials
from console.images.forms import REFERENCE_MAX, CredentialForm, PullForm, TagForm
from console.images.models import RegistryCredential
from console.images.pulling import KIND, PullRefused, join_or_enqueue_pull
from console.images.removal import preview_removal
from console.images.updates import update_context
from console.listing import Column, rendered_rows, shared_render, sort_of, window
from console.secrets import mask
from console.system.disk import last_disk_usage
from console.templatetags.console_tags import ago, docker_size

COLUMNS = [
    Column("repository", "Repository", lambda r: r.repository),
    Column("tag", "Tag", lambda r: r.tag),
    Column("id", "Image ID", lambda r: r.short_id),
    Column("created", "Created", lambda r: r.created.timestamp() if r.created else 0, first="desc"),
    Column("size", "Size", lambda r: r.size, num=True),
]


@require_GET
@vary_on_headers("HX-Request")
def image_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    sort = sort_of(request, COLUMNS, "created")
    operator = has_role(request.user, OPERATOR)
    updates = update_context()
    available = updates["updates_available"]

    def table() -> dict:
        try:
            images, error = snapshot.images(), ""
        except engine.EngineError as exc:
            images, error = [], exc.message
        needle = query.lower()
        rows = [
            r
            for r in images
            if needle in r.repository.lower() or needle in r.tag.lower() or needle in r.short_id.lower()
        ]
        sizes = {r.id: r.size for r in rows}  # two tags of one image take its space once
        shown = window(sort.apply(rows))
        return {
            "rows": rendered_rows(
                "images/list.html#row",
                shown.rows,
                engine_name=engine.current(),
                can_operate=operator,
                updates_available=available,
            ),
            "images": shown.rows,
            "window": shown,
            "error": error,
            "q": query,
            "sort": sort,
            "image_count": len(sizes),
            "total_size": sum(sizes.values()),
        }

    # The table is rendered once per snapshot for everyone with the same view.
    html = shared_render(request, "images", "images/list.html#table", table, operator, available)
    if htmx_partial(request):
        return HttpResponse(html)
    return render(request, "images/list.html", {"q": query, "table": html, **updates})


def _detail_page(
    request: HttpRequest, image_id: str, form: TagForm, status: int = 200, move: dict | None = None
) -> HttpResponse:
    try:
        image = engine.image_detail(image_id)
    except engine.NotFound:
        raise Http404(f"No image {image_id} on this engine.") from None
    except engine.EngineError as exc:
        messages.error(request, exc.message)
        return redirect("image_list", engine=engine.current())
    if not has_role(request.user, ADMIN):
        # Build-time environment and labels, and the ENV lines of its history, can hold secrets.
        history = [replace(h, created_by=mask(h.created_by)) for h in image.history]
        image = replace(image, env=mask(image.env), labels=mask(image.labels), history=history)
    ctx = {"image": image, "tag_form": form, "move": move}
    return render(request, "images/detail.html", ctx, status=status)


@require_GET
def image_detail(request: HttpRequest, image_id: str) -> HttpResponse:
    return _detail_page(request, image_id, TagForm())


def _image_holding(reference: str) -> str:
    """The id of the image that has this name now, or "" when none has."""
    try:
        return engine.image_id(reference)
    except engine.NotFound:
        return ""


@require_POST
@role_required(OPERATOR, "image.tag")
def image_tag(request: HttpRequest, image_id: str) -> HttpResponse:
    form = TagForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, image_id, form, status=400)
    ref = form.cleaned_data["target"]
    try:
        new_id = engine.image_id(image_id)
        old_id = _image_holding(str(ref))
        if old_id and old_id != new_id and form.cleaned_data["move"] != old_id:
            # A tag names one image: tagging moves it, so the Operator says so first, about this very image.
            move = {"reference": str(ref), "old_id": old_id}
            return _detail_page(request, image_id, form, status=409, move=move)
        engine.tag_image(image_id, ref.name, ref.tag)
        snapshot.changed()
    except engine.EngineError as exc:
        record(request, "image.tag", str(ref), "failed", target_id=image_id, error=exc.message, source=image_id)
        messages.error(request, exc.message)
        return redirect("image_detail", engine=engine.current(), image_id=image_id)
    moved = old_id if old_id and old_id != new_id else None
    record(request, "image.tag", str(ref), "succeeded", target_id=new_id, source=image_id, moved_from=moved)
    if moved:
        messages.success(request, f"Moved {ref} from {moved[7:19]} to {new_id[7:19]}.")
    else:
        messages.success(request, f"Tagged {image_id[:19]} as {ref}.")
    return redirect("image_detail", engine=engine.current(), image_id=image_id)


def _registry_config() -> dict[str, list[str]]:
    try:
        return engine.registry_config()
    except engine.EngineError:
        return {"mirrors": [], "insecure": []}


@require_GET
def image_pull(request: HttpRequest) -> HttpResponse:
    form = PullForm(initial={"reference": request.GET.get("reference", "")})
    return render(request, "images/pull.html", {"form": form, "registries": _registry_config()})


@require_POST
@role_required(OPERATOR, KIND)
def image_pull_start(request: HttpRequest) -> HttpResponse:
    form = PullForm(request.POST)
    if not form.is_valid():
        ctx = {"form": form, "registries": _registry_config()}
        return render(request, "images/pull.html", ctx, status=400)
    ref = form.cleaned_data["reference"]
    try:
        job, joined = join_or_enqueue_pull(request, form.data["reference"])
    except PullRefused as exc:
        form.add_error("reference", str(exc))
        return render(request, "images/pull.html", {"form": form, "registries": _registry_config()}, status=403)
    if joined:
        messages.info(request, f"{ref} is already being pulled; you joined that pull.")
    elif ref.default_tag:
        messages.info(request, f"Using default tag: {ref.tag}")
    return redirect("job_detail", job_id=job.pk)


@require_GET
def image_remove(request: HttpRequest) -> HttpResponse:
    reference = request.GET.get("ref", "").strip()
    if not reference or len(reference) > REFERENCE_MAX:
        raise Http404("Name the image to remove.")
    try:
        preview = preview_removal(reference)
    except engine.NotFound:
        raise Http404(f"No image {reference} on this engine.") from None
    except engine.EngineError as exc:  # not a reference the engine reads, or no engine
        preview, conflict = None, exc.message
    else:
        conflict = ""
    return render(request, "images/remove.html", {"preview": preview, "reference": reference, "conflict": conflict})


@require_POST
@role_required(OPERATOR, "image.remove")
def image_remove_confirm(request: HttpRequest) -> HttpResponse:
    reference = request.POST.get("ref", "")
    force = request.POST.get("force") == "1"
    if not reference.strip() or len(reference) > REFERENCE_MAX:
        messages.error(request, f"Name the image to remove: an id or reference of at most {REFERENCE_MAX} characters.")
        return redirect("image_list", engine=engine.current())
    try:
        image_id = engine.image_id(reference)
        removal = engine.remove_image(reference, force=force)
        snapshot.changed()
    except engine.Conflict as exc:
        record(request, "image.remove", reference, "failed", error=exc.message, force=force)
        try:
            preview = preview_removal(reference)
        except engine.NotFound:
            preview = None
        ctx = {"preview": preview, "conflict": exc.message, "reference": reference}
        return render(request, "images/remove.html", ctx, status=409)
    except engine.EngineError as exc:
        record(request, "image.remove", reference, "failed", error=exc.message, force=force)
        messages.error(request, exc.message)
        return redirect("image_list", engine=engine.current())
    untagged, deleted = removal.untagged, removal.deleted
    record(request, "image.remove", reference, "succeeded", force=force, untagged=untagged, deleted=deleted)
    title = f"{'Removed' if deleted else 'Untagged'} {reference}"
    ctx = {"title": title, "lines": removal.lines, "summary": _removal_summary(removal, image_id)}
    return render(request, "images/result.html", ctx)


def _removal_summary(removal: engine.Removal, image_id: str) -> str:
    """What the engine did, in a sentence: from its answer, and for an image it kept, what keeps it."""
    short = image_id.removeprefix("sha256:")[:12]
    if image_id in removal.deleted:
        layers = len(removal.deleted) - 1
        kept = "" if layers else " Its layers stay on disk while a container or another image uses them."
        return f"The engine deleted image {short}{f' and {layers} layer' + 's' * (layers > 1) if layers else ''}.{kept}"
    try:
        image = engine.image_detail(image_id)
    except engine.EngineError:
        return "The engine removed only the name."
    if image.tags:
        return f"The engine removed only the name: image {short} stays, still tagged {', '.join(image.tags)}."
    users = [c.name for c in image.containers]
    many = len(users) > 1
    using = f" while container{'s' * many} {', '.join(users)} use{'' if many else 's'} it" if users else ""
    return f"The engine removed only the name: image {short} stays as <none>{using}."


@require_POST
@role_required(OPERATOR, "image.prune")
def image_prune(request: HttpRequest) -> HttpResponse:
    if not confirmed(request):
        return ask(request, _prune_question())
    try:
        lines, reclaimed = engine.prune_images()
        snapshot.changed()
    except engine.EngineError as exc:
        record(request, "image.prune", "dangling images", "failed", error=exc.message)
        messages.error(request, exc.message)
        return redirect("image_list", engine=engine.current())
    deleted = [line.removeprefix("Deleted: ") for line in lines if line.startswith("Deleted: ")]
    record(request, "image.prune", "dangling images", "succeeded", deleted=deleted, space_reclaimed=reclaimed)
    ctx = {"title": "Pruned dangling images", "lines": lines, "reclaimed": reclaimed}
    return render(request, "images/result.html", ctx)


def _prune_question() -> Question:
    """`docker image prune`'s y/N, with the dangling images it would delete and the space it may free."""
    try:
        dangling = [row for row in snapshot.images() if row.tag == "<none>"]
    except engine.EngineError:
        dangling = []
    count = f"{len(dangling)} dangling image{'s' * (len(dangling) != 1)}"
    items = [(row.short_id, f"{row.repository}, {docker_size(row.size)}, made {ago(row.created)}") for row in dangling]
    disk = last_disk_usage()
    images = next((row for row in disk.rows if row.get("type") == "Images"), None) if disk else None
    if images is None:
        space = "Space to be freed: unknown (disk use has not been computed yet; the System page computes it)."
    else:
        space = (
            f"Space to be freed: at most {docker_size(images.get('reclaimable', 0))}, the images' reclaimable space"
            f" when disk use was last computed ({ago(disk.computed)})."
        )
    return Question(
        title="Prune dangling images?",
        intro=f"You are about to delete {count} (untagged; images a container uses stay):",
        button=f"Delete {count}",
        cancel=reverse("image_list", args=[engine.current()]),
        items=items,
        notes=[space, "This cannot be undone."],
    )


def _registries_page(request: HttpRequest, form: CredentialForm, status: int = 200) -> HttpResponse:
    ctx = {"form": form, "credentials": RegistryCredential.objects.all()}
    return render(request, "images/registries.html", ctx, status=status)


@require_GET
@role_required(ADMIN, "registry.credentials")
def registry_list(request: HttpRequest) -> HttpResponse:
    return _registries_page(request, CredentialForm())


@require_POST
@role_required(ADMIN, "registry.credentials")
def registry_save(request: HttpRequest) -> HttpResponse:
    form = CredentialForm(request.POST)
    if not form.is_valid():
        return _registries_page(request, form, status=400)
    host, user = form.cleaned_data["host"], form.cleaned_data["username"]
    created = credentials.store(host, user, form.cleaned_data["secret"], request.user.get_username())
    action = "registry.credentials.add" if created else "registry.credentials.change"
    record(request, action, host, "succeeded", username=user)
    messages.success(request, f"Saved the credentials of {user} for {host}.")
    return redirect("registry_list")


@require_POST
@role_required(ADMIN, "registry.credentials.delete")
def registry_delete(request: HttpRequest, pk: int) -> HttpResponse:
    credential = get_object_or_404(RegistryCredential, pk=pk)
    credential.delete()
    record(request, "registry.credentials.delete", credential.host, "succeeded", username=credential.username)
    messages.success(request, f"Removed the credentials for {credential.host}.")
    return redirect("registry_list")

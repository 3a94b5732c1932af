"""Network pages: `docker network ls / inspect / create / rm / prune / connect / disconnect`."""

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
from console.networks.forms import ConnectForm, NetworkForm
from console.secrets import mask

COLUMNS = [
    Column("name", "Name", lambda n: n.name.lower()),
    Column("id", "Network ID", lambda n: n.id),
    Column("driver", "Driver", lambda n: n.driver),
    Column("scope", "Scope", lambda n: n.scope),
    Column("subnet", "Subnet", lambda n: n.subnets),
    Column("gateway", "Gateway", lambda n: n.gateways),
    Column("internal", "Internal", lambda n: n.internal),
    Column("attachable", "Attachable", lambda n: n.attachable),
    Column("containers", "Containers", lambda n: len(n.containers), num=True),
]


def _matches(row: engine.NetworkRow, query: str) -> bool:
    text = " ".join([row.name, row.id, row.driver, *row.subnets, *row.containers]).lower()
    return all(word in text for word in query.lower().split())


@require_GET
@vary_on_headers("HX-Request")
def network_list(request: HttpRequest) -> HttpResponse:
    live = token(snapshot.version("networks", "containers"))
    if htmx_partial(request) and unchanged(request, live):
        return HttpResponse(status=204)  # the open list is still right
    query = request.GET.get("q", "").strip()
    sort = sort_of(request, COLUMNS, "name")
    try:
        networks, error = snapshot.networks(), ""
    except engine.EngineError as exc:
        networks, error = [], exc.message
    rows = [n for n in networks if _matches(n, query)]
    ctx = {
        "window": window(sort.apply(rows)),
        "sort": sort,
        "q": query,
        "error": error,
        "total": len(networks),
        "live_token": live,
    }
    template = "networks/list.html#table" if htmx_partial(request) else "networks/list.html"
    return render(request, template, ctx)


def _inspect(name: str) -> engine.NetworkDetail:
    try:
        return engine.inspect_network(name)
    except engine.NotFound:
        raise Http404(f"No network {name} on this engine.") from None


def _detail_page(request: HttpRequest, name: str, form: ConnectForm, status: int = 200) -> HttpResponse:
    try:
        network = _inspect(name)
    except engine.EngineError as exc:
        messages.error(request, exc.message)
        return redirect("network_list", engine=engine.current())
    if not has_role(request.user, ADMIN):
        # Labels and driver options can hold credentials: their values are for Admins (console.secrets decides).
        row = replace(network.row, labels=mask(network.row.labels), options=mask(network.row.options))
        network = replace(network, row=row)
    return render(request, "networks/detail.html", {"n": network, "form": form}, status=status)


@require_GET
def network_detail(request: HttpRequest, name: str) -> HttpResponse:
    return _detail_page(request, name, ConnectForm())


def _form_page(request: HttpRequest, form: NetworkForm, status: int = 200) -> HttpResponse:
    ctx = {"form": form, "admin": has_role(request.user, ADMIN)}
    return render(request, "networks/create.html", ctx, status=status)


@require_http_methods(["GET", "POST"])
@role_required(OPERATOR, "network.create")
def network_create(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _form_page(request, NetworkForm())
    form = NetworkForm(request.POST)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    body = engine.network_body(form.spec())
    name = body["Name"]
    try:
        dangerous = policy.check(request.user, body, policy.network_reaching)
    except policy.Refused as exc:
        messages.error(request, f"Only Admins may make a network with {'; '.join(exc.reasons)}. Nothing was made.")
        return deny(request, ADMIN, "network.create", name, refused=exc.reasons)
    try:
        network_id = engine.create_network(body)
        snapshot.changed()
    except engine.EngineError as exc:
        record(request, "network.create", name, "failed", error=exc.message, request=body)
        form.add_error(None, exc.message)
        return _form_page(request, form, status=409 if isinstance(exc, engine.Conflict) else 400)
    record(request, "network.create", name, "succeeded", target_id=network_id, request=body, dangerous=dangerous)
    messages.success(request, f"Created network {name}.")
    return redirect("network_detail", engine=engine.current(), name=name)


@require_POST
@role_required(OPERATOR, "network.remove")
def network_remove(request: HttpRequest, name: str) -> HttpResponse:
    network = _inspect(name)
    if not confirmed(request):
        attached = [e.name for e in network.endpoints]
        return ask(
            request,
            Question(
                title=f"Remove network {name}?",
                intro=f"You are about to remove the network {name} ({network.row.driver}, {network.row.short_id}).",
                button=f"Remove {name}",
                cancel=reverse("network_detail", args=[engine.current(), name]),
                items=[(c, "still attached: the engine refuses until it is disconnected") for c in attached],
                notes=["This cannot be undone."],
            ),
        )
    try:
        engine.remove_network(name)
        snapshot.changed()
    except engine.EngineError as exc:
        attached = _attached(name)
        error = exc.message + (f" (still attached: {', '.join(attached)})" if attached else "")
        record(request, "network.remove", name, "failed", target_id=network.row.id, error=error)
        messages.error(request, error)
        return redirect("network_detail", engine=engine.current(), name=name)
    record(request, "network.remove", name, "succeeded", target_id=network.row.id)
    messages.success(request, f"Removed network {name}.")
    return redirect("network_list", engine=engine.current())


def _attached(name: str) -> list[str]:
    try:
        return [e.name for e in engine.inspect_network(name).endpoints]
    except engine.EngineError:
        return []


@require_POST
@role_required(OPERATOR, "network.prune")
def network_prune(request: HttpRequest) -> HttpResponse:
    if not confirmed(request):
        return ask(request, _prune_question())
    try:
        removed = engine.prune_networks()
        snapshot.changed()
    except engine.EngineError as exc:
        record(request, "network.prune", "unused networks", "failed", error=exc.message)
        messages.error(request, exc.message)
        return redirect("network_list", engine=engine.current())
    record(request, "network.prune", "unused networks", "succeeded", removed=removed)
    if removed:
        count = f"{len(removed)} unused network{'s' * (len(removed) != 1)}"
        messages.success(request, f"Removed {count}: {', '.join(removed)}.")
    else:
        messages.info(request, "No network was unused: nothing was removed.")
    return redirect("network_list", engine=engine.current())


def _prune_question() -> Question:
    """`docker network prune`'s y/N, with the networks no container uses."""
    try:
        unused = [n for n in snapshot.networks() if not n.builtin and not n.containers]
    except engine.EngineError:
        unused = []
    count = f"{len(unused)} unused network{'s' * (len(unused) != 1)}"
    return Question(
        title="Prune unused networks?",
        intro=f"You are about to remove {count} (networks no container is attached to):",
        button=f"Remove {count}",
        cancel=reverse("network_list", args=[engine.current()]),
        items=[(n.name, f"{n.driver}, {', '.join(n.subnets) or 'no subnet'}") for n in unused],
        notes=["This cannot be undone."],
    )


@require_POST
@role_required(OPERATOR, "network.connect")
def network_connect(request: HttpRequest, name: str) -> HttpResponse:
    form = ConnectForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, name, form, status=400)
    container = form.cleaned_data["container"]
    body = engine.connect_body(container, form.cleaned_data["aliases"], form.cleaned_data["ip"])
    try:
        # Joining a network that reaches the host (macvlan, a host bridge) reaches it too.
        dangerous = policy.check(request.user, _inspect(name).raw, policy.joining)
        engine.connect_container(name, body)
        snapshot.changed()
    except policy.Refused as exc:
        why = f"Only Admins may connect containers to {name}, which reaches the host through"
        messages.error(request, f"{why} {'; '.join(exc.reasons)}.")
        return deny(request, ADMIN, "network.connect", name, container=container, refused=exc.reasons)
    except engine.EngineError as exc:
        record(request, "network.connect", name, "failed", container=container, error=exc.message, request=body)
        form.add_error(None, exc.message)
        return _detail_page(request, name, form, status=400)
    record(request, "network.connect", name, "succeeded", container=container, request=body, dangerous=dangerous)
    messages.success(request, f"Connected {container} to {name}.")
    return redirect("network_detail", engine=engine.current(), name=name)


@require_POST
@role_required(OPERATOR, "network.disconnect")
def network_disconnect(request: HttpRequest, name: str) -> HttpResponse:
    container = request.POST.get("container", "").strip()[:128]
    if not container:
        messages.error(request, "Name the container to disconnect.")
        return redirect("network_detail", engine=engine.current(), name=name)
    try:
        engine.disconnect_container(name, container)
        snapshot.changed()
    except engine.EngineError as exc:
        record(request, "network.disconnect", name, "failed", container=container, error=exc.message)
        messages.error(request, exc.message)
    else:
        record(request, "network.disconnect", name, "succeeded", container=container)
        messages.success(request, f"Disconnected {container} from {name}.")
    return redirect("network_detail", engine=engine.current(), name=name)

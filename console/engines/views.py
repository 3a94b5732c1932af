"""The Engines page (global Admins): add, edit, test and remove the engines the console manages."""

from __future__ import annotations

import base64
import binascii

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from console.accounts.roles import ADMIN, role_required
from console.audit.record import record
from console.engine import connections, core
from console.engines.forms import SECRETS, EngineForm
from console.engines.models import Engine
from console.htmx import htmx_partial
from console.jobs.models import Job

TEST_TIMEOUT = 10  # seconds: a test that waits longer than this tells the Admin enough
ADDRESS_FIELDS = ("url", "tls_ca", "tls_cert", "insecure", "ssh_host_key")
# What a test of the form's values may fail on; the other fields matter only when saving.
# The audit trail masks every param named like a key; these say what happened to one, never its text.
AUDIT_NAMES = {"tls_key": "tls_private", "ssh_key": "ssh_private", "ssh_host_key": "ssh_host_fingerprint"}
CONNECTION_FIELDS = ("url", "tls_ca", "tls_cert", "tls_key", "ssh_key", "insecure", "host_key")


def host_key_fingerprint(line: str) -> str:
    """The SHA256 fingerprint of a pinned "<type> <base64>" host key, as OpenSSH shows it."""
    try:
        return connections.fingerprint(base64.b64decode(line.partition(" ")[2], validate=True))
    except (binascii.Error, ValueError):
        return "(unreadable)"


def _apply(form: EngineForm, row: Engine) -> dict[str, str]:
    """Copy the form's values onto the row (not saved); what changed, for the audit trail (no key material)."""
    data = form.cleaned_data
    before = {f: getattr(row, f) for f in ("description", "labels", *ADDRESS_FIELDS, *SECRETS)}
    row.description, row.labels = data["description"], data["labels"]
    if not row.from_environment:
        scheme = data["url"].partition("://")[0]
        row.ssh_host_key = form.pinned_key()  # first: it compares the stored address with the new one
        row.url = data["url"]
        row.tls_ca = data["tls_ca"] if scheme == "tcp" else ""
        row.tls_cert = data["tls_cert"] if scheme == "tcp" else ""
        row.insecure = scheme == "tcp" and not form.tls() and data["insecure"]
        for field, wanted in (("tls_key", "tcp"), ("ssh_key", "ssh")):
            if scheme != wanted:
                setattr(row, field, "")
            elif data[field]:
                row.set_secret(field, data[field])
    changes: dict[str, str] = {}
    for field, old in before.items():
        new = getattr(row, field)
        if old == new:
            continue
        if field in SECRETS:
            changes[AUDIT_NAMES[field]] = "removed" if not new else "replaced" if old else "set"
        elif field == "ssh_host_key":
            changes[AUDIT_NAMES[field]] = host_key_fingerprint(new) if new else "cleared"
        elif field in ("tls_ca", "tls_cert"):
            changes[field] = "replaced" if new else "removed"
        else:
            changes[field] = new if isinstance(new, str) else str(new)
    return changes


def _kept_offer(form: EngineForm) -> dict:
    """A host key offered by an earlier test stays on the form (and stays accepted) until it is saved."""
    line = getattr(form, "cleaned_data", {}).get("host_key", "")
    if not line:
        return {}
    return {
        "offered_line": line,
        "offered_fingerprint": host_key_fingerprint(line),
        "accepted": form.cleaned_data.get("accept_host_key", False),
    }


def _form_page(request: HttpRequest, form: EngineForm, status: int = 200, **ctx) -> HttpResponse:
    ctx = {"form": form, "row": form.instance, **_kept_offer(form), **ctx}
    return render(request, "engines/form.html", ctx, status=status)


def _problems(form: EngineForm, fields=None) -> str:
    return "; ".join(
        f"{name}: {' '.join(errors)}" for name, errors in form.errors.items() if fields is None or name in fields
    )


@require_http_methods(["GET"])
@role_required(ADMIN, "engine.list")
def engine_list(request: HttpRequest) -> HttpResponse:
    rows = [(row, host_key_fingerprint(row.ssh_host_key) if row.ssh_host_key else "") for row in Engine.objects.all()]
    return render(request, "engines/list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@role_required(ADMIN, "engine.add")
def engine_add(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _form_page(request, EngineForm())
    form = EngineForm(request.POST)
    if not form.is_valid():
        target = request.POST.get("name", "")[:40]
        record(request, "engine.add", target, "failed", engine="", error=_problems(form))
        return _form_page(request, form, status=400)
    row = Engine(name=form.cleaned_data["name"], updated_by_name=request.user.get_username())
    changes = _apply(form, row)
    row.save()
    record(request, "engine.add", row.name, "succeeded", engine="", kind=row.kind, **changes)
    messages.success(request, f"Added the engine {row.name} ({row.kind}).")
    if row.kind == "ssh" and not row.ssh_host_key:
        messages.warning(request, f"No host key is pinned for {row.name}: test its connection and accept the key.")
    return redirect("engine_list")


@require_http_methods(["GET", "POST"])
@role_required(ADMIN, "engine.change")
def engine_edit(request: HttpRequest, name: str) -> HttpResponse:
    row = get_object_or_404(Engine, name=name)
    if request.method == "GET":
        return _form_page(request, EngineForm(instance=row))
    form = EngineForm(request.POST, instance=row)
    if not form.is_valid():
        record(request, "engine.change", row.name, "failed", engine="", error=_problems(form))
        return _form_page(request, form, status=400)
    with transaction.atomic():
        row = Engine.objects.select_for_update().get(pk=row.pk)
        form.instance = row
        changes = _apply(form, row)
        if not changes:
            messages.info(request, f"Nothing changed on {row.name}.")
            return redirect("engine_list")
        # Every process compares its client's connection with the row's: a new revision rebuilds them.
        row.revision += 1
        row.updated_by_name = request.user.get_username()
        row.save()
        record(request, "engine.change", row.name, "succeeded", engine="", revision=row.revision, **changes)
    messages.success(request, f"Saved the engine {row.name}.")
    return redirect("engine_list")


def _removal(row: Engine) -> dict:
    jobs = Job.objects.filter(engine=row.name)
    return {
        "row": row,
        "jobs": jobs.count(),
        "unfinished": jobs.exclude(state__in=Job.TERMINAL).count(),
        "roles": row.roles.count(),
    }


@require_http_methods(["GET", "POST"])
@role_required(ADMIN, "engine.remove")
def engine_remove(request: HttpRequest, name: str) -> HttpResponse:
    row = get_object_or_404(Engine, name=name)
    if row.from_environment:
        reason = f"{row.name} is set by DOCKER_HOST: it is removed by changing the console's environment."
        if request.method == "POST":
            record(request, "engine.remove", row.name, "failed", engine="", error=reason)
        messages.error(request, reason)
        return redirect("engine_list")
    if request.method == "GET":
        return render(request, "engines/remove.html", _removal(row))
    facts = _removal(row)
    row.delete()
    record(request, "engine.remove", name, "succeeded", engine="", url=row.url, jobs_kept=facts["jobs"])
    messages.success(request, f"Removed the engine {name}. Its jobs and audit events stay in the trail.")
    return redirect("engine_list")


@require_POST
@role_required(ADMIN, "engine.test")
def engine_test_new(request: HttpRequest) -> HttpResponse:
    return _test(request, EngineForm(request.POST))


@require_POST
@role_required(ADMIN, "engine.test")
def engine_test(request: HttpRequest, name: str) -> HttpResponse:
    row = get_object_or_404(Engine, name=name)
    return _test(request, EngineForm(request.POST, instance=row))


def _test(request: HttpRequest, form: EngineForm) -> HttpResponse:
    """Probe the engine the form describes, before anything is saved: ping, version, latency, or the error.
    An ssh:// engine without a pinned host key is first asked for its key, for the Admin to accept."""
    form.is_valid()
    target = (form.instance.name if form.instance else request.POST.get("name", "")[:40]) or "(new engine)"
    ctx: dict = {}
    if problems := _problems(form, CONNECTION_FIELDS):
        ctx["error"] = f"Fix the form first: {problems}"
        record(request, "engine.test", target, "failed", engine="", error=ctx["error"])
        return _test_result(request, form, ctx)
    row = Engine(name=target) if form.instance is None else Engine.objects.get(pk=form.instance.pk)
    _apply(form, row)
    conn = row.connection()
    params = {"url": conn.url}
    if row.kind == "ssh" and not row.ssh_host_key:
        try:
            offered = connections.host_key(conn.url, TEST_TIMEOUT)
        except Exception as exc:  # the test says why it could not connect; it never fails the page
            ctx["error"] = f"Cannot fetch the host key of {conn.url}: {exc}"
            record(request, "engine.test", target, "failed", engine="", error=ctx["error"], **params)
        else:
            ctx.update(
                offered_line=f"{offered.type} {offered.base64}", offered_fingerprint=offered.fingerprint, accepted=False
            )
            record(request, "engine.test", target, "succeeded", engine="", offered=offered.fingerprint, **params)
        return _test_result(request, form, ctx)
    probe = connections.probe(conn, core._DockerClient, min(settings.DOCKER_TIMEOUT, TEST_TIMEOUT))
    ctx["probe"] = probe
    if probe.ok:
        record(request, "engine.test", target, "succeeded", engine="", latency_ms=probe.latency_ms, **params)
    else:
        record(request, "engine.test", target, "failed", engine="", error=probe.error, **params)
    return _test_result(request, form, ctx)


def _test_result(request: HttpRequest, form: EngineForm, ctx: dict) -> HttpResponse:
    if htmx_partial(request):
        ctx = {"row": form.instance, **_kept_offer(form), **ctx}
        response = render(request, "engines/form.html#test_result", ctx)
    else:  # without JavaScript: the whole form again (keys are never rendered back: paste them again to save)
        response = _form_page(request, form, **ctx)
    response["Vary"] = "HX-Request"
    return response

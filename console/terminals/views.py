"""The terminal's page: what to run (shell or command, user, directory), then xterm.js on the WebSocket."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET

from console import engine, policy
from console.accounts.roles import ADMIN, OPERATOR, deny, reads_engine_errors, role_required, visible_engines
from console.settings import SECURE_CSP
from console.terminals.consumers import OPEN
from console.terminals.models import Recording

FIELD_LIMIT = 4096
# xterm.js sizes its rows with <style> elements it makes: styles (never scripts) may be inline on this page.
TERMINAL_CSP = {**SECURE_CSP, "style-src": [*SECURE_CSP["style-src"], "'unsafe-inline'"]}
# asciinema-player's terminal emulator is WebAssembly: compiling it is allowed there (JavaScript's eval is not).
PLAYER_CSP = {**TERMINAL_CSP, "script-src": [*SECURE_CSP["script-src"], "'wasm-unsafe-eval'"]}


@require_GET
@role_required(OPERATOR, OPEN)
@csp_override(TERMINAL_CSP)
def terminal(request: HttpRequest, container_id: str) -> HttpResponse:
    fields = {key: request.GET.get(key, "").strip()[:FIELD_LIMIT] for key in ("command", "user", "workdir")}
    if request.GET.get("attach") == "1":  # docker run -it's own terminal, not a new command
        fields = {"attach": "1", "detach_keys": request.GET.get("detach_keys", "").strip()[:64]}
    ctx = {"container_id": container_id, "idle_minutes": settings.TERMINAL_IDLE_SECONDS // 60, **fields}
    try:
        container = engine.inspect_container(container_id)
        ctx["c"] = container
        policy.check(request.user, container.host_config)
    except engine.EngineError as exc:
        return render(request, "terminals/terminal.html", {**ctx, "error": exc.message})
    except policy.Refused as exc:
        return deny(request, ADMIN, OPEN, container.name, refused=exc.reasons)
    if "open" in request.GET and container.running:
        query = urlencode({key: value for key, value in fields.items() if value})
        ctx["socket"] = f"/engines/{request.engine.name}/containers/{container.id}/terminal/socket/?{query}"
    return render(request, "terminals/terminal.html", ctx)


def _recording(request: HttpRequest, pk: int) -> Recording:
    """A recording of an engine the user can see, for Admins and for whoever typed in it (it can hold what they
    typed and read: secrets too)."""
    row = get_object_or_404(Recording, pk=pk, engine__in=[e.name for e in visible_engines(request.user)])
    if not reads_engine_errors(request.user, [row.actor_name]):
        raise PermissionDenied("A terminal recording is for Admins and for whoever typed in it.")
    return row


@require_GET
@csp_override(PLAYER_CSP)
def recording_player(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "terminals/recording.html", {"recording": _recording(request, pk)})


@require_GET
def recording_download(request: HttpRequest, pk: int) -> HttpResponse:
    row = _recording(request, pk)
    response = HttpResponse(row.cast, content_type="application/x-asciicast")
    response["Content-Disposition"] = f'attachment; filename="terminal-{row.pk}.cast"'
    return response

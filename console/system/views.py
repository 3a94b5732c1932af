from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from console import engine, snapshot
from console.accounts.roles import OPERATOR, role_required
from console.htmx import htmx_partial
from console.jobs.models import Job
from console.jobs.runner import enqueue
from console.listing import rendered_rows, shared_render, window
from console.live import token, unchanged
from console.system.disk import KIND as DISK_USAGE
from console.system.disk import last_disk_usage
from console.system.facts import info_sections, version_sections
from console.system.health import checks

EVENT_TYPES = ["container", "image", "volume", "network", "plugin", "daemon", "service", "node", "secret", "config"]


def _event_feed(request: HttpRequest) -> dict:
    """The engine's recent events, newest first, filtered by type and action."""
    kind = request.GET.get("type", "")
    action = request.GET.get("action", "").strip()
    try:
        version, raw = snapshot.read("events")
        error = ""
    except engine.EngineError as exc:
        version, raw, error = 0, [], exc.message
    rows = [engine.event_row(e) for e in raw]
    actions = sorted({r.action for r in rows})
    shown = window([r for r in rows if (not kind or r.type == kind) and (not action or r.action == action)])
    return {
        "events": shown,
        "event_rows": rendered_rows("system/index.html#event", shown.rows),
        "event_types": EVENT_TYPES,
        "event_actions": actions,
        "event_type": kind,
        "event_action": action,
        "events_error": error,
        "events_token": token(version, kind, action),
    }


def _facts() -> dict:
    try:
        info, version = snapshot.read("info")[1], snapshot.read("version")[1]
        return {
            "facts": [
                ("docker info", "docker-info", info_sections(info)),
                ("docker version", "docker-version", version_sections(version, engine.api_version())),
            ]
        }
    except engine.EngineError as exc:
        return {"error": exc.message}


def index(request: HttpRequest) -> HttpResponse:
    """The engine's health (checked on every load: that is what the page is for), its facts and its events;
    the facts and the feed rendered once per snapshot of them for everyone (`shared_render`)."""
    ctx = {
        "health": checks(),
        "disk": last_disk_usage(),
        "disk_job": Job.objects.filter(kind=DISK_USAGE).exclude(state__in=Job.TERMINAL).first(),
        # docker info names the engine's version too: a new version is a new info snapshot
        "facts_html": shared_render(request, "info", "system/index.html#facts", _facts),
        "feed_html": shared_render(request, "events", "system/index.html#feed", lambda: _event_feed(request)),
    }
    return render(request, "system/index.html", ctx)


def _events_token(request: HttpRequest) -> str:
    return token(snapshot.version("events"), request.GET.get("type", ""), request.GET.get("action", "").strip())


@require_GET
def events(request: HttpRequest) -> HttpResponse:
    """The live events feed: 204 when the client already shows the newest."""
    if not htmx_partial(request):
        return redirect(f"{reverse('system', args=[engine.current()])}?{request.GET.urlencode()}")
    if unchanged(request, _events_token(request)):
        return HttpResponse(status=204)
    return HttpResponse(shared_render(request, "events", "system/index.html#events", lambda: _event_feed(request)))


@require_POST
@role_required(OPERATOR, DISK_USAGE)
def refresh_disk_usage(request: HttpRequest) -> HttpResponse:
    job = enqueue(request, DISK_USAGE, "disk usage")
    return redirect("job_detail", job_id=job.pk)


@require_GET
@never_cache
@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: says whether the console serves, and nothing else."""
    from django.db import connection

    try:
        connection.ensure_connection()
    except Exception:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})

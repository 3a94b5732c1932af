from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from console import engine, snapshot
from console.audit.models import AuditEvent
from console.htmx import htmx_partial
from console.jobs.models import Job
from console.live import audit_token, jobs_token, token, unchanged
from console.system.disk import last_disk_usage

SNAPSHOT_KINDS = ("info", "version", "containers")


def _engine_at_a_glance() -> dict:
    """Counts, version and running containers, from the shared snapshot (the engine when none)."""
    try:
        info = snapshot.read("info")[1]
        version = snapshot.read("version")[1]
        running = snapshot.containers(all=False)
    except engine.EngineError as exc:
        return {"engine_error": exc.message}
    return {"info": info, "version": version, "running": running[:10], "running_more": max(len(running) - 10, 0)}


def _live_token() -> str:
    return token(snapshot.version(*SNAPSHOT_KINDS), jobs_token(), audit_token())


def index(request: HttpRequest) -> HttpResponse:
    partial = htmx_partial(request)
    live = _live_token()
    if partial and unchanged(request, live):
        return HttpResponse(status=204)
    ctx = {
        "live_token": live,
        **_engine_at_a_glance(),
        "active_jobs": Job.objects.exclude(state__in=Job.TERMINAL).order_by("id")[:10],
        "recent_jobs": Job.objects.filter(state__in=Job.TERMINAL).order_by("-finished")[:5],
        "recent_events": AuditEvent.objects.all()[:8],
        "disk": last_disk_usage(),
    }
    response = render(request, "dashboard/index.html#live" if partial else "dashboard/index.html", ctx)
    response["Vary"] = "HX-Request"
    return response

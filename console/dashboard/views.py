from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET

from console import engine, snapshot
from console.accounts.roles import can_see_engine, visible_engines
from console.audit.models import AuditEvent
from console.dashboard.fleet import (
    SETTINGS,
    drifting_references,
    engine_infos,
    fleet_key,
    fleet_rows,
    fleet_token,
    image_drift,
    image_listings,
    references,
    settings_drift,
)
from console.htmx import htmx_partial
from console.images.reference import InvalidReference
from console.jobs.models import Job
from console.listing import RENDER_SECONDS, rendered_rows
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
        "active_jobs": Job.objects.filter(engine=request.engine.name)
        .exclude(state__in=Job.TERMINAL)
        .order_by("id")[:10],
        "recent_jobs": Job.objects.filter(engine=request.engine.name, state__in=Job.TERMINAL).order_by("-finished")[:5],
        "recent_events": AuditEvent.objects.filter(engine=request.engine.name)[:8],
        "disk": last_disk_usage(),
    }
    response = render(request, "dashboard/index.html#live" if partial else "dashboard/index.html", ctx)
    response["Vary"] = "HX-Request"
    return response


def to_default_engine(request: HttpRequest, rest: str) -> HttpResponse:
    """An address of the single-engine console (/containers/…): the same page of the default engine.
    307 keeps a POST a POST; the engine's page then checks the role as usual."""
    from django.conf import settings

    if not can_see_engine(request.user, settings.ENGINE_NAME):
        return redirect("fleet")
    target = reverse("dashboard", args=[settings.ENGINE_NAME]) + rest
    if request.GET:
        target += f"?{request.GET.urlencode()}"
    return redirect(target, permanent=False, preserve_request=True)


@require_GET
def fleet(request: HttpRequest) -> HttpResponse:
    """One row per engine the user can see, from the snapshots only: it never waits for an engine."""
    live, table = _fleet_table(visible_engines(request.user))
    partial = htmx_partial(request)
    if partial and unchanged(request, live):
        return HttpResponse(status=204)
    response = HttpResponse(table) if partial else render(request, "dashboard/fleet.html", {"table": table})
    response["Vary"] = "HX-Request"
    return response


def _fleet_table(engines: list) -> tuple[str, str]:
    """The fleet page's live part (its token and its HTML) for these engines, rendered once for everyone who
    sees the same engines while nothing its rows stand on moves (`fleet_key`), for RENDER_SECONDS at most (its
    ages and latencies move). The key is read before the rows: what is kept is never older than its key."""
    key = fleet_key(engines)
    kept = caches["renders"]
    if key and (found := kept.get(f"fleet:{key}")):
        return found
    rows = fleet_rows(engines)
    live = token(None, fleet_token(rows))
    ctx = {
        "rows": rows,
        "rendered_rows": rendered_rows("dashboard/fleet.html#row", rows),
        "live_token": live,
        "reachable": sum(row.reachable for row in rows),
        "unreachable": sum(row.watched and not row.reachable for row in rows),
        "unwatched": sum(not row.watched for row in rows),
    }
    made = live, render_to_string("dashboard/fleet.html#live", ctx)
    if key:
        kept.set(f"fleet:{key}", made, RENDER_SECONDS)
    return made


@require_GET
def drift(request: HttpRequest) -> HttpResponse:
    """Where the engines the user can see differ: one image reference across them, and their settings."""
    engines = visible_engines(request.user)
    listings = image_listings(engines)
    text = request.GET.get("ref", "").strip()
    image, error = None, ""
    if text:
        try:
            image = image_drift(listings, text)
        except InvalidReference as exc:
            error = str(exc)
    ctx = {
        "ref": text,
        "image": image,
        "ref_error": error,
        "references": references(listings),
        "drifting": drifting_references(listings),
        "settings": settings_drift(engine_infos(engines)),
        "setting_labels": SETTINGS,
        "engine_count": len(engines),
    }
    return render(request, "dashboard/drift.html", ctx)
